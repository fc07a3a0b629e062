// NetFlow v9 (RFC 3954): 20-byte header, then flowsets: 0 = templates, 1 = options templates,
// >= 256 = data. Templates are scoped by (exporter address, source id) (RFC 3954 5.1).
#include "ingest/netflow.h"
#include "ingest/template_sets.h"

namespace orbwatch::ingest {

void decode_netflow9(const Datagram& dg, ExporterState& ex, FlowBatch& out, DecodeStats& stats) {
  ByteReader r(dg.data);
  uint16_t version = 0, count = 0;
  uint32_t uptime = 0, secs = 0, seq = 0, source_id = 0;
  if (!r.u16(version) || !r.u16(count) || !r.u32(uptime) || !r.u32(secs) || !r.u32(seq) ||
      !r.u32(source_id)) {
    stats.fail(DecodeError::kTruncated, ex.addr(), dg.data.size());
    return;
  }
  if (version != 9) {
    stats.fail(DecodeError::kBadVersion, ex.addr(), 0);
    return;
  }
  MessageContext ctx{ExportKind::kNetflow9, source_id, int64_t{secs} * 1000, uptime, dg.recv_ms, 0};
  DomainState* ds = ex.domain(ExportKind::kNetflow9, source_id);
  if (ds != nullptr) {
    auto s = ds->seq.observe(seq, 1);  // v9 sequence counts export packets (RFC 3954 5.1)
    stats.sequence(s.lost, s.reset);
  } else {
    stats.fail(DecodeError::kBadLength, ex.addr(), 16, source_id);  // domain cap reached
  }
  while (r.remaining() >= 4) {
    size_t at = r.offset();
    uint16_t set_id = 0, set_len = 0;
    r.u16(set_id);
    r.u16(set_len);
    ByteReader body(nullptr, 0);
    if (set_len < 4 || !r.sub(set_len - 4, body)) {
      // Some exporters (Cisco ACI) end with a zero-length set and trailing bytes: stop here.
      if (set_len != 0) stats.fail(DecodeError::kBadSetLength, ex.addr(), at, set_id);
      return;
    }
    ctx.set_offset = at + 4;
    if (set_id == 0 || set_id == 1) {
      learn_templates(body, set_id == 1, ctx, ex, out, stats);
    } else if (set_id >= 256) {
      data_set(set_id, {body.data(), body.remaining()}, ctx, ex, out, stats);
    }
    // Flowset ids 2..255 are reserved: skipped by their length.
  }
  // 1-3 bytes left: zeros are padding, anything else is a cut set header.
  for (size_t i = 0; i < r.remaining(); ++i) {
    if (r.data()[i] != 0) {
      stats.fail(DecodeError::kTruncated, ex.addr(), r.offset());
      break;
    }
  }
}

}  // namespace orbwatch::ingest
