// libFuzzer target for the sFlow v5 decoder. One SflowAgentState lives across inputs (with small
// caps) so sequence tracking, counter storage and eviction are exercised as well.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ingest/sflow.h"

using namespace orbwatch::ingest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static SflowAgentState state([] {
    SflowAgentState::Limits l;
    l.max_agents = 64;
    l.max_sources = 128;
    l.max_counters = 64;
    return l;
  }());
  orbwatch::FlowBatch batch;
  DecodeStats stats;
  Datagram dg;
  dg.data = std::span<const uint8_t>(data, size);
  dg.exporter = orbwatch::IpAddr::v4(0xc0000201);
  dg.recv_ms = 1700000000000;
  auto before = state.counts();
  decode_sflow(dg, state, batch, stats);
  const auto& after = state.counts();
  // Invariants: at most one record per flow sample; tables within their caps.
  uint64_t flow_samples = (after.flow_samples - before.flow_samples) +
                          (after.expanded_flow_samples - before.expanded_flow_samples);
  if (batch.size() > flow_samples || batch.size() != stats.records) std::abort();
  if (state.counters_size() > 64 || state.sources_size() > 128 || state.agents_size() > 64) {
    std::abort();
  }
  return 0;
}
