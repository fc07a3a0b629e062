#include "detect/retro_hunt.h"

#include <algorithm>
#include <tuple>

#include <fmt/core.h>

#include "core/proto.h"
#include "core/time.h"
#include "detect/flow_role.h"

namespace orbwatch::detect {

namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

bool is_dns(const FlowRecord& r) {
  return (r.proto == kUdp || r.proto == kTcp) && (r.src_port == 53 || r.dst_port == 53);
}

Severity shift(Severity s, int by) {
  int v = std::clamp(static_cast<int>(s) + by, 0, static_cast<int>(Severity::kCritical));
  return static_cast<Severity>(v);
}

// The earliest flow of a row decides its peer, service and name; ties are broken by the values
// themselves so that the order in which workers saw the flows does not matter.
auto first_flow_key(const HuntRow& r) {
  return std::tie(r.first_ms, r.peer, r.port, r.proto, r.host_was_src);
}

void add_peer(std::vector<IpAddr>& peers, const IpAddr& a) {
  auto it = std::lower_bound(peers.begin(), peers.end(), a);
  if (it != peers.end() && *it == a) return;
  if (peers.size() >= HuntRow::kMaxPeers) return;
  peers.insert(it, a);
}

// The name of the earliest flow that carried one (ties: the smaller name).
void take_name(HuntRow& row, int64_t ms, std::string_view name) {
  if (row.server_name.empty() || ms < row.server_name_ms ||
      (ms == row.server_name_ms && name < row.server_name)) {
    row.server_name = name;
    row.server_name_ms = ms;
  }
}

}  // namespace

const char* hunt_direction_name(HuntDirection d) {
  switch (d) {
    case HuntDirection::kOutbound:
      return "outbound";
    case HuntDirection::kInbound:
      return "inbound";
    case HuntDirection::kUnknown:
      return "unknown";
  }
  return "unknown";
}

const char* hunt_match_name(uint8_t matches) {
  if (matches & hunt_match::kAddress) return "address";
  if (matches & hunt_match::kServerName) return "server_name";
  return "dns_query";
}

std::string indicator_text(const intel::Indicator& ind) {
  if (ind.kind == intel::IndicatorKind::kDomain) return ind.domain;
  return ind.prefix.len == 128 ? ind.prefix.addr.to_string() : ind.prefix.to_string();
}

size_t RetroHunt::KeyHash::operator()(const Key& k) const noexcept {
  return IpAddrHash{}(k.host) ^ (static_cast<size_t>(k.indicator) * 0x9E3779B97F4A7C15ull) ^
         (static_cast<size_t>(k.direction) << 7);
}

RetroHunt::RetroHunt(std::shared_ptr<const intel::IntelSet> intel,
                     std::shared_ptr<const netmodel::ModelIndex> model, HuntOptions options)
    : intel_(std::move(intel)), model_(std::move(model)), o_(options) {}

void RetroHunt::add(const FlowBatch& b) {
  const size_t n = b.size();
  if (n == 0 || intel_->size() == 0) return;
  addrs_.resize(2 * n);
  for (size_t i = 0; i < n; ++i) {
    addrs_[i] = b.records[i].src;
    addrs_[n + i] = b.records[i].dst;
  }
  sets_.resize(2 * n);
  intel_->prefixes().lookup_batch(addrs_.data(), 2 * n, sets_.data());
  // Names are interned per block: each is looked up once.
  const bool names = o_.match_domains && intel_->domains().domains() != 0 && !b.names.empty();
  name_ids_.clear();
  if (names) {
    name_ids_.reserve(b.names.size());
    for (const auto& name : b.names) name_ids_.push_back(intel_->domains().lookup(name));
  }
  const auto& prefixes = intel_->prefixes();
  for (size_t i = 0; i < n; ++i) {
    const FlowRecord& r = b.records[i];
    const auto src_ids = prefixes.set(sets_[i]);
    const auto dst_ids = prefixes.set(sets_[n + i]);
    std::span<const uint32_t> name_ids;
    if (names && r.name_ref != 0 && r.name_ref <= name_ids_.size()) {
      name_ids = name_ids_[r.name_ref - 1];
    }
    if (src_ids.empty() && dst_ids.empty() && name_ids.empty()) continue;
    match_record(b, r, src_ids, dst_ids, name_ids);
  }
}

