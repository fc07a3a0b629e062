#include "detect/relay_detector.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>
#include <vector>

#include <fmt/core.h>

#include "core/proto.h"
#include "detect/capped_map.h"
#include "detect/flow_role.h"
#include "detect/host_role.h"

namespace orbwatch::detect {

struct RelayDetector::Case : CaseBase {
  Alert alert;
  bool edge = false;
  std::unordered_set<IpAddr, IpAddrHash> inbound, outbound;
  std::vector<std::string> listed_in, listed_out, ports;
  std::vector<double> ratios;  // out bytes / in bytes, first few hundred
  Severity severity() const { return edge ? Severity::kHigh : Severity::kMedium; }
};

RelayDetector::RelayDetector(const RelayDetectorOptions& options)
    : o_(options), cases_(std::make_unique<CaseTable<Case>>(o_.window_ms, o_.max_cases)) {}
RelayDetector::~RelayDetector() = default;

void RelayDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  const FlowRecord& r = flow.rec;
  // Client records only: an outside host opening a session to the device, and the device
  // opening one to the outside. (A host's replies and requests never pair that way.)
  if (flow.initiator != Initiator::kSrc) return;
  if (flow.src_internal == flow.dst_internal || r.bytes < o_.min_bytes) return;
  const bool inbound = flow.dst_internal;
  const netmodel::Place& place = inbound ? flow.dst_place : flow.src_place;
  if (place.asset >= 0) {
    const auto kind = flow.model.model().assets[static_cast<size_t>(place.asset)].kind;
    if (kind == netmodel::AssetKind::kVpn || kind == netmodel::AssetKind::kMail) return;
  }
  const IpAddr& device = inbound ? r.dst : r.src;
  bool added = false;
  Device* dp = find_or_add(devices_, device, o_.max_devices, refused_, added);
  if (dp == nullptr) return;
  Device& d = *dp;
  d.last_ms = std::max(d.last_ms, r.start_ms);
  const Seen now{inbound ? r.src : r.dst, r.start_ms, r.bytes, inbound ? r.dst_port : r.src_port,
                 inbound ? r.src_port : r.dst_port};
  // Look for the other half among the device's recent records of the other direction:
  // the inbound record starts first, the outbound one within max_delay after it.
  auto& other = inbound ? d.out : d.in;
  // Records that started too long before this one can no longer pair (records arrive in end
  // order, so a few seconds of slack).
  const int64_t horizon = r.start_ms - o_.max_delay_ms - 5000;
  while (!other.empty() && other.front().start_ms < horizon) other.pop_front();
  for (auto o = other.begin(); o != other.end(); ++o) {
    const Seen& in = inbound ? now : *o;
    const Seen& out = inbound ? *o : now;
    const int64_t delay = out.start_ms - in.start_ms;
    if (delay < 0 || delay > o_.max_delay_ms || in.peer == out.peer) continue;
    const double diff = std::abs(static_cast<double>(out.bytes) - static_cast<double>(in.bytes));
    if (diff > o_.tolerance * static_cast<double>(std::max(in.bytes, out.bytes))) continue;
    const Seen a = in, b = out;
    other.erase(o);  // each record pairs once
    paired(flow, a, b, sink);
    return;
  }
  auto& mine = inbound ? d.in : d.out;
  mine.push_back(now);
  // Keep only what can still pair: recent enough, and at most `recent` of them.
  while (!mine.empty() && (mine.size() > o_.recent || mine.front().start_ms < horizon))
    mine.pop_front();
}

