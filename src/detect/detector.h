// The detector interface: every detector sees each enriched flow once, in batch order, and a
// watermark of event time; it raises alerts into an AlertSink. Detectors run on flow time only
// (never the wall clock), so a replayed capture gives the same alerts.
//
// Threading: one detector instance is driven by one thread; the engine shards by internal host
// when it runs several. Detectors keep bounded state and report it in stats().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/alert.h"
#include "core/flow_batch.h"
#include "enrich/geo_db.h"
#include "intel/intel_set.h"
#include "netmodel/inventory.h"
#include "netmodel/model_index.h"

namespace orbwatch::detect {

// Which side of a flow opened the conversation, as far as the record tells (flow_role.h).
enum class Initiator : uint8_t { kUnknown, kSrc, kDst };

// A flow with what the enricher found out about it. Spans point into the batch and the intel
// snapshot; both outlive the on_flow() call, not longer.
struct EnrichedFlow {
  const FlowRecord& rec;
  const FlowBatch& batch;
  uint32_t index;                        // of rec in batch.records
  const intel::IntelSet& intel;          // the snapshot the ids below refer to
  std::span<const uint32_t> src_intel;   // indicator ids covering rec.src
  std::span<const uint32_t> dst_intel;   // indicator ids covering rec.dst
  std::span<const uint32_t> name_intel;  // indicator domains matching server_name
  std::string_view server_name;          // TLS SNI, HTTP Host or DNS query; empty if none
  std::span<const DnsAnswer> dns;        // DNS answers this flow carried
  Initiator initiator = Initiator::kUnknown;
  const netmodel::ModelIndex& model;  // the network model the places below refer to
  const netmodel::Place& src_place;   // zone, asset, lists, internal of rec.src
  const netmodel::Place& dst_place;
  bool src_internal = false;
  bool dst_internal = false;
  // AS, its organisation and type, country (all zero without a GeoDb, or when unknown).
  const enrich::Geo& src_geo;
  const enrich::Geo& dst_geo;
  const enrich::GeoDb* geo = nullptr;  // for org names; null without one
  // What the flow meant for the edge inventory (the engine fills it when it keeps one):
  // whether an internal responder answered an external initiator, and whether that responder
  // or service is new to the inventory.
  netmodel::Observation edge;
  const netmodel::EdgeInventory* inventory = nullptr;
};

struct DetectorStats {
  uint64_t alerts = 0;
  uint64_t state_entries = 0;  // keys held now
  uint64_t state_bytes = 0;    // approximate heap bytes of that state
  uint64_t evicted = 0;        // keys dropped because the state was full
  std::vector<std::pair<std::string, uint64_t>> counters;  // detector-specific
};

class Detector {
 public:
  virtual ~Detector() = default;
  virtual std::string_view name() const = 0;
  virtual void on_flow(const EnrichedFlow& flow, AlertSink& sink) = 0;
  // Event time has reached `watermark_ms`: no earlier flow is expected any more; close the
  // windows that end before it.
  virtual void on_tick(int64_t watermark_ms, AlertSink& sink) = 0;
  // End of input: close every open window.
  virtual void flush(AlertSink& sink) { on_tick(INT64_MAX, sink); }
  virtual DetectorStats stats() const = 0;
  // State that must survive a restart (learned baselines), as text that load_state() reads
  // back; empty for a detector that keeps none. The commands keep it in state.db.
  virtual std::string save_state() const { return {}; }
  // False with `error` set when `text` is not what save_state() wrote (the state is then
  // left as it was).
  virtual bool load_state(std::string_view text, std::string& error) {
    (void)text;
    (void)error;
    return true;
  }
};

}  // namespace orbwatch::detect
