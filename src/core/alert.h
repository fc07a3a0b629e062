// Alert: what a detector raises. One plain value type shared by detectors (which fill it) and
// sinks (which encode it); the JSON line is the contract in DESIGN.md and docs/formats.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/ip_addr.h"

namespace orbwatch {

enum class Severity : uint8_t { kLow, kMedium, kHigh, kCritical };
const char* severity_name(Severity s);
std::optional<Severity> parse_severity(std::string_view name);

// The threat-intel side of an alert: which feed said what about which value.
struct AlertIndicator {
  std::string feed;
  std::string value;  // the indicator as the feed gave it: "203.0.113.0/24", "k3121.com"
  std::vector<std::string> tags;
};

// Detector-specific numbers and words ("evidence"), in the order the detector adds them.
using EvidenceValue = std::variant<int64_t, double, std::string>;

struct Alert {
  int64_t ts_ms = 0;  // event time the alert was raised (the last flow's end)
  std::string id;     // stable for the same (detector, key, first_seen): see make_alert_id
  std::string detector;
  Severity severity = Severity::kLow;
  std::string summary;
  IpAddr src;
  IpAddr dst;
  uint16_t dst_port = 0;
  uint8_t proto = 0;
  std::string asset;  // the network model's asset involved, when one is
  std::optional<AlertIndicator> indicator;
  std::vector<std::pair<std::string, EvidenceValue>> evidence;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  uint64_t count = 0;  // flows folded into this alert
  bool retro = false;  // found by a retro-hunt over archived flows (orbwatch hunt), not live
};

// A 16-hex-digit id from what identifies an alert, so a replayed capture gives the same ids.
std::string make_alert_id(std::string_view detector, std::string_view key, int64_t first_seen_ms);

// Appends the alert as one JSON object and '\n'.
void append_alert_json(std::string& out, const Alert& a);
// The same alert with Elastic Common Schema field names (docs/formats.md, "ECS"), for SIEMs
// that ingest ECS unchanged.
void append_alert_ecs_json(std::string& out, const Alert& a);

// Where detectors put alerts (a sink, a tee, a test's vector). An alert may be emitted again
// with the same id when it grows (more flows folded, higher severity): the later one supersedes.
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void emit(const Alert& alert) = 0;
};

}  // namespace orbwatch
