#include "detect/spray_detector.h"

#include <algorithm>

#include <fmt/core.h>

#include "core/proto.h"
#include "detect/capped_map.h"
#include "detect/flow_role.h"
#include "detect/host_role.h"

namespace orbwatch::detect {

SprayDetector::SprayDetector(const SprayDetectorOptions& options) : o_(options) {}

void SprayDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  const FlowRecord& r = flow.rec;
  // Connections an outside host opened to an internal service: the client's records.
  const bool outside_opened = flow.initiator == Initiator::kSrc ||
                              (flow.initiator == Initiator::kUnknown && failed_attempt(r));
  if (!outside_opened || flow.src_internal || !flow.dst_internal) return;
  if (r.proto != 6 && r.proto != 17) return;
  if (r.proto == 6 && r.tcp_flags != 0 && !(r.tcp_flags & 0x02)) return;  // a long flow's piece
  if (first_ms_ == INT64_MIN) first_ms_ = r.start_ms;
  ++attempts_;
  std::string key(reinterpret_cast<const char*>(r.dst.b.data()), 16);
  key += fmt::format("{}/{}", r.proto, r.dst_port);
  bool added = false;
  Service* sp = find_or_add(services_, key, o_.max_services, refused_, added);
  if (sp == nullptr) return;
  Service& s = *sp;
  if (added) {
    s.addr = r.dst;
    s.port = r.dst_port;
    s.proto = r.proto;
    s.asset = asset_name(flow, flow.dst_place);
  }
  // A late record of an earlier window counts in the current one (never roll back).
  const int64_t window = r.start_ms / o_.window_ms;
  if (window > s.window) roll(s, window, sink);
  if (s.window < ticked_window_) late_window_ = true;  // the next tick must roll it
  if (s.sources.empty() && s.attempts == 0) s.first_ms = r.start_ms;
  ++s.attempts;
  s.last_ms = std::max(s.last_ms, r.end_ms);
  auto src = s.sources.find(r.src);
  if (src != s.sources.end()) {
    ++src->second;
    return;
  }
  s.distinct.add(IpAddrHash{}(r.src));
  if (total_sources_ >= o_.max_total_sources) {
    s.capped = true;
    if (++s.estimated % 256 == 0) check(s, false, sink);  // the estimate costs 1,024 reads
    return;
  }
  s.sources.emplace(r.src, 1);
  ++total_sources_;
  if (flow.src_geo.type != enrich::AsType::kUnknown) {
    ++s.typed;
    if (flow.src_geo.type == enrich::AsType::kResidential) ++s.residential;
  }
  if (!s.previous.contains(r.src)) ++s.fresh;
  if (s.sample.size() < o_.sample) s.sample.push_back(r.src);
  check(s, false, sink);
}

