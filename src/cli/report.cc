#include "cli/report.h"

#include <simdjson.h>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "core/json.h"
#include "core/time.h"
#include "server/http_util.h"
#include "server/views.h"
#include "server/web_ui.h"
#include "store/alert_store.h"
#include "store/archive.h"
#include "store/filter.h"
#include "store/inventory_store.h"

namespace orbwatch::cli {

namespace {

// An alert and the archive filter for its flows, read back from its JSON line.
struct AlertRef {
  std::string id;
  Severity severity = Severity::kLow;
  int64_t ts_ms = 0, first_ms = 0, last_ms = 0;
  std::string filter;  // empty: the alert names no address
};

// The flows an alert's detector judged, as the dashboard's alertFlowQuery (web/src/logic.ts)
// asks the live API for them: keep the two alike. A spray, allow-list breach or exposure is a
// service and all its sources; a horizontal scan one source across a port, a vertical one a
// pair of hosts; segmentation, egress, relay and anomaly the internal host's traffic.
std::string flow_filter(std::string_view detector, std::string_view scan_kind, const IpAddr* src,
                        const IpAddr* dst, uint16_t port, uint8_t proto) {
  bool service = true;
  if (detector == "spray" || detector == "allowlist" || detector == "exposure") {
    src = nullptr;
  } else if (detector == "scan") {
    if (scan_kind == "vertical") {
      service = false;
    } else {
      dst = nullptr;
    }
  } else if (detector == "segmentation" || detector == "egress" || detector == "relay" ||
             detector == "anomaly") {
    if (src != nullptr) dst = nullptr;
    service = false;
  }
  std::string f;
  for (const IpAddr* a : {src, dst})
    if (a != nullptr) f += (f.empty() ? "host " : " and host ") + a->to_string();
  if (f.empty()) return f;
  if (service && port != 0) f += fmt::format(" and port {}", port);
  if (service && proto != 0) f += fmt::format(" and proto {}", proto);
  return f;
}

AlertRef read_ref(const store::StoredAlert& a, simdjson::dom::parser& parser) {
  AlertRef r;
  r.id = a.id;
  r.severity = a.severity;
  r.ts_ms = a.ts_ms;
  simdjson::dom::element doc;
  if (parser.parse(a.json).get(doc) != simdjson::SUCCESS) return r;
  auto text = [&doc](const char* key) {
    std::string_view v;
    return doc[key].get(v) == simdjson::SUCCESS ? v : std::string_view();
  };
  auto address = [&](const char* key) {
    auto ip = IpAddr::parse(text(key));
    if (ip && ip->is_zero()) ip.reset();
    return ip;
  };
  const auto src = address("src_ip"), dst = address("dst_ip");
  // Absent fields leave the defaults.
  int64_t port = 0, proto = 0;
  if (doc["dst_port"].get(port) != simdjson::SUCCESS) port = 0;
  if (doc["proto"].get(proto) != simdjson::SUCCESS) proto = 0;
  std::string_view kind;
  if (doc["evidence"]["kind"].get(kind) != simdjson::SUCCESS) kind = {};
  r.filter = flow_filter(text("detector"), kind, src ? &*src : nullptr, dst ? &*dst : nullptr,
                         static_cast<uint16_t>(std::clamp<int64_t>(port, 0, 65535)),
                         static_cast<uint8_t>(std::clamp<int64_t>(proto, 0, 255)));
  r.first_ms = parse_rfc3339_ms(text("first_seen")).value_or(a.ts_ms);
  r.last_ms = parse_rfc3339_ms(text("last_seen")).value_or(a.ts_ms);
  return r;
}

// "KEY": VALUE, in the responses object.
void add(std::string& out, bool& first, std::string_view key, std::string_view value) {
  if (!first) out += ',';
  first = false;
  json::append_string(out, key);
  out += ':';
  out += value;
}

}  // namespace

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string TempDir::create(std::string& error) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "orbwatch-report-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    error = fmt::format("cannot create a temporary directory: {}", std::strerror(errno));
    return {};
  }
  path_ = tmpl;
  return path_;
}

