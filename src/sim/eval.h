// Scoring detectors against the simulator's ground truth (`orbwatch eval`): which labelled
// scenarios were found, by which detectors, how fast, and how many alerts matched nothing.
//
// An alert matches a label when its source or destination is one of the label's addresses and
// its time span (first_seen .. last_seen) meets the label's span extended by `grace_ms`. A label
// is detected by a detector when a matching alert of that detector exists; time to detect is
// from the label's start to the earliest `ts` of such an alert. An alert matching no label is a
// false alert (counted per severity); alerts raised again with the same id count once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.h"
#include "sim/simulator.h"

namespace orbwatch::sim {

struct EvalAlert {
  std::string id, detector;
  Severity severity = Severity::kLow;
  int64_t ts_ms = 0, first_ms = 0, last_ms = 0;
  IpAddr src, dst;
};

// Parsers of the two JSON lines files; a bad line is an error naming it ("alerts.jsonl:7: ...").
bool parse_labels(std::string_view text, const std::string& name, std::vector<Label>& out,
                  std::string& error);
bool parse_alerts(std::string_view text, const std::string& name, std::vector<EvalAlert>& out,
                  std::string& error);

struct EvalOptions {
  int64_t grace_ms = 3'600'000;
  double hosts = 0;  // internal hosts, for false alerts per 10k hosts per day
  double days = 0;
};

struct DetectorScore {
  std::string detector;
  uint64_t alerts = 0;   // distinct ids
  uint64_t matched = 0;  // ids matching some label
  uint64_t false_by_severity[4] = {};
  double precision() const { return alerts ? static_cast<double>(matched) / alerts : 1.0; }
  // False alerts of medium severity and above, per 10k hosts per day.
  double false_rate(const EvalOptions& o) const;
};

struct ScenarioScore {
  std::string scenario;
  std::string detector;  // one of the scenario's expected detectors
  uint64_t instances = 0;
  uint64_t detected = 0;
  std::vector<int64_t> time_to_detect_ms;  // of the detected ones
  double recall() const { return instances ? static_cast<double>(detected) / instances : 0.0; }
  int64_t median_ttd_ms() const;
};

struct EvalReport {
  std::vector<ScenarioScore> scenarios;  // per (scenario, expected detector)
  std::vector<ScenarioScore> any;        // per scenario: detected by any expected detector
  std::vector<DetectorScore> detectors;
};

EvalReport evaluate(const std::vector<Label>& labels, const std::vector<EvalAlert>& alerts,
                    const EvalOptions& options);

std::string format_report(const EvalReport& r, const EvalOptions& o);  // tables for people
std::string report_json(const EvalReport& r, const EvalOptions& o);    // one JSON object

}  // namespace orbwatch::sim