void SprayDetector::check(Service& s, bool closing, AlertSink& sink) {
  // Exact while every source is held; past the cap, the estimate of all of them.
  const double n = s.capped ? std::max(static_cast<double>(s.sources.size()), s.distinct.estimate())
                            : static_cast<double>(s.sources.size());
  if (s.windows == 0 || n < static_cast<double>(o_.min_sources)) return;
  const double threshold = std::max(static_cast<double>(o_.min_sources), o_.factor * s.baseline);
  if (n < threshold) return;
  const double per_source = static_cast<double>(s.attempts) / n;
  if (per_source > o_.max_attempts_per_source) return;
  const double residential =
      s.typed ? static_cast<double>(s.residential) / static_cast<double>(s.typed) : -1;
  if (residential >= 0 && residential < o_.min_residential_share) return;
  const Severity sev = n >= 2 * threshold ? Severity::kHigh : Severity::kMedium;
  const bool rises = !s.alerted || sev > s.raised;
  if (!rises && !(closing && n != s.raised_sources)) return;
  Alert a;
  a.detector = "spray";
  a.id = make_alert_id(
      "spray", s.addr.to_string() + "\n" + std::to_string(s.proto) + "/" + std::to_string(s.port),
      s.window * o_.window_ms);
  a.severity = sev;
  a.ts_ms = s.last_ms;
  a.src = s.sample.empty() ? IpAddr{} : s.sample.front();
  a.dst = s.addr;
  a.dst_port = s.port;
  a.proto = s.proto;
  a.asset = s.asset;
  a.first_seen_ms = s.first_ms;
  a.last_seen_ms = s.last_ms;
  a.count = s.attempts;
  std::string list;
  for (const auto& x : s.sample) list += (list.empty() ? "" : ",") + x.to_string();
  const double fresh = static_cast<double>(s.fresh) / static_cast<double>(s.sources.size());
  a.summary = fmt::format(
      "{}{} {}/{}: {:.0f} distinct sources ({:.1f}x its baseline of {:.0f}), {:.1f} attempts "
      "each{}, {:.0f}% new: a distributed spray",
      s.asset.empty() ? s.addr.to_string() : s.asset + " ",
      s.asset.empty() ? "" : "(" + s.addr.to_string() + ")", proto_text(s.proto), s.port, n,
      n / std::max(1.0, s.baseline), s.baseline, per_source,
      residential >= 0 ? fmt::format(", {:.0f}% residential", 100 * residential) : "", 100 * fresh);
  a.evidence = {{"sources", static_cast<int64_t>(n)},
                {"sources_estimated", static_cast<int64_t>(s.capped)},
                {"baseline_sources", s.baseline},
                {"ratio", n / std::max(1.0, s.baseline)},
                {"attempts", static_cast<int64_t>(s.attempts)},
                {"attempts_per_source", per_source},
                {"residential_share", residential},
                {"new_share", fresh},
                {"source_sample", list}};
  s.alerted = true;
  s.raised = sev;
  s.raised_sources = n;
  ++alerts_;
  sink.emit(a);
}

void SprayDetector::roll(Service& s, int64_t window, AlertSink& sink) {
  if (s.window != INT64_MIN) {
    check(s, true, sink);
    // A window that raised nothing feeds the baseline; the first only when the detector saw
    // most of it (a collector started mid-day would otherwise set the bar too low).
    const double n = s.capped
                         ? std::max(static_cast<double>(s.sources.size()), s.distinct.estimate())
                         : static_cast<double>(s.sources.size());
    const bool whole = s.windows > 0 || first_ms_ - s.window * o_.window_ms <= o_.window_ms / 5;
    if (!s.alerted && whole) {
      s.baseline =
          s.windows == 0 ? n : o_.baseline_weight * n + (1 - o_.baseline_weight) * s.baseline;
      ++s.windows;
    }
    // The window's sources become the previous ones (still counted in the total).
    total_sources_ -= s.previous.size();
    s.previous.clear();
    for (const auto& [a, c] : s.sources) s.previous.insert(a);
  }
  s.window = window;
  s.sources.clear();
  s.sample.clear();
  s.attempts = s.residential = s.typed = s.fresh = 0;
  s.capped = false;
  s.estimated = 0;
  s.distinct.clear();
  s.alerted = false;
  s.raised = Severity::kLow;
  s.raised_sources = 0;
}

void SprayDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  const int64_t window = watermark_ms / o_.window_ms;
  // Ticks come every second of event time: look at every service only when a window ended.
  if (window == ticked_window_ && !late_window_) return;
  ticked_window_ = window;
  late_window_ = false;
  for (auto& [k, s] : services_)
    if (s.window != INT64_MIN && s.window < window) roll(s, window, sink);
}

void SprayDetector::flush(AlertSink& sink) {
  for (auto& [k, s] : services_) check(s, true, sink);
}

DetectorStats SprayDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = services_.size() + total_sources_;
  s.state_bytes = services_.size() * (sizeof(Service) + 64) + total_sources_ * 48;
  s.evicted = refused_;
  s.counters = {{"attempts", attempts_}};
  return s;
}

}  // namespace orbwatch::detect
