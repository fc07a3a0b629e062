#include "sim/eval.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <set>

#include "core/json.h"
#include "core/time.h"

namespace orbwatch::sim {
namespace {

template <class Fn>
bool each_line(std::string_view text, const std::string& name, std::string& error, Fn&& fn) {
  simdjson::dom::parser parser;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    simdjson::dom::element doc;
    std::string why;
    if (parser.parse(line.data(), line.size(), true).get(doc) != simdjson::SUCCESS) {
      why = "not a JSON object";
    } else {
      why = fn(doc);
    }
    if (!why.empty()) {
      error = fmt::format("{}:{}: {}", name, line_no, why);
      return false;
    }
  }
  return true;
}

std::string_view str(simdjson::dom::element e, const char* key) {
  std::string_view s;
  return e[key].get(s) == simdjson::SUCCESS ? s : std::string_view{};
}

bool time_of(simdjson::dom::element e, const char* key, int64_t& out) {
  auto t = parse_rfc3339_ms(str(e, key));
  if (!t) return false;
  out = *t;
  return true;
}

bool addr_of(simdjson::dom::element e, const char* key, IpAddr& out) {
  const auto s = str(e, key);
  if (s.empty()) return true;  // absent: stays zero
  auto a = IpAddr::parse(s);
  if (!a) return false;
  out = *a;
  return true;
}

}  // namespace

bool parse_labels(std::string_view text, const std::string& name, std::vector<Label>& out,
                  std::string& error) {
  return each_line(text, name, error, [&](simdjson::dom::element e) -> std::string {
    Label l;
    l.scenario = std::string(str(e, "scenario"));
    l.id = std::string(str(e, "id"));
    if (l.scenario.empty() || l.id.empty()) return "expected \"scenario\" and \"id\"";
    if (!time_of(e, "start", l.start_ms) || !time_of(e, "end", l.end_ms))
      return "expected RFC 3339 \"start\" and \"end\"";
    for (const char* key : {"internal", "external"}) {
      simdjson::dom::array a;
      if (e[key].get(a) != simdjson::SUCCESS) continue;
      for (auto v : a) {
        std::string_view s;
        auto ip = v.get(s) == simdjson::SUCCESS ? IpAddr::parse(s) : std::nullopt;
        if (!ip) return fmt::format("\"{}\": expected addresses", key);
        (key[0] == 'i' ? l.internal : l.external).push_back(*ip);
      }
    }
    simdjson::dom::array d;
    if (e["detectors"].get(d) == simdjson::SUCCESS) {
      for (auto v : d) {
        std::string_view s;
        if (v.get(s) == simdjson::SUCCESS) l.detectors.emplace_back(s);
      }
    }
    out.push_back(std::move(l));
    return {};
  });
}

bool parse_alerts(std::string_view text, const std::string& name, std::vector<EvalAlert>& out,
                  std::string& error) {
  return each_line(text, name, error, [&](simdjson::dom::element e) -> std::string {
    EvalAlert a;
    a.id = std::string(str(e, "id"));
    a.detector = std::string(str(e, "detector"));
    if (a.id.empty() || a.detector.empty()) return "expected \"id\" and \"detector\"";
    auto sev = parse_severity(str(e, "severity"));
    if (!sev) return "expected a severity";
    a.severity = *sev;
    if (!time_of(e, "ts", a.ts_ms)) return "expected an RFC 3339 \"ts\"";
    if (!time_of(e, "first_seen", a.first_ms)) a.first_ms = a.ts_ms;
    if (!time_of(e, "last_seen", a.last_ms)) a.last_ms = a.ts_ms;
    if (!addr_of(e, "src_ip", a.src) || !addr_of(e, "dst_ip", a.dst)) return "bad src_ip/dst_ip";
    out.push_back(std::move(a));
    return {};
  });
}