void RetroHunt::match_record(const FlowBatch& b, const FlowRecord& r,
                             std::span<const uint32_t> src_ids, std::span<const uint32_t> dst_ids,
                             std::span<const uint32_t> name_ids) {
  if (!src_ids.empty() && !dst_ids.empty()) {
    // Both ends listed (an internal range in a bogon list, two indicators talking): an
    // internal end facing an external one is the host, not an indicator.
    const bool src_internal = model_->place(r.src).internal;
    const bool dst_internal = model_->place(r.dst).internal;
    if (src_internal && !dst_internal) src_ids = {};
    if (dst_internal && !src_internal) dst_ids = {};
  }
  hits_.clear();
  auto seen = [&](std::string_view feed, bool indicator_is_src) {
    return std::any_of(hits_.begin(), hits_.end(), [&](const Hit& h) {
      return h.indicator_is_src == indicator_is_src && intel_->feed_of(h.id).name == feed;
    });
  };
  for (const bool is_src : {true, false}) {
    // Ids come most specific first: the first per feed speaks for the feed.
    for (uint32_t id : is_src ? src_ids : dst_ids) {
      if (seen(intel_->feed_of(id).name, is_src)) continue;
      hits_.push_back({id, hunt_match::kAddress, is_src});
    }
  }
  if (!name_ids.empty()) {
    const bool dns = is_dns(r);
    // The server: the resolver for DNS, else the responder (a client sends the name, so when
    // nobody can tell, the record's destination).
    const bool server_is_src = dns ? r.src_port == 53 : guess_initiator(r) == Initiator::kDst;
    for (uint32_t id : name_ids) {
      if (seen(intel_->feed_of(id).name, server_is_src)) continue;
      hits_.push_back({id, dns ? hunt_match::kDnsQuery : hunt_match::kServerName, server_is_src});
    }
  }
  if (hits_.empty()) return;
  ++flows_matched_;
  for (const Hit& h : hits_) apply(b, r, h);
}

HuntRow* RetroHunt::row_for(const Key& key) {
  auto it = rows_.find(key);
  if (it != rows_.end()) return &it->second;
  if (rows_.size() >= o_.max_rows) return nullptr;
  HuntRow& row = rows_[key];
  row.host = key.host;
  row.indicator = key.indicator;
  row.direction = key.direction;
  row.host_internal = model_->place(key.host).internal;
  row.first_ms = INT64_MAX;
  row.last_ms = INT64_MIN;
  return &row;
}

void RetroHunt::apply(const FlowBatch& b, const FlowRecord& r, const Hit& hit) {
  const bool host_is_src = !hit.indicator_is_src;
  const IpAddr& host = host_is_src ? r.src : r.dst;
  const IpAddr& peer = host_is_src ? r.dst : r.src;
  Initiator init = guess_initiator(r);
  if (hit.match == hunt_match::kDnsQuery) {
    init = r.src_port == 53 ? Initiator::kDst : Initiator::kSrc;
  }
  const bool known = init != Initiator::kUnknown;
  const HuntDirection dir = !known                                     ? HuntDirection::kUnknown
                            : (init == Initiator::kSrc) == host_is_src ? HuntDirection::kOutbound
                                                                       : HuntDirection::kInbound;
  HuntRow* row = row_for({host, hit.id, dir});
  if (row == nullptr) {
    ++flows_not_kept_;
    return;
  }
  row->flows += 1;
  row->packets += r.packets;
  row->bytes += r.bytes;
  (host_is_src ? row->packets_out : row->packets_in) += r.packets;
  (host_is_src ? row->bytes_out : row->bytes_in) += r.bytes;
  row->matches |= hit.match;
  if (hit.match != hunt_match::kDnsQuery && responder_answered(r, init)) row->answered = true;
  row->last_ms = std::max(row->last_ms, r.end_ms);
  add_peer(row->peers, peer);
  // The responder's port: the service the conversation was about.
  const uint16_t port = known && init == Initiator::kDst ? r.src_port : r.dst_port;
  const auto candidate = std::make_tuple(r.start_ms, peer, port, r.proto, host_is_src);
  if (row->flows == 1 || candidate < first_flow_key(*row)) {
    row->first_ms = r.start_ms;
    row->peer = peer;
    row->port = port;
    row->proto = r.proto;
    row->host_was_src = host_is_src;
  }
  const std::string_view name = b.name(r.name_ref);
  if (!name.empty()) take_name(*row, r.start_ms, name);
}

