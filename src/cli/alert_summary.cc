#include "cli/alert_summary.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>

namespace orbwatch::cli {

void AlertSummary::emit(const Alert& alert) {
  next_.emit(alert);
  auto it = latest_.find(alert.id);
  if (it == latest_.end()) {
    if (latest_.size() >= kMaxAlerts) {
      ++uncounted_;
      return;
    }
    it = latest_.emplace(alert.id, Seen{}).first;
  }
  it->second = {alert.severity, alert.detector, alert.summary, alert.ts_ms};
}

void AlertSummary::print(FILE* out, size_t top_n) const {
  if (latest_.empty() && uncounted_ == 0) {
    fmt::print(out, "alerts    none\n");
    return;
  }
  size_t by_severity[4] = {};
  std::map<std::string, size_t> by_detector;
  std::vector<const Seen*> all;
  for (const auto& [id, s] : latest_) {
    ++by_severity[static_cast<size_t>(s.severity)];
    ++by_detector[s.detector];
    all.push_back(&s);
  }
  std::string counts;
  for (int s = 3; s >= 0; --s) {
    if (by_severity[s] == 0) continue;
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ",
                          severity_name(static_cast<Severity>(s)), by_severity[s]);
  }
  std::string detectors;
  for (const auto& [d, n] : by_detector) {
    detectors += fmt::format("{}{} {}", detectors.empty() ? "" : ", ", d, n);
  }
  fmt::print(out, "alerts    {} ({}; {})\n", latest_.size() + uncounted_, counts, detectors);
  std::sort(all.begin(), all.end(), [](const Seen* a, const Seen* b) {
    return a->severity != b->severity ? a->severity > b->severity : a->ts_ms < b->ts_ms;
  });
  for (size_t i = 0; i < all.size() && i < top_n; ++i) {
    fmt::print(out, "  {:<8} {}: {}\n", severity_name(all[i]->severity), all[i]->detector,
               all[i]->summary);
  }
  if (all.size() > top_n) fmt::print(out, "  ... {} more in --alerts-out\n", all.size() - top_n);
}

}  // namespace orbwatch::cli
