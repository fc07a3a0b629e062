// `orbwatch check-config FILE`: validates the whole config file (every table orbwatch reads:
// network model, feeds, detector settings) and lists every problem with its line; exit 1 when
// there is one.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.h"
#include "detect/detector_config.h"
#include "enrich/enrich_config.h"
#include "intel/feed_config.h"
#include "intel/toml_support.h"
#include "netmodel/model.h"
#include "server/daemon_config.h"

namespace orbwatch::cli {

namespace {

// The top-level tables this version reads.
const std::set<std::string, std::less<>> kRead = {
    "network", "zones",     "lists",  "assets",  "segmentation", "inventory", "feeds",
    "intel",   "detectors", "enrich", "collect", "store",        "http",      "outputs"};

int run_check_config(const std::string& path) {
  std::vector<std::string> errors;
  auto text = intel::read_config_file(path, errors);
  auto doc = text ? intel::parse_toml(*text, path, errors) : std::nullopt;
  if (!doc) {
    fmt::print(stderr, "{}\n", errors.front());
    return 1;
  }
  for (const auto& [key, value] : *doc) {
    if (kRead.contains(key.str())) continue;
    errors.push_back(fmt::format(
        "{}:{}: {}: unknown table (expected network, zones, lists, assets, segmentation, "
        "inventory, feeds, intel, detectors, enrich, collect, store, http, outputs)",
        path, key.source().begin.line, key.str()));
  }
  auto model = netmodel::parse_model(*text, path, errors);
  auto intel = intel::parse_intel_config(*text, path, errors);
  auto detectors = detect::parse_detector_settings(*text, path, errors);
  auto geo = enrich::parse_enrich_config(*text, path, errors);
  auto daemon = server::parse_daemon_config(*text, path, errors);
  if (!errors.empty()) {
    // Each reader sorts its own; one list by line reads best.
    std::stable_sort(errors.begin(), errors.end(), [&](const std::string& a, const std::string& b) {
      auto line = [&](const std::string& s) {
        return std::atol(s.c_str() + std::min(s.size(), path.size() + 1));
      };
      return line(a) < line(b);
    });
    for (const auto& e : errors) fmt::print(stderr, "{}\n", e);
    fmt::print(stderr, "{}: {} problem{}\n", path, errors.size(), errors.size() == 1 ? "" : "s");
    return 1;
  }
  size_t params = 0;
  for (const auto& [name, p] : *detectors) params += p.size();
  fmt::print(
      "{}: ok ({} internal prefixes, {} zones, {} lists, {} assets, {} segmentation rules, "
      "{} feeds, {} detector settings, {} geo databases, {} listen addresses, {} outputs)\n",
      path, model->internal.size(), model->zones.size(), model->lists.size(), model->assets.size(),
      model->segmentation.size(), intel->feeds.size(), params, geo->files.size(),
      daemon->listen.size(), daemon->outputs.size());
  return 0;
}

}  // namespace

void add_check_config_command(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "check-config",
      "Validate a config file (network model, feeds, detectors, enrichment and the daemon's "
      "collect, store, http and outputs tables): every problem with its line, key and what was "
      "expected; exit 1 when there is one");
  cmd->add_option("file", *path, "the orbwatch TOML config file")->required();
  cmd->callback([path, &exit_code] { exit_code = run_check_config(*path); });
}

}  // namespace orbwatch::cli
