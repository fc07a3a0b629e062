#include "detect/intel_detector.h"

#include <algorithm>

#include <fmt/core.h>

#include "core/proto.h"
#include "detect/flow_role.h"
#include "intel/domain_table.h"

namespace orbwatch::detect {

namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

enum class MatchKind : uint8_t { kAddress, kServerName, kDnsQuery, kDnsAnswer };

const char* match_name(MatchKind k) {
  switch (k) {
    case MatchKind::kAddress:
      return "address";
    case MatchKind::kServerName:
      return "server_name";
    case MatchKind::kDnsQuery:
      return "dns_query";
    case MatchKind::kDnsAnswer:
      return "dns_answer";
  }
  return "address";
}

Severity shift(Severity s, int by) {
  int v = std::clamp(static_cast<int>(s) + by, 0, static_cast<int>(Severity::kCritical));
  return static_cast<Severity>(v);
}

std::string indicator_value(const intel::Indicator& ind) {
  if (ind.kind == intel::IndicatorKind::kDomain) return ind.domain;
  return ind.prefix.len == 128 ? ind.prefix.addr.to_string() : ind.prefix.to_string();
}

bool is_dns(const FlowRecord& r) {
  return (r.proto == kUdp || r.proto == kTcp) && (r.src_port == 53 || r.dst_port == 53);
}

}  // namespace

struct IntelDetector::Hit {
  MatchKind kind = MatchKind::kAddress;
  std::string_view feed;
  Severity base = Severity::kHigh;
  std::string value;
  const std::vector<std::string>* tags = nullptr;
  uint8_t confidence = 0;
  bool indicator_is_src = false;  // which side of the record the indicator (or server) is
};

struct IntelDetector::Derived {
  std::string feed;
  Severity base = Severity::kHigh;
  std::string domain;
  std::vector<std::string> tags;  // the domain's
  uint8_t confidence = 0;
  int64_t expires_ms = 0;
};

struct IntelDetector::Case : CaseBase {
  IpAddr host;  // the end that is not the indicator
  Alert alert;
  MatchKind kind = MatchKind::kAddress;
  Severity base = Severity::kHigh;
  bool host_internal = false;
  bool outbound = false;      // the host initiated a flow to the indicator
  bool inbound = false;       // the indicator initiated a flow to the host
  bool answered_out = false;  // the indicator answered the host
  bool answered_in = false;   // the host answered the indicator
  bool looked_up = false;     // the host asked a resolver for the indicator domain
  uint64_t bytes_out = 0;     // host -> indicator
  uint64_t bytes_in = 0;
  uint64_t packets_out = 0;
  uint64_t packets_in = 0;
  uint8_t confidence = 0;
  std::string server_name;

  Severity severity() const {
    if (outbound) return answered_out ? shift(base, +1) : base;
    if (inbound && !answered_in) return shift(base, -1);
    return base;
  }
};

IntelDetector::IntelDetector(const IntelDetectorOptions& options)
    : o_(options), cases_(std::make_unique<CaseTable<Case>>(o_.window_ms, o_.max_cases)) {}
IntelDetector::~IntelDetector() = default;

void IntelDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  const bool dns_learn = !flow.dns.empty() && flow.intel.domains().domains() != 0;
  if (flow.src_intel.empty() && flow.dst_intel.empty() && flow.name_intel.empty() &&
      derived_.empty() && !dns_learn) {
    return;
  }
  if (dns_learn) learn_dns(flow);
  hits_.clear();
  match_side(flow, true, hits_);
  match_side(flow, false, hits_);
  if (!flow.name_intel.empty()) {
    const FlowRecord& r = flow.rec;
    const bool dns = is_dns(r);
    // The server: the resolver for DNS, else the responder (a name is sent by the client, so
    // when nobody can tell, the record's destination).
    const bool server_is_src = dns ? r.src_port == 53 : flow.initiator == Initiator::kDst;
    for (uint32_t id : flow.name_intel) {
      const auto& feed = flow.intel.feed_of(id);
      bool seen = std::any_of(hits_.begin(), hits_.end(), [&](const Hit& h) {
        return h.feed == feed.name && h.indicator_is_src == server_is_src;
      });
      if (seen) continue;
      const auto& ind = flow.intel.indicator(id);
      hits_.push_back({dns ? MatchKind::kDnsQuery : MatchKind::kServerName, feed.name,
                       feed.severity, ind.domain, &ind.tags, ind.confidence, server_is_src});
      ++(dns ? n_.dns_hits : n_.name_hits);
    }
  }
  for (const Hit& h : hits_) apply(flow, h, sink);
}

