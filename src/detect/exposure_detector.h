// exposure: an edge device answers the internet on a service it should not. Judged on the flows
// the engine found to be answered connections from outside to an internal responder (the edge
// inventory, netmodel/inventory.h):
//  - a known covert-network backdoor listener answers (tcp/7777 "xlogin", tcp/63256 "alogin",
//    Quad7): critical, always;
//  - a management service answers (SSH, telnet, RDP, VNC, WinRM, SNMP, TR-069, winbox,
//    RouterOS API, Webmin) and the network model does not list it among the asset's services:
//    high;
//  - a new service appears on a device the inventory already knew, after the learning period
//    (event time since the inventory's first flow): medium (high when also a management one).
// One alert per (device, service) and window; raised at once, again when the window closes with
// more flows.
#pragma once

#include <memory>

#include "detect/case_table.h"
#include "detect/detector.h"

namespace orbwatch::detect {

struct ExposureDetectorOptions {
  int64_t learning_ms = 7LL * 86'400'000;
  int64_t window_ms = 86'400'000;
  size_t max_cases = 20'000;
};

class ExposureDetector final : public Detector {
 public:
  explicit ExposureDetector(const ExposureDetectorOptions& options);
  ~ExposureDetector() override;

  std::string_view name() const override { return "exposure"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Case;
  void raise(Case& c, AlertSink& sink);
  void finish(Case& c, AlertSink& sink);

  ExposureDetectorOptions o_;
  std::unique_ptr<CaseTable<Case>> cases_;
  uint64_t alerts_ = 0;
};

}  // namespace orbwatch::detect
