// The API's answers as JSON (docs/api.md), from the archive, the alert store, the network model
// and the daemon's counters: what /api/v1/ serves and what `orbwatch analyze --report` embeds,
// so the dashboard reads the same shapes live and offline. No HTTP here.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/geo_db.h"
#include "ingest/decode_stats.h"
#include "intel/feed_cache.h"
#include "netmodel/inventory.h"
#include "netmodel/model_index.h"
#include "server/flow_source.h"
#include "server/pipeline.h"
#include "store/alert_store.h"
#include "store/archive_scan.h"
#include "store/flow_aggregate.h"

namespace orbwatch::server::views {

// A bucket width giving at most `buckets` buckets over `span_ms`, from a fixed ladder (1 min to
// 1 day) so charts line up across refreshes.
int64_t auto_step_ms(int64_t span_ms, int64_t buckets = 360);

// {"status":...,"note":...,"alert":{...}}
void append_alert_entry(std::string& out, const store::StoredAlert& a);
std::string alert_list(const std::vector<store::StoredAlert>& alerts, size_t offset, size_t limit);
std::string alert_summary(const store::AlertSummary& sum, int64_t step_ms);

// Flows, packets and bytes per bucket of `step_ms` by flow start, every bucket of
// [from_ms, until_ms] listed. `spec` holds the filter and the scan's threads.
std::string series(const FlowSource& source, const store::ScanSpec& spec, int64_t from_ms,
                   int64_t until_ms, int64_t step_ms);
// At most `limit` flows, oldest first; `each` (optional) sees every flow listed.
std::string flows(const FlowSource& source, store::ScanSpec spec, size_t limit,
                  const std::function<void(const FlowRecord&)>& each = {});
// The top `n` groups; `each_row` (optional) sees each row's key, best first.
std::string top(const FlowSource& source, const store::ScanSpec& spec,
                const store::GroupSpec& group, std::string_view by, store::GroupOrder order,
                size_t n, const std::function<void(const store::GroupKey&)>& each_row = {});

std::string inventory(const netmodel::EdgeInventory& inv);
std::string exporters(const std::vector<ExporterMetrics>& exporters, size_t exporters_total,
                      uint64_t socket_drops, uint64_t receive_drops,
                      const ingest::DecodeStats& decode);
std::string feeds(const std::vector<intel::FeedStatus>& feeds, int64_t now_ms);
std::string lookup(const std::vector<IpAddr>& addrs, const netmodel::ModelIndex& model,
                   const enrich::GeoDb* geo);
std::string assets(const netmodel::Model& model);

}  // namespace orbwatch::server::views