double DetectorScore::false_rate(const EvalOptions& o) const {
  if (o.hosts <= 0 || o.days <= 0) return 0;
  const uint64_t n = false_by_severity[1] + false_by_severity[2] + false_by_severity[3];
  return static_cast<double>(n) / (o.hosts / 10'000.0) / o.days;
}

int64_t ScenarioScore::median_ttd_ms() const {
  if (time_to_detect_ms.empty()) return -1;
  auto v = time_to_detect_ms;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

EvalReport evaluate(const std::vector<Label>& labels, const std::vector<EvalAlert>& raw,
                    const EvalOptions& o) {
  // One alert per id: the widest span, the earliest ts and the highest severity it reached.
  std::map<std::string, EvalAlert> by_id;
  for (const EvalAlert& a : raw) {
    auto [it, added] = by_id.try_emplace(a.id, a);
    if (added) continue;
    EvalAlert& m = it->second;
    m.ts_ms = std::min(m.ts_ms, a.ts_ms);
    m.first_ms = std::min(m.first_ms, a.first_ms);
    m.last_ms = std::max(m.last_ms, a.last_ms);
    m.severity = std::max(m.severity, a.severity);
  }
  auto matches = [&](const EvalAlert& a, const Label& l) {
    if (a.last_ms < l.start_ms || a.first_ms > l.end_ms + o.grace_ms) return false;
    for (const auto* list : {&l.internal, &l.external})
      for (const IpAddr& x : *list)
        if (x == a.src || x == a.dst) return true;
    return false;
  };

  EvalReport r;
  std::map<std::string, DetectorScore> det;
  std::map<std::pair<std::string, std::string>, ScenarioScore> sc;
  std::map<std::string, ScenarioScore> any;
  for (const Label& l : labels) {
    ScenarioScore& s_any = any[l.scenario];
    s_any.scenario = l.scenario;
    ++s_any.instances;
    int64_t first_any = INT64_MAX;
    for (const std::string& d : l.detectors) {
      ScenarioScore& s = sc[{l.scenario, d}];
      s.scenario = l.scenario;
      s.detector = d;
      ++s.instances;
      int64_t first = INT64_MAX;
      for (const auto& [id, a] : by_id)
        if (a.detector == d && matches(a, l)) first = std::min(first, a.ts_ms);
      if (first != INT64_MAX) {
        ++s.detected;
        s.time_to_detect_ms.push_back(std::max<int64_t>(0, first - l.start_ms));
        first_any = std::min(first_any, first);
      }
    }
    if (first_any != INT64_MAX) {
      ++s_any.detected;
      s_any.time_to_detect_ms.push_back(std::max<int64_t>(0, first_any - l.start_ms));
    }
  }
  for (const auto& entry : by_id) {
    const EvalAlert& a = entry.second;  // not a structured binding: clang 14 cannot capture one
    DetectorScore& d = det[a.detector];
    d.detector = a.detector;
    ++d.alerts;
    const bool matched =
        std::any_of(labels.begin(), labels.end(), [&](const Label& l) { return matches(a, l); });
    if (matched) {
      ++d.matched;
    } else {
      ++d.false_by_severity[static_cast<size_t>(a.severity)];
    }
  }
  for (auto& [k, v] : sc) r.scenarios.push_back(std::move(v));
  for (auto& [k, v] : any) r.any.push_back(std::move(v));
  for (auto& [k, v] : det) r.detectors.push_back(std::move(v));
  return r;
}

std::string format_report(const EvalReport& r, const EvalOptions& o) {
  auto ttd = [](int64_t ms) {
    return ms < 0 ? std::string("-") : fmt::format("{:.1f} h", static_cast<double>(ms) / 3.6e6);
  };
  std::string s = "scenario              detector      found  recall  time to detect (median)\n";
  for (const auto& v : r.scenarios)
    s += fmt::format("{:<21} {:<13} {:>2}/{:<2}  {:>6.2f}  {}\n", v.scenario, v.detector,
                     v.detected, v.instances, v.recall(), ttd(v.median_ttd_ms()));
  for (const auto& v : r.any)
    s += fmt::format("{:<21} {:<13} {:>2}/{:<2}  {:>6.2f}  {}\n", v.scenario, "(any)", v.detected,
                     v.instances, v.recall(), ttd(v.median_ttd_ms()));
  s += fmt::format(
      "\ndetector      alerts  matched  precision  false (low/medium/high/critical)  false >= "
      "medium per 10k hosts per day\n");
  for (const auto& d : r.detectors)
    s += fmt::format("{:<13} {:>6}  {:>7}  {:>9.2f}  {:>5}/{}/{}/{}{:>24.2f}\n", d.detector,
                     d.alerts, d.matched, d.precision(), d.false_by_severity[0],
                     d.false_by_severity[1], d.false_by_severity[2], d.false_by_severity[3],
                     d.false_rate(o));
  return s;
}

std::string report_json(const EvalReport& r, const EvalOptions& o) {
  std::string s = "{\"scenarios\":[";
  auto scen = [&](const ScenarioScore& v, std::string_view det) {
    s += "{\"scenario\":";
    json::append_string(s, v.scenario);
    s += ",\"detector\":";
    json::append_string(s, det);
    s += fmt::format(
        ",\"instances\":{},\"detected\":{},\"recall\":{:.4f},\"median_time_to_detect_s\":{}}}",
        v.instances, v.detected, v.recall(), v.median_ttd_ms() < 0 ? -1 : v.median_ttd_ms() / 1000);
  };
  bool first = true;
  for (const auto& v : r.scenarios) {
    if (!first) s += ',';
    first = false;
    scen(v, v.detector);
  }
  for (const auto& v : r.any) {
    if (!first) s += ',';
    first = false;
    scen(v, "any");
  }
  s += "],\"detectors\":[";
  for (size_t i = 0; i < r.detectors.size(); ++i) {
    const auto& d = r.detectors[i];
    if (i) s += ',';
    s += "{\"detector\":";
    json::append_string(s, d.detector);
    s += fmt::format(
        ",\"alerts\":{},\"matched\":{},\"precision\":{:.4f},\"false_low\":{},\"false_medium\":{},"
        "\"false_high\":{},\"false_critical\":{},\"false_per_10k_hosts_day\":{:.4f}}}",
        d.alerts, d.matched, d.precision(), d.false_by_severity[0], d.false_by_severity[1],
        d.false_by_severity[2], d.false_by_severity[3], d.false_rate(o));
  }
  s += fmt::format("],\"hosts\":{},\"days\":{}}}", o.hosts, o.days);
  return s;
}

}  // namespace orbwatch::sim
