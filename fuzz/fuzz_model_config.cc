// Fuzzes the network model's TOML reader and the [detectors.NAME] reader, then builds the model
// index and classifies a few addresses: a config either loads (and its index answers) or fails
// with at least one message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detect/detector_config.h"
#include "netmodel/model.h"
#include "netmodel/model_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  auto model = netmodel::parse_model(text, "orbwatch.toml", errors);
  if (model.has_value() != errors.empty()) __builtin_trap();
  errors.clear();
  auto settings = detect::parse_detector_settings(text, "orbwatch.toml", errors);
  if (settings.has_value() != errors.empty()) __builtin_trap();
  if (!model) return 0;
  auto index = netmodel::ModelIndex::build(std::move(*model));
  const IpAddr probes[] = {IpAddr::v4(0x0a000001), IpAddr::v4(0xc0000201), IpAddr{},
                           *IpAddr::parse("fd00::1")};
  for (const auto& a : probes) {
    const auto& p = index->place(a);
    if (p.zone >= static_cast<int32_t>(index->model().zones.size())) __builtin_trap();
    if (p.asset >= static_cast<int32_t>(index->model().assets.size())) __builtin_trap();
    for (const auto& b : probes) index->segment(p, index->place(b), 6, 22);
    if (p.asset >= 0) {
      int32_t rule = index->allow_rule(p.asset, 6, 22);
      if (rule >= 0) index->allowed(p.asset, rule, index->place(probes[1]));
    }
  }
  return 0;
}