void RelayDetector::paired(const EnrichedFlow& flow, const Seen& in, const Seen& out,
                           AlertSink& sink) {
  ++pairs_;
  const FlowRecord& r = flow.rec;
  const bool device_is_dst = flow.dst_internal;
  const IpAddr& device = device_is_dst ? r.dst : r.src;
  const netmodel::Place& place = device_is_dst ? flow.dst_place : flow.src_place;
  std::string key(reinterpret_cast<const char*>(device.b.data()), 16);
  bool fresh = false;
  Case& c = cases_->get(key, in.start_ms, fresh, [&](Case& old) {
    if (old.raised_count != 0 && old.alert.count != old.raised_count) raise(old, sink);
  });
  Alert& a = c.alert;
  if (fresh) {
    c.edge = is_edge_device(flow, place, device);
    a.detector = "relay";
    a.id = make_alert_id("relay", key, in.start_ms);
    a.first_seen_ms = in.start_ms;
    a.src = in.peer;
    a.dst = device;
    a.dst_port = in.device_port;
    a.proto = r.proto;
    a.asset = asset_name(flow, place);
  }
  a.count += 1;
  a.first_seen_ms = std::min(a.first_seen_ms, in.start_ms);
  a.last_seen_ms = std::max(a.last_seen_ms, r.end_ms);
  if (c.inbound.size() < 10'000 && c.inbound.insert(in.peer).second &&
      c.listed_in.size() < o_.listed)
    c.listed_in.push_back(in.peer.to_string());
  if (c.outbound.size() < 10'000 && c.outbound.insert(out.peer).second &&
      c.listed_out.size() < o_.listed)
    c.listed_out.push_back(out.peer.to_string());
  const std::string port = fmt::format("{}", in.device_port);
  if (c.ports.size() < o_.listed &&
      std::find(c.ports.begin(), c.ports.end(), port) == c.ports.end())
    c.ports.push_back(port);
  if (c.ratios.size() < 512)
    c.ratios.push_back(static_cast<double>(out.bytes) / static_cast<double>(in.bytes));
  if (a.count >= o_.min_pairs && (c.raised_count == 0 || c.severity() > c.raised_severity))
    raise(c, sink);
}

void RelayDetector::raise(Case& c, AlertSink& sink) {
  Alert& a = c.alert;
  a.ts_ms = a.last_seen_ms;
  a.severity = c.severity();
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  std::vector<double> r = c.ratios;
  std::nth_element(r.begin(), r.begin() + static_cast<long>(r.size() / 2), r.end());
  const double median = r.empty() ? 0 : r[r.size() / 2];
  a.summary = fmt::format(
      "{}{} relays: {} inbound sessions (from {} hosts, on port {}) each followed within {} ms "
      "by an outbound one of near-equal bytes (to {} hosts)",
      a.asset.empty() ? a.dst.to_string() : a.asset + " (" + a.dst.to_string() + ")",
      c.edge ? ", an edge/IoT device," : "", a.count, c.inbound.size(), join(c.ports),
      o_.max_delay_ms, c.outbound.size());
  a.evidence = {{"pairs", static_cast<int64_t>(a.count)},
                {"inbound_peers", static_cast<int64_t>(c.inbound.size())},
                {"outbound_peers", static_cast<int64_t>(c.outbound.size())},
                {"inbound_list", join(c.listed_in)},
                {"outbound_list", join(c.listed_out)},
                {"device_ports", join(c.ports)},
                {"median_byte_ratio", median},
                {"edge_device", static_cast<int64_t>(c.edge)}};
  c.raised_count = a.count;
  c.raised_severity = a.severity;
  ++alerts_;
  sink.emit(a);
}

void RelayDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  cases_->close_until(watermark_ms, [&](Case& c) {
    if (c.raised_count != 0 && c.alert.count != c.raised_count) raise(c, sink);
  });
  // Devices with nothing recent left to pair (looked for once a minute of event time).
  if (watermark_ms < swept_ms_ + 60'000) return;
  swept_ms_ = watermark_ms;
  for (auto it = devices_.begin(); it != devices_.end();) {
    if (it->second.last_ms < watermark_ms - 120'000) {
      it = devices_.erase(it);
    } else {
      ++it;
    }
  }
}

DetectorStats RelayDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = devices_.size() + cases_->size();
  s.state_bytes = devices_.size() * (sizeof(Device) + 2 * o_.recent * sizeof(Seen)) +
                  cases_->size() * (sizeof(Case) + 256);
  s.evicted = refused_ + cases_->evicted();
  s.counters = {{"pairs", pairs_}};
  return s;
}

}  // namespace orbwatch::detect
