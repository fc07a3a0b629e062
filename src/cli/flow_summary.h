// FlowSummary: what `analyze` prints at the end: totals, time span, exporters, protocols, top
// talkers and destination ports. Memory is capped: past kMaxKeys distinct talkers, new ones are
// folded into "other".
#pragma once

#include <cstdio>
#include <map>
#include <unordered_map>

#include "core/flow_batch.h"

namespace orbwatch::cli {

class FlowSummary {
 public:
  static constexpr size_t kMaxKeys = 1 << 20;

  void add(const FlowBatch& batch);
  void print(FILE* out, size_t top_n = 5) const;

  uint64_t records() const { return records_; }
  size_t exporters() const { return exporters_.size(); }
  // The first flow's start and the last flow's end (INT64_MAX, INT64_MIN before any flow).
  int64_t first_ms() const { return first_ms_; }
  int64_t last_ms() const { return last_ms_; }

 private:
  struct Totals {
    uint64_t flows = 0, bytes = 0, packets = 0;
  };
  uint64_t records_ = 0, bytes_ = 0, packets_ = 0, named_ = 0;
  int64_t first_ms_ = INT64_MAX, last_ms_ = INT64_MIN;
  std::map<FlowSource, uint64_t> by_source_;
  std::unordered_map<IpAddr, Totals, IpAddrHash> exporters_;
  std::map<uint8_t, Totals> protos_;
  std::unordered_map<IpAddr, Totals, IpAddrHash> talkers_;
  Totals other_talkers_;
  std::unordered_map<uint32_t, Totals> dst_ports_;  // proto << 16 | port
};

}  // namespace orbwatch::cli
