#include "server/views.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <map>

#include "core/flow_json.h"
#include "core/json.h"
#include "core/time.h"
#include "server/http_util.h"
#include "store/segment_columns.h"

namespace orbwatch::server::views {

namespace {

constexpr std::array<const char*, 4> kSeverities = {"low", "medium", "high", "critical"};

}  // namespace

int64_t auto_step_ms(int64_t span_ms, int64_t buckets) {
  constexpr std::array<int64_t, 9> kLadder = {60, 300, 600, 900, 1800, 3600, 10800, 21600, 86400};
  for (int64_t s : kLadder)
    if (span_ms / (s * 1000) <= buckets) return s * 1000;
  return kLadder.back() * 1000 * (span_ms / (kLadder.back() * 1000 * buckets) + 1);
}

void append_alert_entry(std::string& out, const store::StoredAlert& a) {
  out += "{\"status\":";
  json::append_string(out, a.status);
  out += ",\"note\":";
  json::append_string(out, a.note);
  out += ",\"alert\":";
  out += a.json;
  out += '}';
}

std::string alert_list(const std::vector<store::StoredAlert>& alerts, size_t offset, size_t limit) {
  std::string out = fmt::format("{{\"offset\":{},\"limit\":{},\"alerts\":[", offset, limit);
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (i) out += ',';
    append_alert_entry(out, alerts[i]);
  }
  out += "]}";
  return out;
}

std::string alert_summary(const store::AlertSummary& sum, int64_t step) {
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
  return out;
}

std::string series(const FlowSource& source, const store::ScanSpec& spec, int64_t from,
                   int64_t until, int64_t step) {
  const int64_t first = floor_div(from, step), last = floor_div(until, step);
  const auto n = static_cast<size_t>(last - first + 1);
  store::ScanStats stats;
  const auto totals = source.buckets(spec, step, first, last, stats);
  std::string out = fmt::format("{{\"step_s\":{}", step / 1000);
  append_ms(out, "from", first * step);
  append_ms(out, "until", (last + 1) * step);
  out += ",\"buckets\":[";
  for (size_t i = 0; i < n; ++i) {
    const FlowSource::Bucket& t = totals[i];
    if (i) out += ',';
    out += "{\"t\":";
    json::append_string(out, rfc3339_ms((first + static_cast<int64_t>(i)) * step));
    out += fmt::format(",\"flows\":{},\"packets\":{},\"bytes\":{}}}", t.flows, t.packets, t.bytes);
  }
  out += "],";
  append_scan(out, stats);
  out += '}';
  return out;
}

std::string flows(const FlowSource& source, store::ScanSpec spec, size_t limit,
                  const std::function<void(const FlowRecord&)>& each) {
  spec.ordered = true;
  std::string list;
  size_t n = 0;
  const auto stats = source.scan(spec, limit, [&](unsigned, FlowBatch& b) {
    for (size_t i = 0; i < b.size() && n < limit; ++i, ++n) {
      if (n) list += ',';
      append_flow_json(list, b, i);
      list.pop_back();  // the line's '\n'
      if (each) each(b.records[i]);
    }
    return n < limit;
  });
  std::string out = fmt::format("{{\"limit\":{},\"truncated\":{},\"flows\":[", limit,
                                n >= limit ? "true" : "false");
  out += list;
  out += "],";
  append_scan(out, stats);
  out += '}';
  return out;
}

std::string top(const FlowSource& source, const store::ScanSpec& spec,
                const store::GroupSpec& group, std::string_view by, store::GroupOrder order,
                size_t n, const std::function<void(const store::GroupKey&)>& each_row) {
  const FlowSource::Top result = source.top(spec, group, order, n, 1'000'000);
  const auto& total = result.total;
  const auto& stats = result.stats;
  std::string out = "{\"by\":";
  json::append_string(out, by);
  out += fmt::format(
      ",\"n\":{},\"total\":{{\"flows\":{},\"packets\":{},\"bytes\":{}}},"
      "\"overflowed\":{},\"rows\":[",
      n, total.flows, total.packets, total.bytes, result.overflowed ? "true" : "false");
  bool first = true;
  for (const auto& [key, t] : result.rows) {
    if (!first) out += ',';
    first = false;
    store::append_group_json(out, group, key, t);
    out.pop_back();
    if (each_row) each_row(key);
  }
  out += "],";
  append_scan(out, stats);
  out += '}';
  return out;
}

