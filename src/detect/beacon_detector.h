// beacon: regular check-ins from an internal host to an external service (C2, a script
// re-fetched every hour), scored the way RITA scores beacons, on the connections the host
// started to one (external address, protocol, port):
//  - timing: the Bowley skewness of the intervals between connection starts (symmetric: 1),
//    their dispersion (median absolute deviation relative to the median interval: 0 is 1), and
//    the share of hours with a connection over the span seen (C2 runs day and night);
//  - size: the skewness and relative dispersion of the bytes the host sent.
// score = 2/3 timing + 1/3 size, each the mean of its parts, in [0, 1].
//
// Streaming with bounded memory: per pair the last `max_samples` connection starts and sizes;
// pairs are scored every `interval` of event time when they have new connections, over the
// last `window`. Records continuing a long flow (active-timeout pieces: TCP without SYN, or
// starting right where the pair's last record ended) are not connections.
//
// What has always been there is baseline, not a beacon: a (host, protocol, port, destination
// network) seen in the first `learning` of event time stays quiet (the network is the
// destination's AS when enrichment knows it, else its /24), so IoT heartbeats to a vendor cloud,
// NTP and update checks that run from the start never alert, even when the cloud's addresses
// change.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "detect/detector.h"

namespace orbwatch::detect {

struct BeaconDetectorOptions {
  int64_t window_ms = 86'400'000;
  int64_t interval_ms = 3'600'000;
  int64_t learning_ms = 86'400'000;
  size_t min_connections = 12;
  double min_score = 0.8;
  double high_score = 0.9;
  size_t max_pairs = 200'000;
  size_t max_samples = 64;
  size_t max_baseline = 1'000'000;
};

// The parts of a beacon score, from connection starts (ms) and sizes (bytes), both in start
// order; public for the tests.
struct BeaconScore {
  size_t connections = 0;
  double median_interval_s = 0, interval_mad_s = 0, interval_skew = 0, coverage = 0;
  double median_bytes = 0, bytes_mad = 0, bytes_skew = 0;
  double timing = 0, size = 0, score = 0;
};
BeaconScore score_beacon(const std::vector<int64_t>& starts, const std::vector<uint64_t>& bytes);

class BeaconDetector final : public Detector {
 public:
  explicit BeaconDetector(const BeaconDetectorOptions& options);

  std::string_view name() const override { return "beacon"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  void flush(AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Pair {
    IpAddr host, peer;
    uint16_t port = 0;
    uint8_t proto = 0;
    uint32_t peer_asn = 0;
    enrich::AsType peer_type = enrich::AsType::kUnknown;
    std::string peer_country, peer_org, asset;
    std::vector<int64_t> starts;  // ring of the last max_samples, oldest at `head`
    std::vector<uint64_t> bytes;
    size_t head = 0;
    int64_t last_end_ms = INT64_MIN;
    int64_t last_seen_ms = 0;
    bool dirty = false;
    // Its alert: one while the pair keeps beaconing, raised again when it rises.
    std::string alert_id;
    Severity raised = Severity::kLow;
    uint64_t flows = 0;
  };
  void score(Pair& p, int64_t now_ms, AlertSink& sink);

  BeaconDetectorOptions o_;
  std::unordered_map<std::string, Pair> pairs_;
  std::unordered_set<uint64_t> baseline_;
  int64_t first_ms_ = INT64_MIN;
  int64_t next_score_ms_ = INT64_MIN;
  int64_t watermark_ms_ = INT64_MIN;
  uint64_t connections_ = 0, baseline_flows_ = 0, refused_ = 0, scored_ = 0, alerts_ = 0;
};

}  // namespace orbwatch::detect
