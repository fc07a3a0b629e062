// `orbwatch analyze --report FILE.html`: one self-contained HTML file with the dashboard's
// pages over one analysis (overview, alerts with their evidence and flows, edge map, feeds), to
// hand to an incident team. The data are the API's answers (server/views.h) computed from the
// run's archive and alert store, embedded as JSON.
#pragma once

#include <string>
#include <vector>

#include "enrich/geo_db.h"
#include "ingest/decode_stats.h"
#include "intel/feed_cache.h"
#include "netmodel/inventory.h"
#include "netmodel/model_index.h"
#include "server/pipeline.h"

namespace orbwatch::cli {

struct ReportInput {
  std::string title;
  std::vector<std::string> inputs;
  std::string store;                  // the run's archive and state.db
  int64_t from_ms = 0, until_ms = 0;  // the run's flows
  uint64_t records = 0;
  const netmodel::EdgeInventory* inventory = nullptr;
  const netmodel::ModelIndex* model = nullptr;
  const enrich::GeoDb* geo = nullptr;  // may be null
  std::vector<server::ExporterMetrics> exporters;
  size_t exporters_total = 0;
  ingest::DecodeStats decode;
  std::vector<intel::FeedStatus> feeds;
  std::vector<std::string> problems;
};

// Limits that keep the file a size a browser opens at once.
inline constexpr size_t kReportMaxAlerts = 10'000;
inline constexpr size_t kReportAlertsWithFlows = 300;  // the most severe, then the newest
inline constexpr size_t kReportFlowsPerAlert = 500;
inline constexpr size_t kReportMaxFlows = 20'000;
inline constexpr size_t kReportMaxAddresses = 20'000;  // AS and model lookups

// A temporary directory, removed with everything in it when this goes.
class TempDir {
 public:
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  // Creates it; its path, or "" with `error`.
  std::string create(std::string& error);

 private:
  std::string path_;
};

// Writes the report; false with a one-line reason.
bool write_report(const std::string& path, const ReportInput& in, std::string& error);

}  // namespace orbwatch::cli
