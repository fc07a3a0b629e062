// The API's views for the dashboard (docs/api.md): one alert, alert counts over time, flow
// volume over time, exporter health, what orbwatch knows of addresses, the model's assets.
#include <httplib.h>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <map>

#include "core/json.h"
#include "core/time.h"
#include "enrich/geo_db.h"
#include "server/http_server.h"
#include "server/http_util.h"
#include "store/archive.h"
#include "store/segment_columns.h"

namespace orbwatch::server {

namespace {

constexpr std::array<const char*, 4> kSeverities = {"low", "medium", "high", "critical"};

// A bucket width of at most ~`buckets` buckets over `span_ms`, from a fixed ladder so charts
// line up across refreshes.
int64_t auto_step_ms(int64_t span_ms, int64_t buckets) {
  constexpr std::array<int64_t, 9> kLadder = {60, 300, 600, 900, 1800, 3600, 10800, 21600, 86400};
  for (int64_t s : kLadder)
    if (span_ms / (s * 1000) <= buckets) return s * 1000;
  return kLadder.back() * 1000 * (span_ms / (kLadder.back() * 1000 * buckets) + 1);
}

bool step_param(const httplib::Request& req, int64_t span_ms, int64_t& step_ms,
                std::string& error) {
  step_ms = auto_step_ms(span_ms, 360);
  size_t s = 0;
  if (!req.has_param("step")) return true;
  if (!size_param(req, "step", 366 * 86400, s, error)) return false;
  if (s < 1 || span_ms / (static_cast<int64_t>(s) * 1000) > 10'000) {
    error = "step: at least 1 second and at most 10,000 buckets over the range";
    return false;
  }
  step_ms = static_cast<int64_t>(s) * 1000;
  return true;
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b) < 0 ? 1 : 0);
}

}  // namespace