std::string inventory(const netmodel::EdgeInventory& inv) {
  // Devices with their services, busiest service first.
  std::map<IpAddr, std::vector<std::pair<netmodel::ServiceKey, netmodel::ServiceRecord>>> by_device;
  for (const auto& [k, r] : inv.services()) by_device[k.addr].emplace_back(k, r);
  std::string out = "{\"devices\":[";
  bool first = true;
  for (auto& [addr, services] : by_device) {
    std::sort(services.begin(), services.end(),
              [](const auto& a, const auto& b) { return a.second.flows > b.second.flows; });
    if (!first) out += ',';
    first = false;
    out += "{\"ip\":";
    json::append_string(out, addr.to_string());
    if (auto d = inv.devices().find(addr); d != inv.devices().end()) {
      append_ms(out, "first_seen", d->second.first_seen_ms);
      append_ms(out, "last_seen", d->second.last_seen_ms);
    }
    std::vector<std::pair<uint8_t, uint16_t>> ports;
    for (const auto& [k, r] : services) ports.emplace_back(k.proto, k.port);
    out += ",\"kinds\":[";
    const auto kinds = netmodel::device_kind_hints(ports);
    for (size_t i = 0; i < kinds.size(); ++i) {
      if (i) out += ',';
      json::append_string(out, kinds[i]);
    }
    out += "],\"services\":[";
    for (size_t i = 0; i < services.size(); ++i) {
      const auto& [k, r] = services[i];
      if (i) out += ',';
      out += fmt::format("{{\"proto\":{},\"port\":{},\"flows\":{},\"bytes\":{},\"peers\":{}",
                         k.proto, k.port, r.flows, r.bytes, r.peers());
      append_ms(out, "first_seen", r.first_seen_ms);
      append_ms(out, "last_seen", r.last_seen_ms);
      out += '}';
    }
    out += "]}";
  }
  out += "],\"exporters\":[";
  first = true;
  for (const auto& [addr, r] : inv.exporters()) {
    if (!first) out += ',';
    first = false;
    out += "{\"ip\":";
    json::append_string(out, addr.to_string());
    out += fmt::format(",\"flows\":{}", r.flows);
    append_ms(out, "first_seen", r.first_seen_ms);
    append_ms(out, "last_seen", r.last_seen_ms);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string exporters(const std::vector<ExporterMetrics>& exporters, size_t exporters_total,
                      uint64_t socket_drops, uint64_t receive_drops,
                      const ingest::DecodeStats& decode) {
  std::string out = fmt::format(
      "{{\"exporters_total\":{},\"socket_drops\":{},\"receive_drops\":{},"
      "\"decode_errors\":{},\"sequence_lost\":{},\"exporters\":[",
      exporters_total, socket_drops, receive_drops, decode.total_errors(), decode.seq_lost);
  for (size_t i = 0; i < exporters.size(); ++i) {
    const ExporterMetrics& e = exporters[i];
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
  return out;
}

std::string feeds(const std::vector<intel::FeedStatus>& feeds, int64_t now_ms) {
  std::string out = "{\"feeds\":[";
  for (size_t i = 0; i < feeds.size(); ++i) {
    const auto& f = feeds[i];
    if (i) out += ',';
    out += "{\"name\":";
    json::append_string(out, f.name);
    out += ",\"source\":";
    json::append_string(out, f.source);
    out += ",\"format\":";
    json::append_string(out, f.format.empty() ? f.config_format : f.format);
    out += fmt::format(",\"entries\":{}", f.entries);
    append_ms(out, "fetched", f.fetched_ms);
    append_ms(out, "last_success", f.last_success_ms);
    append_ms(out, "next_attempt", f.next_attempt_ms);
    if (f.last_success_ms != 0)
      out += fmt::format(",\"age_s\":{}", (now_ms - f.last_success_ms) / 1000);
    out += ",\"last_error\":";
    json::append_string(out, f.last_error);
    out += fmt::format(",\"consecutive_failures\":{},\"rejected_updates\":{}}}",
                       f.consecutive_failures, f.rejected_updates);
  }
  out += "]}";
  return out;
}

std::string lookup(const std::vector<IpAddr>& addrs, const netmodel::ModelIndex& model,
                   const enrich::GeoDb* geo) {
  std::string out = "{\"addresses\":[";
  for (size_t i = 0; i < addrs.size(); ++i) {
    const IpAddr& ip = addrs[i];
    const netmodel::Place& place = model.place(ip);
    if (i) out += ',';
    out += "{\"ip\":";
    json::append_string(out, ip.to_string());
    out += fmt::format(",\"internal\":{}", place.internal ? "true" : "false");
    out += ",\"zone\":";
    json::append_string(
        out, place.zone >= 0 ? model.model().zones[static_cast<size_t>(place.zone)].name : "");
    out += ",\"asset\":";
    json::append_string(
        out, place.asset >= 0 ? model.model().assets[static_cast<size_t>(place.asset)].name : "");
    const enrich::Geo g = geo ? geo->lookup(ip) : enrich::Geo{};
    out += fmt::format(",\"asn\":{},\"as_org\":", g.asn);
    json::append_string(out, geo && g.org != 0 ? geo->org(g.org) : std::string_view());
    out += ",\"as_type\":";
    json::append_string(out, enrich::as_type_name(g.type));
    out += ",\"country\":";
    json::append_string(out, g.country_code());
    out += '}';
  }
  out += "]}";
  return out;
}

std::string assets(const netmodel::Model& m) {
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
  return out;
}

}  // namespace orbwatch::server::views
