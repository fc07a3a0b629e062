#include "detect/anomaly_detector.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "detect/capped_map.h"
#include "detect/flow_role.h"
#include "detect/host_role.h"

namespace orbwatch::detect {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr const char* kNames[AnomalyDetector::kFeatures] = {
    "fan_out",          "fan_in",    "new_destinations", "sessions",
    "hosting_sessions", "bytes_out", "port_entropy"};
// Smallest deviation a feature is judged with: a doubling of a count is ~0.7 in log units.
constexpr double kFloor[AnomalyDetector::kFeatures] = {0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 0.5};

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

void AnomalyDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  const FlowRecord& r = flow.rec;
  if (flow.src_internal == flow.dst_internal || flow.initiator == Initiator::kUnknown) return;
  // The internal host, and whether it opened the session.
  const bool host_is_src = flow.src_internal;
  const bool opened = (flow.initiator == Initiator::kSrc) == host_is_src;
  const IpAddr& addr = host_is_src ? r.src : r.dst;
  const IpAddr& peer = host_is_src ? r.dst : r.src;
  bool added = false;
  Host* hp = find_or_add(hosts_, addr, o_.max_hosts, refused_, added);
  if (hp == nullptr) return;
  Host& h = *hp;
  if (added) {
    h.addr = addr;
    const netmodel::Place& place = host_is_src ? flow.src_place : flow.dst_place;
    h.asset = asset_name(flow, place);
    h.edge = is_edge_device(flow, place, addr);
  }
  const int64_t hour = r.end_ms / kHour;
  if (h.hour == INT64_MIN) h.hour = hour;
  while (hour > h.hour) close_hour(h, sink);
  const uint64_t ph = mix(IpAddrHash{}(peer));
  if (host_is_src) h.bytes_out += r.bytes;
  if (!opened) {
    h.in_peers.set(ph % 1024);
    return;
  }
  if (r.proto == 6 && r.tcp_flags != 0 && !(r.tcp_flags & 0x02)) return;  // a long flow's piece
  ++h.sessions;
  h.out_peers.set(ph % 1024);
  const size_t b1 = ph % 4096, b2 = (ph >> 20) % 4096;
  if (!h.past.test(b1) || !h.past.test(b2)) {
    ++h.new_peers;
    h.past.set(b1);
    h.past.set(b2);
  }
  if (flow.dst_geo.type == enrich::AsType::kHosting) ++h.hosting;
  uint16_t& bin = h.ports[mix(uint64_t{r.proto} << 16 | r.dst_port) % 32];
  if (bin < UINT16_MAX) ++bin;
}

