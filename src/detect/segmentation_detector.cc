#include "detect/segmentation_detector.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include <fmt/core.h>

#include "core/proto.h"
#include "detect/flow_role.h"

namespace orbwatch::detect {

struct SegmentationDetector::Case : CaseBase {
  Alert alert;
  std::string from, to;
  std::string rule;  // "orbwatch.toml:21" (the denying rule) or "default deny"
  uint64_t answered = 0;
  std::unordered_set<IpAddr, IpAddrHash> targets;
  std::vector<IpAddr> listed_targets;
  std::vector<std::string> services;  // first few distinct, "tcp/22"

  Severity severity() const { return answered != 0 ? Severity::kHigh : Severity::kMedium; }
};

SegmentationDetector::SegmentationDetector(const SegmentationDetectorOptions& options)
    : o_(options), cases_(std::make_unique<CaseTable<Case>>(o_.window_ms, o_.max_cases)) {}
SegmentationDetector::~SegmentationDetector() = default;

void SegmentationDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  if (flow.model.model().segmentation.empty()) return;
  const FlowRecord& r = flow.rec;
  // The initiator's zone is "from"; with the initiator unknown, the record's source.
  const Initiator init = flow.initiator == Initiator::kUnknown ? Initiator::kSrc : flow.initiator;
  const bool src_first = init == Initiator::kSrc;
  const netmodel::Place& from = src_first ? flow.src_place : flow.dst_place;
  const netmodel::Place& to = src_first ? flow.dst_place : flow.src_place;
  const uint16_t port = src_first ? r.dst_port : r.src_port;
  const auto d = flow.model.segment(from, to, r.proto, port);
  if (d.verdict != netmodel::ModelIndex::Verdict::kDenied) return;

  ++violations_;
  const IpAddr& client = src_first ? r.src : r.dst;
  const IpAddr& server = src_first ? r.dst : r.src;
  std::string key = fmt::format("{}\n{}\n", d.from, d.to);
  key.append(reinterpret_cast<const char*>(client.b.data()), client.b.size());
  bool fresh = false;
  Case& c = cases_->get(key, r.start_ms, fresh, [&](Case& old) { finish(old, sink); });
  Alert& a = c.alert;
  if (fresh) {
    c.from = flow.model.segment_name(d.from);
    c.to = flow.model.segment_name(d.to);
    c.rule = d.rule != nullptr ? fmt::format("{}:{}", flow.model.model().path, d.rule->line)
                               : "default deny";
    a.detector = "segmentation";
    a.id = make_alert_id("segmentation", key, r.start_ms);
    a.first_seen_ms = r.start_ms;
    a.last_seen_ms = r.end_ms;
    a.src = client;
    a.dst = server;
    a.dst_port = port;
    a.proto = r.proto;
    const netmodel::Place& server_place = src_first ? flow.dst_place : flow.src_place;
    if (server_place.asset >= 0) {
      a.asset = flow.model.model().assets[static_cast<size_t>(server_place.asset)].name;
    }
  }
  a.count += 1;
  a.first_seen_ms = std::min(a.first_seen_ms, r.start_ms);
  a.last_seen_ms = std::max(a.last_seen_ms, r.end_ms);
  if (responder_answered(r, init)) ++c.answered;
  if (c.targets.size() < o_.max_targets && c.targets.insert(server).second &&
      c.listed_targets.size() < o_.listed) {
    c.listed_targets.push_back(server);
  }
  std::string service = fmt::format("{}/{}", proto_text(r.proto), port);
  if (c.services.size() < o_.listed &&
      std::find(c.services.begin(), c.services.end(), service) == c.services.end()) {
    c.services.push_back(std::move(service));
  }
  if (c.raised_count == 0 || c.severity() > c.raised_severity) raise(c, sink);
}

void SegmentationDetector::raise(Case& c, AlertSink& sink) {
  Alert& a = c.alert;
  a.ts_ms = a.last_seen_ms;
  a.severity = c.severity();
  std::string targets, services;
  for (const auto& t : c.listed_targets) targets += (targets.empty() ? "" : ",") + t.to_string();
  for (const auto& s : c.services) services += (services.empty() ? "" : ",") + s;
  const size_t n = c.targets.size();
  a.summary = fmt::format(
      "{} in zone {} reached {} in zone {} ({}), denied by segmentation ({})", a.src.to_string(),
      c.from, n == 1 ? a.dst.to_string() : fmt::format("{} hosts", n), c.to, services, c.rule);
  a.evidence.clear();
  a.evidence.emplace_back("from_zone", c.from);
  a.evidence.emplace_back("to_zone", c.to);
  a.evidence.emplace_back("rule", c.rule);
  a.evidence.emplace_back("services", services);
  a.evidence.emplace_back("destinations", static_cast<int64_t>(n));
  a.evidence.emplace_back("destination_list", targets);
  a.evidence.emplace_back("answered", static_cast<int64_t>(c.answered));
  c.raised_count = a.count;
  c.raised_severity = a.severity;
  ++alerts_;
  sink.emit(a);
}

void SegmentationDetector::finish(Case& c, AlertSink& sink) {
  if (c.alert.count != c.raised_count) raise(c, sink);
}

void SegmentationDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  cases_->close_until(watermark_ms, [&](Case& c) { finish(c, sink); });
}

DetectorStats SegmentationDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = cases_->size();
  s.state_bytes = cases_->size() * (sizeof(Case) + 200);
  s.evicted = cases_->evicted();
  s.counters = {{"denied_flows", violations_}};
  return s;
}

}  // namespace orbwatch::detect
