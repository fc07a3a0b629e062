// One stateful libFuzzer target for the template-based decoders, compiled once per protocol
// (FUZZ_KIND = 5, 9 or 10). An input is split into several datagrams (2-byte length prefixes)
// that share one ExporterTable with small caps, so templates learned from one datagram are used
// by the next, and eviction, held sets and withdrawal are exercised too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ingest/netflow.h"

using namespace orbwatch;
using namespace orbwatch::ingest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ExporterTable table([] {
    IngestLimits l;
    l.max_exporters = 4;
    l.max_templates_per_exporter = 32;
    l.max_domains_per_exporter = 8;
    l.max_samplers_per_exporter = 8;
    l.max_pending_sets_per_exporter = 4;
    l.max_pending_bytes_per_exporter = 4096;
    l.max_pending_bytes_total = 8192;
    return l;
  }());
  DecodeStats stats;
  FlowBatch out;
  size_t pos = 0;
  while (pos + 3 <= size) {
    size_t len = (size_t{data[pos]} << 8 | data[pos + 1]) % 4096;
    uint8_t exporter = data[pos + 2] & 7;
    pos += 3;
    if (len > size - pos) len = size - pos;
    Datagram dg{{data + pos, len},
                IpAddr::v4(0xc0000200u + exporter),
                2055,
                2055,
                1700000000000 + static_cast<int64_t>(pos)};
    ExporterState& ex = table.get(dg.exporter, stats);
    ++ex.clock;
#if FUZZ_KIND == 5
    decode_netflow5(dg, ex, out, stats);
#elif FUZZ_KIND == 9
    decode_netflow9(dg, ex, out, stats);
#else
    decode_ipfix(dg, ex, out, stats);
#endif
    pos += len;
    if (out.size() != stats.records) std::abort();
    if (ex.template_count() > 32 || ex.pending_bytes() > 4096) std::abort();
  }
  if (table.size() > 4 || table.pending_bytes() > 8192) std::abort();
  return 0;
}
