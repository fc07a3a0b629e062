#include "detect/anomaly_detector.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include <fmt/core.h>

#include "core/proto.h"
#include "detect/capped_map.h"
#include "detect/flow_role.h"
#include "detect/host_role.h"

namespace orbwatch::detect {
namespace {

constexpr int64_t kHour = 3'600'000;

struct Feature {
  const char* name;
  double floor;  // smallest deviation judged with: a doubling of a count is ~0.7 in log units
  bool bits;     // shown as it is (entropy), not as a count
};
constexpr Feature kHostFeatures[] = {
    {"fan_out", 0.5, false},          {"fan_in", 0.5, false},
    {"new_destinations", 0.5, false}, {"sessions", 0.5, false},
    {"hosting_sessions", 0.5, false}, {"residential_sessions", 0.5, false},
    {"bytes_out", 1.0, false},        {"out_in_ratio", 1.0, true},
    {"port_entropy", 0.5, true},      {"sessions_for_the_hour", 0.5, false}};
constexpr Feature kServiceFeatures[] = {{"sources", 0.5, false},
                                        {"new_sources", 0.5, false},
                                        {"sessions", 0.5, false},
                                        {"hosting_sessions", 0.5, false},
                                        {"residential_sessions", 0.5, false},
                                        {"sessions_for_the_hour", 0.5, false}};
static_assert(std::size(kHostFeatures) <= AnomalyDetector::kMaxFeatures);

// Linear counting: distinct items from the zero bits of an m-bit map.
double distinct(const std::bitset<1024>& b) {
  const double m = 1024, zeros = m - static_cast<double>(b.count());
  return zeros == 0 ? m * std::log(m) : m * std::log(m / zeros);
}

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

}  // namespace

AnomalyDetector::AnomalyDetector(const AnomalyDetectorOptions& options) : o_(options) {}

void AnomalyDetector::count_peer(Entity& e, const IpAddr& peer, const enrich::Geo& geo) {
  const uint64_t ph = mix(IpAddrHash{}(peer));
  ++e.sessions;
  e.opened_peers.set(ph % 1024);
  const size_t b1 = ph % 4096, b2 = (ph >> 20) % 4096;
  if (!e.past.test(b1) || !e.past.test(b2)) {
    ++e.new_peers;
    e.past.set(b1);
    e.past.set(b2);
  }
  if (geo.type == enrich::AsType::kHosting) ++e.hosting;
  if (geo.type == enrich::AsType::kResidential) ++e.residential;
}

void AnomalyDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  const FlowRecord& r = flow.rec;
  if (flow.src_internal == flow.dst_internal || flow.initiator == Initiator::kUnknown) return;
  // The internal side, and whether it opened the session.
  const bool host_is_src = flow.src_internal;
  const bool opened = (flow.initiator == Initiator::kSrc) == host_is_src;
  const IpAddr& addr = host_is_src ? r.src : r.dst;
  const IpAddr& peer = host_is_src ? r.dst : r.src;
  const netmodel::Place& place = host_is_src ? flow.src_place : flow.dst_place;
  const enrich::Geo& peer_geo = host_is_src ? flow.dst_geo : flow.src_geo;
  const int64_t hour = r.end_ms / kHour;
  const bool starts = !(r.proto == 6 && r.tcp_flags != 0 && !(r.tcp_flags & 0x02));

