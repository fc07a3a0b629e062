#include "core/alert.h"

#include <cstdio>

#include "core/json.h"
#include "core/time.h"

namespace orbwatch {

namespace {
constexpr const char* kSeverities[] = {"low", "medium", "high", "critical"};

void key(std::string& out, const char* k) {
  out += ",\"";
  out += k;
  out += "\":";
}

void time_field(std::string& out, const char* k, int64_t ms) {
  key(out, k);
  out.push_back('"');
  out += rfc3339_ms(ms);
  out.push_back('"');
}

void addr_field(std::string& out, const char* k, const IpAddr& a) {
  key(out, k);
  json::append_string(out, a.to_string());
}

void append_number(std::string& out, double d) {
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.6g", d);
  // JSON has no NaN or infinity.
  if (n <= 0 || d != d || d - d != 0) {
    out += "null";
  } else {
    out.append(buf, static_cast<size_t>(n));
  }
}
}  // namespace

const char* severity_name(Severity s) {
  return kSeverities[static_cast<size_t>(s)];
}

std::optional<Severity> parse_severity(std::string_view name) {
  for (size_t i = 0; i < std::size(kSeverities); ++i) {
    if (name == kSeverities[i]) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

std::string make_alert_id(std::string_view detector, std::string_view key, int64_t first_seen_ms) {
  // FNV-1a 64 over the parts, separated so ("ab","c") and ("a","bc") differ.
  uint64_t h = 14695981039346656037ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  mix(detector);
  mix(key);
  mix(std::to_string(first_seen_ms));
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void append_alert_json(std::string& out, const Alert& a) {
  out += "{\"ts\":\"";
  out += rfc3339_ms(a.ts_ms);
  out.push_back('"');
  key(out, "id");
  json::append_string(out, a.id);
  key(out, "detector");
  json::append_string(out, a.detector);
  key(out, "severity");
  json::append_string(out, severity_name(a.severity));
  key(out, "summary");
  json::append_string(out, a.summary);
  addr_field(out, "src_ip", a.src);
  addr_field(out, "dst_ip", a.dst);
  key(out, "dst_port");
  json::append_int(out, a.dst_port);
  key(out, "proto");
  json::append_int(out, a.proto);
  if (!a.asset.empty()) {
    key(out, "asset");
    json::append_string(out, a.asset);
  }
  if (a.indicator) {
    key(out, "indicator");
    out += "{\"feed\":";
    json::append_string(out, a.indicator->feed);
    out += ",\"value\":";
    json::append_string(out, a.indicator->value);
    out += ",\"tags\":[";
    for (size_t i = 0; i < a.indicator->tags.size(); ++i) {
      if (i != 0) out.push_back(',');
      json::append_string(out, a.indicator->tags[i]);
    }
    out += "]}";
  }
  key(out, "evidence");
  out.push_back('{');
  for (size_t i = 0; i < a.evidence.size(); ++i) {
    if (i != 0) out.push_back(',');
    json::append_string(out, a.evidence[i].first);
    out.push_back(':');
    const EvidenceValue& v = a.evidence[i].second;
    if (const auto* n = std::get_if<int64_t>(&v)) {
      json::append_int(out, *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      append_number(out, *d);
    } else {
      json::append_string(out, std::get<std::string>(v));
    }
  }
  out.push_back('}');
  time_field(out, "first_seen", a.first_seen_ms);
  time_field(out, "last_seen", a.last_seen_ms);
  key(out, "count");
  json::append_int(out, a.count);
  // Only when set: live alerts keep their line as it was.
  if (a.retro) out += ",\"retro\":true";
  out += "}\n";
}

}  // namespace orbwatch
