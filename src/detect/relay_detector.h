// relay: an internal device whose inbound and outbound sessions pair up: a session outside host
// A opened to the device, and within `max_delay` a session the device opened to another outside
// host B, the two clients' records carrying near-equal bytes (within `tolerance`). That is what a
// compromised router used as a covert-network node does (KV-botnet): it forwards what it receives.
// Pairs are counted per device and window; `min_pairs` make an alert, high for an edge/IoT device.
// VPN gateways and mail servers relay by design and are not judged (asset kinds vpn and mail).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>

#include "detect/case_table.h"
#include "detect/detector.h"

namespace orbwatch::detect {

struct RelayDetectorOptions {
  int64_t window_ms = 86'400'000;
  int64_t max_delay_ms = 2000;
  double tolerance = 0.03;
  uint64_t min_bytes = 1000;
  size_t min_pairs = 5;
  size_t max_devices = 50'000;
  size_t recent = 32;  // records kept per device and direction
  size_t max_cases = 20'000;
  size_t listed = 10;
};

class RelayDetector final : public Detector {
 public:
  explicit RelayDetector(const RelayDetectorOptions& options);
  ~RelayDetector() override;

  std::string_view name() const override { return "relay"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Seen {
    IpAddr peer;
    int64_t start_ms;
    uint64_t bytes;
    uint16_t device_port;  // the device's side
    uint16_t peer_port;
  };
  struct Device {
    std::deque<Seen> in, out;
    int64_t last_ms = 0;
  };
  struct Case;
  void paired(const EnrichedFlow& flow, const Seen& in, const Seen& out, AlertSink& sink);
  void raise(Case& c, AlertSink& sink);

  RelayDetectorOptions o_;
  std::unordered_map<IpAddr, Device, IpAddrHash> devices_;
  std::unique_ptr<CaseTable<Case>> cases_;
  uint64_t pairs_ = 0, refused_ = 0, alerts_ = 0;
  int64_t swept_ms_ = INT64_MIN;
};

}  // namespace orbwatch::detect
