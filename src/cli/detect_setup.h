// Command-line wiring of the detect stage shared by the offline commands: threat feeds given as
// files (--feed), detector parameters (--param detector.name=value), internal prefixes
// (--internal). Errors come back as one line naming the option and the value.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "detect/detector.h"
#include "intel/intel_set.h"

namespace orbwatch::cli {

// Reads and parses each file (format detected); the feed is named after the file ("covert.txt"
// -> "covert"). Parse problems go to `warnings`; a file that cannot be read or whose format is
// unknown is an error.
bool load_feed_files(const std::vector<std::string>& paths, int64_t now_ms,
                     std::vector<std::shared_ptr<const intel::LoadedFeed>>& out,
                     std::vector<std::string>& warnings, std::string& error);

// Every registered detector, built with the "detector.param=value" settings given.
bool make_detectors(const std::vector<std::string>& settings,
                    std::vector<std::unique_ptr<detect::Detector>>& out, std::string& error);

// CIDRs as given, or the defaults when none are.
bool parse_internal(const std::vector<std::string>& cidrs, std::vector<Prefix>& out,
                    std::string& error);

}  // namespace orbwatch::cli