  bool added = false;
  Entity* hp = find_or_add(hosts_, addr, o_.max_hosts, refused_, added);
  if (hp != nullptr) {
    Entity& h = *hp;
    if (added) {
      h.addr = addr;
      h.asset = asset_name(flow, place);
      h.edge = is_edge_device(flow, place, addr);
    }
    if (h.hour == INT64_MIN) h.hour = hour;
    while (hour > h.hour) close_hour(h, sink);
    (host_is_src ? h.bytes_out : h.bytes_in) += r.bytes;
    if (!opened) {
      h.other_peers.set(mix(IpAddrHash{}(peer)) % 1024);
    } else if (starts) {
      count_peer(h, peer, peer_geo);
      uint16_t& bin = h.ports[mix(uint64_t{r.proto} << 16 | r.dst_port) % 32];
      if (bin < UINT16_MAX) ++bin;
    }
  }
  // Edge services: sessions outside hosts open to an internal responder that answers the
  // internet (the inventory says so) or offers the service in the model.
  if (opened || host_is_src || !starts) return;
  auto declared = [&] {
    if (place.asset < 0) return false;
    const auto& services = flow.model.model().assets[static_cast<size_t>(place.asset)].services;
    return std::any_of(services.begin(), services.end(),
                       [&](const auto& s) { return s.covers(r.proto, r.dst_port); });
  };
  if (!flow.edge.edge && !declared()) return;
  // A 64-bit key: the service table is looked up on every inbound session.
  const uint64_t key = IpAddrHash{}(addr) ^ mix(uint64_t{r.proto} << 16 | r.dst_port);
  Entity* sp = find_or_add(services_, key, o_.max_services, refused_, added);
  if (sp == nullptr) return;
  Entity& s = *sp;
  if (added) {
    s.service = true;
    s.addr = addr;
    s.port = r.dst_port;
    s.proto = r.proto;
    s.asset = asset_name(flow, place);
    s.edge = true;
  }
  if (s.hour == INT64_MIN) s.hour = hour;
  while (hour > s.hour) close_hour(s, sink);
  count_peer(s, peer, peer_geo);
}