void RetroHunt::merge(const RetroHunt& other) {
  flows_matched_ += other.flows_matched_;
  flows_not_kept_ += other.flows_not_kept_;
  for (const auto& [key, o] : other.rows_) {
    auto it = rows_.find(key);
    if (it == rows_.end()) {
      if (rows_.size() >= o_.max_rows) {
        flows_not_kept_ += o.flows;
        continue;
      }
      rows_.emplace(key, o);
      continue;
    }
    HuntRow& row = it->second;
    const bool earlier = first_flow_key(o) < first_flow_key(row);
    row.flows += o.flows;
    row.packets += o.packets;
    row.bytes += o.bytes;
    row.packets_out += o.packets_out;
    row.bytes_out += o.bytes_out;
    row.packets_in += o.packets_in;
    row.bytes_in += o.bytes_in;
    row.matches |= o.matches;
    row.answered = row.answered || o.answered;
    row.last_ms = std::max(row.last_ms, o.last_ms);
    for (const auto& p : o.peers) add_peer(row.peers, p);
    if (earlier) {
      row.first_ms = o.first_ms;
      row.peer = o.peer;
      row.port = o.port;
      row.proto = o.proto;
      row.host_was_src = o.host_was_src;
    }
    if (!o.server_name.empty()) take_name(row, o.server_name_ms, o.server_name);
  }
}

std::vector<HuntRow> RetroHunt::rows(HuntOrder order) const {
  std::vector<HuntRow> out;
  out.reserve(rows_.size());
  for (const auto& [key, row] : rows_) out.push_back(row);
  const intel::IntelSet& set = *intel_;
  auto rank = [&](const HuntRow& r) -> uint64_t {
    switch (order) {
      case HuntOrder::kBytes:
        return r.bytes;
      case HuntOrder::kFlows:
        return r.flows;
      case HuntOrder::kFirstSeen:
        break;
    }
    return 0;
  };
  std::sort(out.begin(), out.end(), [&](const HuntRow& a, const HuntRow& b) {
    if (rank(a) != rank(b)) return rank(a) > rank(b);
    if (a.first_ms != b.first_ms) return a.first_ms < b.first_ms;
    if (a.host != b.host) return a.host < b.host;
    const auto& fa = set.feed_of(a.indicator).name;
    const auto& fb = set.feed_of(b.indicator).name;
    if (fa != fb) return fa < fb;
    if (a.indicator != b.indicator) return a.indicator < b.indicator;
    return a.direction < b.direction;
  });
  return out;
}