bool write_report(const std::string& path, const ReportInput& in, std::string& error) {
  const int64_t from = in.from_ms, until = std::max(in.until_ms, in.from_ms);
  store::AlertStore alerts;
  if (!alerts.open(store::state_db_path(in.store), false, error)) return false;
  store::AlertQuery q;
  q.since_ms = from;
  q.limit = kReportMaxAlerts;
  const auto found = alerts.find(q, error);
  if (!error.empty()) return false;
  const int64_t step = server::views::auto_step_ms(std::max<int64_t>(until - from, 1));
  const auto summary = alerts.summarize(q, step, error);
  if (!error.empty()) return false;

  store::ScanSpec range;
  range.from_ms = from;
  range.to_ms = until;
  std::string r = "{";
  bool first = true;
  const auto source = server::archive_source(in.store);
  const int64_t newest = source->newest_ms();
  {
    std::string h = "{\"status\":\"ok\",\"version\":";
    json::append_string(h, ORBWATCH_VERSION);
    h += fmt::format(
        ",\"uptime_s\":0,\"datagrams\":{},\"records\":{},\"flows_detected\":{},\"exporters\":{},"
        "\"flows_archived\":{}",
        in.decode.datagrams, in.records, in.records, in.exporters_total, in.records);
    server::append_ms(h, "started", wall_clock_ms());
    server::append_ms(h, "newest_flow", std::min(newest, until));
    server::append_ms(h, "state_saved", 0);
    h += ",\"problems\":[";
    for (size_t i = 0; i < in.problems.size(); ++i) {
      if (i) h += ',';
      json::append_string(h, in.problems[i]);
    }
    h += "]}";
    add(r, first, "/api/v1/health", h);
  }
  add(r, first, "/api/v1/series", server::views::series(*source, range, from, until, step));
  add(r, first, "/api/v1/alerts/summary", server::views::alert_summary(summary, step));
  add(r, first, "/api/v1/alerts", server::views::alert_list(found, 0, found.size()));
  for (const char* by : {"src_ip", "dst_ip"}) {
    auto group = store::parse_group_by(by, error);
    add(r, first, fmt::format("/api/v1/flows/top?by={}", by),
        server::views::top(*source, range, *group, by, store::GroupOrder::kBytes, 10));
  }
  add(r, first, "/api/v1/exporters",
      server::views::exporters(in.exporters, in.exporters_total, 0, 0, in.decode));
  add(r, first, "/api/v1/feeds", server::views::feeds(in.feeds, wall_clock_ms()));
  add(r, first, "/api/v1/inventory", server::views::inventory(*in.inventory));
  add(r, first, "/api/v1/assets", server::views::assets(in.model->model()));

  // Addresses to look up (AS type for the charts and graph): those of the alerts' flows first.
  std::vector<IpAddr> addrs;
  std::unordered_set<IpAddr, IpAddrHash> seen;
  auto want = [&](const IpAddr& a) {
    if (addrs.size() < kReportMaxAddresses && seen.insert(a).second) addrs.push_back(a);
  };

  // The flows behind the alerts over their spans, most severe alerts first.
  std::vector<AlertRef> refs;
  simdjson::dom::parser parser;
  refs.reserve(found.size());
  for (const auto& a : found) refs.push_back(read_ref(a, parser));
  std::stable_sort(refs.begin(), refs.end(), [](const AlertRef& a, const AlertRef& b) {
    return a.severity != b.severity ? a.severity > b.severity : a.ts_ms > b.ts_ms;
  });
  std::string flows = "{";
  bool first_flows = true;
  size_t total = 0;
  for (size_t i = 0; i < refs.size() && i < kReportAlertsWithFlows && total < kReportMaxFlows;
       ++i) {
    const AlertRef& a = refs[i];
    if (a.filter.empty()) continue;
    store::FilterError ferr;
    auto filter = store::Filter::parse(a.filter, ferr);
    if (!filter) continue;
    store::ScanSpec spec;
    spec.from_ms = a.first_ms;
    spec.to_ms = a.last_ms;
    spec.filter = &*filter;
    size_t n = 0;
    const size_t limit = std::min(kReportFlowsPerAlert, kReportMaxFlows - total);
    std::string answer = server::views::flows(*source, spec, limit, [&](const FlowRecord& f) {
      ++n;
      want(f.src);
      want(f.dst);
    });
    total += n;
    add(flows, first_flows, a.id, answer);
  }
  flows += '}';

  // The edge map's graph: each busy device's outside initiators.
  std::unordered_map<IpAddr, uint64_t, IpAddrHash> busy;
  for (const auto& [k, rec] : in.inventory->services()) busy[k.addr] += rec.flows;
  std::vector<std::pair<uint64_t, IpAddr>> devices;
  devices.reserve(busy.size());
  for (const auto& [addr, n] : busy) devices.emplace_back(n, addr);
  std::sort(devices.begin(), devices.end(), [](const auto& a, const auto& b) { return a > b; });
  devices.resize(std::min<size_t>(devices.size(), 12));
  const auto by_source = store::parse_group_by("src_ip", error);
  for (const auto& d : devices) {
    const IpAddr& device = d.second;
    want(device);
    store::FilterError ferr;
    const std::string text = "dst host " + device.to_string();
    auto filter = store::Filter::parse(text, ferr);
    store::ScanSpec spec = range;
    spec.filter = &*filter;
    // The peers the graph shows, looked up for their AS types.
    add(r, first, fmt::format("/api/v1/flows/top?by=src_ip&filter={}", text),
        server::views::top(
            *source, spec, *by_source, "src_ip", store::GroupOrder::kFlows, 8,
            [&](const store::GroupKey& k) { want(store::group_value(*by_source, k, 0).addr); }));
  }

  add(r, first, "/api/v1/lookup", server::views::lookup(addrs, *in.model, in.geo));
  r += '}';

  std::string data = "{\"title\":";
  json::append_string(data, in.title);
  data += ",\"generated\":";
  json::append_string(data, rfc3339_ms(wall_clock_ms()));
  data += ",\"inputs\":[";
  for (size_t i = 0; i < in.inputs.size(); ++i) {
    if (i) data += ',';
    json::append_string(data, in.inputs[i]);
  }
  data += "],\"responses\":" + r + ",\"alert_flows\":" + flows + "}";

  std::string html;
  if (!server::report_html(in.title, data, html, error)) return false;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(html.data(), static_cast<std::streamsize>(html.size()));
  f.close();
  if (!f) {
    error = fmt::format("{}: cannot write", path);
    return false;
  }
  return true;
}

}  // namespace orbwatch::cli
