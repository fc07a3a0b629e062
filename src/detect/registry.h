// Every detector orbwatch has, by name, with its parameters and the factory that builds it from
// validated parameters. An explicit list (registry.cc), not self-registration: static
// initialisers in static libraries get dropped by the linker.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "detect/detector.h"

namespace orbwatch::detect {

struct ParamInfo {
  std::string_view name;
  std::string_view default_value;
  std::string_view help;
};

// Parameter values as text ("window" -> "2h"), from the config file or the command line.
using DetectorParams = std::map<std::string, std::string, std::less<>>;

struct DetectorInfo {
  std::string_view name;
  std::string_view summary;
  std::span<const ParamInfo> params;
  // Null with `error` set ("intel.window: expected a duration like \"1h\", got \"x\"") when a
  // parameter is unknown or malformed: config errors surface at start-up, not mid-stream.
  std::unique_ptr<Detector> (*make)(const DetectorParams& params, std::string& error);
};

std::span<const DetectorInfo> all_detectors();
const DetectorInfo* find_detector(std::string_view name);

}  // namespace orbwatch::detect
