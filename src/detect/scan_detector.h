// scan: fan-out from one internal host. Horizontal: many distinct destinations on one port
// (worm-style telnet/HTTP exploitation from a compromised camera or router); vertical: many
// distinct ports on one destination (a port scan). Counted over a window of event time on the
// records the host initiated; most attempts must have failed (no answer), which keeps busy
// clients (a mail server sending to hundreds of relays) quiet; a case opens with a failed
// attempt, so answered traffic alone costs a lookup and no state. Edge and IoT devices, which
// should never scan, have lower thresholds and higher severity.
#pragma once

#include <memory>

#include "detect/case_table.h"
#include "detect/detector.h"

namespace orbwatch::detect {

struct ScanDetectorOptions {
  int64_t window_ms = 3'600'000;
  size_t min_destinations = 100;      // horizontal, any host
  size_t min_destinations_edge = 25;  // horizontal, edge/IoT device
  size_t min_ports = 50;              // vertical, any host
  size_t min_ports_edge = 20;         // vertical, edge/IoT device
  double min_failed_share = 0.5;      // of the attempts
  size_t max_cases = 50'000;
  size_t max_targets = 1024;             // distinct targets held per case
  size_t max_total_targets = 4'000'000;  // ... and in all cases together (~40 bytes each)
  size_t listed = 10;
};

class ScanDetector final : public Detector {
 public:
  explicit ScanDetector(const ScanDetectorOptions& options);
  ~ScanDetector() override;

  std::string_view name() const override { return "scan"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Case;
  void raise(Case& c, AlertSink& sink);
  void finish(Case& c, AlertSink& sink);
  void count(Case& c, const FlowRecord& r, AlertSink& sink);

  ScanDetectorOptions o_;
  std::unique_ptr<CaseTable<Case>> cases_;
  uint64_t attempts_ = 0;
  uint64_t alerts_ = 0;
  size_t total_targets_ = 0;
  uint64_t targets_refused_ = 0;  // not held: the total was at its cap
};

}  // namespace orbwatch::detect
