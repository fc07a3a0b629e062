// baseline: per-asset profiles of what is normal, learned in event time and kept across runs
// (Detector::save_state, in state.db), and alerts that say what was expected and what was seen:
//  - volume: bytes each asset of the network model sends to the internet per hour on sessions
//    it opens (uploads; a server's answers to its clients are not what leaks), against the
//    same hour of the week (exponentially weighted mean and deviation), falling back to the
//    same hour of the day while the week has too little history. An hour far above both
//    (`k` deviations and `factor` times the mean, and at least `min_bytes`) is an outlier:
//    exfiltration, or a device turned into a relay. Outlier hours are not learned.
//  - remote access: the countries and ASes that real sessions (at least `min_session_bytes`)
//    to a VPN gateway come from. After learning, a session from a new country is low (medium
//    when its AS is hosting/cloud, where covert networks also rent exits), from a new AS of a
//    known country low: a user travelling, or a credential used by someone else.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "detect/detector.h"

namespace orbwatch::detect {

struct BaselineDetectorOptions {
  int64_t learning_ms = 2 * 86'400'000LL;  // per asset, from its first flow
  double k = 6;                            // deviations above the mean
  double factor = 10;                      // times the mean
  uint64_t min_bytes = 50'000'000;         // an hour below this is never an outlier
  double weight = 0.2;                     // of a new hour in its bin's mean and variance
  uint64_t min_session_bytes = 1'000'000;  // a remote-access session that counts
  size_t max_assets = 20'000;
  size_t max_places = 4096;  // countries and ASes held per asset
};

class BaselineDetector final : public Detector {
 public:
  explicit BaselineDetector(const BaselineDetectorOptions& options);

  std::string_view name() const override { return "baseline"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  void flush(AlertSink& sink) override;
  DetectorStats stats() const override;
  std::string save_state() const override;
  bool load_state(std::string_view text, std::string& error) override;

 private:
  struct Bin {
    double mean = 0, var = 0;
    uint32_t n = 0;
  };
  struct Profile {
    std::string asset;
    IpAddr addr;
    int64_t first_ms = 0;
    std::array<Bin, 168> week{};  // hour of the week, Monday 00:00 UTC first
    std::array<Bin, 24> day{};
    int64_t hour = INT64_MIN;                              // the open hour (index since the epoch)
    uint64_t out_bytes = 0;                                // to the internet in the open hour
    std::unordered_map<IpAddr, uint64_t, IpAddrHash> top;  // destinations of the open hour
    std::unordered_set<uint16_t> countries;
    std::unordered_set<uint32_t> ases;
    bool remote_access = false;
    bool resolved = false;  // asset and remote_access read from the model (not saved)
  };
  void close_hours(Profile& p, int64_t until_hour, AlertSink& sink);
  void judge_hour(Profile& p, AlertSink& sink);
  static void learn(Bin& b, double x, double weight);

  BaselineDetectorOptions o_;
  std::unordered_map<IpAddr, Profile, IpAddrHash> profiles_;
  uint64_t refused_ = 0, alerts_ = 0, hours_ = 0;
  int64_t ticked_hour_ = INT64_MIN;  // the hour of the last tick that closed profiles
  bool late_hour_ = false;           // a profile got an hour before it since
};

}  // namespace orbwatch::detect
