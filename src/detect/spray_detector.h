// spray: distributed low-and-slow access to one service (Quad7's password spraying): many
// distinct sources, each trying only a few times, against a service the internet reaches (the
// VPN, mail, SSO), far more sources than the service's own baseline, most of them residential.
//
// Per service (internal responder, protocol, port) and window of event time (a UTC day by
// default), counted on the connections outside hosts open: distinct sources, attempts, the
// residential share of the sources whose AS type is known, the share not seen in the previous
// window. The baseline is an exponentially weighted mean of the distinct sources of earlier
// windows (those that raised nothing; the first only when it covered most of its window). An
// alert needs: a baseline, at least `min_sources`, `factor` times the baseline, at most
// `max_attempts_per_source` attempts per source on average, and (when AS types are known) a
// residential share of at least `min_residential_share`. A public service that always has
// thousands of clients has a baseline of thousands and stays quiet. The sources are the
// candidate indicators: the first `sample` are listed in the evidence.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "detect/detector.h"
#include "detect/hll.h"

namespace orbwatch::detect {

struct SprayDetectorOptions {
  int64_t window_ms = 86'400'000;
  double factor = 3.0;
  size_t min_sources = 200;
  double max_attempts_per_source = 3.0;
  double min_residential_share = 0.5;
  double baseline_weight = 0.3;  // of a new window in the baseline
  size_t max_services = 10'000;
  size_t max_total_sources = 2'000'000;  // distinct sources held in all services together
  size_t sample = 50;
};

class SprayDetector final : public Detector {
 public:
  explicit SprayDetector(const SprayDetectorOptions& options);

  std::string_view name() const override { return "spray"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  void flush(AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Service {
    IpAddr addr;
    uint16_t port = 0;
    uint8_t proto = 0;
    std::string asset;
    int64_t window = INT64_MIN;                                // index of the current window
    int64_t first_ms = 0;                                      // first flow of the current window
    std::unordered_map<IpAddr, uint32_t, IpAddrHash> sources;  // attempts per source (exact)
    HyperLogLog distinct;  // every source, also those the total cap keeps out of `sources`
    std::unordered_set<IpAddr, IpAddrHash> previous;  // the last window's sources
    uint64_t attempts = 0, residential = 0, typed = 0, fresh = 0;
    bool capped = false;     // some sources were only counted in `distinct`
    uint64_t estimated = 0;  // sources past the cap (with repeats)
    std::vector<IpAddr> sample;
    double baseline = 0;
    uint32_t windows = 0;  // in the baseline
    // The alert of the current window.
    bool alerted = false;
    Severity raised = Severity::kLow;
    double raised_sources = 0;  // the count last raised (exact or estimated)
    int64_t last_ms = 0;
  };
  void roll(Service& s, int64_t window, AlertSink& sink);
  void check(Service& s, bool closing, AlertSink& sink);
  size_t total_sources_ = 0;
  int64_t first_ms_ = INT64_MIN;       // the first flow this detector saw
  int64_t ticked_window_ = INT64_MIN;  // the window of the last tick that rolled services
  bool late_window_ = false;           // a service got a window before it since

  SprayDetectorOptions o_;
  std::unordered_map<std::string, Service> services_;
  uint64_t attempts_ = 0, refused_ = 0, alerts_ = 0;
};

}  // namespace orbwatch::detect
