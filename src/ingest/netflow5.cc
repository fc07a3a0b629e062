// NetFlow v5: fixed 24-byte header and 48-byte records (Cisco NetFlow v5 export format).
#include "ingest/netflow.h"

namespace orbwatch::ingest {

namespace {
constexpr size_t kHeader = 24;
constexpr size_t kRecord = 48;
constexpr uint16_t kMaxCount = 30;  // per the format; more means a corrupt header
}  // namespace

void decode_netflow5(const Datagram& dg, ExporterState& ex, FlowBatch& out, DecodeStats& stats) {
  const uint8_t* p = dg.data.data();
  size_t n = dg.data.size();
  if (n < kHeader) {
    stats.fail(DecodeError::kTruncated, ex.addr(), n);
    return;
  }
  if (load_be16(p) != 5) {
    stats.fail(DecodeError::kBadVersion, ex.addr(), 0);
    return;
  }
  uint16_t count = load_be16(p + 2);
  if (count == 0 || count > kMaxCount || kHeader + count * kRecord > n) {
    stats.fail(DecodeError::kBadLength, ex.addr(), 2, count);
    return;
  }
  uint32_t uptime = load_be32(p + 4);
  int64_t export_ms = int64_t{load_be32(p + 8)} * 1000 + load_be32(p + 12) / 1000000;
  uint32_t seq = load_be32(p + 16);
  uint32_t engine = (uint32_t{p[20]} << 8) | p[21];
  // Top two bits: sampling mode; low 14 bits: interval (0 = unsampled).
  uint32_t interval = load_be16(p + 22) & 0x3fff;

  if (DomainState* ds = ex.domain(ExportKind::kNetflow5, engine)) {
    auto r = ds->seq.observe(seq, count);  // v5 sequence counts flows
    stats.sequence(r.lost, r.reset);
  }

  const uint8_t* rec = p + kHeader;
  for (uint16_t i = 0; i < count; ++i, rec += kRecord) {
    FlowRecord& r = out.add();
    r.src = IpAddr::v4_bytes(rec);
    r.dst = IpAddr::v4_bytes(rec + 4);
    r.in_if = load_be16(rec + 12);
    r.out_if = load_be16(rec + 14);
    r.packets = load_be32(rec + 16);
    r.bytes = load_be32(rec + 20);
    auto first_ago = static_cast<int32_t>(uptime - load_be32(rec + 24));
    auto last_ago = static_cast<int32_t>(uptime - load_be32(rec + 28));
    r.start_ms = export_ms - first_ago;
    r.end_ms = export_ms - last_ago;
    r.src_port = load_be16(rec + 32);
    r.dst_port = load_be16(rec + 34);
    r.tcp_flags = rec[37];
    r.proto = rec[38];
    r.tos = rec[39];
    r.src_as = load_be16(rec + 40);
    r.dst_as = load_be16(rec + 42);
    r.src_mask = rec[44];
    r.dst_mask = rec[45];
    r.exporter = ex.addr();
    r.obs_domain = engine;
    r.source = FlowSource::kNetflow5;
    if (interval > 1) {
      r.sampling_rate = interval;
      r.bytes *= interval;
      r.packets *= interval;
      r.flags |= flow_flags::kSampled;
    }
  }
  stats.records += count;
}

}  // namespace orbwatch::ingest
