// The API's views for the dashboard (docs/api.md): one alert, alert counts over time, flow
// volume over time, exporter health, what orbwatch knows of addresses, the model's assets.
#include <httplib.h>

#include <algorithm>

#include "core/time.h"
#include "server/http_server.h"
#include "server/http_util.h"
#include "server/views.h"

namespace orbwatch::server {

namespace {

bool step_param(const httplib::Request& req, int64_t span_ms, int64_t& step_ms,
                std::string& error) {
  step_ms = views::auto_step_ms(span_ms);
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
          std::string out;
          views::append_alert_entry(out, found[0]);
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
    send_json(res, views::alert_summary(sum, step));
  });

  // Flows, packets and bytes per time bucket (by flow start) over the archive, every bucket of
  // the range listed (zeros included) so a chart shows gaps as gaps.
  s.Get("/api/v1/series", [this](const httplib::Request& req, httplib::Response& res) {
    std::string error;
    store::ScanSpec spec;
    int64_t newest = 0;
    auto filter = filter_param(req, error);
    if (!filter || !flow_range(req, *flows_, spec, 7 * 86'400'000LL, error, &newest))
      return send_error(res, 400, error);
    // flow_range set from_ms (since, else 7 days back from the newest flow).
    const int64_t until = std::min(spec.to_ms, newest), from = spec.from_ms;
    if (from > until) return send_error(res, 400, "since: after until");
    int64_t step = 0;
    if (!step_param(req, std::max<int64_t>(until - from, 1), step, error))
      return send_error(res, 400, error);
    spec.filter = &*filter;
    spec.threads = 2;
    send_json(res, views::series(*flows_, spec, from, until, step));
  });

  // Exporter health: what each sent, lost and broke; the daemon's drops by place.
  s.Get("/api/v1/exporters", [this](const httplib::Request&, httplib::Response& res) {
    const PipelineStats p = pipeline_.stats();
    send_json(res, views::exporters(p.exporters, p.exporters_total, p.udp.kernel_drops,
                                    p.udp.total_drops(), p.decode));
  });

  // What the network model and the AS/country data say of addresses (ip=A&ip=B, at most
  // 1,000): internal or not, zone, asset, AS, its type, country.
  // GET, or POST with a form body (cpp-httplib takes up to 8 KB of either: ~400 addresses).
  auto lookup = [this](const httplib::Request& req, httplib::Response& res) {
    const size_t n = req.get_param_value_count("ip");
    if (n == 0 || n > 1000) return send_error(res, 400, "ip: between 1 and 1,000 addresses");
    std::vector<IpAddr> addrs;
    for (size_t i = 0; i < n; ++i) {
      const auto ip = IpAddr::parse(req.get_param_value("ip", i));
      if (!ip) return send_error(res, 400, "ip: expected an IPv4 or IPv6 address");
      addrs.push_back(*ip);
    }
    send_json(res, views::lookup(addrs, *pipeline_.model(), pipeline_.geo().get()));
  };
  s.Get("/api/v1/lookup", lookup);
  s.Post("/api/v1/lookup", lookup);

  // The network model's assets with the services they offer and who may reach them.
  s.Get("/api/v1/assets", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, views::assets(pipeline_.model()->model()));
  });
}

}  // namespace orbwatch::server
