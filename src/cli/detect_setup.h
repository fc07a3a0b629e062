// Command-line wiring of the detect stage shared by the offline commands: threat feeds given as
// files (--feed), detector parameters (--param detector.name=value), the network model
// (--config, --internal). Errors name the option (or the config file's line) and the value.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "detect/detector.h"
#include "enrich/geo_db.h"
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

// The ASN/country data of the config's [enrich] table plus `files` (--geo); `out` stays null
// when there is none. Malformed lines go to `warnings`; an unusable file is an error.
bool load_geo(const std::string& config_path, const std::vector<std::string>& files,
              std::shared_ptr<const enrich::GeoDb>& out, std::vector<std::string>& warnings,
              std::string& error);
// "geo       515158 AS ranges, 91065 ASes (2530 hosting, ...), 1010884 country ranges".
std::string geo_summary(const enrich::GeoDb& db);

}  // namespace orbwatch::cli
