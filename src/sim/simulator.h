// Simulator: the traffic of a simulated World in event time, with injected attack scenarios and
// their ground truth (labels), deterministic for a seed.
//
// Benign traffic follows a daily and weekly rhythm: workstations using SaaS, a resolver, NTP
// and update checks, remote-access users on the VPN from stable home addresses (sometimes
// travelling), a mail and a web server with thousands of distinct clients, IoT devices with
// regular vendor-cloud heartbeats, branch SOHO routers, and internet background scanning
// against the edge. Scenarios (THREATS.md) start after a clean learning period.
//
// Flows are unidirectional records as a router exports them (a session gives a request and a
// reply record; long sessions are cut at a 5-minute active timeout); the edge router exports
// flows that cross the internet edge, the core firewall flows between internal zones.
// next() returns the flows of one 10-minute slice of event time, ordered by end time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/flow_batch.h"
#include "sim/world.h"

namespace orbwatch::sim {

// Ground truth of one injected scenario.
struct Label {
  std::string scenario;  // kScenarioNames
  std::string id;        // scenario-N
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::vector<IpAddr> internal;        // the organisation's hosts involved
  std::vector<IpAddr> external;        // outside addresses involved (all, or a sample)
  uint64_t external_count = 0;         // distinct outside addresses in all
  std::vector<std::string> detectors;  // those that should find it
  std::string description;
};
std::string label_json(const Label& label);

inline constexpr std::string_view kScenarioNames[] = {
    "raptor_train_tier1", "quad7_spray",       "kv_relay",     "intel_hit",
    "allowlist_breach",   "backdoor_listener", "exfiltration", "segmentation"};

struct SimOptions {
  WorldOptions world;
  int64_t start_ms = 1'775'433'600'000;  // 2026-04-06T00:00:00Z, a Monday
  double days = 7;
  double clean_days = 2;  // scenarios start after this (a third of the span when shorter)
  std::vector<std::string> scenarios{kScenarioNames, kScenarioNames + std::size(kScenarioNames)};
  uint32_t repeat = 1;          // instances of each scenario
  double beacon_jitter = 0.15;  // relative jitter of the beaconing scenarios' periods
};

class Simulator {
 public:
  // Throws std::invalid_argument on an unknown scenario name or a span it cannot hold.
  explicit Simulator(SimOptions options);
  ~Simulator();

  const World& world() const { return world_; }
  const SimOptions& options() const { return o_; }
  // Every scenario's label, known before the traffic is generated.
  const std::vector<Label>& labels() const { return labels_; }
  // The threat feed the intel scenario is meant to hit (plain format, one address a line).
  std::string feed_text() const;

  // The flows of the next slice (appended to `out`), false once the span is done.
  bool next(FlowBatch& out);
  int64_t now_ms() const { return t_; }
  int64_t end_ms() const { return end_; }

 private:
  struct Scenario;
  struct Emitter;
  void plan();
  void benign(Emitter& e, int64_t t0, int64_t t1);

  SimOptions o_;
  World world_;
  std::vector<Label> labels_;
  std::vector<std::unique_ptr<Scenario>> scenarios_;
  std::vector<IpAddr> scanners_;  // internet background scanners
  std::vector<IpAddr> feed_;      // indicators in the feed
  std::vector<FlowRecord> pending_;
  int64_t t_ = 0;
  int64_t end_ = 0;
  uint64_t slice_ = 0;
};

}  // namespace orbwatch::sim