Alert make_hunt_alert(const HuntRow& row, const intel::IntelSet& intel) {
  const auto& feed = intel.feed_of(row.indicator);
  const auto& ind = intel.indicator(row.indicator);
  const std::string value = indicator_text(ind);
  const bool lookup_only = row.matches == hunt_match::kDnsQuery;
  Alert a;
  a.detector = "intel";
  a.retro = true;
  Severity s = feed.severity;
  if (!lookup_only && row.direction == HuntDirection::kOutbound && row.answered) {
    s = shift(s, +1);
  } else if (row.direction == HuntDirection::kInbound && !row.answered) {
    s = shift(s, -1);
  }
  a.severity = s;
  const bool host_first = row.direction == HuntDirection::kOutbound ||
                          (row.direction == HuntDirection::kUnknown && row.host_was_src);
  a.src = host_first ? row.host : row.peer;
  a.dst = host_first ? row.peer : row.host;
  a.dst_port = row.port;
  a.proto = row.proto;
  a.indicator = AlertIndicator{feed.name, value, ind.tags};
  std::string key =
      fmt::format("retro\n{}\n{}\n{}\n", feed.name, value, hunt_direction_name(row.direction));
  key.append(reinterpret_cast<const char*>(row.host.b.data()), row.host.b.size());
  a.id = make_alert_id("intel", key, 0);
  a.first_seen_ms = row.first_ms;
  a.last_seen_ms = row.last_ms;
  a.ts_ms = row.last_ms;
  a.count = row.flows;

  const std::string host = row.host.to_string();
  const std::string where =
      fmt::format("{}:{}/{}", a.dst.to_string(), a.dst_port, proto_text(a.proto));
  const std::string listed = fmt::format("listed by {} as {}", feed.name, value);
  const char* verb = row.answered ? "exchanged traffic with" : "tried to reach";
  const std::string seen = fmt::format("(retro-hunt: {} flows, {} .. {})", row.flows,
                                       rfc3339_ms(row.first_ms), rfc3339_ms(row.last_ms));
  if (lookup_only) {
    a.summary = fmt::format("{} looked up {}, {} {}", host,
                            row.server_name.empty() ? value : row.server_name, listed, seen);
  } else if (!(row.matches & hunt_match::kAddress)) {
    a.summary =
        fmt::format("{} {} {} at {}, {} {}", host, verb, row.server_name, where, listed, seen);
  } else if (row.direction == HuntDirection::kOutbound) {
    a.summary = fmt::format("{} {} {}, {} {}", host, verb, where, listed, seen);
  } else if (row.direction == HuntDirection::kInbound) {
    a.summary = fmt::format("{} {} {} on {}/{}, {} {}", host,
                            row.answered ? "answered" : "was contacted by", row.peer.to_string(),
                            a.dst_port, proto_text(a.proto), listed, seen);
  } else {
    a.summary = fmt::format("{} talked with {}, {} {}", host, row.peer.to_string(), listed, seen);
  }
  a.evidence.emplace_back("match", std::string(hunt_match_name(row.matches)));
  a.evidence.emplace_back("direction", std::string(hunt_direction_name(row.direction)));
  a.evidence.emplace_back("answered", int64_t{row.answered});
  a.evidence.emplace_back("host", host);
  a.evidence.emplace_back("host_internal", int64_t{row.host_internal});
  a.evidence.emplace_back("peer", row.peer.to_string());
  a.evidence.emplace_back("peers", static_cast<int64_t>(row.peers.size()));
  a.evidence.emplace_back("flows", static_cast<int64_t>(row.flows));
  a.evidence.emplace_back("packets", static_cast<int64_t>(row.packets));
  a.evidence.emplace_back("bytes", static_cast<int64_t>(row.bytes));
  a.evidence.emplace_back("bytes_out", static_cast<int64_t>(row.bytes_out));
  a.evidence.emplace_back("bytes_in", static_cast<int64_t>(row.bytes_in));
  a.evidence.emplace_back("packets_out", static_cast<int64_t>(row.packets_out));
  a.evidence.emplace_back("packets_in", static_cast<int64_t>(row.packets_in));
  if (!row.server_name.empty()) a.evidence.emplace_back("server_name", row.server_name);
  if (ind.confidence != 0) a.evidence.emplace_back("confidence", int64_t{ind.confidence});
  return a;
}

}  // namespace orbwatch::detect
