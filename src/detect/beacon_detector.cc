#include "detect/beacon_detector.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "core/proto.h"
#include "detect/capped_map.h"
#include "detect/flow_role.h"
#include "detect/host_role.h"

namespace orbwatch::detect {
namespace {

constexpr int64_t kHour = 3'600'000;

double quantile(std::vector<double> v, double q) {  // linear interpolation, v not empty
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto i = static_cast<size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

// Bowley skewness, median and MAD of v.
void describe(const std::vector<double>& v, double& median, double& mad, double& skew) {
  const double q1 = quantile(v, 0.25), q2 = quantile(v, 0.5), q3 = quantile(v, 0.75);
  median = q2;
  // As RITA: with the median on a quartile (timers ticking in whole units) the distribution is
  // too concentrated for skewness to mean anything: 0.
  skew = q1 < q2 && q2 < q3 ? (q1 + q3 - 2 * q2) / (q3 - q1) : 0;
  std::vector<double> dev;
  dev.reserve(v.size());
  for (double x : v) dev.push_back(std::abs(x - q2));
  mad = quantile(dev, 0.5);
}

// 1 when MAD is 0, 0 from a MAD of half the median on.
double dispersion_score(double median, double mad) {
  if (median <= 0) return 0;
  return std::clamp(1 - (mad / median) / 0.5, 0.0, 1.0);
}

}  // namespace

BeaconScore score_beacon(const std::vector<int64_t>& starts, const std::vector<uint64_t>& bytes) {
  BeaconScore s;
  s.connections = starts.size();
  if (starts.size() < 3) return s;
  std::vector<double> gaps, sizes;
  for (size_t i = 1; i < starts.size(); ++i)
    gaps.push_back(static_cast<double>(starts[i] - starts[i - 1]) / 1000.0);
  for (uint64_t b : bytes) sizes.push_back(static_cast<double>(b));
  describe(gaps, s.median_interval_s, s.interval_mad_s, s.interval_skew);
  describe(sizes, s.median_bytes, s.bytes_mad, s.bytes_skew);
  // Hours with a connection over the hours the connections span.
  const int64_t first_h = starts.front() / kHour, last_h = starts.back() / kHour;
  std::vector<int64_t> hours;
  hours.reserve(starts.size());
  for (int64_t t : starts) hours.push_back(t / kHour);
  hours.erase(std::unique(hours.begin(), hours.end()), hours.end());
  s.coverage = static_cast<double>(hours.size()) / static_cast<double>(last_h - first_h + 1);
  // A check-in rarer than hourly leaves hours empty by design: judge coverage in its period.
  if (s.median_interval_s > 3600)
    s.coverage = std::min(1.0, s.coverage * s.median_interval_s / 3600);
  s.timing = ((1 - std::min(1.0, std::abs(s.interval_skew))) +
              dispersion_score(s.median_interval_s, s.interval_mad_s) + s.coverage) /
             3;
  s.size = ((1 - std::min(1.0, std::abs(s.bytes_skew))) +
            dispersion_score(s.median_bytes, s.bytes_mad)) /
           2;
  s.score = 2 * s.timing / 3 + s.size / 3;
  return s;
}

BeaconDetector::BeaconDetector(const BeaconDetectorOptions& options) : o_(options) {}

void BeaconDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  (void)sink;
  const FlowRecord& r = flow.rec;
  if (flow.initiator != Initiator::kSrc || !flow.src_internal || flow.dst_internal) return;
  if (r.proto != 6 && r.proto != 17) return;
  if (first_ms_ == INT64_MIN) first_ms_ = r.start_ms;
  const bool learning = r.start_ms < first_ms_ + o_.learning_ms;
  // The destination's network: its AS when known, else its /24 (/48 for IPv6).
  const uint32_t asn = flow.dst_geo.asn;
  uint64_t net = asn != 0 ? uint64_t{asn} << 8 | 1
                          : IpAddrHash{}(Prefix::make(r.dst, r.dst.is_v4() ? 120 : 48).addr);
  const uint64_t service = IpAddrHash{}(r.src) ^ (net * 0x9E3779B97F4A7C15ull) ^
                           (uint64_t{r.proto} << 16 | r.dst_port) * 0xC2B2AE3D27D4EB4Full;
  if (learning) {
    if (baseline_.size() < o_.max_baseline) baseline_.insert(service);
    ++baseline_flows_;
    return;
  }
  if (baseline_.contains(service)) {
    ++baseline_flows_;
    return;
  }
  std::string key(reinterpret_cast<const char*>(r.src.b.data()), 16);
  key.append(reinterpret_cast<const char*>(r.dst.b.data()), 16);
  key += fmt::format("{}/{}", r.proto, r.dst_port);
  bool added = false;
  Pair* pp = find_or_add(pairs_, key, o_.max_pairs, refused_, added);
  if (pp == nullptr) return;
  Pair& p = *pp;
  if (added) {
    p.host = r.src;
    p.peer = r.dst;
    p.port = r.dst_port;
    p.proto = r.proto;
    p.peer_asn = asn;
    p.peer_type = flow.dst_geo.type;
    p.peer_country = flow.dst_geo.country_code();
    if (flow.geo != nullptr) p.peer_org = std::string(flow.geo->org(flow.dst_geo.org));
    p.asset = asset_name(flow, flow.src_place);
  }
  ++p.flows;
  p.last_seen_ms = std::max(p.last_seen_ms, r.end_ms);
  // A piece of a long flow continues a connection rather than starting one.
  const bool continues = r.proto == 6 && r.tcp_flags != 0
                             ? !(r.tcp_flags & 0x02)
                             : p.last_end_ms != INT64_MIN && r.start_ms >= p.last_end_ms &&
                                   r.start_ms - p.last_end_ms <= 2000;
  p.last_end_ms = std::max(p.last_end_ms, r.end_ms);
  if (continues) return;
  ++connections_;
  if (p.starts.size() < o_.max_samples) {
    p.starts.push_back(r.start_ms);
    p.bytes.push_back(r.bytes);
  } else {
    p.starts[p.head] = r.start_ms;
    p.bytes[p.head] = r.bytes;
    p.head = (p.head + 1) % o_.max_samples;
  }
  p.dirty = true;
}

void BeaconDetector::score(Pair& p, int64_t now_ms, AlertSink& sink) {
  p.dirty = false;
  // The samples in start order, within the window.
  std::vector<std::pair<int64_t, uint64_t>> v;
  for (size_t i = 0; i < p.starts.size(); ++i)
    if (p.starts[i] >= now_ms - o_.window_ms) v.emplace_back(p.starts[i], p.bytes[i]);
  if (v.size() < o_.min_connections) return;
  std::sort(v.begin(), v.end());
  std::vector<int64_t> starts;
  std::vector<uint64_t> bytes;
  for (const auto& [t, b] : v) {
    starts.push_back(t);
    bytes.push_back(b);
  }
  ++scored_;
  const BeaconScore s = score_beacon(starts, bytes);
  if (s.score < o_.min_score) return;
  const Severity sev = s.score >= o_.high_score ? Severity::kHigh : Severity::kMedium;
  if (!p.alert_id.empty() && sev <= p.raised) return;
  if (p.alert_id.empty()) {
    p.alert_id = make_alert_id("beacon",
                               p.host.to_string() + "\n" + p.peer.to_string() + "\n" +
                                   std::to_string(p.proto) + "/" + std::to_string(p.port),
                               starts.front());
  }
  p.raised = sev;
  Alert a;
  a.detector = "beacon";
  a.id = p.alert_id;
  a.severity = sev;
  a.ts_ms = now_ms;
  a.src = p.host;
  a.dst = p.peer;
  a.dst_port = p.port;
  a.proto = p.proto;
  a.asset = p.asset;
  a.first_seen_ms = starts.front();
  a.last_seen_ms = p.last_seen_ms;
  a.count = starts.size();
  const std::string where = p.peer_asn != 0
                                ? fmt::format(" (AS{} {}, {}{})", p.peer_asn, p.peer_org,
                                              enrich::as_type_name(p.peer_type),
                                              p.peer_country.empty() ? "" : ", " + p.peer_country)
                                : "";
  a.summary = fmt::format(
      "{}{} beacons to {}{} on {}/{}: {} connections every {:.0f} s (MAD {:.0f} s), {:.0f} bytes "
      "each, score {:.2f}",
      p.asset.empty() ? p.host.to_string() : p.asset + " ",
      p.asset.empty() ? "" : "(" + p.host.to_string() + ")", p.peer.to_string(), where,
      proto_text(p.proto), p.port, s.connections, s.median_interval_s, s.interval_mad_s,
      s.median_bytes, s.score);
  a.evidence = {{"connections", static_cast<int64_t>(s.connections)},
                {"median_interval_s", s.median_interval_s},
                {"interval_mad_s", s.interval_mad_s},
                {"interval_skew", s.interval_skew},
                {"hour_coverage", s.coverage},
                {"median_bytes", s.median_bytes},
                {"bytes_mad", s.bytes_mad},
                {"bytes_skew", s.bytes_skew},
                {"timing_score", s.timing},
                {"size_score", s.size},
                {"score", s.score},
                {"dst_asn", static_cast<int64_t>(p.peer_asn)},
                {"dst_as_type", enrich::as_type_name(p.peer_type)},
                {"dst_country", p.peer_country}};
  ++alerts_;
  sink.emit(a);
}

void BeaconDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  watermark_ms_ = std::max(watermark_ms_, watermark_ms);
  if (next_score_ms_ == INT64_MIN) next_score_ms_ = watermark_ms + o_.interval_ms;
  if (watermark_ms < next_score_ms_) return;
  next_score_ms_ = watermark_ms + o_.interval_ms;
  for (auto it = pairs_.begin(); it != pairs_.end();) {
    Pair& p = it->second;
    if (p.dirty) score(p, watermark_ms, sink);
    // Pairs quiet for a whole window go.
    if (p.last_seen_ms < watermark_ms - o_.window_ms) {
      it = pairs_.erase(it);
    } else {
      ++it;
    }
  }
}

void BeaconDetector::flush(AlertSink& sink) {
  for (auto& [k, p] : pairs_)
    if (p.dirty) score(p, std::max(watermark_ms_, p.last_seen_ms), sink);
}

DetectorStats BeaconDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = pairs_.size() + baseline_.size();
  size_t samples = 0;
  for (const auto& [k, p] : pairs_) samples += p.starts.capacity();
  s.state_bytes = pairs_.size() * (sizeof(Pair) + 96) + samples * 16 + baseline_.size() * 24;
  s.evicted = refused_;
  s.counters = {{"connections", connections_},
                {"baseline_flows", baseline_flows_},
                {"pairs_scored", scored_}};
  return s;
}

}  // namespace orbwatch::detect
