// Command-line wiring of the detect stage shared by the offline commands: threat feeds given as
// files (--feed), detector parameters (--param detector.name=value), the network model
// (--config, --internal). Errors name the option (or the config file's line) and the value.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "detect/detector.h"
#include "intel/intel_set.h"
#include "netmodel/model_index.h"

namespace orbwatch::cli {

// Reads and parses each file (format detected); the feed is named after the file ("covert.txt"
// -> "covert"). Parse problems go to `warnings`; a file that cannot be read or whose format is
// unknown is an error.
bool load_feed_files(const std::vector<std::string>& paths, int64_t now_ms,
                     std::vector<std::shared_ptr<const intel::LoadedFeed>>& out,
                     std::vector<std::string>& warnings, std::string& error);

// Every registered detector, built with the config file's [detectors.NAME] settings (none
// when `config_path` is empty) overridden by the "detector.param=value" settings given.
bool make_detectors(const std::string& config_path, const std::vector<std::string>& settings,
                    std::vector<std::unique_ptr<detect::Detector>>& out, std::string& error);

// The network model of `config_path` (none when empty), with its internal prefixes replaced by
// `internal` when that is given. False with `error` holding one line per problem.
bool load_network_model(const std::string& config_path, const std::vector<std::string>& internal,
                        std::shared_ptr<const netmodel::ModelIndex>& out, std::string& error);

}  // namespace orbwatch::cli
