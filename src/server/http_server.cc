#include "server/http_server.h"

#include <httplib.h>

#include <fmt/core.h>

#include <array>
#include <map>
#include <unordered_map>

#include "core/json.h"
#include "core/time.h"
#include "detect/flow_role.h"
#include "server/daemon_config.h"
#include "server/http_util.h"
#include "server/metrics.h"
#include "server/share.h"
#include "server/views.h"
#include "server/web_ui.h"
#include "store/archive.h"
#include "store/archive_scan.h"
#include "store/flow_aggregate.h"
#include "store/inventory_store.h"

namespace orbwatch::server {

namespace {

// The Origin header names the host the request was sent to ("http://HOST:PORT" vs Host).
bool same_origin(const httplib::Request& req) {
  const std::string origin = req.get_header_value("Origin");
  const size_t scheme = origin.find("://");
  return scheme != std::string::npos && origin.substr(scheme + 3) == req.get_header_value("Host");
}

// Constant time in the token's length, so the answer's timing does not reveal a prefix.
bool token_matches(std::string_view given, std::string_view want) {
  if (given.size() != want.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < want.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ want[i]);
  return diff == 0;
}

}  // namespace

HttpServer::HttpServer(HttpOptions o, Pipeline& pipeline,
                       const SnapshotHolder<intel::IntelSet>& intel, FeedStatusFn feeds)
    : o_(std::move(o)),
      pipeline_(pipeline),
      intel_(intel),
      feeds_(std::move(feeds)),
      flows_(o_.flows ? o_.flows : archive_source(o_.store_path)) {}

HttpServer::~HttpServer() {
  stop();
}

bool HttpServer::start(std::string& error) {
  std::string host;
  uint16_t port = 0;
  if (!parse_host_port(o_.listen, host, port)) {
    error = fmt::format("[http] listen \"{}\": expected HOST:PORT", o_.listen);
    return false;
  }
  if (!alerts_.open(store::state_db_path(o_.store_path), true, error)) return false;
  if (!o_.tls_cert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(o_.tls_cert.c_str(), o_.tls_key.c_str());
    if (!tls->is_valid()) {
      error = fmt::format("[http] tls_cert {} / tls_key {}: cannot load the certificate and key",
                          o_.tls_cert, o_.tls_key);
      return false;
    }
    server_ = std::move(tls);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  routes();
  view_routes();
  share_routes();
  ui_routes();
  port_ =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    error = fmt::format("[http] listen {}: cannot bind", o_.listen);
    return false;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib 0.11 ignores a stop() that comes before its loop runs: wait for the loop.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_->is_running() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return true;
}

void HttpServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::routes() {
  httplib::Server& s = *server_;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // A web page elsewhere must not change alerts through the analyst's browser (CSRF):
    // browsers name the page's origin on every cross-site POST.
    if (req.method == "POST" && req.has_header("Origin") && !same_origin(req)) {
      send_error(res, 403, "a cross-origin request may not change anything");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (o_.token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (req.method == "GET" && find_web_asset(req.path) != nullptr)
      return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0 &&
        token_matches(std::string_view(auth).substr(kBearer.size()), o_.token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.set_header("WWW-Authenticate", "Bearer realm=\"orbwatch\"");
    send_error(res, 401, "a bearer token is required (Authorization: Bearer TOKEN)");
    return httplib::Server::HandlerResponse::Handled;
  });

  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const PipelineStats p = pipeline_.stats();
    const auto feeds = feeds_();
    res.set_content(prometheus_text({p, feeds, archive_bytes_.load(), wall_clock_ms()}),
                    "text/plain; version=0.0.4");
  });

  s.Get("/api/v1/health", [this](const httplib::Request&, httplib::Response& res) {
    const PipelineStats p = pipeline_.stats();
    const int64_t now = wall_clock_ms();
    std::vector<std::string> problems;
    if (!p.archive.last_error.empty()) problems.push_back("archive: " + p.archive.last_error);
    if (!p.alert_store_error.empty()) problems.push_back("alert store: " + p.alert_store_error);
    if (!p.state_error.empty()) problems.push_back("state: " + p.state_error);
    for (const auto& o : p.outputs)
      if (!o.stats.last_error.empty()) problems.push_back(o.label + ": " + o.stats.last_error);
    if (p.kafka.stats.bad != 0)
      problems.push_back(fmt::format("collect.kafka: {} messages were not flows, the last: {}",
                                     p.kafka.stats.bad, p.kafka.stats.last_bad));
    if (p.kafka.enabled && p.kafka.stats.partitions == 0 && !p.kafka.stats.last_error.empty())
      problems.push_back("collect.kafka: no partitions assigned: " + p.kafka.stats.last_error);
    uint64_t flows = 0;
    for (const auto& sh : p.shards) flows += sh.flows;
    std::string out = "{\"status\":";
    json::append_string(out, problems.empty() ? "ok" : "degraded");
    out += ",\"version\":";
    json::append_string(out, o_.version);
    out += fmt::format(",\"uptime_s\":{}", (now - p.started_ms) / 1000);
    append_ms(out, "started", p.started_ms);
    out += fmt::format(",\"datagrams\":{},\"records\":{},\"flows_detected\":{},\"exporters\":{}",
                       p.udp.datagrams, p.decode.records, flows, p.exporters_total);
    if (p.kafka.enabled)
      out += fmt::format(",\"kafka_flows\":{},\"kafka_partitions\":{},\"kafka_lag\":{}",
                         p.kafka.stats.flows, p.kafka.stats.partitions, p.kafka.stats.lag);
    out += fmt::format(",\"flows_archived\":{}", p.archive.flows_stored);
    append_ms(out, "newest_flow", flows_->newest_ms());
    append_ms(out, "state_saved", p.state_saved_ms);
    out += ",\"problems\":[";
    for (size_t i = 0; i < problems.size(); ++i) {
      if (i) out += ',';
      json::append_string(out, problems[i]);
    }
    out += "]}";
    send_json(res, std::move(out));
  });

  s.Get("/api/v1/alerts", [this](const httplib::Request& req, httplib::Response& res) {
    store::AlertQuery q;
    q.limit = 100;
    std::string error;
    if (!alert_query(req, q, error) || !size_param(req, "limit", 10'000, q.limit, error) ||
        !size_param(req, "offset", SIZE_MAX / 2, q.offset, error)) {
      send_error(res, 400, error);
      return;
    }
    std::vector<store::StoredAlert> found;
    {
      std::lock_guard lock(store_mu_);
      found = alerts_.find(q, error);
    }
    if (!error.empty()) {
      send_error(res, 500, error);
      return;
    }
    send_json(res, views::alert_list(found, q.offset, q.limit));
  });

  // POST /api/v1/alerts/ID/ack (or close, reopen), optional note=...
  s.Post(
      R"(/api/v1/alerts/([0-9a-f]{1,32})/(ack|close|reopen))",
      [this](const httplib::Request& req, httplib::Response& res) {
        const std::string id = req.matches[1];
        const std::string action = req.matches[2];
        const std::string status = action == "ack" ? "ack" : action == "close" ? "closed" : "new";
        std::string error;
        bool found = false;
        {
          std::lock_guard lock(store_mu_);
          found = alerts_.set_status(id, status, req.get_param_value("note"), error);
        }
        if (!found) {
          // set_status says "no alert with id ..." when there is none.
          send_error(res, error.rfind("no alert", 0) == 0 ? 404 : 500, error);
        } else {
          std::string out = "{\"id\":";
          json::append_string(out, id);
          out += ",\"status\":";
          json::append_string(out, status);
          out += '}';
          send_json(res, std::move(out));
        }
      });

  s.Get("/api/v1/feeds", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, views::feeds(feeds_(), wall_clock_ms()));
  });

