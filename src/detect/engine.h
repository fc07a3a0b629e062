// The detect stage: enriches each batch against the current intel snapshot and hands every flow
// to every detector, then advances the event-time watermark.
//
// The watermark is the latest flow end seen minus `lateness_ms`: exporters emit flows out of
// order by up to their active timeout, so a window closes only when flows older than it can
// no longer be expected. It moves in whole seconds, checked before every flow: detectors see
// the same ticks between the same flows however the stream is cut into batches or shards.
//
// Threading: one Engine per thread; the intel holder may be swapped by another thread at any
// time (one load() per batch).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/snapshot.h"
#include "detect/detector.h"
#include "detect/enricher.h"

namespace orbwatch::detect {

struct EngineOptions {
  // The network model; null: none (the default internal prefixes only).
  std::shared_ptr<const netmodel::ModelIndex> model;
  // The edge inventory to keep up to date (not owned; null: none). Detectors see each flow's
  // observation in EnrichedFlow::edge.
  netmodel::EdgeInventory* inventory = nullptr;
  // ASes and countries ([enrich] in the config, --geo); null: none.
  std::shared_ptr<const enrich::GeoDb> geo;
  int64_t lateness_ms = 60'000;
};

class Engine {
 public:
  Engine(const EngineOptions& options, std::vector<std::unique_ptr<Detector>> detectors,
         const SnapshotHolder<intel::IntelSet>& intel, AlertSink& sink);

  // `stream_end` (empty, or one per record): the latest flow end of the whole stream before
  // each record, when this engine sees only part of it (a shard); the watermark follows it.
  void process(const FlowBatch& batch, std::span<const int64_t> stream_end = {});
  // Event time reached `max_end_ms` elsewhere (another shard's flows): moves the watermark as a
  // flow ending then would, so this engine's windows close even when its own hosts are quiet.
  void advance(int64_t max_end_ms);
  // A new network model or geo database (config reload); takes effect with the next batch.
  void reconfigure(std::shared_ptr<const netmodel::ModelIndex> model,
                   std::shared_ptr<const enrich::GeoDb> geo);
  void finish();  // end of input: every detector flushes

  const std::vector<std::unique_ptr<Detector>>& detectors() const { return detectors_; }
  uint64_t flows() const { return flows_; }
  int64_t watermark_ms() const { return watermark_ms_; }

 private:
  EngineOptions o_;
  std::vector<std::unique_ptr<Detector>> detectors_;
  const SnapshotHolder<intel::IntelSet>& intel_;
  AlertSink& sink_;
  Enricher enricher_;
  void observe(EnrichedFlow& flow);
  uint64_t flows_ = 0;
  int64_t max_end_ms_ = INT64_MIN;
  int64_t watermark_ms_ = INT64_MIN;
};

}  // namespace orbwatch::detect
