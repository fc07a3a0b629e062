#include "detect/egress_detector.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>

#include "core/proto.h"
#include "detect/capped_map.h"
#include "detect/flow_role.h"
#include "detect/host_role.h"

namespace orbwatch::detect {

struct EgressDetector::Case : CaseBase {
  Alert alert;
  std::unordered_map<uint64_t, uint64_t> networks;  // new network -> bytes sent
  bool hosting = false;
  uint64_t bytes = 0;
  std::vector<std::string> listed;
  Severity severity(uint64_t high_bytes) const {
    return hosting || bytes >= high_bytes ? Severity::kHigh : Severity::kMedium;
  }
};

EgressDetector::EgressDetector(const EgressDetectorOptions& options)
    : o_(options), cases_(std::make_unique<CaseTable<Case>>(o_.window_ms, o_.max_cases)) {}
EgressDetector::~EgressDetector() = default;

void EgressDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  const FlowRecord& r = flow.rec;
  if (flow.initiator != Initiator::kSrc || !flow.src_internal || flow.dst_internal) return;
  if (r.proto == 17 && (r.dst_port == 53 || r.dst_port == 123)) return;
  if (flow.src_place.asset < 0) return;
  using K = netmodel::AssetKind;
  const auto& asset = flow.model.model().assets[static_cast<size_t>(flow.src_place.asset)];
  if (asset.kind != K::kVpn && asset.kind != K::kFirewall && asset.kind != K::kRouter &&
      asset.kind != K::kCamera && asset.kind != K::kNas && asset.kind != K::kIot)
    return;
  // Answered sessions only: a device's unanswered attempts are the scan detector's.
  if (r.proto == 6 && !responder_answered(r, Initiator::kSrc)) return;
  bool added = false;
  Device* dp = find_or_add(devices_, r.src, o_.max_devices, refused_, added);
  if (dp == nullptr) return;
  Device& d = *dp;
  if (added) d.first_ms = r.start_ms;
  const uint32_t asn = flow.dst_geo.asn;
  const uint64_t net = asn != 0 ? uint64_t{asn} << 8 | 1
                                : IpAddrHash{}(Prefix::make(r.dst, r.dst.is_v4() ? 120 : 48).addr);
  std::string key(reinterpret_cast<const char*>(r.src.b.data()), 16);
  if (d.known.contains(net)) {
    // Later sessions to a network this window's case found new still count there.
    Case* open = cases_->find(key);
    if (open == nullptr || !open->networks.contains(net) || r.start_ms >= open->window_end_ms())
      return;
    open->networks[net] += r.bytes;
    open->bytes += r.bytes;
    open->alert.count += 1;
    open->alert.last_seen_ms = std::max(open->alert.last_seen_ms, r.end_ms);
    if (open->severity(o_.high_bytes) > open->raised_severity) raise(*open, sink);
    return;
  }
  const bool learning = r.start_ms < d.first_ms + o_.learning_ms;
  if (d.known.size() < o_.max_networks) d.known.insert(net);
  if (learning) return;
  ++new_networks_;
  bool fresh = false;
  Case& c = cases_->get(key, r.start_ms, fresh, [&](Case& old) {
    if (old.alert.count != old.raised_count) raise(old, sink);
  });
  Alert& a = c.alert;
  if (fresh) {
    a.detector = "egress";
    a.id = make_alert_id("egress", key, r.start_ms);
    a.first_seen_ms = r.start_ms;
    a.src = r.src;
    a.dst = r.dst;
    a.dst_port = r.dst_port;
    a.proto = r.proto;
    a.asset = asset.name;
  }
  a.count += 1;
  a.first_seen_ms = std::min(a.first_seen_ms, r.start_ms);
  a.last_seen_ms = std::max(a.last_seen_ms, r.end_ms);
  c.networks[net] += r.bytes;
  c.bytes += r.bytes;
  const bool hosting = flow.dst_geo.type == enrich::AsType::kHosting;
  c.hosting = c.hosting || hosting;
  if (c.listed.size() < o_.listed) {
    std::string what = r.dst.to_string() + fmt::format(" {}/{}", proto_text(r.proto), r.dst_port);
    if (asn != 0) {
      what += fmt::format(" AS{} {}", asn, enrich::as_type_name(flow.dst_geo.type));
      if (flow.geo) what += fmt::format(" ({})", flow.geo->org(flow.dst_geo.org));
    }
    c.listed.push_back(what);
  }
  if (c.raised_count == 0 || c.severity(o_.high_bytes) > c.raised_severity) raise(c, sink);
}

void EgressDetector::raise(Case& c, AlertSink& sink) {
  Alert& a = c.alert;
  a.ts_ms = a.last_seen_ms;
  a.severity = c.severity(o_.high_bytes);
  std::string list;
  for (const auto& x : c.listed) list += (list.empty() ? "" : "; ") + x;
  a.summary = fmt::format(
      "{} ({}), an edge/IoT device, opened sessions to {} network{} it never used before{}: "
      "{} bytes sent ({})",
      a.asset, a.src.to_string(), c.networks.size(), c.networks.size() == 1 ? "" : "s",
      c.hosting ? ", hosting/cloud among them" : "", c.bytes, list);
  a.evidence = {{"new_networks", static_cast<int64_t>(c.networks.size())},
                {"hosting", static_cast<int64_t>(c.hosting)},
                {"bytes_sent", static_cast<int64_t>(c.bytes)},
                {"sessions", static_cast<int64_t>(a.count)},
                {"destinations", list}};
  c.raised_count = a.count;
  c.raised_severity = a.severity;
  ++alerts_;
  sink.emit(a);
}

void EgressDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  cases_->close_until(watermark_ms, [&](Case& c) {
    if (c.alert.count != c.raised_count) raise(c, sink);
  });
}

DetectorStats EgressDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  size_t known = 0;
  for (const auto& [k, d] : devices_) known += d.known.size();
  s.state_entries = devices_.size() + cases_->size();
  s.state_bytes =
      devices_.size() * (sizeof(Device) + 64) + known * 24 + cases_->size() * (sizeof(Case) + 512);
  s.evicted = refused_ + cases_->evicted();
  s.counters = {{"new_networks", new_networks_}};
  return s;
}

}  // namespace orbwatch::detect
