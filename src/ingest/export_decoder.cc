#include "ingest/export_decoder.h"

#include "ingest/netflow.h"

namespace orbwatch::ingest {

ExportKind ExportDecoder::decode(const Datagram& dg, FlowBatch& out) {
  ++stats_.datagrams;
  ExportKind kind = sniff_export(dg.data);
  ++by_kind_[static_cast<size_t>(kind)];
  if (kind == ExportKind::kNone) {
    stats_.fail(DecodeError::kBadVersion, dg.exporter, 0);
    return kind;
  }
  ExporterState& ex = exporters_.get(dg.exporter, stats_);
  ++ex.clock;
  const uint64_t records = stats_.records;
  const uint64_t errors = stats_.total_errors();
  const uint64_t lost = stats_.seq_lost;
  switch (kind) {
    case ExportKind::kNetflow5:
      decode_netflow5(dg, ex, out, stats_);
      break;
    case ExportKind::kNetflow9:
      decode_netflow9(dg, ex, out, stats_);
      break;
    case ExportKind::kIpfix:
      decode_ipfix(dg, ex, out, stats_);
      break;
    case ExportKind::kSflow5:
      decode_sflow(dg, sflow_, out, stats_);
      break;
    case ExportKind::kNone:
      break;
  }
  ExporterCounters& c = ex.counters;
  ++c.datagrams;
  c.records += stats_.records - records;
  c.errors += stats_.total_errors() - errors;
  c.seq_lost += stats_.seq_lost - lost;
  c.last_seen_ms = dg.recv_ms;
  c.last_kind = kind;
  return kind;
}

}  // namespace orbwatch::ingest