void HttpServer::view_routes() {
  httplib::Server& s = *server_;

  // One alert, as an entry of /api/v1/alerts.
  s.Get(R"(/api/v1/alerts/([0-9a-f]{1,32}))",
        [this](const httplib::Request& req, httplib::Response& res) {
          store::AlertQuery q;
          q.id = req.matches[1];
          q.limit = 1;
          std::string error;
          std::vector<store::StoredAlert> found;
          {
            std::lock_guard lock(store_mu_);
            found = alerts_.find(q, error);
          }
          if (!error.empty()) return send_error(res, 500, error);
          if (found.empty()) return send_error(res, 404, "no alert with id " + q.id);
          std::string out = "{\"status\":";
          json::append_string(out, found[0].status);
          out += ",\"note\":";
          json::append_string(out, found[0].note);
          out += ",\"alert\":" + found[0].json + "}";
          send_json(res, std::move(out));
        });

  // Alert counts: by severity, status and detector, and by severity per time bucket.
  s.Get("/api/v1/alerts/summary", [this](const httplib::Request& req, httplib::Response& res) {
    store::AlertQuery q;
    std::string error;
    if (!alert_query(req, q, error)) return send_error(res, 400, error);
    const int64_t now = wall_clock_ms();
    const int64_t from = q.since_ms == INT64_MIN ? now - 7 * 86'400'000LL : q.since_ms;
    const int64_t until = q.until_ms == INT64_MAX ? now : q.until_ms;
    int64_t step = 0;
    if (!step_param(req, std::max<int64_t>(until - from, 1), step, error))
      return send_error(res, 400, error);
    store::AlertSummary sum;
    {
      std::lock_guard lock(store_mu_);
      sum = alerts_.summarize(q, step, error);
    }
    if (!error.empty()) return send_error(res, 500, error);
    uint64_t total = 0;
    for (uint64_t n : sum.by_severity) total += n;
    std::string out =
        fmt::format("{{\"step_s\":{},\"total\":{},\"by_severity\":{{", step / 1000, total);
    for (size_t i = 0; i < kSeverities.size(); ++i)
      out += fmt::format("{}\"{}\":{}", i ? "," : "", kSeverities[i], sum.by_severity[i]);
    auto append_map = [&out](const char* key, const std::map<std::string, uint64_t>& m) {
      out += fmt::format("}},\"{}\":{{", key);
      bool first = true;
      for (const auto& [k, n] : m) {
        if (!first) out += ',';
        first = false;
        json::append_string(out, k);
        out += fmt::format(":{}", n);
      }
    };
    append_map("by_status", sum.by_status);
    append_map("by_detector", sum.by_detector);
    out += "},\"buckets\":[";
    bool first = true;
    for (const auto& [b, counts] : sum.buckets) {
      if (!first) out += ',';
      first = false;
      out += "{\"t\":";
      json::append_string(out, rfc3339_ms(b * step));
      for (size_t i = 0; i < kSeverities.size(); ++i)
        out += fmt::format(",\"{}\":{}", kSeverities[i], counts[i]);
      out += '}';
    }
    out += "]}";
    send_json(res, std::move(out));
  });

  // Flows, packets and bytes per time bucket (by flow start) over the archive, every bucket of
  // the range listed (zeros included) so a chart shows gaps as gaps.
  s.Get("/api/v1/series", [this](const httplib::Request& req, httplib::Response& res) {
    std::string error;
    store::ScanSpec spec;
    auto filter = filter_param(req, error);
    if (!filter || !flow_range(req, o_.store_path, spec, 7 * 86'400'000LL, error))
      return send_error(res, 400, error);
    const int64_t newest = store::archive::newest_ms(o_.store_path);
    if (newest == 0) {
      return send_json(res, R"({"step_s":60,"from":null,"until":null,"buckets":[]})");
    }
    const int64_t until = std::min(spec.to_ms, newest);
    const int64_t from = spec.from_ms == INT64_MIN ? until - 7 * 86'400'000LL : spec.from_ms;
    if (from > until) return send_error(res, 400, "since: after until");
    int64_t step = 0;
    if (!step_param(req, std::max<int64_t>(until - from, 1), step, error))
      return send_error(res, 400, error);
    spec.filter = &*filter;
    spec.threads = 2;
    namespace col = store::segment::column;
    spec.columns = col::kStart | col::kBytes | col::kPackets;
    const int64_t first = floor_div(from, step), last = floor_div(until, step);
    struct Totals {
      uint64_t flows = 0, packets = 0, bytes = 0;
    };
    const auto n = static_cast<size_t>(last - first + 1);
    std::vector<std::vector<Totals>> parts(store::scan_threads(spec), std::vector<Totals>(n));
    const auto stats = store::scan(o_.store_path, spec, [&](unsigned w, FlowBatch& b) {
      for (const FlowRecord& r : b.records) {
        const int64_t k = floor_div(r.start_ms, step);
        if (k < first || k > last) continue;  // began before the range, overlaps it
        Totals& t = parts[w][static_cast<size_t>(k - first)];
        ++t.flows;
        t.packets += r.packets;
        t.bytes += r.bytes;
      }
      return true;
    });
    std::string out = fmt::format("{{\"step_s\":{}", step / 1000);
    append_ms(out, "from", first * step);
    append_ms(out, "until", (last + 1) * step);
    out += ",\"buckets\":[";
    for (size_t i = 0; i < n; ++i) {
      Totals t;
      for (const auto& p : parts) {
        t.flows += p[i].flows;
        t.packets += p[i].packets;
        t.bytes += p[i].bytes;
      }
      if (i) out += ',';
      out += "{\"t\":";
      json::append_string(out, rfc3339_ms((first + static_cast<int64_t>(i)) * step));
      out +=
          fmt::format(",\"flows\":{},\"packets\":{},\"bytes\":{}}}", t.flows, t.packets, t.bytes);
    }
    out += "],";
    append_scan(out, stats);
    out += '}';
    send_json(res, std::move(out));
  });

  // Exporter health: what each sent, lost and broke; the daemon's drops by place.
  s.Get("/api/v1/exporters", [this](const httplib::Request&, httplib::Response& res) {
    const PipelineStats p = pipeline_.stats();
    std::string out = fmt::format(
        "{{\"exporters_total\":{},\"socket_drops\":{},\"receive_drops\":{},"
        "\"decode_errors\":{},\"sequence_lost\":{},\"exporters\":[",
        p.exporters_total, p.udp.kernel_drops, p.udp.total_drops(), p.decode.total_errors(),
        p.decode.seq_lost);
    for (size_t i = 0; i < p.exporters.size(); ++i) {
      const ExporterMetrics& e = p.exporters[i];
      if (i) out += ',';
      out += "{\"ip\":";
      json::append_string(out, e.addr.to_string());
      out += ",\"version\":";
      json::append_string(out, e.version);
      out += fmt::format(
          ",\"datagrams\":{},\"records\":{},\"decode_errors\":{},\"sequence_lost\":{},"
          "\"templates\":{}",
          e.datagrams, e.records, e.errors, e.seq_lost, e.templates);
      append_ms(out, "last_seen", e.last_seen_ms);
      out += '}';
    }
    out += "]}";
    send_json(res, std::move(out));
  });

  // What the network model and the AS/country data say of addresses (ip=A&ip=B, at most
  // 1,000): internal or not, zone, asset, AS, its type, country.
  // GET, or POST with a form body (cpp-httplib takes up to 8 KB of either: ~400 addresses).
  auto lookup = [this](const httplib::Request& req, httplib::Response& res) {
    const size_t n = req.get_param_value_count("ip");
    if (n == 0 || n > 1000) return send_error(res, 400, "ip: between 1 and 1,000 addresses");
    const auto model = pipeline_.model();
    const auto geo = pipeline_.geo();
    std::string out = "{\"addresses\":[";
    for (size_t i = 0; i < n; ++i) {
      const std::string text = req.get_param_value("ip", i);
      const auto ip = IpAddr::parse(text);
      if (!ip) return send_error(res, 400, "ip: expected an IPv4 or IPv6 address");
      const netmodel::Place& place = model->place(*ip);
      if (i) out += ',';
      out += "{\"ip\":";
      json::append_string(out, ip->to_string());
      out += fmt::format(",\"internal\":{}", place.internal ? "true" : "false");
      out += ",\"zone\":";
      json::append_string(
          out, place.zone >= 0 ? model->model().zones[static_cast<size_t>(place.zone)].name : "");
      out += ",\"asset\":";
      json::append_string(out, place.asset >= 0
                                   ? model->model().assets[static_cast<size_t>(place.asset)].name
                                   : "");
      const enrich::Geo g = geo ? geo->lookup(*ip) : enrich::Geo{};
      out += fmt::format(",\"asn\":{},\"as_org\":", g.asn);
      json::append_string(out, geo && g.org != 0 ? geo->org(g.org) : std::string_view());
      out += ",\"as_type\":";
      json::append_string(out, enrich::as_type_name(g.type));
      out += ",\"country\":";
      json::append_string(out, g.country_code());
      out += '}';
    }
    out += "]}";
    send_json(res, std::move(out));
  };
  s.Get("/api/v1/lookup", lookup);
  s.Post("/api/v1/lookup", lookup);

  // The network model's assets with the services they offer and who may reach them.
  s.Get("/api/v1/assets", [this](const httplib::Request&, httplib::Response& res) {
    const auto model = pipeline_.model();
    const netmodel::Model& m = model->model();
    auto services = [](std::string& out, const std::vector<netmodel::Service>& list) {
      out += '[';
      for (size_t i = 0; i < list.size(); ++i) {
        if (i) out += ',';
        json::append_string(out, netmodel::service_text(list[i]));
      }
      out += ']';
    };
    std::string out = "{\"assets\":[";
    for (size_t i = 0; i < m.assets.size(); ++i) {
      const netmodel::Asset& a = m.assets[i];
      if (i) out += ',';
      out += "{\"name\":";
      json::append_string(out, a.name);
      out += ",\"kind\":";
      json::append_string(out, netmodel::asset_kind_name(a.kind));
      out += ",\"criticality\":";
      json::append_string(out, severity_name(a.criticality));
      out += ",\"owner\":";
      json::append_string(out, a.owner);
      out += ",\"addresses\":[";
      for (size_t k = 0; k < a.addresses.size(); ++k) {
        if (k) out += ',';
        json::append_string(out, a.addresses[k].to_string());
      }
      out += "],\"services\":";
      services(out, a.services);
      out += ",\"allow\":[";
      for (size_t r = 0; r < a.allow.size(); ++r) {
        if (r) out += ',';
        out += "{\"services\":";
        services(out, a.allow[r].services);
        out += ",\"from\":[";
        for (size_t f = 0; f < a.allow[r].from.size(); ++f) {
          const netmodel::SourceRef& ref = a.allow[r].from[f];
          if (f) out += ',';
          json::append_string(
              out,
              ref.kind == netmodel::SourceRef::Kind::kPrefix
                  ? ref.prefix.to_string()
                  : (ref.kind == netmodel::SourceRef::Kind::kZone ? "zone:" : "list:") + ref.name);
        }
        out += "]}";
      }
      out += "]}";
    }
    out += "]}";
    send_json(res, std::move(out));
  });
}

}  // namespace orbwatch::server
