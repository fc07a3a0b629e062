// `orbwatch export nft|stix|misp`: what the daemon serves as firewall lists and as a TAXII
// collection, written to a file: an nftables set file of the block and allow lists, a STIX 2.1
// bundle or a MISP event of the covert-network addresses orbwatch confirmed (docs/api.md).
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/detect_setup.h"
#include "core/time.h"
#include "intel/feed_config.h"
#include "intel/feed_manager.h"
#include "server/daemon_config.h"
#include "server/share.h"
#include "store/alert_store.h"
#include "store/inventory_store.h"

namespace orbwatch::cli {

namespace {

struct ExportOptions {
  std::string what;  // nft, stix, misp
  std::string config = "/etc/orbwatch/orbwatch.toml";
  std::string since = "7d";
  std::string out = "-";
  std::string name = "orbwatch";
};

int fail(const ExportOptions& o, const std::string& message) {
  fmt::print(stderr, "orbwatch export {}: {}\n", o.what, message);
  return 1;
}

int run_export(const ExportOptions& o) {
  std::vector<std::string> errors;
  auto daemon = server::load_daemon_config(o.config, errors);
  auto intel_config = daemon ? intel::load_intel_config(o.config, errors) : std::nullopt;
  std::shared_ptr<const netmodel::ModelIndex> model;
  std::string error;
  if (!daemon || !intel_config || !load_network_model(o.config, {}, model, error)) {
    for (const auto& e : errors) fmt::print(stderr, "{}\n", e);
    if (!error.empty()) fmt::print(stderr, "{}\n", error);
    return 2;
  }
  const auto since = parse_duration_ms(o.since);
  if (!since) return fail(o, "--since " + o.since + ": expected a duration such as 7d");
  const int64_t now = wall_clock_ms();
  std::vector<server::Confirmed> confirmed;
  const std::string db = store::state_db_path(daemon->store_path);
  if (std::filesystem::exists(db)) {
    store::AlertStore alerts;
    if (!alerts.open(db, false, error) ||
        !server::load_confirmed(alerts, now - *since, *model, confirmed, error))
      return fail(o, error);
  }

  std::string text;
  if (o.what == "nft") {
    // The feeds as the daemon last cached them (no download here).
    intel::FeedManager feeds(intel_config->feeds, server::feed_cache_dir(*daemon, *intel_config));
    const auto current = feeds.feeds();
    const auto set = intel::IntelSet::build(current, now);
    std::map<std::string, std::vector<Prefix>> allow;
    for (const auto& a : model->model().assets) {
      std::vector<Prefix> p;
      if (!a.allow.empty() && server::allow_list(model->model(), a.name, std::nullopt, p))
        allow[a.name] = std::move(p);
    }
    const auto block = server::block_list(set.get(), confirmed, now);
    text = server::nft_text(block, allow, now);
    fmt::print(stderr,
               "orbwatch export nft: {} block entries ({} feeds, {} confirmed addresses), "
               "{} allow-lists\n",
               block.size(), current.size(), confirmed.size(), allow.size());
  } else {
    server::StixOptions so;
    so.identity_name = o.name;
    so.created_ms = now;
    text =
        o.what == "stix" ? server::stix_bundle(confirmed, so) : server::misp_event(confirmed, so);
    fmt::print(stderr, "orbwatch export {}: {} confirmed addresses since {}\n", o.what,
               confirmed.size(), rfc3339_ms(now - *since));
  }
  if (o.out == "-") {
    fmt::print("{}", text);
    return 0;
  }
  std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f.flush()) return fail(o, "--out " + o.out + ": cannot write");
  return 0;
}

}  // namespace

void add_export_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "export", "Write the firewall lists (nft) or what orbwatch confirmed (stix, misp) to a file");
  cmd->require_subcommand(1);
  struct Kind {
    const char* name;
    const char* help;
  };
  for (const Kind k :
       {Kind{"nft",
             "nftables sets: block_v4/_v6 (live feed indicators and confirmed addresses, "
             "with timeouts) and allow_ASSET_v4/_v6 of each asset's allow-list"},
        Kind{"stix",
             "STIX 2.1 bundle: an indicator and a sighting per confirmed covert-network "
             "or C2 address"},
        Kind{"misp", "MISP event: an attribute per confirmed covert-network or C2 address"}}) {
    auto o = std::make_shared<ExportOptions>();
    o->what = k.name;
    CLI::App* sub = cmd->add_subcommand(k.name, k.help);
    sub->add_option("--config", o->config, "the orbwatch TOML config file")->capture_default_str();
    sub->add_option("--since", o->since, "alerts of this long back count (a duration)")
        ->capture_default_str();
    sub->add_option("--out", o->out, "the file ('-': stdout)")->capture_default_str();
    if (std::string_view(k.name) != "nft")
      sub->add_option("--name", o->name, "who shares it (the STIX identity, the MISP event info)")
          ->capture_default_str();
    sub->callback([o, &exit_code] { exit_code = run_export(*o); });
  }
}

}  // namespace orbwatch::cli
