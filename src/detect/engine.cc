#include "detect/engine.h"

#include <algorithm>

#include "detect/flow_role.h"

namespace orbwatch::detect {

Engine::Engine(const EngineOptions& options, std::vector<std::unique_ptr<Detector>> detectors,
               const SnapshotHolder<intel::IntelSet>& intel, AlertSink& sink)
    : o_(options),
      detectors_(std::move(detectors)),
      intel_(intel),
      sink_(sink),
      enricher_(o_.model ? o_.model : netmodel::ModelIndex::with_internal({}), o_.geo) {}

void Engine::process(const FlowBatch& batch, std::span<const int64_t> stream_end) {
  if (batch.empty()) return;
  // One snapshot for the whole batch: every id in it refers to this set.
  std::shared_ptr<const intel::IntelSet> intel = intel_.load();
  enricher_.enrich(batch, *intel);
  const bool hinted = stream_end.size() == batch.size();
  for (uint32_t i = 0; i < batch.size(); ++i) {
    if (hinted) advance(stream_end[i]);
    EnrichedFlow flow = enricher_.flow(i);
    if (o_.inventory != nullptr) observe(flow);
    for (auto& d : detectors_) d->on_flow(flow, sink_);
    advance(batch.records[i].end_ms);
  }
  flows_ += batch.size();
}

void Engine::advance(int64_t max_end_ms) {
  if (max_end_ms <= max_end_ms_ || max_end_ms < INT64_MIN / 2) return;  // INT64_MIN/2: garbage
  max_end_ms_ = max_end_ms;
  constexpr int64_t kTickMs = 1000;
  int64_t wm = max_end_ms_ - o_.lateness_ms;
  wm -= ((wm % kTickMs) + kTickMs) % kTickMs;  // down to a whole second
  if (wm > watermark_ms_) {
    watermark_ms_ = wm;
    for (auto& d : detectors_) d->on_tick(wm, sink_);
  }
}

void Engine::reconfigure(std::shared_ptr<const netmodel::ModelIndex> model,
                         std::shared_ptr<const enrich::GeoDb> geo) {
  o_.model = std::move(model);
  o_.geo = std::move(geo);
  enricher_ = Enricher(o_.model ? o_.model : netmodel::ModelIndex::with_internal({}), o_.geo);
}

void Engine::observe(EnrichedFlow& flow) {
  const FlowRecord& r = flow.rec;
  flow.inventory = o_.inventory;
  if (!r.exporter.is_zero()) o_.inventory->observe_exporter(r.exporter, r.end_ms);
  // An edge service: an external initiator, an internal responder that answered.
  if (flow.initiator == Initiator::kUnknown || !responder_answered(r, flow.initiator)) return;
  const bool src_initiated = flow.initiator == Initiator::kSrc;
  const bool client_internal = src_initiated ? flow.src_internal : flow.dst_internal;
  const bool server_internal = src_initiated ? flow.dst_internal : flow.src_internal;
  if (client_internal || !server_internal) return;
  netmodel::ServiceKey key{src_initiated ? r.dst : r.src, r.proto,
                           src_initiated ? r.dst_port : r.src_port};
  flow.edge =
      o_.inventory->observe(key, src_initiated ? r.src : r.dst, r.start_ms, r.end_ms, r.bytes);
}

void Engine::finish() {
  for (auto& d : detectors_) d->flush(sink_);
}

}  // namespace orbwatch::detect