void IntelDetector::match_side(const EnrichedFlow& flow, bool indicator_is_src,
                               std::vector<Hit>& hits) {
  auto seen = [&](std::string_view feed) {
    return std::any_of(hits.begin(), hits.end(), [&](const Hit& h) {
      return h.feed == feed && h.indicator_is_src == indicator_is_src;
    });
  };
  // Ids come most specific first: the first per feed speaks for the feed.
  for (uint32_t id : indicator_is_src ? flow.src_intel : flow.dst_intel) {
    const auto& feed = flow.intel.feed_of(id);
    if (seen(feed.name)) continue;
    const auto& ind = flow.intel.indicator(id);
    hits.push_back({MatchKind::kAddress, feed.name, feed.severity, indicator_value(ind), &ind.tags,
                    ind.confidence, indicator_is_src});
    ++n_.address_hits;
  }
  if (derived_.empty()) return;
  const IpAddr& addr = indicator_is_src ? flow.rec.src : flow.rec.dst;
  auto it = derived_.find(addr);
  if (it == derived_.end() || it->second.expires_ms < flow.rec.start_ms) return;
  if (seen(it->second.feed)) return;
  // Reported as the domain: the lookup and the connections to its addresses are one case.
  hits.push_back({MatchKind::kDnsAnswer, it->second.feed, it->second.base, it->second.domain,
                  &it->second.tags, it->second.confidence, indicator_is_src});
  ++n_.derived_hits;
}

void IntelDetector::learn_dns(const EnrichedFlow& flow) {
  const auto& domains = flow.intel.domains();
  for (const DnsAnswer& a : flow.dns) {
    // The answer's owner (a CNAME target) or the question itself may be the indicator.
    auto ids = domains.lookup(flow.batch.name(a.name));
    if (ids.empty()) ids = flow.name_intel;
    if (ids.empty()) continue;
    const uint32_t id = ids.front();
    const auto& feed = flow.intel.feed_of(id);
    const auto& ind = flow.intel.indicator(id);
    const int64_t ttl_ms = std::clamp(int64_t{a.ttl} * 1000, o_.dns_min_ttl_ms,
                                      std::max(o_.dns_min_ttl_ms, o_.dns_max_ttl_ms));
    const int64_t expires = flow.rec.end_ms + ttl_ms;
    auto it = derived_.find(a.addr);
    if (it != derived_.end()) {
      derived_expiry_.erase({it->second.expires_ms, a.addr});
    } else {
      if (derived_.size() >= o_.max_dns_addresses) {
        // Full: the address that expires first makes room.
        auto first = derived_expiry_.begin();
        derived_.erase(first->second);
        derived_expiry_.erase(first);
        ++n_.derived_evicted;
      }
      it = derived_.emplace(a.addr, Derived{}).first;
      ++n_.derived_learned;
    }
    Derived& d = it->second;
    d.feed = feed.name;
    d.base = feed.severity;
    d.domain = ind.domain;
    d.tags = ind.tags;
    d.confidence = ind.confidence;
    d.expires_ms = std::max(d.expires_ms, expires);
    derived_expiry_.insert({d.expires_ms, a.addr});
  }
}

void IntelDetector::apply(const EnrichedFlow& flow, const Hit& hit, AlertSink& sink) {
  const FlowRecord& r = flow.rec;
  const bool host_is_src = !hit.indicator_is_src;
  const IpAddr& host = host_is_src ? r.src : r.dst;
  // Who initiated, seen from the host; a DNS query is always the host's.
  Initiator init = flow.initiator;
  if (hit.kind == MatchKind::kDnsQuery) init = r.src_port == 53 ? Initiator::kDst : Initiator::kSrc;
  const bool known = init != Initiator::kUnknown;
  const bool host_initiated = known && (init == Initiator::kSrc) == host_is_src;
  const bool from_initiator = init == Initiator::kSrc;
  const bool answered = responder_answered(r, init);

  std::string key = fmt::format("{}\n{}\n", hit.feed, hit.value);
  key.append(reinterpret_cast<const char*>(host.b.data()), host.b.size());
  bool fresh = false;
  Case& c = cases_->get(key, r.start_ms, fresh, [&](Case& old) { finish(old, sink); });
  Alert& a = c.alert;
  if (fresh) {
    c.host = host;
    c.kind = hit.kind;
    c.base = hit.base;
    c.confidence = hit.confidence;
    c.host_internal = host_is_src ? flow.src_internal : flow.dst_internal;
    a.detector = "intel";
    a.first_seen_ms = r.start_ms;
    a.last_seen_ms = r.end_ms;
    a.id = make_alert_id("intel", key, r.start_ms);
    a.indicator = AlertIndicator{std::string(hit.feed), hit.value,
                                 hit.tags != nullptr ? *hit.tags : std::vector<std::string>{}};
  }
  const bool lookup = hit.kind == MatchKind::kDnsQuery;
  if (a.count == 0 || (c.kind == MatchKind::kDnsQuery && !lookup)) {
    // The conversation the alert names: initiator -> responder (the record's own orientation
    // when nobody can tell); a contact replaces a lookup.
    const bool src_first = known ? from_initiator : true;
    a.src = src_first ? r.src : r.dst;
    a.dst = src_first ? r.dst : r.src;
    a.dst_port = src_first ? r.dst_port : r.src_port;
    a.proto = r.proto;
    c.kind = hit.kind;
  }
  a.count += 1;
  a.first_seen_ms = std::min(a.first_seen_ms, r.start_ms);
  a.last_seen_ms = std::max(a.last_seen_ms, r.end_ms);
  if (lookup) {
    c.looked_up = true;  // the resolver answering says nothing about the indicator
  } else if (known) {
    (host_initiated ? c.outbound : c.inbound) = true;
    if (answered) (host_initiated ? c.answered_out : c.answered_in) = true;
  }
  (host_is_src ? c.bytes_out : c.bytes_in) += r.bytes;
  (host_is_src ? c.packets_out : c.packets_in) += r.packets;
  if (c.server_name.empty() && !flow.server_name.empty()) c.server_name = flow.server_name;
  if (c.raised_count == 0 || c.severity() > c.raised_severity) raise(c, sink);
}

