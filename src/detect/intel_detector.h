// The intel detector: a flow that touches an indicator (an address or prefix on either side,
// its server name, or an address that DNS resolved for an indicator domain) raises an alert
// with the direction and whether the other side answered.
//
// Alerts are kept per (feed, indicator, internal host) "case" for one window of event time:
// the first matching flow raises the alert at once; later flows are folded into it (count,
// bytes, last_seen) and the alert is raised again, with the same id, only when its severity
// rises (e.g. the indicator answered) and when the window closes with more flows folded than
// last raised. A flow after the window opens a new case with a new id.
//
// Severity starts from the feed's and moves with the direction (docs/detection.md):
//   internal host initiated, indicator answered  -> one level up (high -> critical)
//   internal host initiated, no answer seen      -> the feed's
//   indicator initiated, host answered           -> the feed's
//   indicator initiated, no answer seen          -> one level down
//   a DNS query for an indicator domain          -> the feed's
//   direction unknown                            -> the feed's
//
// Memory: at most max_cases open cases (the case whose window ends first is closed early when
// full, and counted) and max_dns_addresses DNS-derived addresses (the soonest to expire goes).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "detect/case_table.h"
#include "detect/detector.h"

namespace orbwatch::detect {

struct IntelDetectorOptions {
  int64_t window_ms = 3'600'000;        // one alert per case per window
  int64_t dns_min_ttl_ms = 3'600'000;   // a DNS-derived address lives at least this long
  int64_t dns_max_ttl_ms = 86'400'000;  // and at most this long
  size_t max_cases = 100'000;
  size_t max_dns_addresses = 100'000;
};

class IntelDetector final : public Detector {
 public:
  explicit IntelDetector(const IntelDetectorOptions& options);
  ~IntelDetector() override;

  std::string_view name() const override { return "intel"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Hit;
  struct Case;
  struct Derived;

  void learn_dns(const EnrichedFlow& flow);
  void match_side(const EnrichedFlow& flow, bool indicator_is_src, std::vector<Hit>& hits);
  void apply(const EnrichedFlow& flow, const Hit& hit, AlertSink& sink);
  void raise(Case& c, AlertSink& sink);
  void finish(Case& c, AlertSink& sink);  // the case closes: raise what was not raised yet

  IntelDetectorOptions o_;
  std::unique_ptr<CaseTable<Case>> cases_;
  std::unordered_map<IpAddr, Derived, IpAddrHash> derived_;
  std::set<std::pair<int64_t, IpAddr>> derived_expiry_;  // (expires, address)
  std::vector<Hit> hits_;                                // scratch
  struct Counters {
    uint64_t alerts = 0;
    uint64_t address_hits = 0;
    uint64_t name_hits = 0;
    uint64_t dns_hits = 0;
    uint64_t derived_hits = 0;
    uint64_t derived_learned = 0;
    uint64_t derived_evicted = 0;
  } n_;
};

}  // namespace orbwatch::detect
