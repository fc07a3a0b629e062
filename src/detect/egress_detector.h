// egress: an edge or IoT device (the network model's VPN gateways, firewalls, routers, cameras,
// NAS and other IoT) that starts sessions to networks it never used: after a learning period
// (per device, from its first flow), each destination network (the destination's AS when
// enrichment knows it, else its /24) the device opens an answered session to, and did not use
// before, is counted. One alert per device and window lists them; high when one of them is a
// hosting/cloud AS (where covert networks keep their servers) or the device sent more than
// `high_bytes` there, else medium. DNS and NTP (udp/53, udp/123) are left out: devices follow
// resolvers and pools there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "detect/case_table.h"
#include "detect/detector.h"

namespace orbwatch::detect {

struct EgressDetectorOptions {
  int64_t learning_ms = 86'400'000;
  int64_t window_ms = 86'400'000;
  uint64_t high_bytes = 100'000'000;
  size_t max_networks = 1024;  // known networks per device
  size_t max_devices = 100'000;
  size_t max_cases = 20'000;
  size_t listed = 10;
};

class EgressDetector final : public Detector {
 public:
  explicit EgressDetector(const EgressDetectorOptions& options);
  ~EgressDetector() override;

  std::string_view name() const override { return "egress"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Device {
    int64_t first_ms = 0;
    std::unordered_set<uint64_t> known;  // networks
  };
  struct Case;
  void raise(Case& c, AlertSink& sink);

  EgressDetectorOptions o_;
  std::unordered_map<IpAddr, Device, IpAddrHash> devices_;
  std::unique_ptr<CaseTable<Case>> cases_;
  uint64_t new_networks_ = 0, refused_ = 0, alerts_ = 0;
};

}  // namespace orbwatch::detect
