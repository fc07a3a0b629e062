// anomaly: the advisory's "machine-learning anomaly detection", kept explainable: per internal
// host, seven features of each hour of its traffic are compared with the host's own history
// by robust z-scores, and an hour that breaks far from it on several features at once is
// reported with the features that drove it (observed, expected, z).
//
// Features (counts as log(1 + x)): distinct outside hosts it opened sessions to (fan-out),
// distinct outside hosts that opened sessions to it (fan-in), destinations new to it (not in a
// Bloom filter of its past ones), sessions it opened, those to hosting/cloud ASes, bytes it
// sent out, and the entropy (bits) of the destination ports it used. Each feature keeps an
// exponentially weighted mean and mean absolute deviation; z = (x - mean) / max(1.4826 * dev,
// floor). Only rises count (a host going quiet is not a covert-network sign).
//
// An hour is anomalous when, after `learning_hours` of history, one feature reaches `z_alert`
// and at least `min_features` reach `z_support`: high for an edge/IoT device, else medium.
// Anomalous hours are not learned. One alert per host and window, raised again when it rises.
// Memory per host is fixed (~1 KB: distinct counts by linear counting in 1,024-bit maps, a
// 4,096-bit Bloom filter, a 32-bin port histogram).
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "detect/detector.h"

namespace orbwatch::detect {

struct AnomalyDetectorOptions {
  size_t learning_hours = 48;
  double z_alert = 8;
  double z_support = 4;
  size_t min_features = 2;
  double weight = 0.05;  // of a new hour in a feature's mean and deviation
  int64_t window_ms = 86'400'000;
  size_t max_hosts = 50'000;
};

class AnomalyDetector final : public Detector {
 public:
  static constexpr size_t kFeatures = 7;

  explicit AnomalyDetector(const AnomalyDetectorOptions& options);

  std::string_view name() const override { return "anomaly"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Stat {
    double mean = 0, dev = 0;
  };
  struct Host {
    IpAddr addr;
    std::string asset;
    bool edge = false;
    int64_t hour = INT64_MIN;
    uint32_t history = 0;  // hours learned
    std::array<Stat, kFeatures> stats{};
    // The open hour.
    std::bitset<1024> out_peers, in_peers;
    std::bitset<4096> past;  // destinations seen before (Bloom, two probes)
    uint32_t new_peers = 0, sessions = 0, hosting = 0;
    uint64_t bytes_out = 0;
    std::array<uint16_t, 32> ports{};
    // Its alert in the current window.
    std::string alert_id;
    int64_t alert_window = -1;
    Severity raised = Severity::kLow;
  };
  void close_hour(Host& h, AlertSink& sink);

  AnomalyDetectorOptions o_;
  std::unordered_map<IpAddr, Host, IpAddrHash> hosts_;
  int64_t swept_hour_ = INT64_MIN;
  uint64_t hours_ = 0, refused_ = 0, alerts_ = 0;
};

}  // namespace orbwatch::detect
