// `orbwatch inventory`: the edge devices discovered from flows (internal addresses that answered
// connections from outside), their services, and the flow exporters, from a store's state.db.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.h"
#include "core/json.h"
#include "core/proto.h"
#include "core/time.h"
#include "netmodel/model_index.h"
#include "store/inventory_store.h"

namespace orbwatch::cli {

namespace {

struct InventoryOptions {
  std::string store = "/var/lib/orbwatch";
  std::string since;
  std::string format = "table";
  std::string config;
};

struct Service {
  const netmodel::ServiceKey* key;
  const netmodel::ServiceRecord* rec;
};

std::string service_name(const netmodel::ServiceKey& k) {
  return fmt::format("{}/{}", proto_text(k.proto), k.port);
}

int run_inventory(const InventoryOptions& o) {
  if (o.format != "table" && o.format != "json" && o.format != "csv") {
    fmt::print(stderr, "orbwatch inventory: --format: expected table, json or csv, got '{}'\n",
               o.format);
    return 2;
  }
  netmodel::EdgeInventory inv;
  std::string error;
  if (!store::load_inventory(store::state_db_path(o.store), inv, false, error)) {
    fmt::print(stderr, "orbwatch inventory: {}\n", error);
    return 1;
  }
  std::shared_ptr<const netmodel::ModelIndex> model;
  if (!o.config.empty()) {
    std::vector<std::string> errors;
    auto m = netmodel::load_model(o.config, errors);
    if (!m) {
      for (const auto& e : errors) fmt::print(stderr, "{}\n", e);
      return 1;
    }
    model = netmodel::ModelIndex::build(std::move(*m));
  }
  int64_t newest = 0;
  for (const auto& [a, d] : inv.devices()) newest = std::max(newest, d.last_seen_ms);
  int64_t since = INT64_MIN;
  if (!o.since.empty() && !parse_time_arg(o.since, newest, since)) {
    fmt::print(stderr,
               "orbwatch inventory: --since: expected a duration like 7d or an RFC 3339 time, "
               "got '{}'\n",
               o.since);
    return 2;
  }

  // Devices seen since `since`, with their services, in address order.
  std::map<IpAddr, std::vector<Service>> devices;
  for (const auto& [k, r] : inv.services()) {
    if (r.last_seen_ms >= since) devices[k.addr].push_back({&k, &r});
  }
  auto asset_of = [&](const IpAddr& a) -> std::string {
    if (!model) return {};
    int32_t i = model->place(a).asset;
    return i < 0 ? std::string() : model->model().assets[static_cast<size_t>(i)].name;
  };
  std::string out;
  if (o.format == "csv") {
    out = "address,asset,service,first_seen,last_seen,flows,bytes,external_peers,hints\n";
  }
  for (auto& [addr, services] : devices) {
    std::sort(services.begin(), services.end(), [](const Service& a, const Service& b) {
      return std::tie(a.key->proto, a.key->port) < std::tie(b.key->proto, b.key->port);
    });
    std::vector<std::pair<uint8_t, uint16_t>> ports;
    for (const auto& s : services) ports.emplace_back(s.key->proto, s.key->port);
    std::string hints;
    for (const auto& h : netmodel::device_kind_hints(ports))
      hints += (hints.empty() ? "" : ",") + h;
    const auto& dev = inv.devices().at(addr);
    const std::string asset = asset_of(addr);
    if (o.format == "table") {
      out += fmt::format("{}{}  first {}  last {}{}\n", addr.to_string(),
                         asset.empty() ? "" : " (" + asset + ")", rfc3339_ms(dev.first_seen_ms),
                         rfc3339_ms(dev.last_seen_ms), hints.empty() ? "" : "  [" + hints + "]");
      for (const auto& s : services) {
        out += fmt::format("  {:<10} {:>8} flows {:>12} bytes {:>6} peers  first {}  last {}\n",
                           service_name(*s.key), s.rec->flows, s.rec->bytes, s.rec->peers(),
                           rfc3339_ms(s.rec->first_seen_ms), rfc3339_ms(s.rec->last_seen_ms));
      }
    } else if (o.format == "csv") {
      for (const auto& s : services) {
        out += fmt::format("{},{},{},{},{},{},{},{},\"{}\"\n", addr.to_string(), asset,
                           service_name(*s.key), rfc3339_ms(s.rec->first_seen_ms),
                           rfc3339_ms(s.rec->last_seen_ms), s.rec->flows, s.rec->bytes,
                           s.rec->peers(), hints);
      }
    } else {
      out += "{\"type\":\"device\",\"address\":";
      json::append_string(out, addr.to_string());
      if (!asset.empty()) {
        out += ",\"asset\":";
        json::append_string(out, asset);
      }
      out += fmt::format(",\"first_seen\":\"{}\",\"last_seen\":\"{}\",\"hints\":[",
                         rfc3339_ms(dev.first_seen_ms), rfc3339_ms(dev.last_seen_ms));
      for (const auto& h : netmodel::device_kind_hints(ports)) {
        if (out.back() != '[') out += ",";
        json::append_string(out, h);
      }
      out += "],\"services\":[";
      for (size_t i = 0; i < services.size(); ++i) {
        const auto& s = services[i];
        out += fmt::format(
            "{}{{\"service\":\"{}\",\"proto\":{},\"port\":{},\"first_seen\":\"{}\",\"last_seen\":"
            "\"{}\",\"flows\":{},\"bytes\":{},\"external_peers\":{}}}",
            i == 0 ? "" : ",", service_name(*s.key), s.key->proto, s.key->port,
            rfc3339_ms(s.rec->first_seen_ms), rfc3339_ms(s.rec->last_seen_ms), s.rec->flows,
            s.rec->bytes, s.rec->peers());
      }
      out += "]}\n";
    }
  }
  // The exporters, after the devices.
  std::map<IpAddr, const netmodel::ExporterRecord*> exporters;
  for (const auto& [a, r] : inv.exporters()) {
    if (r.last_seen_ms >= since) exporters[a] = &r;
  }
  for (const auto& [a, r] : exporters) {
    if (o.format == "table") {
      out += fmt::format("exporter {}  {} flows  first {}  last {}\n", a.to_string(), r->flows,
                         rfc3339_ms(r->first_seen_ms), rfc3339_ms(r->last_seen_ms));
    } else if (o.format == "json") {
      out += fmt::format(
          "{{\"type\":\"exporter\",\"address\":\"{}\",\"flows\":{},\"first_seen\":\"{}\","
          "\"last_seen\":\"{}\"}}\n",
          a.to_string(), r->flows, rfc3339_ms(r->first_seen_ms), rfc3339_ms(r->last_seen_ms));
    }
  }
  if (o.format == "table" && devices.empty() && exporters.empty()) {
    out += "no edge devices or exporters recorded";
    out += o.since.empty() ? "\n" : " since " + o.since + "\n";
  }
  fmt::print("{}", out);
  return 0;
}

}  // namespace

void add_inventory_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<InventoryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inventory",
      "List the edge devices discovered from flows (internal addresses that answered "
      "connections from outside), their services, and the flow exporters");
  cmd->add_option("--store", o->store,
                  "data directory holding state.db (default /var/lib/orbwatch)");
  cmd->add_option("--since", o->since,
                  "only what was seen since: a duration back from the newest record (7d) or an "
                  "RFC 3339 time");
  cmd->add_option("--format", o->format, "table (default), json (JSON lines) or csv");
  cmd->add_option("--config", o->config, "config FILE whose [[assets]] name the devices");
  cmd->callback([o, &exit_code] { exit_code = run_inventory(*o); });
}

}  // namespace orbwatch::cli