void IntelDetector::raise(Case& c, AlertSink& sink) {
  Alert& a = c.alert;
  a.ts_ms = a.last_seen_ms;
  a.severity = c.severity();
  const char* direction = c.outbound && c.inbound     ? "both"
                          : c.outbound || c.looked_up ? "outbound"
                          : c.inbound                 ? "inbound"
                                                      : "unknown";
  const bool answered = c.answered_out || c.answered_in;
  const IpAddr& host = c.host;
  const IpAddr& peer = a.src == host ? a.dst : a.src;
  const std::string where =
      fmt::format("{}:{}/{}", a.dst.to_string(), a.dst_port, proto_text(a.proto));
  const std::string listed =
      fmt::format("listed by {} as {}", a.indicator->feed, a.indicator->value);
  const char* verb = c.answered_out ? "exchanged traffic with" : "tried to reach";
  switch (c.kind) {
    case MatchKind::kDnsQuery:
      a.summary = fmt::format("{} looked up {}, {}", host.to_string(),
                              c.server_name.empty() ? a.indicator->value : c.server_name, listed);
      break;
    case MatchKind::kServerName:
      a.summary =
          fmt::format("{} {} {} at {}, {}", host.to_string(), verb, c.server_name, where, listed);
      break;
    case MatchKind::kDnsAnswer:
      a.summary = fmt::format("{} {} {}, an address DNS gave for {}, listed by {}",
                              host.to_string(), verb, where, a.indicator->value, a.indicator->feed);
      break;
    case MatchKind::kAddress:
      if (c.outbound) {
        a.summary = fmt::format("{} {} {}, {}", host.to_string(), verb, where, listed);
      } else if (c.inbound) {
        a.summary = fmt::format("{} {} {} on {}/{}, {}", host.to_string(),
                                c.answered_in ? "answered" : "was contacted by", peer.to_string(),
                                a.dst_port, proto_text(a.proto), listed);
      } else {
        a.summary =
            fmt::format("{} talked with {}, {}", host.to_string(), peer.to_string(), listed);
      }
      break;
  }
  a.evidence.clear();
  a.evidence.emplace_back("match", std::string(match_name(c.kind)));
  a.evidence.emplace_back("direction", std::string(direction));
  a.evidence.emplace_back("answered", int64_t{answered});
  a.evidence.emplace_back("host", host.to_string());
  a.evidence.emplace_back("host_internal", int64_t{c.host_internal});
  a.evidence.emplace_back("bytes_out", static_cast<int64_t>(c.bytes_out));
  a.evidence.emplace_back("bytes_in", static_cast<int64_t>(c.bytes_in));
  a.evidence.emplace_back("packets_out", static_cast<int64_t>(c.packets_out));
  a.evidence.emplace_back("packets_in", static_cast<int64_t>(c.packets_in));
  if (!c.server_name.empty()) a.evidence.emplace_back("server_name", c.server_name);
  if (c.confidence != 0) a.evidence.emplace_back("confidence", int64_t{c.confidence});
  c.raised_count = a.count;
  c.raised_severity = a.severity;
  ++n_.alerts;
  sink.emit(a);
}

void IntelDetector::finish(Case& c, AlertSink& sink) {
  if (c.alert.count != c.raised_count) raise(c, sink);
}

void IntelDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  cases_->close_until(watermark_ms, [&](Case& c) { finish(c, sink); });
  while (!derived_expiry_.empty() && derived_expiry_.begin()->first <= watermark_ms) {
    derived_.erase(derived_expiry_.begin()->second);
    derived_expiry_.erase(derived_expiry_.begin());
  }
}

DetectorStats IntelDetector::stats() const {
  DetectorStats s;
  s.alerts = n_.alerts;
  s.state_entries = cases_->size() + derived_.size();
  // Node, key and alert strings: a rough per-entry cost, enough to watch growth.
  s.state_bytes = cases_->size() * (sizeof(Case) + 160) + derived_.size() * (sizeof(Derived) + 96);
  s.evicted = cases_->evicted() + n_.derived_evicted;
  s.counters = {{"address_hits", n_.address_hits},
                {"name_hits", n_.name_hits},
                {"dns_query_hits", n_.dns_hits},
                {"dns_answer_hits", n_.derived_hits},
                {"dns_addresses_learned", n_.derived_learned},
                {"cases_evicted", cases_->evicted()},
                {"dns_addresses_evicted", n_.derived_evicted}};
  return s;
}

}  // namespace orbwatch::detect
