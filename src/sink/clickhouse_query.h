// Flows read back from ClickHouse: the query backend of `orbwatch query` and `hunt`
// (docs/scale.md). The time range and the filter become a WHERE clause (Filter::to_sql), a
// top-N a GROUP BY; flows come back as RowBinary and are decoded into FlowBatches, so the
// commands print them with the same code as the embedded archive's.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/flow_batch.h"
#include "sink/clickhouse.h"
#include "store/filter.h"
#include "store/flow_aggregate.h"

namespace orbwatch::sink {

struct FlowSelect {
  // Flows that overlap [from_ms, to_ms], as store::ScanSpec.
  int64_t from_ms = std::numeric_limits<int64_t>::min();
  int64_t to_ms = std::numeric_limits<int64_t>::max();
  const store::Filter* filter = nullptr;  // null: every flow
  std::string extra_where;                // orbwatch's own SQL (a hunt's indicators), or empty
};

// The WHERE expression of `s` over the flows table.
std::string flow_where(const FlowSelect& s);

// Matching flows in start order (then addresses), at most `limit` (0: all), handed to
// `consume` in batches; `consume` returns false to stop. `rows` counts the flows decoded.
bool select_flows(ClickHouseClient& client, const FlowSelect& s, size_t limit,
                  const std::function<bool(FlowBatch&)>& consume, uint64_t& rows,
                  std::string& error);

struct TopFlows {
  std::vector<std::pair<store::GroupKey, store::GroupTotals>> rows;
  store::GroupTotals total;  // every matching flow once
};
// Group-by / top-N computed by ClickHouse: the `n` largest groups by `order` (0: all), ties by
// key, as store::Aggregator::top orders them.
std::optional<TopFlows> top_flows(ClickHouseClient& client, const FlowSelect& s,
                                  const store::GroupSpec& spec, store::GroupOrder order, size_t n,
                                  std::string& error);

// Flows, packets and bytes of the flows that start in buckets [first, last] of `step_ms`
// (bucket k: [k * step, (k + 1) * step)), by bucket; those starting elsewhere are not counted.
struct BucketTotals {
  uint64_t flows = 0, packets = 0, bytes = 0;
};
std::optional<std::vector<BucketTotals>> flow_buckets(ClickHouseClient& client, const FlowSelect& s,
                                                      int64_t step_ms, int64_t first, int64_t last,
                                                      std::string& error);

// The end of the newest stored flow (the wall clock when there is none): "since 1h" counts
// back from it, as over the archive.
std::optional<int64_t> newest_flow_ms(ClickHouseClient& client, std::string& error);

// One RowBinary row of flow_read_columns() decoded from the front of `data` into `out`: the
// bytes it took, 0 when `data` holds no whole row. The inverse of append_flow_row.
size_t read_flow_row(std::string_view data, FlowBatch& out);

}  // namespace orbwatch::sink