  s.Get("/api/v1/inventory", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, views::inventory(pipeline_.inventory()));
  });

  // Flows of the archive: the query language of docs/query.md, oldest first.
  s.Get("/api/v1/flows", [this](const httplib::Request& req, httplib::Response& res) {
    std::string error;
    store::ScanSpec spec;
    size_t limit = 100;
    auto filter = filter_param(req, error);
    if (!filter || !flow_range(req, *flows_, spec, 0, error) ||
        !size_param(req, "limit", 100'000, limit, error)) {
      send_error(res, 400, error);
      return;
    }
    spec.filter = &*filter;
    spec.threads = 2;  // the daemon's own work comes first
    send_json(res, views::flows(*flows_, spec, limit));
  });

  // Top-N / group-by over the archive (orbwatch query --top / --group-by).
  s.Get("/api/v1/flows/top", [this](const httplib::Request& req, httplib::Response& res) {
    std::string error;
    store::ScanSpec spec;
    size_t n = 10;
    auto filter = filter_param(req, error);
    const std::string by = req.has_param("by") ? req.get_param_value("by") : "src_ip";
    auto group = store::parse_group_by(by, error);
    auto order =
        store::parse_group_order(req.has_param("order") ? req.get_param_value("order") : "flows");
    if (!order) error = "order: expected flows, packets or bytes";
    if (!filter || !group || !order || !flow_range(req, *flows_, spec, 0, error) ||
        !size_param(req, "n", 10'000, n, error)) {
      send_error(res, 400, error);
      return;
    }
    spec.filter = &*filter;
    spec.threads = 2;
    send_json(res, views::top(*flows_, spec, *group, by, *order, n));
  });

  // One host: hourly timeline, its peers and ports, the last day against the week before it
  // (hour of day by hour of day), and its alerts.
  s.Get(R"(/api/v1/hosts/([0-9a-fA-F.:]{2,45}))", [this](const httplib::Request& req,
                                                         httplib::Response& res) {
    const auto ip = IpAddr::parse(std::string(req.matches[1]));
    std::string error;
    store::ScanSpec spec;
    if (!ip) {
      send_error(res, 400, "expected an IPv4 or IPv6 address");
      return;
    }
    if (!flow_range(req, *flows_, spec, 8 * 86'400'000LL, error)) {
      send_error(res, 400, error);
      return;
    }
    store::FilterError ferr;
    auto filter = store::Filter::parse("host " + ip->to_string(), ferr);
    spec.filter = &*filter;
    spec.threads = 2;
    struct Hour {
      uint64_t flows = 0, bytes_out = 0, bytes_in = 0;
    };
    struct Part {
      std::map<int64_t, Hour> hours;
      std::unordered_map<IpAddr, store::GroupTotals, IpAddrHash> peers;
      std::map<std::pair<uint8_t, uint16_t>, uint64_t> ports;  // services used or offered
    };
    std::vector<Part> parts(flows_->workers(spec));
    const auto stats = flows_->scan(spec, 0, [&](unsigned w, FlowBatch& b) {
      Part& p = parts[w];
      for (const FlowRecord& r : b.records) {
        const bool out = r.src == *ip;
        Hour& h = p.hours[r.start_ms / 3'600'000];
        ++h.flows;
        (out ? h.bytes_out : h.bytes_in) += r.bytes;
        if (p.peers.size() < 100'000 || p.peers.contains(out ? r.dst : r.src))
          p.peers[out ? r.dst : r.src].add(r);
        // The service of the conversation: the responder's port.
        const detect::Initiator who = detect::guess_initiator(r);
        const uint16_t service = who == detect::Initiator::kSrc ? r.dst_port
                                 : who == detect::Initiator::kDst
                                     ? r.src_port
                                     : std::min(r.src_port, r.dst_port);
        ++p.ports[{r.proto, service}];
      }
      return true;
    });
    for (size_t w = 1; w < parts.size(); ++w) {
      for (const auto& [k, h] : parts[w].hours) {
        Hour& t = parts[0].hours[k];
        t.flows += h.flows;
        t.bytes_out += h.bytes_out;
        t.bytes_in += h.bytes_in;
      }
      for (const auto& [k, t] : parts[w].peers) parts[0].peers[k].merge(t);
      for (const auto& [k, c] : parts[w].ports) parts[0].ports[k] += c;
    }
    const Part& all = parts[0];
    std::string out = "{\"ip\":";
    json::append_string(out, ip->to_string());
    out += ",\"timeline\":[";
    bool first = true;
    for (const auto& [hour, h] : all.hours) {
      if (!first) out += ',';
      first = false;
      out += "{\"hour\":";
      json::append_string(out, rfc3339_ms(hour * 3'600'000));
      out += fmt::format(",\"flows\":{},\"bytes_out\":{},\"bytes_in\":{}}}", h.flows, h.bytes_out,
                         h.bytes_in);
    }
    // Peers by bytes, the ten largest.
    std::vector<std::pair<IpAddr, store::GroupTotals>> peers(all.peers.begin(), all.peers.end());
    std::sort(peers.begin(), peers.end(), [](const auto& a, const auto& b) {
      return a.second.bytes != b.second.bytes ? a.second.bytes > b.second.bytes : a.first < b.first;
    });
    out += "],\"peers\":[";
    for (size_t i = 0; i < std::min<size_t>(10, peers.size()); ++i) {
      if (i) out += ',';
      out += "{\"ip\":";
      json::append_string(out, peers[i].first.to_string());
      out +=
          fmt::format(",\"flows\":{},\"bytes\":{}}}", peers[i].second.flows, peers[i].second.bytes);
    }
    out += fmt::format("],\"distinct_peers\":{},\"ports\":[", peers.size());
    std::vector<std::pair<std::pair<uint8_t, uint16_t>, uint64_t>> ports(all.ports.begin(),
                                                                         all.ports.end());
    std::sort(ports.begin(), ports.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (size_t i = 0; i < std::min<size_t>(10, ports.size()); ++i) {
      if (i) out += ',';
      out += fmt::format("{{\"proto\":{},\"port\":{},\"flows\":{}}}", ports[i].first.first,
                         ports[i].first.second, ports[i].second);
    }
    // Baseline vs now: bytes per hour of day over the last 24 h of the range against the mean
    // of the same hour over the 7 days before.
    const int64_t last_hour = all.hours.empty() ? 0 : all.hours.rbegin()->first;
    std::array<double, 24> base{}, now{};
    for (const auto& [hour, h] : all.hours) {
      const auto hod = static_cast<size_t>(hour % 24);
      const double bytes = static_cast<double>(h.bytes_out + h.bytes_in);
      if (hour > last_hour - 24) {
        now[hod] = bytes;
      } else if (hour > last_hour - 24 * 8) {
        base[hod] += bytes / 7;
      }
    }
    out += "],\"baseline_vs_now\":[";
    for (size_t hod = 0; hod < 24; ++hod) {
      if (hod) out += ',';
      out += fmt::format("{{\"hour_of_day\":{},\"baseline_bytes\":{:.0f},\"bytes\":{:.0f}}}", hod,
                         base[hod], now[hod]);
    }
    out += "],\"alerts\":[";
    store::AlertQuery q;
    q.ip = ip->to_string();
    q.limit = 100;
    std::vector<store::StoredAlert> alerts;
    {
      std::lock_guard lock(store_mu_);
      alerts = alerts_.find(q, error);
    }
    for (size_t i = 0; i < alerts.size(); ++i) {
      if (i) out += ',';
      out += alerts[i].json;
    }
    out += "],";
    append_scan(out, stats);
    out += '}';
    send_json(res, std::move(out));
  });

  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) send_error(res, res.status, fmt::format("HTTP {}", res.status));
  });
}