void AnomalyDetector::close_hour(Host& h, AlertSink& sink) {
  ++hours_;
  std::array<double, kFeatures> x{};
  x[0] = std::log1p(h.sessions ? distinct(h.out_peers) : 0);
  x[1] = std::log1p(h.in_peers.any() ? distinct(h.in_peers) : 0);
  x[2] = std::log1p(h.new_peers);
  x[3] = std::log1p(h.sessions);
  x[4] = std::log1p(h.hosting);
  x[5] = std::log1p(static_cast<double>(h.bytes_out));
  double total = 0, entropy = 0;
  for (uint16_t c : h.ports) total += c;
  for (uint16_t c : h.ports) {
    if (c == 0) continue;
    const double p = c / total;
    entropy -= p * std::log2(p);
  }
  x[6] = entropy;

  std::array<double, kFeatures> z{};
  for (size_t i = 0; i < kFeatures; ++i)
    z[i] = (x[i] - h.stats[i].mean) / std::max(1.4826 * h.stats[i].dev, kFloor[i]);
  bool anomalous = false;
  if (h.history >= o_.learning_hours) {
    const double top = *std::max_element(z.begin(), z.end());
    const auto support = static_cast<size_t>(
        std::count_if(z.begin(), z.end(), [&](double v) { return v >= o_.z_support; }));
    anomalous = top >= o_.z_alert && support >= o_.min_features;
    if (anomalous) {
      const Severity sev = h.edge ? Severity::kHigh : Severity::kMedium;
      const int64_t start = h.hour * kHour;
      const int64_t window = start / o_.window_ms;
      if (h.alert_window != window || sev > h.raised) {
        if (h.alert_window != window) {
          h.alert_id = make_alert_id("anomaly", h.addr.to_string(), start);
          h.alert_window = window;
        }
        h.raised = sev;
        // The features that drove it, strongest first.
        std::array<size_t, kFeatures> order{};
        for (size_t i = 0; i < kFeatures; ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return z[a] > z[b]; });
        auto shown = [&](size_t i) {
          // Counts back from log units for people; entropy as it is.
          return i == 6 ? fmt::format("{:.2f} bits", x[i])
                        : fmt::format("{:.0f}", std::expm1(x[i]));
        };
        auto expected = [&](size_t i) {
          return i == 6 ? fmt::format("{:.2f}", h.stats[i].mean)
                        : fmt::format("{:.0f}", std::expm1(h.stats[i].mean));
        };
        std::string drivers;
        Alert a;
        a.detector = "anomaly";
        a.id = h.alert_id;
        a.severity = sev;
        a.ts_ms = start + kHour;
        a.src = h.addr;
        a.asset = h.asset;
        a.first_seen_ms = start;
        a.last_seen_ms = start + kHour;
        a.count = h.sessions;
        for (size_t k = 0; k < 3; ++k) {
          const size_t i = order[k];
          if (z[i] < o_.z_support) break;
          drivers += fmt::format("{}{} {} (expected {}, z {:.1f})", k ? ", " : "", kNames[i],
                                 shown(i), expected(i), z[i]);
          a.evidence.emplace_back(std::string(kNames[i]),
                                  x[i] == 0 ? 0.0 : (i == 6 ? x[i] : std::expm1(x[i])));
          a.evidence.emplace_back(std::string(kNames[i]) + "_expected",
                                  i == 6 ? h.stats[i].mean : std::expm1(h.stats[i].mean));
          a.evidence.emplace_back(std::string(kNames[i]) + "_z", z[i]);
        }
        a.evidence.emplace_back("history_hours", static_cast<int64_t>(h.history));
        a.summary = fmt::format(
            "{}{} behaved unlike itself in the hour from its {} hours of history: {}",
            h.asset.empty() ? h.addr.to_string() : h.asset + " (" + h.addr.to_string() + ")",
            h.edge ? ", an edge/IoT device," : "", h.history, drivers);
        ++alerts_;
        sink.emit(a);
      }
    }
  }
  if (!anomalous) {
    for (size_t i = 0; i < kFeatures; ++i) {
      Stat& s = h.stats[i];
      if (h.history == 0) {
        s.mean = x[i];
      } else {
        const double d = x[i] - s.mean;
        s.mean += o_.weight * d;
        s.dev += o_.weight * (std::abs(d) - s.dev);
      }
    }
    ++h.history;
  }
  h.out_peers.reset();
  h.in_peers.reset();
  h.new_peers = h.sessions = h.hosting = 0;
  h.bytes_out = 0;
  h.ports.fill(0);
  ++h.hour;
}

void AnomalyDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  const int64_t hour = watermark_ms / kHour;
  if (hour <= swept_hour_) return;
  swept_hour_ = hour;
  // Hours without a flow are hours too: a host quiet at night has a quiet-night history.
  for (auto& [a, h] : hosts_) {
    if (h.hour == INT64_MIN) continue;
    if (hour - h.hour > 168) h.hour = hour - 168;
    while (h.hour < hour) close_hour(h, sink);
  }
}

DetectorStats AnomalyDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = hosts_.size();
  s.state_bytes = hosts_.size() * (sizeof(Host) + 64);
  s.evicted = refused_;
  s.counters = {{"hours_judged", hours_}};
  return s;
}

}  // namespace orbwatch::detect
