#include "detect/registry.h"

#include <algorithm>
#include <charconv>

#include <fmt/core.h>

#include "core/time.h"
#include "detect/allowlist_detector.h"
#include "detect/anomaly_detector.h"
#include "detect/baseline_detector.h"
#include "detect/beacon_detector.h"
#include "detect/egress_detector.h"
#include "detect/exposure_detector.h"
#include "detect/intel_detector.h"
#include "detect/relay_detector.h"
#include "detect/scan_detector.h"
#include "detect/segmentation_detector.h"
#include "detect/spray_detector.h"

namespace orbwatch::detect {

namespace {

// Reads one parameter; false with `error` naming it when it is malformed.
class ParamReader {
 public:
  ParamReader(std::string_view detector, std::span<const ParamInfo> known,
              const DetectorParams& params, std::string& error)
      : detector_(detector), params_(params), error_(error) {
    for (const auto& [k, v] : params) {
      bool ok = std::any_of(known.begin(), known.end(),
                            [&k = k](const ParamInfo& p) { return p.name == k; });
      if (!ok) fail(k, v, "a known parameter");
    }
  }
  bool ok() const { return error_.empty(); }

  void duration(std::string_view name, int64_t& out) {
    if (const std::string* v = find(name)) {
      auto ms = parse_duration_ms(*v);
      if (!ms || *ms == 0) return fail(name, *v, "a duration like \"1h\"");
      out = *ms;
    }
  }
  void count(std::string_view name, size_t& out) {
    if (const std::string* v = find(name)) {
      size_t n = 0;
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc{} || p != v->data() + v->size() || n == 0) {
        return fail(name, *v, "a positive whole number");
      }
      out = n;
    }
  }

  // A number in [lo, hi].
  void number(std::string_view name, double& out, double lo, double hi) {
    if (const std::string* v = find(name)) {
      double x = 0;
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
      if (ec != std::errc{} || p != v->data() + v->size() || !(x >= lo && x <= hi)) {
        return fail(name, *v, fmt::format("a number from {} to {}", lo, hi));
      }
      out = x;
    }
  }
  // A duration that may be 0 (learning periods).
  void duration_or_zero(std::string_view name, int64_t& out) {
    if (const std::string* v = find(name)) {
      if (*v == "0") {
        out = 0;
        return;
      }
      duration(name, out);
    }
  }

