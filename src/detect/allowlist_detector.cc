#include "detect/allowlist_detector.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include <fmt/core.h>

#include "core/proto.h"
#include "detect/flow_role.h"

namespace orbwatch::detect {

struct AllowlistDetector::Case : CaseBase {
  Alert alert;
  Severity criticality = Severity::kMedium;
  uint64_t answered = 0;         // flows the asset answered
  bool internal_source = false;  // an internal host among the sources
  std::unordered_set<IpAddr, IpAddrHash> sources;
  std::vector<IpAddr> listed;  // first sources, in order of appearance
  bool sources_capped = false;

  Severity severity() const {
    // An answered connection got through: high; attempts from inside: medium; a critical asset
    // one up. Unanswered attempts from the internet are its background scanning: counted, low.
    if (answered == 0 && !internal_source) return Severity::kLow;
    Severity s = answered != 0 ? Severity::kHigh : Severity::kMedium;
    if (criticality == Severity::kCritical && s != Severity::kCritical) {
      s = static_cast<Severity>(static_cast<int>(s) + 1);
    }
    return s;
  }
};

AllowlistDetector::AllowlistDetector(const AllowlistDetectorOptions& options)
    : o_(options), cases_(std::make_unique<CaseTable<Case>>(o_.window_ms, o_.max_cases)) {}
AllowlistDetector::~AllowlistDetector() = default;

void AllowlistDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  const FlowRecord& r = flow.rec;
  // Only flows that touch an asset with an allow-list can violate one.
  if (flow.src_place.asset < 0 && flow.dst_place.asset < 0) return;
  // The responder is the asset; with the initiator unknown, the record's destination.
  Initiator init = flow.initiator;
  if (init == Initiator::kUnknown) init = Initiator::kSrc;
  const bool responder_is_dst = init == Initiator::kSrc;
  const netmodel::Place& server = responder_is_dst ? flow.dst_place : flow.src_place;
  const netmodel::Place& client = responder_is_dst ? flow.src_place : flow.dst_place;
  if (server.asset < 0 || client.asset == server.asset) return;
  const uint16_t port = responder_is_dst ? r.dst_port : r.src_port;
  const int32_t rule = flow.model.allow_rule(server.asset, r.proto, port);
  if (rule < 0 || flow.model.allowed(server.asset, rule, client)) return;

  ++violations_;
  const IpAddr& client_addr = responder_is_dst ? r.src : r.dst;
  const IpAddr& server_addr = responder_is_dst ? r.dst : r.src;
  const auto& asset = flow.model.model().assets[static_cast<size_t>(server.asset)];
  std::string key = fmt::format("{}\n{}/{}", asset.name, r.proto, port);
  bool fresh = false;
  Case& c = cases_->get(key, r.start_ms, fresh, [&](Case& old) { finish(old, sink); });
  Alert& a = c.alert;
  if (fresh) {
    c.criticality = asset.criticality;
    a.detector = "allowlist";
    a.id = make_alert_id("allowlist", key, r.start_ms);
    a.first_seen_ms = r.start_ms;
    a.last_seen_ms = r.end_ms;
    a.src = client_addr;
    a.dst = server_addr;
    a.dst_port = port;
    a.proto = r.proto;
    a.asset = asset.name;
  }
  a.count += 1;
  a.first_seen_ms = std::min(a.first_seen_ms, r.start_ms);
  a.last_seen_ms = std::max(a.last_seen_ms, r.end_ms);
  if (responder_answered(r, init)) ++c.answered;
  if (client.internal) c.internal_source = true;
  if (c.sources.size() < o_.max_sources) {
    if (c.sources.insert(client_addr).second && c.listed.size() < o_.listed_sources) {
      c.listed.push_back(client_addr);
    }
  } else if (!c.sources.contains(client_addr)) {
    c.sources_capped = true;
  }
  if (c.raised_count == 0 || c.severity() > c.raised_severity) raise(c, sink);
}

void AllowlistDetector::raise(Case& c, AlertSink& sink) {
  Alert& a = c.alert;
  a.ts_ms = a.last_seen_ms;
  a.severity = c.severity();
  std::string listed;
  for (const auto& s : c.listed) listed += (listed.empty() ? "" : ",") + s.to_string();
  const std::string service = fmt::format("{}/{}", proto_text(a.proto), a.dst_port);
  const size_t n = c.sources.size();
  a.summary = fmt::format(
      "{} ({}) {} reached from {} outside its allow-list{}: {} flows, {} answered", a.asset,
      a.dst.to_string(), service,
      n == 1 ? a.src.to_string() : fmt::format("{}{} sources", n, c.sources_capped ? "+" : ""),
      n == 1 ? "" : fmt::format(" ({}{})", listed, n > c.listed.size() ? ", ..." : ""), a.count,
      c.answered);
  a.evidence.clear();
  a.evidence.emplace_back("service", service);
  a.evidence.emplace_back("sources", static_cast<int64_t>(n));
  a.evidence.emplace_back("sources_capped", int64_t{c.sources_capped});
  a.evidence.emplace_back("source_list", listed);
  a.evidence.emplace_back("answered", static_cast<int64_t>(c.answered));
  a.evidence.emplace_back("attempts", static_cast<int64_t>(a.count - c.answered));
  c.raised_count = a.count;
  c.raised_severity = a.severity;
  ++alerts_;
  sink.emit(a);
}

void AllowlistDetector::finish(Case& c, AlertSink& sink) {
  if (c.alert.count != c.raised_count) raise(c, sink);
}

void AllowlistDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  cases_->close_until(watermark_ms, [&](Case& c) { finish(c, sink); });
}

DetectorStats AllowlistDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = cases_->size();
  s.state_bytes = cases_->size() * (sizeof(Case) + 200);  // plus sources below
  s.evicted = cases_->evicted();
  s.counters = {{"violating_flows", violations_}};
  return s;
}

}  // namespace orbwatch::detect
