#include "detect/scan_detector.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include <fmt/core.h>

#include "core/proto.h"
#include "detect/flow_role.h"
#include "detect/host_role.h"

namespace orbwatch::detect {

struct ScanDetector::Case : CaseBase {
  Alert alert;
  bool horizontal = true;
  bool edge = false;
  std::string asset;
  uint64_t attempts = 0, failed = 0;
  std::unordered_set<uint64_t> targets;  // hashed destinations (horizontal) or ports (vertical)
  bool capped = false;
  std::vector<std::string> listed;
  size_t threshold = 0;
  bool over = false;  // crossed the threshold: an alert exists

  double failed_share() const {
    return attempts ? static_cast<double>(failed) / static_cast<double>(attempts) : 0;
  }
  Severity severity() const {
    Severity s = edge ? Severity::kHigh : Severity::kMedium;
    if (targets.size() >= 10 * threshold && s < Severity::kCritical)
      s = static_cast<Severity>(static_cast<int>(s) + 1);
    return s;
  }
};

ScanDetector::ScanDetector(const ScanDetectorOptions& options)
    : o_(options), cases_(std::make_unique<CaseTable<Case>>(o_.window_ms, o_.max_cases)) {}
ScanDetector::~ScanDetector() = default;

void ScanDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  const FlowRecord& r = flow.rec;
  // The records an internal host initiated; with the initiator unknown, its opening packets
  // (SYN only) still tell.
  const bool src_init = flow.initiator == Initiator::kSrc ||
                        (flow.initiator == Initiator::kUnknown && failed_attempt(r));
  if (!src_init || !flow.src_internal || (r.proto != 6 && r.proto != 17)) return;
  ++attempts_;
  const bool failed = failed_attempt(r);
  // Horizontal (host, port) and vertical (host, destination) cases. A case opens with a failed
  // attempt (a scan fails most of the time; answered traffic alone never becomes one), so busy
  // hosts cost a lookup, not a case per peer.
  std::string key;
  for (const bool horizontal : {true, false}) {
    key.assign(1, horizontal ? 'h' : 'v');
    key.append(reinterpret_cast<const char*>(r.src.b.data()), 16);
    if (horizontal) {
      const char port[3] = {static_cast<char>(r.proto), static_cast<char>(r.dst_port >> 8),
                            static_cast<char>(r.dst_port & 0xff)};
      key.append(port, 3);
    } else {
      key.append(reinterpret_cast<const char*>(r.dst.b.data()), 16);
    }
    if (!failed && cases_->find(key) == nullptr) continue;
    bool fresh = false;
    Case& c = cases_->get(key, r.start_ms, fresh, [&](Case& old) { finish(old, sink); });
    if (fresh) {
      const bool edge = is_edge_device(flow, flow.src_place, r.src);
      c.horizontal = horizontal;
      c.edge = edge;
      c.asset = asset_name(flow, flow.src_place);
      c.threshold = horizontal ? (edge ? o_.min_destinations_edge : o_.min_destinations)
                               : (edge ? o_.min_ports_edge : o_.min_ports);
      Alert& a = c.alert;
      a.detector = "scan";
      a.id = make_alert_id("scan", key, r.start_ms);
      a.first_seen_ms = r.start_ms;
      a.src = r.src;
      a.dst = r.dst;
      a.dst_port = horizontal ? r.dst_port : 0;
      a.proto = r.proto;
      a.asset = c.asset;
    }
    count(c, r, sink);
  }
}

void ScanDetector::count(Case& c, const FlowRecord& r, AlertSink& sink) {
  Alert& a = c.alert;
  const bool horizontal = c.horizontal;
  a.count += 1;
  a.first_seen_ms = std::min(a.first_seen_ms, r.start_ms);
  a.last_seen_ms = std::max(a.last_seen_ms, r.end_ms);
  ++c.attempts;
  if (failed_attempt(r)) ++c.failed;
  const uint64_t target = horizontal ? IpAddrHash{}(r.dst) : (uint64_t{r.proto} << 16 | r.dst_port);
  if (c.targets.size() < o_.max_targets && total_targets_ < o_.max_total_targets) {
    if (c.targets.insert(target).second) {
      ++total_targets_;
      if (c.listed.size() < o_.listed) {
        c.listed.push_back(horizontal ? r.dst.to_string()
                                      : fmt::format("{}/{}", proto_text(r.proto), r.dst_port));
      }
    }
  } else if (!c.targets.contains(target)) {
    c.capped = true;
    if (c.targets.size() < o_.max_targets) ++targets_refused_;
  }
  if (c.targets.size() >= c.threshold && c.failed_share() >= o_.min_failed_share) {
    if (!c.over || c.severity() > c.raised_severity) raise(c, sink);
  }
}

void ScanDetector::raise(Case& c, AlertSink& sink) {
  Alert& a = c.alert;
  c.over = true;
  a.ts_ms = a.last_seen_ms;
  a.severity = c.severity();
  std::string list;
  for (const auto& t : c.listed) list += (list.empty() ? "" : ",") + t;
  const std::string who =
      c.asset.empty() ? a.src.to_string() : fmt::format("{} ({})", c.asset, a.src.to_string());
  const std::string n = fmt::format("{}{}", c.targets.size(), c.capped ? "+" : "");
  a.summary =
      c.horizontal
          ? fmt::format("{}{} scanned {} hosts on {}/{} ({:.0f}% of {} attempts unanswered)", who,
                        c.edge ? ", an edge/IoT device," : "", n, proto_text(a.proto), a.dst_port,
                        100 * c.failed_share(), c.attempts)
          : fmt::format("{}{} scanned {} ports of {} ({:.0f}% of {} attempts unanswered)", who,
                        c.edge ? ", an edge/IoT device," : "", n, a.dst.to_string(),
                        100 * c.failed_share(), c.attempts);
  a.evidence.clear();
  a.evidence.emplace_back("kind", c.horizontal ? "horizontal" : "vertical");
  a.evidence.emplace_back(c.horizontal ? "destinations" : "ports",
                          static_cast<int64_t>(c.targets.size()));
  a.evidence.emplace_back("capped", static_cast<int64_t>(c.capped));
  a.evidence.emplace_back("attempts", static_cast<int64_t>(c.attempts));
  a.evidence.emplace_back("failed_share", c.failed_share());
  a.evidence.emplace_back("threshold", static_cast<int64_t>(c.threshold));
  a.evidence.emplace_back("edge_device", static_cast<int64_t>(c.edge));
  a.evidence.emplace_back(c.horizontal ? "destination_list" : "port_list", list);
  c.raised_count = a.count;
  c.raised_severity = a.severity;
  ++alerts_;
  sink.emit(a);
}

void ScanDetector::finish(Case& c, AlertSink& sink) {
  if (c.over && c.alert.count != c.raised_count) raise(c, sink);
  total_targets_ -= c.targets.size();
}

void ScanDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  cases_->close_until(watermark_ms, [&](Case& c) { finish(c, sink); });
}

DetectorStats ScanDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = cases_->size();
  s.state_bytes = cases_->size() * (sizeof(Case) + 64) + total_targets_ * 40;
  s.evicted = cases_->evicted();
  s.counters = {{"initiated_records", attempts_}, {"targets_refused", targets_refused_}};
  return s;
}

}  // namespace orbwatch::detect
