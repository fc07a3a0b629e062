// anomaly: the advisory's "machine-learning anomaly detection", kept explainable: per internal
// host and per edge service, features of each hour of its traffic are compared with its own
// history by robust z-scores, and an hour that breaks far from it on several features at once
// is reported with the features that drove it (observed, expected, z).
//
// Host features (counts as log(1 + x)): distinct outside hosts it opened sessions to
// (fan-out), distinct outside hosts that opened sessions to it (fan-in), destinations new to it
// (not in a Bloom filter of its past ones), sessions it opened, those to hosting/cloud ASes,
// sessions with residential ASes, bytes it sent, the log ratio of bytes sent to received, the
// entropy (bits) of the destination ports it used, and its sessions against the same hour of
// the day (its activity rhythm).
// Edge service features (a service outside hosts reach: answered, or declared in the model):
// distinct sources, sources new to it, sessions, those from hosting and from residential ASes,
// and sessions against the same hour of the day.
//
// Each feature keeps an exponentially weighted mean and mean absolute deviation (the rhythm
// feature one pair per hour of the day); z = (x - mean) / max(1.4826 * dev, floor). Only rises
// count. An hour is anomalous when, after `learning_hours` of history, one feature reaches
// `z_alert` and at least `min_features` reach `z_support`: high for an edge/IoT device, else
// medium. Anomalous hours are not learned. One alert per entity and window, raised again when it
// rises. Memory per entity is fixed (~1.5 KB).
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
  size_t max_services = 10'000;
};

class AnomalyDetector final : public Detector {
 public:
  static constexpr size_t kMaxFeatures = 10;

  explicit AnomalyDetector(const AnomalyDetectorOptions& options);

  std::string_view name() const override { return "anomaly"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Stat {
    double mean = 0, dev = 0;
  };
  // A host or an edge service, and its open hour.
  struct Entity {
    bool service = false;
    IpAddr addr;
    uint16_t port = 0;
    uint8_t proto = 0;
    std::string asset;
    bool edge = false;
    int64_t hour = INT64_MIN;
    uint32_t history = 0;  // hours learned
    std::array<Stat, kMaxFeatures> stats{};
    std::array<Stat, 24> rhythm{};                // sessions by hour of the day
    std::bitset<1024> opened_peers, other_peers;  // fan-out and fan-in (host), sources (service)
    std::bitset<4096> past;                       // peers seen before (Bloom, two probes)
    uint32_t new_peers = 0, sessions = 0, hosting = 0, residential = 0;
    uint64_t bytes_out = 0, bytes_in = 0;
    std::array<uint16_t, 32> ports{};
    std::string alert_id;
    int64_t alert_window = -1;
    Severity raised = Severity::kLow;
  };
  void close_hour(Entity& e, AlertSink& sink);
  void count_peer(Entity& e, const IpAddr& peer, const enrich::Geo& geo);

  AnomalyDetectorOptions o_;
  std::unordered_map<IpAddr, Entity, IpAddrHash> hosts_;
  std::unordered_map<uint64_t, Entity> services_;  // by (address, protocol, port) hash
  int64_t swept_hour_ = INT64_MIN;
  uint64_t hours_ = 0, refused_ = 0, alerts_ = 0;
};

}  // namespace orbwatch::detect
