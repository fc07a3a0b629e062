#include "detect/registry.h"

#include <algorithm>
#include <charconv>

#include <fmt/core.h>

#include "core/time.h"
#include "detect/allowlist_detector.h"
#include "detect/exposure_detector.h"
#include "detect/intel_detector.h"
#include "detect/segmentation_detector.h"

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

constexpr DetectorInfo kDetectors[] = {
    {"intel", "flows to or from threat-feed indicators (addresses, prefixes, domains)",
     kIntelParams, make_intel},
    {"allowlist", "connections to a protected asset's service from outside its allow-list",
     kAllowlistParams, make_allowlist},
    {"segmentation", "flows between zones that the segmentation rules deny", kSegmentationParams,
     make_segmentation},
    {"exposure", "edge devices answering the internet on backdoor, management or new services",
     kExposureParams, make_exposure},
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
