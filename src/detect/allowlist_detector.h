// allowlist: a connection to a protected asset's service from a source outside its allow-list
// (the network model's allow_from / allow). Zero trust for remote access and admin services:
// only the listed zones, lists and prefixes may connect; everyone else is an alert, higher when
// the asset answered than for an attempt.
//
// Aggregated per (asset, service) and window: the offending sources are counted and the first
// few listed in the evidence, so a spray from thousands of addresses is one alert, not
// thousands. Raised at once, again when its severity rises, and when the window closes with
// more flows folded in (same id).
#pragma once

#include <memory>

#include "detect/case_table.h"
#include "detect/detector.h"

namespace orbwatch::detect {

struct AllowlistDetectorOptions {
  int64_t window_ms = 3'600'000;
  size_t max_cases = 20'000;
  size_t max_sources = 1'000;  // distinct sources counted per case (then only flows)
  size_t listed_sources = 10;  // sources named in the evidence
};

class AllowlistDetector final : public Detector {
 public:
  explicit AllowlistDetector(const AllowlistDetectorOptions& options);
  ~AllowlistDetector() override;

  std::string_view name() const override { return "allowlist"; }
  void on_flow(const EnrichedFlow& flow, AlertSink& sink) override;
  void on_tick(int64_t watermark_ms, AlertSink& sink) override;
  DetectorStats stats() const override;

 private:
  struct Case;
  void raise(Case& c, AlertSink& sink);
  void finish(Case& c, AlertSink& sink);

  AllowlistDetectorOptions o_;
  std::unique_ptr<CaseTable<Case>> cases_;
  uint64_t violations_ = 0;
  uint64_t alerts_ = 0;
};

}  // namespace orbwatch::detect
