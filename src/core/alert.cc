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
void append_evidence(std::string& out, const Alert& a) {
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
  append_evidence(out, a);
  time_field(out, "first_seen", a.first_seen_ms);
  time_field(out, "last_seen", a.last_seen_ms);
  key(out, "count");
  json::append_int(out, a.count);
  // Only when set: live alerts keep their line as it was.
  if (a.retro) out += ",\"retro\":true";
  out += "}\n";
}

void append_alert_ecs_json(std::string& out, const Alert& a) {
  out += "{\"@timestamp\":\"";
  out += rfc3339_ms(a.ts_ms);
  out +=
      "\",\"event\":{\"kind\":\"alert\",\"module\":\"orbwatch\",\"dataset\":\"orbwatch.alert\","
      "\"category\":[\"intrusion_detection\",\"network\"],\"type\":[\"info\"],\"id\":";
  json::append_string(out, a.id);
  out += ",\"severity\":";
  json::append_int(out, static_cast<int>(a.severity) + 1);
  out += ",\"start\":\"";
  out += rfc3339_ms(a.first_seen_ms);
  out += "\",\"end\":\"";
  out += rfc3339_ms(a.last_seen_ms);
  out += "\"},\"rule\":{\"ruleset\":\"orbwatch\",\"name\":";
  json::append_string(out, a.detector);
  out += "},\"message\":";
  json::append_string(out, a.summary);
  auto endpoint = [&](const char* name, const IpAddr& ip, bool with_port) {
    if (ip.is_zero()) return;
    out += ",\"";
    out += name;
    out += "\":{\"ip\":";
    json::append_string(out, ip.to_string());
    if (with_port && a.dst_port != 0) {
      out += ",\"port\":";
      json::append_int(out, a.dst_port);
    }
    out.push_back('}');
  };
  endpoint("source", a.src, false);
  endpoint("destination", a.dst, true);
  if (a.proto != 0) {
    out += ",\"network\":{\"iana_number\":\"";
    json::append_int(out, a.proto);
    out += "\"";
    const char* transport = a.proto == 6    ? "tcp"
                            : a.proto == 17 ? "udp"
                            : a.proto == 1  ? "icmp"
                            : a.proto == 58 ? "ipv6-icmp"
                                            : nullptr;
    if (transport != nullptr) {
      out += ",\"transport\":\"";
      out += transport;
      out += "\"";
    }
    out.push_back('}');
  }
  if (a.indicator) {
    out += ",\"threat\":{\"feed\":{\"name\":";
    json::append_string(out, a.indicator->feed);
    out += "},\"indicator\":{\"description\":";
    json::append_string(out, a.indicator->value);
    out += "}},\"tags\":[";
    for (size_t i = 0; i < a.indicator->tags.size(); ++i) {
      if (i != 0) out.push_back(',');
      json::append_string(out, a.indicator->tags[i]);
    }
    out += "]";
  }
  out += ",\"orbwatch\":{\"severity\":\"";
  out += severity_name(a.severity);
  out += "\"";
  if (!a.asset.empty()) {
    out += ",\"asset\":";
    json::append_string(out, a.asset);
  }
  out += ",\"count\":";
  json::append_int(out, a.count);
  if (a.retro) out += ",\"retro\":true";
  out += ",\"evidence\":";
  append_evidence(out, a);
  out += "}}\n";
}

}  // namespace orbwatch