std::vector<Confirmed> HttpServer::confirmed(int64_t since_ms, std::string& error) {
  std::vector<Confirmed> out;
  std::lock_guard lock(store_mu_);
  load_confirmed(alerts_, since_ms, *pipeline_.model(), out, error);
  return out;
}

void HttpServer::share_routes() {
  httplib::Server& s = *server_;
  // External dynamic lists: one entry a line, for PAN-OS EDL and FortiGate threat feeds.
  s.Get("/edl/block.txt", [this](const httplib::Request&, httplib::Response& res) {
    const int64_t now = wall_clock_ms();
    std::string error;
    const auto found = confirmed(now - kConfirmedTtlMs, error);
    if (!error.empty()) {
      send_error(res, 500, error);
      return;
    }
    const auto intel = intel_.load();
    std::vector<Prefix> prefixes;
    for (const auto& e : block_list(intel.get(), found, now)) prefixes.push_back(e.prefix);
    res.set_header("X-Orbwatch-Entries", std::to_string(prefixes.size()));
    res.set_content(edl_text(prefixes), "text/plain");
  });
  s.Get(R"(/edl/allow/([A-Za-z0-9._-]{1,128})\.txt)", [this](const httplib::Request& req,
                                                             httplib::Response& res) {
    std::optional<netmodel::Service> service;
    if (req.has_param("service")) {
      // "tcp/22"
      const std::string v = req.get_param_value("service");
      const size_t slash = v.find('/');
      netmodel::Service sv;
      sv.proto = v.substr(0, slash) == "tcp" ? 6 : v.substr(0, slash) == "udp" ? 17 : 0;
      int port = 0;
      if (slash != std::string::npos) {
        auto [p, ec] = std::from_chars(v.data() + slash + 1, v.data() + v.size(), port);
        if (ec != std::errc() || p != v.data() + v.size()) port = -1;
      }
      if (sv.proto == 0 || port <= 0 || port > 65535) {
        send_error(res, 400, "service: expected tcp/PORT or udp/PORT");
        return;
      }
      sv.port = static_cast<uint16_t>(port);
      service = sv;
    }
    std::vector<Prefix> prefixes;
    if (!allow_list(pipeline_.model()->model(), std::string(req.matches[1]), service, prefixes)) {
      send_error(res, 404, "no asset named " + std::string(req.matches[1]));
      return;
    }
    res.set_header("X-Orbwatch-Entries", std::to_string(prefixes.size()));
    res.set_content(edl_text(prefixes), "text/plain");
  });

  // TAXII 2.1, read only: one collection of what orbwatch confirmed (docs/api.md).
  constexpr const char* kTaxii = "application/taxii+json;version=2.1";
  const std::string collection = "b6a0ad6b-5d1e-4c1f-9b1e-6f72627761c1";  // fixed: one per daemon
  auto taxii = [kTaxii](httplib::Response& res, const std::string& body) {
    res.status = 200;
    res.set_content(body, kTaxii);
  };
  auto collection_json = [collection, this] {
    std::string out = "{\"id\":\"" + collection + "\",\"title\":";
    json::append_string(out, o_.name + ": confirmed covert-network and C2 addresses");
    out +=
        ",\"description\":\"Addresses orbwatch saw take part in covert-network activity "
        "(spray, relay, allow-list breaches) or exchange traffic with hosts while listed "
        "(intel hits): an indicator and a sighting each.\",\"can_read\":true,"
        "\"can_write\":false,\"media_types\":[\"application/stix+json;version=2.1\"]}";
    return out;
  };
  s.Get("/taxii2/", [this, taxii](const httplib::Request&, httplib::Response& res) {
    std::string out = "{\"title\":";
    json::append_string(out, o_.name + " TAXII 2.1");
    out +=
        ",\"description\":\"Read-only: what this orbwatch confirmed\","
        "\"default\":\"/taxii2/api/\",\"api_roots\":[\"/taxii2/api/\"]}";
    taxii(res, out);
  });
  s.Get("/taxii2/api/", [this, taxii](const httplib::Request&, httplib::Response& res) {
    std::string out = "{\"title\":";
    json::append_string(out, o_.name);
    out +=
        ",\"versions\":[\"application/taxii+json;version=2.1\"],"
        "\"max_content_length\":10485760}";
    taxii(res, out);
  });
  s.Get("/taxii2/api/collections/",
        [taxii, collection_json](const httplib::Request&, httplib::Response& res) {
          taxii(res, "{\"collections\":[" + collection_json() + "]}");
        });
  s.Get("/taxii2/api/collections/" + collection + "/",
        [taxii, collection_json](const httplib::Request&, httplib::Response& res) {
          taxii(res, collection_json());
        });
  // Objects: an address's indicator and sighting were "added" when it was last seen, so a
  // client polling with added_after gets what is new or seen again.
  s.Get("/taxii2/api/collections/" + collection + "/objects/",
        [this, taxii](const httplib::Request& req, httplib::Response& res) {
          std::string error;
          int64_t after = INT64_MIN;
          size_t limit = 1000, offset = 0;
          if (req.has_param("added_after")) {
            const auto t = parse_rfc3339_ms(req.get_param_value("added_after"));
            if (!t) {
              send_error(res, 400, "added_after: expected an RFC 3339 time");
              return;
            }
            after = *t;
          }
          if (!size_param(req, "limit", 10'000, limit, error) ||
              !size_param(req, "next", SIZE_MAX / 2, offset, error) || limit == 0) {
            send_error(res, 400, error.empty() ? "limit: at least 1" : error);
            return;
          }
          auto found = confirmed(INT64_MIN, error);
          if (!error.empty()) {
            send_error(res, 500, error);
            return;
          }
          std::erase_if(found, [&](const Confirmed& c) { return c.last_seen_ms <= after; });
          std::stable_sort(found.begin(), found.end(), [](const Confirmed& a, const Confirmed& b) {
            return a.last_seen_ms < b.last_seen_ms;
          });
          if (offset >= found.size() && !found.empty()) offset = found.size();
          const size_t end = std::min(found.size(), offset + limit);
          std::vector<Confirmed> page(found.begin() + static_cast<long>(offset),
                                      found.begin() + static_cast<long>(end));
          if (page.empty()) {
            res.status = 204;  // nothing after added_after
            return;
          }
          StixOptions so;
          so.identity_name = o_.name;
          so.created_ms = wall_clock_ms();
          const bool more = end < found.size();
          std::string out = fmt::format("{{\"more\":{},", more ? "true" : "false");
          if (more) out += fmt::format("\"next\":\"{}\",", end);
          out += "\"objects\":" + stix_objects(page, so) + "}";
          res.set_header("X-TAXII-Date-Added-First", rfc3339_ms(page.front().last_seen_ms));
          res.set_header("X-TAXII-Date-Added-Last", rfc3339_ms(page.back().last_seen_ms));
          taxii(res, out);
        });
}

void HttpServer::ui_routes() {
  httplib::Server& s = *server_;
  auto serve = [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* a = find_web_asset(req.path);
    if (a == nullptr) {
      // Built without npm: say so rather than 404.
      res.set_content(
          "<!doctype html><title>orbwatch</title><p>This orbwatch was built without the web "
          "dashboard (configure with npm installed, or -DORBWATCH_UI=ON). The API is at "
          "<a href=\"/api/v1/health\">/api/v1/</a>.</p>\n",
          "text/html; charset=utf-8");
      return;
    }
    // The dashboard renders everything as text and loads nothing from elsewhere; the policy
    // makes an injection that slipped through inert anyway.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                   "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                   "base-uri 'none'; form-action 'self'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-cache");
    const std::string etag = "\"" + std::string(web_assets_hash()) + "\"";
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      return;
    }
    res.set_header("Vary", "Accept-Encoding");
    std::string_view body = a->body;
    if (req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos &&
        !gzipped(*a).empty()) {
      body = gzipped(*a);
      res.set_header("Content-Encoding", "gzip");
    }
    // A provider with a length: cpp-httplib sends the bytes as they are (it would otherwise
    // compress text again, with brotli when offered: a second per request for app.js).
    res.set_content_provider(body.size(), std::string(a->content_type),
                             [body](size_t offset, size_t length, httplib::DataSink& sink) {
                               return sink.write(body.data() + offset,
                                                 std::min(length, body.size() - offset));
                             });
  };
  s.Get("/", serve);
  s.Get("/index.html", serve);
  s.Get("/app.js", serve);
  s.Get("/app.css", serve);
}

}  // namespace orbwatch::server