void AnomalyDetector::close_hour(Entity& e, AlertSink& sink) {
  ++hours_;
  const std::span<const Feature> features = e.service ? std::span<const Feature>(kServiceFeatures)
                                                      : std::span<const Feature>(kHostFeatures);
  const size_t n = features.size();
  std::array<double, kMaxFeatures> x{};
  const double sessions = std::log1p(e.sessions);
  Stat& rhythm = e.rhythm[static_cast<size_t>(e.hour % 24)];
  if (e.service) {
    x = {std::log1p(e.sessions ? distinct(e.opened_peers) : 0),
         std::log1p(e.new_peers),
         sessions,
         std::log1p(e.hosting),
         std::log1p(e.residential),
         sessions};
  } else {
    double total = 0, entropy = 0;
    for (uint16_t c : e.ports) total += c;
    for (uint16_t c : e.ports) {
      if (c == 0) continue;
      const double p = c / total;
      entropy -= p * std::log2(p);
    }
    x = {std::log1p(e.sessions ? distinct(e.opened_peers) : 0),
         std::log1p(e.other_peers.any() ? distinct(e.other_peers) : 0),
         std::log1p(e.new_peers),
         sessions,
         std::log1p(e.hosting),
         std::log1p(e.residential),
         std::log1p(static_cast<double>(e.bytes_out)),
         std::log1p(static_cast<double>(e.bytes_out)) - std::log1p(static_cast<double>(e.bytes_in)),
         entropy,
         sessions};
  }
  // The last feature is the rhythm: judged against this hour of the day's own statistics.
  auto stat_of = [&](size_t i) -> Stat& { return i + 1 == n ? rhythm : e.stats[i]; };
  std::array<double, kMaxFeatures> z{};
  for (size_t i = 0; i < n; ++i)
    z[i] = (x[i] - stat_of(i).mean) / std::max(1.4826 * stat_of(i).dev, features[i].floor);
  bool anomalous = false;
  if (e.history >= o_.learning_hours) {
    const double top = *std::max_element(z.begin(), z.begin() + static_cast<long>(n));
    const auto support = static_cast<size_t>(std::count_if(
        z.begin(), z.begin() + static_cast<long>(n), [&](double v) { return v >= o_.z_support; }));
    anomalous = top >= o_.z_alert && support >= o_.min_features;
  }
  if (anomalous) {
    const Severity sev = e.edge ? Severity::kHigh : Severity::kMedium;
    const int64_t start = e.hour * kHour;
    const int64_t window = start / o_.window_ms;
    if (e.alert_window != window || sev > e.raised) {
      const std::string who =
          e.service ? fmt::format("{}/{}/{}", e.addr.to_string(), proto_text(e.proto), e.port)
                    : e.addr.to_string();
      if (e.alert_window != window) {
        e.alert_id = make_alert_id("anomaly", who, start);
        e.alert_window = window;
      }
      e.raised = sev;
      std::vector<size_t> order(n);
      for (size_t i = 0; i < n; ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return z[a] > z[b]; });
      auto shown = [&](size_t i, double v) {
        return features[i].bits ? fmt::format("{:.2f}", v) : fmt::format("{:.0f}", std::expm1(v));
      };
      Alert a;
      a.detector = "anomaly";
      a.id = e.alert_id;
      a.severity = sev;
      a.ts_ms = start + kHour;
      a.src = e.addr;
      if (e.service) {
        a.dst = e.addr;
        a.dst_port = e.port;
        a.proto = e.proto;
      }
      a.asset = e.asset;
      a.first_seen_ms = start;
      a.last_seen_ms = start + kHour;
      a.count = e.sessions;
      std::string drivers;
      for (size_t k = 0; k < 3 && k < n; ++k) {
        const size_t i = order[k];
        if (z[i] < o_.z_support) break;
        const std::string name = features[i].name;
        drivers += fmt::format("{}{} {} (expected {}, z {:.1f})", k ? ", " : "", name,
                               shown(i, x[i]), shown(i, stat_of(i).mean), z[i]);
        a.evidence.emplace_back(name, features[i].bits ? x[i] : std::expm1(x[i]));
        a.evidence.emplace_back(name + "_expected",
                                features[i].bits ? stat_of(i).mean : std::expm1(stat_of(i).mean));
        a.evidence.emplace_back(name + "_z", z[i]);
      }
      a.evidence.emplace_back("entity", e.service ? "service" : "host");
      a.evidence.emplace_back("history_hours", static_cast<int64_t>(e.history));
      a.summary =
          fmt::format("{}{}{} behaved unlike itself in the hour from {} ({} hours of history): {}",
                      e.asset.empty() ? "" : e.asset + " ", e.asset.empty() ? who : "(" + who + ")",
                      e.edge && !e.service ? ", an edge/IoT device," : "",
                      fmt::format("{:02}:00", e.hour % 24), e.history, drivers);
      ++alerts_;
      sink.emit(a);
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      Stat& s = stat_of(i);
      const bool first = i + 1 == n ? s.mean == 0 && s.dev == 0 : e.history == 0;
      if (first) {
        s.mean = x[i];
      } else {
        const double d = x[i] - s.mean;
        s.mean += o_.weight * d;
        s.dev += o_.weight * (std::abs(d) - s.dev);
      }
    }
    ++e.history;
  }
  e.opened_peers.reset();
  e.other_peers.reset();
  e.new_peers = e.sessions = e.hosting = e.residential = 0;
  e.bytes_out = e.bytes_in = 0;
  e.ports.fill(0);
  ++e.hour;
}

void AnomalyDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  const int64_t hour = watermark_ms / kHour;
  if (hour <= swept_hour_) return;
  swept_hour_ = hour;
  // Hours without a flow are hours too: a host quiet at night has a quiet-night history.
  auto sweep = [&](Entity& e) {
    if (e.hour == INT64_MIN) return;
    if (hour - e.hour > 168) e.hour = hour - 168;
    while (e.hour < hour) close_hour(e, sink);
  };
  for (auto& [a, e] : hosts_) sweep(e);
  for (auto& [k, e] : services_) sweep(e);
}

DetectorStats AnomalyDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = hosts_.size() + services_.size();
  s.state_bytes = (hosts_.size() + services_.size()) * (sizeof(Entity) + 64);
  s.evicted = refused_;
  s.counters = {{"hours_judged", hours_}, {"services", services_.size()}};
  return s;
}

}  // namespace orbwatch::detect