 private:
  const std::string* find(std::string_view name) const {
    auto it = params_.find(name);
    return it == params_.end() ? nullptr : &it->second;
  }
  void fail(std::string_view name, std::string_view value, std::string_view expected) {
    if (error_.empty()) {
      error_ = fmt::format("{}.{}: expected {}, got \"{}\"", detector_, name, expected, value);
    }
  }
  std::string_view detector_;
  const DetectorParams& params_;
  std::string& error_;
};

constexpr ParamInfo kIntelParams[] = {
    {"window", "1h", "one alert per (feed, indicator, host) per window of event time"},
    {"dns_min_ttl", "1h",
     "an address resolved for an indicator domain stays an indicator at "
     "least this long"},
    {"dns_max_ttl", "1d", "... and at most this long"},
    {"max_cases", "100000", "open alert cases held at once"},
    {"max_dns_addresses", "100000", "DNS-derived indicator addresses held at once"},
};

std::unique_ptr<Detector> make_intel(const DetectorParams& params, std::string& error) {
  IntelDetectorOptions o;
  ParamReader r("intel", kIntelParams, params, error);
  r.duration("window", o.window_ms);
  r.duration("dns_min_ttl", o.dns_min_ttl_ms);
  r.duration("dns_max_ttl", o.dns_max_ttl_ms);
  r.count("max_cases", o.max_cases);
  r.count("max_dns_addresses", o.max_dns_addresses);
  if (!r.ok()) return nullptr;
  return std::make_unique<IntelDetector>(o);
}

constexpr ParamInfo kAllowlistParams[] = {
    {"window", "1h", "one alert per (asset, service) per window of event time"},
    {"max_cases", "20000", "open alert cases held at once"},
    {"max_sources", "1000", "distinct sources counted per case"},
};

std::unique_ptr<Detector> make_allowlist(const DetectorParams& params, std::string& error) {
  AllowlistDetectorOptions o;
  ParamReader r("allowlist", kAllowlistParams, params, error);
  r.duration("window", o.window_ms);
  r.count("max_cases", o.max_cases);
  r.count("max_sources", o.max_sources);
  if (!r.ok()) return nullptr;
  return std::make_unique<AllowlistDetector>(o);
}

constexpr ParamInfo kSegmentationParams[] = {
    {"window", "1h", "one alert per (from zone, to zone, initiating host) per window"},
    {"max_cases", "20000", "open alert cases held at once"},
    {"max_targets", "1000", "distinct destinations counted per case"},
};

std::unique_ptr<Detector> make_segmentation(const DetectorParams& params, std::string& error) {
  SegmentationDetectorOptions o;
  ParamReader r("segmentation", kSegmentationParams, params, error);
  r.duration("window", o.window_ms);
  r.count("max_cases", o.max_cases);
  r.count("max_targets", o.max_targets);
  if (!r.ok()) return nullptr;
  return std::make_unique<SegmentationDetector>(o);
}

constexpr ParamInfo kExposureParams[] = {
    {"learning", "7d", "event time from the inventory's first flow before new services alert"},
    {"window", "1d", "one alert per (device, service) per window"},
    {"max_cases", "20000", "open alert cases held at once"},
};

std::unique_ptr<Detector> make_exposure(const DetectorParams& params, std::string& error) {
  ExposureDetectorOptions o;
  ParamReader r("exposure", kExposureParams, params, error);
  r.duration("learning", o.learning_ms);
  r.duration("window", o.window_ms);
  r.count("max_cases", o.max_cases);
  if (!r.ok()) return nullptr;
  return std::make_unique<ExposureDetector>(o);
}

constexpr ParamInfo kScanParams[] = {
    {"window", "1h", "fan-out is counted per window of event time"},
    {"min_destinations", "100", "distinct destinations on one port (any host)"},
    {"min_destinations_edge", "25", "... from an edge/IoT device"},
    {"min_ports", "50", "distinct ports on one destination (any host)"},
    {"min_ports_edge", "20", "... from an edge/IoT device"},
    {"min_failed_share", "0.5", "share of the attempts that must have failed (no answer)"},
    {"max_cases", "50000", "open (host, port) and (host, destination) cases"},
    {"max_targets", "1024", "distinct targets held per case"},
    {"max_total_targets", "4000000", "distinct targets held in all cases together"},
};

std::unique_ptr<Detector> make_scan(const DetectorParams& params, std::string& error) {
  ScanDetectorOptions o;
  ParamReader r("scan", kScanParams, params, error);
  r.duration("window", o.window_ms);
  r.count("min_destinations", o.min_destinations);
  r.count("min_destinations_edge", o.min_destinations_edge);
  r.count("min_ports", o.min_ports);
  r.count("min_ports_edge", o.min_ports_edge);
  r.number("min_failed_share", o.min_failed_share, 0, 1);
  r.count("max_cases", o.max_cases);
  r.count("max_targets", o.max_targets);
  r.count("max_total_targets", o.max_total_targets);
  if (!r.ok()) return nullptr;
  return std::make_unique<ScanDetector>(o);
}

constexpr ParamInfo kBeaconParams[] = {
    {"window", "1d", "connections scored over this much event time"},
    {"interval", "1h", "pairs with new connections are scored this often"},
    {"learning", "1d", "(host, port, network) seen this early are baseline; 0: none"},
    {"min_connections", "12", "connections in the window before a pair is scored"},
    {"min_score", "0.8", "score that raises an alert (medium)"},
    {"high_score", "0.9", "score that makes it high"},
    {"max_pairs", "200000", "(host, destination, port) pairs held"},
    {"max_samples", "64", "connection starts kept per pair"},
    {"max_baseline", "1000000", "baseline (host, port, network) entries held"},
};

std::unique_ptr<Detector> make_beacon(const DetectorParams& params, std::string& error) {
  BeaconDetectorOptions o;
  ParamReader r("beacon", kBeaconParams, params, error);
  r.duration("window", o.window_ms);
  r.duration("interval", o.interval_ms);
  r.duration_or_zero("learning", o.learning_ms);
  r.count("min_connections", o.min_connections);
  r.number("min_score", o.min_score, 0, 1);
  r.number("high_score", o.high_score, 0, 1);
  r.count("max_pairs", o.max_pairs);
  r.count("max_samples", o.max_samples);
  r.count("max_baseline", o.max_baseline);
  if (r.ok() && o.min_connections < 4) {
    error = "beacon.min_connections: expected at least 4";
    return nullptr;
  }
  if (!r.ok()) return nullptr;
  return std::make_unique<BeaconDetector>(o);
}

constexpr ParamInfo kSprayParams[] = {
    {"window", "1d", "sources are counted per window of event time"},
    {"factor", "3", "distinct sources against the service's baseline"},
    {"min_sources", "200", "distinct sources at least"},
    {"max_attempts_per_source", "3", "mean attempts per source at most"},
    {"min_residential_share", "0.5", "residential share of typed sources at least"},
    {"baseline_weight", "0.3", "weight of a new window in the baseline"},
    {"max_services", "10000", "services held"},
    {"max_total_sources", "2000000", "distinct sources held in all services together"},
};

std::unique_ptr<Detector> make_spray(const DetectorParams& params, std::string& error) {
  SprayDetectorOptions o;
  ParamReader r("spray", kSprayParams, params, error);
  r.duration("window", o.window_ms);
  r.number("factor", o.factor, 1, 1e6);
  r.count("min_sources", o.min_sources);
  r.number("max_attempts_per_source", o.max_attempts_per_source, 1, 1e6);
  r.number("min_residential_share", o.min_residential_share, 0, 1);
  r.number("baseline_weight", o.baseline_weight, 0.01, 1);
  r.count("max_services", o.max_services);
  r.count("max_total_sources", o.max_total_sources);
  if (!r.ok()) return nullptr;
  return std::make_unique<SprayDetector>(o);
}

constexpr ParamInfo kRelayParams[] = {
    {"window", "1d", "pairs are counted per device per window"},
    {"max_delay", "2s", "the outbound record starts at most this long after the inbound one"},
    {"tolerance", "0.03", "relative difference of their bytes at most"},
    {"min_bytes", "1000", "records smaller than this are not paired"},
    {"min_pairs", "5", "pairs in a window that raise an alert"},
    {"max_devices", "50000", "devices with recent records held"},
    {"recent", "32", "records kept per device and direction"},
    {"max_cases", "20000", "open cases held"},
};

std::unique_ptr<Detector> make_relay(const DetectorParams& params, std::string& error) {
  RelayDetectorOptions o;
  ParamReader r("relay", kRelayParams, params, error);
  r.duration("window", o.window_ms);
  r.duration("max_delay", o.max_delay_ms);
  r.number("tolerance", o.tolerance, 0, 1);
  size_t min_bytes = o.min_bytes;
  r.count("min_bytes", min_bytes);
  o.min_bytes = min_bytes;
  r.count("min_pairs", o.min_pairs);
  r.count("max_devices", o.max_devices);
  r.count("recent", o.recent);
  r.count("max_cases", o.max_cases);
  if (!r.ok()) return nullptr;
  return std::make_unique<RelayDetector>(o);
}

constexpr ParamInfo kEgressParams[] = {
    {"learning", "1d", "from a device's first flow: the networks it uses are its baseline"},
    {"window", "1d", "one alert per device per window"},
    {"high_bytes", "100000000", "bytes sent to new networks that make the alert high"},
    {"max_networks", "1024", "known networks held per device"},
    {"max_devices", "100000", "devices held"},
    {"max_cases", "20000", "open cases held"},
};

std::unique_ptr<Detector> make_egress(const DetectorParams& params, std::string& error) {
  EgressDetectorOptions o;
  ParamReader r("egress", kEgressParams, params, error);
  r.duration_or_zero("learning", o.learning_ms);
  r.duration("window", o.window_ms);
  size_t high = o.high_bytes;
  r.count("high_bytes", high);
  o.high_bytes = high;
  r.count("max_networks", o.max_networks);
  r.count("max_devices", o.max_devices);
  r.count("max_cases", o.max_cases);
  if (!r.ok()) return nullptr;
  return std::make_unique<EgressDetector>(o);
}

constexpr ParamInfo kBaselineParams[] = {
    {"learning", "2d", "per asset, from its first flow: profiles learn, nothing alerts"},
    {"k", "6", "an hour's bytes out must exceed the mean by this many deviations"},
    {"factor", "10", "... and this many times the mean"},
    {"min_bytes", "50000000", "... and this many bytes"},
    {"weight", "0.2", "of a new hour in its bin's mean and variance"},
    {"min_session_bytes", "1000000", "a remote-access session that counts for countries/ASes"},
    {"max_assets", "20000", "asset profiles held"},
};

std::unique_ptr<Detector> make_baseline(const DetectorParams& params, std::string& error) {
  BaselineDetectorOptions o;
  ParamReader r("baseline", kBaselineParams, params, error);
  r.duration_or_zero("learning", o.learning_ms);
  r.number("k", o.k, 0, 1000);
  r.number("factor", o.factor, 1, 1e9);
  size_t min_bytes = o.min_bytes, session = o.min_session_bytes;
  r.count("min_bytes", min_bytes);
  r.count("min_session_bytes", session);
  o.min_bytes = min_bytes;
  o.min_session_bytes = session;
  r.number("weight", o.weight, 0.001, 1);
  r.count("max_assets", o.max_assets);
  if (!r.ok()) return nullptr;
  return std::make_unique<BaselineDetector>(o);
}

constexpr ParamInfo kAnomalyParams[] = {
    {"learning_hours", "48", "hours of a host's history before it is judged"},
    {"z_alert", "8", "robust z-score one feature must reach"},
    {"z_support", "4", "... and that min_features must reach"},
    {"min_features", "2", "features at z_support or more"},
    {"weight", "0.05", "of a new hour in a feature's mean and deviation"},
    {"window", "1d", "one alert per host per window"},
    {"max_hosts", "50000", "hosts held (~1 KB each)"},
};

std::unique_ptr<Detector> make_anomaly(const DetectorParams& params, std::string& error) {
  AnomalyDetectorOptions o;
  ParamReader r("anomaly", kAnomalyParams, params, error);
  r.count("learning_hours", o.learning_hours);
  r.number("z_alert", o.z_alert, 0, 1e6);
  r.number("z_support", o.z_support, 0, 1e6);
  r.count("min_features", o.min_features);
  r.number("weight", o.weight, 0.001, 1);
  r.duration("window", o.window_ms);
  r.count("max_hosts", o.max_hosts);
  if (!r.ok()) return nullptr;
  return std::make_unique<AnomalyDetector>(o);
}

constexpr DetectorInfo kDetectors[] = {
    {"intel", "flows to or from threat-feed indicators (addresses, prefixes, domains)",
     kIntelParams, make_intel},
    {"allowlist", "connections to a protected asset's service from outside its allow-list",
     kAllowlistParams, make_allowlist},
    {"segmentation", "flows between zones that the segmentation rules deny", kSegmentationParams,
     make_segmentation},
    {"exposure", "edge devices answering the internet on backdoor, management or new services",
     kExposureParams, make_exposure},
    {"scan", "fan-out from one internal host: many destinations on a port, or many ports",
     kScanParams, make_scan},
    {"beacon", "regular check-ins from an internal host to an external service (RITA-style score)",
     kBeaconParams, make_beacon},
    {"spray", "distributed low-and-slow access to a service: many sources, few attempts each",
     kSprayParams, make_spray},
    {"relay", "a device whose inbound and outbound sessions pair up with near-equal bytes",
     kRelayParams, make_relay},
    {"egress", "edge/IoT devices opening sessions to networks they never used", kEgressParams,
     make_egress},
    {"baseline", "per-asset profiles: hourly volume outliers, remote access from new places",
     kBaselineParams, make_baseline},
    {"anomaly", "hours a host behaves unlike its own history on several features (robust z)",
     kAnomalyParams, make_anomaly},
};

}  // namespace

std::span<const DetectorInfo> all_detectors() {
  return kDetectors;
}

const DetectorInfo* find_detector(std::string_view name) {
  for (const auto& d : kDetectors) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

}  // namespace orbwatch::detect
