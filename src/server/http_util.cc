#include "server/http_util.h"

#include <httplib.h>

#include <fmt/core.h>

#include <charconv>

#include "core/json.h"
#include "core/time.h"
#include "store/archive.h"

namespace orbwatch::server {

void send_json(httplib::Response& res, std::string body, int status) {
  res.status = status;
  body += '\n';
  // With the charset, cpp-httplib does not compress: its brotli (chosen whenever a browser
  // offers it) costs more time than the bytes it saves on a LAN.
  res.set_content(body, "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, int status, std::string_view message) {
  std::string body = "{\"error\":";
  json::append_string(body, message);
  body += '}';
  send_json(res, std::move(body), status);
}

bool time_param(const httplib::Request& req, const char* name, int64_t reference_ms, int64_t& out,
                std::string& error) {
  if (!req.has_param(name)) return true;
  const std::string v = req.get_param_value(name);
  if (parse_time_arg(v, reference_ms, out)) return true;
  error = fmt::format("{}={}: expected an RFC 3339 time or a duration such as 24h", name, v);
  return false;
}

bool alert_query(const httplib::Request& req, store::AlertQuery& q, std::string& error) {
  const int64_t now = wall_clock_ms();
  if (!time_param(req, "since", now, q.since_ms, error) ||
      !time_param(req, "until", now, q.until_ms, error)) {
    return false;
  }
  q.detector = req.get_param_value("detector");
  q.status = req.get_param_value("status");
  if (req.has_param("ip")) {
    const auto ip = IpAddr::parse(req.get_param_value("ip"));
    if (!ip) {
      error = "ip: expected an IPv4 or IPv6 address";
      return false;
    }
    q.ip = ip->to_string();
  }
  if (req.has_param("severity")) {
    q.min_severity = parse_severity(req.get_param_value("severity"));
    if (!q.min_severity) {
      error = "severity: expected low, medium, high or critical";
      return false;
    }
  }
  if (!q.status.empty() && q.status != "new" && q.status != "ack" && q.status != "closed") {
    error = "status: expected new, ack or closed";
    return false;
  }
  return true;
}

bool size_param(const httplib::Request& req, const char* name, size_t max, size_t& out,
                std::string& error) {
  if (!req.has_param(name)) return true;
  const std::string v = req.get_param_value(name);
  size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n > max) {
    error = fmt::format("{}={}: expected a number from 0 to {}", name, v, max);
    return false;
  }
  out = n;
  return true;
}

bool flow_range(const httplib::Request& req, const FlowSource& flows, store::ScanSpec& spec,
                int64_t default_since_ms, std::string& error, int64_t* newest_out) {
  const int64_t newest = flows.newest_ms();
  if (newest_out != nullptr) *newest_out = newest;
  if (default_since_ms > 0 && newest != 0) spec.from_ms = newest - default_since_ms;
  return time_param(req, "since", newest, spec.from_ms, error) &&
         time_param(req, "until", newest, spec.to_ms, error);
}

std::optional<store::Filter> filter_param(const httplib::Request& req, std::string& error) {
  store::FilterError ferr;
  const std::string text = req.get_param_value("filter");
  auto f = store::Filter::parse(text, ferr);
  if (!f) error = "filter: " + ferr.to_string();
  return f;
}

void append_scan(std::string& out, const store::ScanStats& s) {
  out += fmt::format(
      "\"scan\":{{\"records_read\":{},\"records_matched\":{},\"files\":{},"
      "\"blocks\":{},\"blocks_skipped\":{},\"problems\":[",
      s.records_read, s.records_matched, s.files, s.blocks, s.blocks_skipped);
  for (size_t i = 0; i < s.problems.size(); ++i) {
    if (i) out += ',';
    json::append_string(out, s.problems[i]);
  }
  out += "]}";
}

void append_ms(std::string& out, const char* key, int64_t ms, bool comma) {
  if (comma) out += ',';
  out += fmt::format("\"{}\":", key);
  if (ms == 0) {
    out += "null";
  } else {
    json::append_string(out, rfc3339_ms(ms));
  }
}

}  // namespace orbwatch::server
