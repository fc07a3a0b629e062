// Where the API and the offline report read flows: the embedded archive (STORE/flows) or
// ClickHouse ([store] query_backend = "clickhouse": the daemon's clickhouse output; docs/scale.md).
// The views are written against this interface, so both give the same answers in the same
// shapes; ClickHouse computes top-N and per-bucket totals itself (GROUP BY) instead of sending
// every flow back.
//
// Threading: every call may come from any thread (each ClickHouse call has its own client).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sink/clickhouse.h"
#include "store/archive_scan.h"
#include "store/flow_aggregate.h"

namespace orbwatch::server {

class FlowSource {
 public:
  virtual ~FlowSource() = default;

  // The end of the newest flow (the wall clock when there is none): "since=24h" counts back
  // from it.
  virtual int64_t newest_ms() const = 0;
  // The flows of `spec` (time range, filter) to `consume`, from workers [0, workers(spec));
  // spec.ordered: from one, in time order. `limit` (0: none) lets the source stop early; the
  // consumer still stops it. Problems (a damaged block, ClickHouse away) go to the stats.
  virtual store::ScanStats scan(const store::ScanSpec& spec, size_t limit,
                                const store::ScanConsumer& consume) const = 0;
  virtual unsigned workers(const store::ScanSpec& spec) const = 0;

  struct Top {
    std::vector<std::pair<store::GroupKey, store::GroupTotals>> rows;
    store::GroupTotals total;
    bool overflowed = false;
    store::ScanStats stats;
  };
  // Group-by / top-N, as store::Aggregator (at most `max_groups` held while aggregating).
  virtual Top top(const store::ScanSpec& spec, const store::GroupSpec& group,
                  store::GroupOrder order, size_t n, size_t max_groups) const;

  struct Bucket {
    uint64_t flows = 0, packets = 0, bytes = 0;
  };
  // Flows, packets and bytes of the flows that start in buckets [first, last] of `step_ms`.
  virtual std::vector<Bucket> buckets(const store::ScanSpec& spec, int64_t step_ms, int64_t first,
                                      int64_t last, store::ScanStats& stats) const;
};

std::unique_ptr<FlowSource> archive_source(std::string store_path);
std::unique_ptr<FlowSource> clickhouse_source(sink::ClickHouseOptions options);

}  // namespace orbwatch::server
