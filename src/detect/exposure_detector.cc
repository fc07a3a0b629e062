#include "detect/exposure_detector.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>

#include "core/proto.h"
#include "core/time.h"

namespace orbwatch::detect {

namespace {
enum class Reason : uint8_t { kNewService, kManagement, kBackdoor };
const char* reason_name(Reason r) {
  switch (r) {
    case Reason::kBackdoor:
      return "backdoor";
    case Reason::kManagement:
      return "management";
    case Reason::kNewService:
      return "new_service";
  }
  return "new_service";
}
}  // namespace

struct ExposureDetector::Case : CaseBase {
  Alert alert;
  Reason reason = Reason::kNewService;
  bool new_service = false;
  uint64_t peers = 0;
  int64_t device_first_seen_ms = 0;
  int64_t service_first_seen_ms = 0;
  int64_t learned_until_ms = 0;
  std::string hints;

  Severity severity() const {
    switch (reason) {
      case Reason::kBackdoor:
        return Severity::kCritical;
      case Reason::kManagement:
        return Severity::kHigh;
      case Reason::kNewService:
        return Severity::kMedium;
    }
    return Severity::kMedium;
  }
};

ExposureDetector::ExposureDetector(const ExposureDetectorOptions& options)
    : o_(options), cases_(std::make_unique<CaseTable<Case>>(o_.window_ms, o_.max_cases)) {}
ExposureDetector::~ExposureDetector() = default;

void ExposureDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  if (!flow.edge.edge || flow.inventory == nullptr) return;
  const FlowRecord& r = flow.rec;
  const bool src_client = flow.initiator == Initiator::kSrc;
  const IpAddr& server = src_client ? r.dst : r.src;
  const IpAddr& client = src_client ? r.src : r.dst;
  const uint16_t port = src_client ? r.dst_port : r.src_port;
  const netmodel::Place& place = src_client ? flow.dst_place : flow.src_place;
  const netmodel::Asset* asset =
      place.asset >= 0 ? &flow.model.model().assets[static_cast<size_t>(place.asset)] : nullptr;
  const bool declared =
      asset != nullptr && std::any_of(asset->services.begin(), asset->services.end(),
                                      [&](const auto& s) { return s.covers(r.proto, port); });
  const int64_t learned_until = flow.inventory->learning_start_ms() + o_.learning_ms;
  // A new service after learning, on a device the inventory knew or one the model names (a
  // modelled router that never answered the internet and now does is exactly the signal).
  const bool new_after_learning = flow.edge.new_service &&
                                  (!flow.edge.new_device || asset != nullptr) &&
                                  r.start_ms >= learned_until && !declared;

  Reason reason = Reason::kNewService;
  bool alarming = true;
  if (netmodel::is_backdoor_port(r.proto, port)) {
    reason = Reason::kBackdoor;
  } else if (netmodel::is_management_port(r.proto, port) && !declared) {
    reason = Reason::kManagement;
  } else {
    alarming = new_after_learning;
  }
  std::string key = fmt::format("{}\n{}/{}", server.to_string(), r.proto, port);
  if (!alarming) {
    // Only the first flow of a new service is new; the later ones of its window are counted.
    Case* open = cases_->find(key);
    if (open == nullptr || r.start_ms >= open->window_end_ms()) return;
  }
  bool fresh = false;
  Case& c = cases_->get(key, r.start_ms, fresh, [&](Case& old) { finish(old, sink); });
  Alert& a = c.alert;
  const auto& services = flow.inventory->services();
  auto svc = services.find({server, r.proto, port});
  if (fresh) {
    c.reason = reason;
    a.detector = "exposure";
    a.id = make_alert_id("exposure", key, r.start_ms);
    a.first_seen_ms = r.start_ms;
    a.src = client;
    a.dst = server;
    a.dst_port = port;
    a.proto = r.proto;
    if (asset != nullptr) a.asset = asset->name;
    c.device_first_seen_ms = flow.edge.device_first_seen_ms;
    c.learned_until_ms = learned_until;
    std::vector<std::pair<uint8_t, uint16_t>> device_services;
    for (const auto& [k, rec] : services) {
      if (k.addr == server) device_services.emplace_back(k.proto, k.port);
    }
    for (const auto& h : netmodel::device_kind_hints(device_services)) {
      c.hints += (c.hints.empty() ? "" : ",") + h;
    }
  }
  c.new_service |= new_after_learning;
  a.count += 1;
  a.first_seen_ms = std::min(a.first_seen_ms, r.start_ms);
  a.last_seen_ms = std::max(a.last_seen_ms, r.end_ms);
  if (svc != services.end()) {
    c.peers = svc->second.peers();
    c.service_first_seen_ms = svc->second.first_seen_ms;
  }
  if (c.raised_count == 0 || c.severity() > c.raised_severity) raise(c, sink);
}

void ExposureDetector::raise(Case& c, AlertSink& sink) {
  Alert& a = c.alert;
  a.ts_ms = a.last_seen_ms;
  a.severity = c.severity();
  const std::string service = fmt::format("{}/{}", proto_text(a.proto), a.dst_port);
  const std::string who =
      a.asset.empty() ? a.dst.to_string() : fmt::format("{} ({})", a.asset, a.dst.to_string());
  switch (c.reason) {
    case Reason::kBackdoor:
      a.summary = fmt::format(
          "{} answers the internet on {}, a known covert-network backdoor listener (Quad7 {})", who,
          service, a.dst_port == 7777 ? "xlogin" : "alogin");
      break;
    case Reason::kManagement:
      a.summary = fmt::format("{} answers the internet on management service {}", who, service);
      break;
    case Reason::kNewService:
      a.summary = fmt::format("{} answers the internet on a new service {} (device seen since {})",
                              who, service, rfc3339_ms(c.device_first_seen_ms));
      break;
  }
  a.evidence.clear();
  a.evidence.emplace_back("reason", std::string(reason_name(c.reason)));
  a.evidence.emplace_back("service", service);
  a.evidence.emplace_back("new_service", int64_t{c.new_service});
  a.evidence.emplace_back("external_peers", static_cast<int64_t>(c.peers));
  a.evidence.emplace_back("service_first_seen", rfc3339_ms(c.service_first_seen_ms));
  a.evidence.emplace_back("device_first_seen", rfc3339_ms(c.device_first_seen_ms));
  a.evidence.emplace_back("learned_until", rfc3339_ms(c.learned_until_ms));
  if (!c.hints.empty()) a.evidence.emplace_back("device_hints", c.hints);
  c.raised_count = a.count;
  c.raised_severity = a.severity;
  ++alerts_;
  sink.emit(a);
}

void ExposureDetector::finish(Case& c, AlertSink& sink) {
  if (c.alert.count != c.raised_count) raise(c, sink);
}

void ExposureDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  cases_->close_until(watermark_ms, [&](Case& c) { finish(c, sink); });
}

DetectorStats ExposureDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = cases_->size();
  s.state_bytes = cases_->size() * (sizeof(Case) + 200);
  s.evicted = cases_->evicted();
  return s;
}

}  // namespace orbwatch::detect
