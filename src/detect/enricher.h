// The enrich stage: for every record of a batch, which indicators cover its addresses and its
// server name, which side is internal, who initiated, and (with a GeoDb) the AS, AS type and
// country of both addresses. Batched so the prefix-table reads of
// many addresses overlap.
//
// Threading: one Enricher per thread; enrich() keeps references to the batch and the intel
// snapshot until the next enrich().
#pragma once

#include <cstdint>
#include <vector>

#include "core/ip_addr.h"
#include "detect/detector.h"
#include "intel/prefix_table.h"
#include "netmodel/model_index.h"

namespace orbwatch::detect {

class Enricher {
 public:
  // `model` says which addresses are internal and where they are (zones, assets, lists);
  // `geo` (may be null) gives ASes and countries.
  Enricher(std::shared_ptr<const netmodel::ModelIndex> model,
           std::shared_ptr<const enrich::GeoDb> geo = nullptr);

  void enrich(const FlowBatch& batch, const intel::IntelSet& intel);
  // Valid after enrich() for i < batch.size().
  EnrichedFlow flow(uint32_t i) const;

 private:
  std::shared_ptr<const netmodel::ModelIndex> model_;
  std::shared_ptr<const enrich::GeoDb> geo_;
  const FlowBatch* batch_ = nullptr;
  const intel::IntelSet* intel_ = nullptr;
  std::vector<IpAddr> addrs_;  // gathered src then dst addresses for lookup_batch
  std::vector<intel::PrefixTable::SetIndex> intel_sets_;    // src[0..n) then dst[n..2n)
  std::vector<netmodel::ModelIndex::SetIndex> model_sets_;  // same layout
  std::vector<enrich::Geo> geo_info_;                       // same layout; empty without geo_
  std::vector<uint32_t> dns_begin_;                         // answers of record i start here
};

}  // namespace orbwatch::detect
