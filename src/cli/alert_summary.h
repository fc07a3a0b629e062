// AlertSummary: passes alerts on to the next sink and remembers the latest version of each (by
// id) for the end-of-run summary: counts by severity and the most severe alerts. Bounded: past
// kMaxAlerts distinct ids, new ones are only counted.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <unordered_map>

#include "core/alert.h"

namespace orbwatch::cli {

class AlertSummary final : public AlertSink {
 public:
  static constexpr size_t kMaxAlerts = 100'000;

  explicit AlertSummary(AlertSink& next) : next_(next) {}
  void emit(const Alert& alert) override;
  void print(FILE* out, size_t top_n) const;
  size_t distinct() const { return latest_.size() + uncounted_; }

 private:
  struct Seen {
    Severity severity;
    std::string detector;
    std::string summary;
    int64_t ts_ms;
  };
  AlertSink& next_;
  std::unordered_map<std::string, Seen> latest_;
  size_t uncounted_ = 0;
};

}  // namespace orbwatch::cli
