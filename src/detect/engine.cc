#include "detect/engine.h"

#include <algorithm>

namespace orbwatch::detect {

Engine::Engine(const EngineOptions& options, std::vector<std::unique_ptr<Detector>> detectors,
               const SnapshotHolder<intel::IntelSet>& intel, AlertSink& sink)
    : o_(options),
      detectors_(std::move(detectors)),
      intel_(intel),
      sink_(sink),
      enricher_(o_.model ? o_.model : netmodel::ModelIndex::with_internal({})) {}

void Engine::process(const FlowBatch& batch) {
  if (batch.empty()) return;
  // One snapshot for the whole batch: every id in it refers to this set.
  std::shared_ptr<const intel::IntelSet> intel = intel_.load();
  enricher_.enrich(batch, *intel);
  for (uint32_t i = 0; i < batch.size(); ++i) {
    const EnrichedFlow flow = enricher_.flow(i);
    for (auto& d : detectors_) d->on_flow(flow, sink_);
    max_end_ms_ = std::max(max_end_ms_, batch.records[i].end_ms);
  }
  flows_ += batch.size();
  const int64_t wm = max_end_ms_ - o_.lateness_ms;
  if (wm > watermark_ms_) {
    watermark_ms_ = wm;
    for (auto& d : detectors_) d->on_tick(wm, sink_);
  }
}

void Engine::finish() {
  for (auto& d : detectors_) d->flush(sink_);
}

}  // namespace orbwatch::detect
