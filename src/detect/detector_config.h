// Detector parameters from the config file: `[detectors.NAME]` tables, e.g.
//   [detectors.intel]
//   window = "2h"
// Every parameter is validated by the detector's own factory, so a mistake is reported at
// start-up with the file, line and key.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detect/registry.h"

namespace orbwatch::detect {

// Detector name -> its parameters. nullopt with `errors` (one line per problem) when anything
// is wrong; an absent [detectors] table gives an empty map.
using DetectorSettings = std::map<std::string, DetectorParams, std::less<>>;
std::optional<DetectorSettings> load_detector_settings(const std::string& path,
                                                       std::vector<std::string>& errors);
std::optional<DetectorSettings> parse_detector_settings(std::string_view text,
                                                        const std::string& path,
                                                        std::vector<std::string>& errors);

}  // namespace orbwatch::detect
