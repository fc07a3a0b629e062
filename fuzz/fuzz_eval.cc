// Fuzzes what orbwatch eval reads (labels and alert JSON lines) and what the baseline detector
// reads back from state.db: each either parses or fails naming its line, never crashes; what
// parses can be scored.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detect/baseline_detector.h"
#include "sim/eval.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<sim::Label> labels;
  std::vector<sim::EvalAlert> alerts;
  std::string error;
  const bool l = sim::parse_labels(text, "l.jsonl", labels, error);
  if (!l && error.rfind("l.jsonl:", 0) != 0) __builtin_trap();
  error.clear();
  const bool a = sim::parse_alerts(text, "a.jsonl", alerts, error);
  if (!a && error.rfind("a.jsonl:", 0) != 0) __builtin_trap();
  const auto report = sim::evaluate(labels, alerts, {});
  (void)sim::format_report(report, {});
  detect::BaselineDetector b({});
  error.clear();
  if (!b.load_state(text, error) && error.empty()) __builtin_trap();
  return 0;
}
