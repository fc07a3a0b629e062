// segmentation: a flow between zones that the network model's [[segmentation]] rules deny
// (a rule with action "deny", or no rule allowing the service between two zones that rules
// name), answered or not. The initiator's zone is "from"; addresses outside every zone and the
// internal prefixes are the zone "external".
//
// Aggregated per (from zone, to zone, initiating host) and window, so a host sweeping a zone is
// one alert with its destinations and services counted.
#pragma once

#include <memory>

#include "detect/case_table.h"
#include "detect/detector.h"

namespace orbwatch::detect {

struct SegmentationDetectorOptions {
  int64_t window_ms = 3'600'000;
  size_t max_cases = 20'000;
  size_t max_targets = 1'000;  // distinct destinations counted per case
  size_t listed = 10;          // destinations and services named in the evidence
};

class SegmentationDetector final : public Detector {
 public:
  explicit SegmentationDetector(const SegmentationDetectorOptions& options);
  ~SegmentationDetector() override;

  std::string_view name() const override { return "segmentation"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Case;
  void raise(Case& c, AlertSink& sink);
  void finish(Case& c, AlertSink& sink);

  SegmentationDetectorOptions o_;
  std::unique_ptr<CaseTable<Case>> cases_;
  uint64_t violations_ = 0;
  uint64_t alerts_ = 0;
};

}  // namespace orbwatch::detect
