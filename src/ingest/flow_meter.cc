#include "ingest/flow_meter.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <span>

#include "ingest/app_names.h"

namespace orbwatch::ingest {
namespace {

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpRst = 0x04;
constexpr int64_t kTickMs = 1000;          // expiry scan at most once per second of capture time
constexpr uint64_t kNameScanPackets = 32;  // TCP packets per flow tried for SNI / HTTP Host

inline uint64_t mix(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

}  // namespace

const char* expiry_reason_name(ExpiryReason r) {
  switch (r) {
    case ExpiryReason::kInactive:
      return "inactive";
    case ExpiryReason::kActive:
      return "active";
    case ExpiryReason::kTcpEnd:
      return "tcp_end";
    case ExpiryReason::kEmergency:
      return "emergency";
    case ExpiryReason::kFlush:
      return "flush";
    case ExpiryReason::kCount:
      break;
  }
  return "?";
}

uint64_t FlowMeterStats::expired_total() const {
  uint64_t n = 0;
  for (uint64_t v : expired) n += v;
  return n;
}

void FlowMeterStats::merge(const FlowMeterStats& o) {
  packets += o.packets;
  bytes += o.bytes;
  non_ip += o.non_ip;
  malformed += o.malformed;
  truncated += o.truncated;
  flows_created += o.flows_created;
  for (size_t i = 0; i < expired.size(); ++i) expired[i] += o.expired[i];
  fragments += o.fragments;
  fragments_unmatched += o.fragments_unmatched;
  names += o.names;
  dns_answers += o.dns_answers;
  names_dropped += o.names_dropped;
  active_flows += o.active_flows;
}

FlowMeter::FlowMeter(FlowMeterConfig config) : config_(config) {
  if (config_.max_flows == 0) config_.max_flows = 1;
  config_.fragment_slots = std::bit_ceil(std::max<uint32_t>(config_.fragment_slots, 1));
  frags_.resize(config_.fragment_slots);
}

uint32_t FlowMeter::hash_key(const Key& k) {
  uint64_t w[5];
  uint32_t tail;
  std::memcpy(w, &k, sizeof(w));
  std::memcpy(&tail, reinterpret_cast<const uint8_t*>(&k) + sizeof(w), sizeof(tail));
  uint64_t h = 0x243F6A8885A308D3ull;
  for (uint64_t v : w) h = mix(h, v);
  h = mix(h, tail);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

void FlowMeter::process(PacketStatus status, const PacketInfo& pkt, int64_t ts_ms, FlowBatch& out) {
  switch (status) {
    case PacketStatus::kOk:
      break;
    case PacketStatus::kNotIp:
      ++stats_.non_ip;
      return;
    case PacketStatus::kTruncated:
      ++stats_.truncated;
      return;
    case PacketStatus::kMalformed:
      ++stats_.malformed;
      return;
  }
  ++stats_.packets;
  stats_.bytes += pkt.ip_len;
  if (ts_ms > now_ms_) now_ms_ = ts_ms;
  if (now_ms_ >= next_tick_ms_) advance(now_ms_, out);

  Key key{};
  key.src = pkt.src;
  key.dst = pkt.dst;
  key.in_if = config_.in_if;
  key.src_port = pkt.src_port;
  key.dst_port = pkt.dst_port;
  key.vlan = pkt.vlan;
  key.proto = pkt.proto;
  if (pkt.is_fragment) resolve_fragment(pkt, ts_ms, key);

  uint32_t idx = find_or_create(key, hash_key(key), ts_ms, out);
  Flow& f = flows_[idx];
  if (f.packets == 0) f.tos = pkt.tos;  // ToS of the first packet, as exporters report it
  ++f.packets;
  f.bytes += pkt.ip_len;
  f.tcp_flags |= pkt.tcp_flags;
  f.first_ms = std::min(f.first_ms, ts_ms);
  f.last_ms = std::max(f.last_ms, ts_ms);
  if (lru_.tail != idx) {
    unlink(lru_, &Flow::lru, idx);
    push_back(lru_, &Flow::lru, idx);
  }
  if (config_.extract_names && pkt.payload_len != 0 && pkt.payload != nullptr) {
    attach_names(idx, pkt);
  }
  if (config_.tcp_end_expiry && pkt.proto == 6 && (pkt.tcp_flags & (kTcpFin | kTcpRst))) {
    expire(idx, ExpiryReason::kTcpEnd, out);
  }
}

void FlowMeter::resolve_fragment(const PacketInfo& pkt, int64_t ts_ms, Key& key) {
  ++stats_.fragments;
  // Ports differ between first and later fragments: hash addresses, proto and id alone.
  Key addr_only{};
  addr_only.src = pkt.src;
  addr_only.dst = pkt.dst;
  uint64_t h = mix(mix(0x13198A2E03707344ull, pkt.frag_id | (uint64_t{pkt.proto} << 32)),
                   hash_key(addr_only));
  FragSlot& s = frags_[h & (frags_.size() - 1)];
  if (pkt.first_fragment) {
    if (pkt.l4_valid)
      s = {pkt.src, pkt.dst, pkt.frag_id, pkt.proto, true, key.src_port, key.dst_port, ts_ms};
    return;
  }
  if (s.used && s.id == pkt.frag_id && s.proto == pkt.proto && s.src == pkt.src &&
      s.dst == pkt.dst && ts_ms - s.ts_ms <= config_.fragment_timeout_ms) {
    key.src_port = s.src_port;
    key.dst_port = s.dst_port;
    return;
  }
  ++stats_.fragments_unmatched;
  key.src_port = 0;
  key.dst_port = 0;
}

uint32_t FlowMeter::find_or_create(const Key& k, uint32_t h, int64_t ts_ms, FlowBatch& out) {
  if (index_.empty()) grow_index();
  for (uint32_t pos = h & index_mask_; index_[pos] != kNil; pos = (pos + 1) & index_mask_) {
    uint32_t fi = index_[pos];
    Flow& f = flows_[fi];
    if (f.hash != h || std::memcmp(&f.key, &k, sizeof(Key)) != 0) continue;
    // Between expiry scans a flow may already be past a timeout: end it here so the packet
    // starts a new flow exactly as if the scan had run.
    if (ts_ms - f.last_ms >= config_.inactive_timeout_ms) {
      expire(fi, ExpiryReason::kInactive, out);
    } else if (ts_ms - f.first_ms >= config_.active_timeout_ms) {
      expire(fi, ExpiryReason::kActive, out);
    } else {
      return fi;
    }
    break;
  }
  if (active_ >= config_.max_flows) expire(lru_.head, ExpiryReason::kEmergency, out);
  if ((active_ + 1) * 2 > index_.size()) grow_index();

  uint32_t idx;
  if (!free_flows_.empty()) {
    idx = free_flows_.back();
    free_flows_.pop_back();
  } else {
    idx = static_cast<uint32_t>(flows_.size());
    flows_.emplace_back();
  }
  Flow& f = flows_[idx];
  f = Flow{};
  f.key = k;
  f.hash = h;
  f.first_ms = ts_ms;
  f.last_ms = ts_ms;
  f.live = true;
  uint32_t pos = h & index_mask_;
  while (index_[pos] != kNil) pos = (pos + 1) & index_mask_;
  index_[pos] = idx;
  push_back(lru_, &Flow::lru, idx);
  push_back(age_, &Flow::age, idx);
  ++active_;
  ++stats_.flows_created;
  stats_.active_flows = active_;
  return idx;
}

void FlowMeter::grow_index() {
  size_t size = std::max<size_t>(1024, index_.size() * 2);
  index_.assign(size, kNil);
  index_mask_ = static_cast<uint32_t>(size - 1);
  for (uint32_t i = 0; i < flows_.size(); ++i) {
    if (!flows_[i].live) continue;
    uint32_t pos = flows_[i].hash & index_mask_;
    while (index_[pos] != kNil) pos = (pos + 1) & index_mask_;
    index_[pos] = i;
  }
}

void FlowMeter::index_erase(uint32_t idx) {
  uint32_t i = flows_[idx].hash & index_mask_;
  while (index_[i] != idx) i = (i + 1) & index_mask_;
  // Backward-shift deletion keeps linear probing chains intact without tombstones.
  for (uint32_t j = i;;) {
    j = (j + 1) & index_mask_;
    if (index_[j] == kNil) break;
    uint32_t home = flows_[index_[j]].hash & index_mask_;
    bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (between) continue;
    index_[i] = index_[j];
    i = j;
  }
  index_[i] = kNil;
}

void FlowMeter::unlink(List& list, Link Flow::*link, uint32_t idx) {
  Link& l = flows_[idx].*link;
  (l.prev == kNil ? list.head : (flows_[l.prev].*link).next) = l.next;
  (l.next == kNil ? list.tail : (flows_[l.next].*link).prev) = l.prev;
  l.prev = l.next = kNil;
}

void FlowMeter::push_back(List& list, Link Flow::*link, uint32_t idx) {
  Link& l = flows_[idx].*link;
  l.prev = list.tail;
  l.next = kNil;
  (list.tail == kNil ? list.head : (flows_[list.tail].*link).next) = idx;
  list.tail = idx;
}

void FlowMeter::emit(const Flow& f, FlowBatch& out) {
  auto rec = static_cast<uint32_t>(out.records.size());
  FlowRecord& r = out.add();
  r.start_ms = f.first_ms;
  r.end_ms = f.last_ms;
  r.src = f.key.src;
  r.dst = f.key.dst;
  r.exporter = config_.exporter;
  r.bytes = f.bytes;
  r.packets = f.packets;
  r.obs_domain = config_.obs_domain;
  r.in_if = f.key.in_if;
  r.src_port = f.key.src_port;
  r.dst_port = f.key.dst_port;
  r.proto = f.key.proto;
  r.tcp_flags = f.tcp_flags;
  r.source = FlowSource::kMeter;
  r.vlan = f.key.vlan;
  r.tos = f.tos;
  if (f.extra == 0) return;
  const Extra& e = extras_[f.extra - 1];
  if (!e.server_name.empty()) out.records[rec].name_ref = out.add_name(e.server_name);
  for (const PendingAnswer& a : e.answers) {
    out.dns.push_back({rec, out.add_name(a.name), a.addr, a.ttl});
  }
}

void FlowMeter::expire(uint32_t idx, ExpiryReason reason, FlowBatch& out) {
  Flow& f = flows_[idx];
  emit(f, out);
  ++stats_.expired[static_cast<size_t>(reason)];
  index_erase(idx);
  unlink(lru_, &Flow::lru, idx);
  unlink(age_, &Flow::age, idx);
  if (f.extra != 0) {
    Extra& e = extras_[f.extra - 1];
    e.server_name.clear();
    e.answers.clear();
    free_extras_.push_back(f.extra - 1);
    --extras_used_;
  }
  f.live = false;
  f.extra = 0;
  free_flows_.push_back(idx);
  --active_;
  stats_.active_flows = active_;
}

void FlowMeter::advance(int64_t now_ms, FlowBatch& out) {
  now_ms_ = std::max(now_ms_, now_ms);
  next_tick_ms_ = now_ms_ + kTickMs;
  while (lru_.head != kNil && now_ms_ - flows_[lru_.head].last_ms >= config_.inactive_timeout_ms) {
    expire(lru_.head, ExpiryReason::kInactive, out);
  }
  while (age_.head != kNil && now_ms_ - flows_[age_.head].first_ms >= config_.active_timeout_ms) {
    expire(age_.head, ExpiryReason::kActive, out);
  }
}

void FlowMeter::flush(FlowBatch& out) {
  while (age_.head != kNil) expire(age_.head, ExpiryReason::kFlush, out);
}

FlowMeter::Extra* FlowMeter::extra_for(uint32_t idx) {
  Flow& f = flows_[idx];
  if (f.extra != 0) return &extras_[f.extra - 1];
  if (extras_used_ >= config_.max_named_flows) return nullptr;
  uint32_t e;
  if (!free_extras_.empty()) {
    e = free_extras_.back();
    free_extras_.pop_back();
  } else {
    e = static_cast<uint32_t>(extras_.size());
    extras_.emplace_back();
  }
  ++extras_used_;
  f.extra = e + 1;
  return &extras_[e];
}

void FlowMeter::attach_names(uint32_t idx, const PacketInfo& pkt) {
  const Flow& f = flows_[idx];
  bool named = f.extra != 0 && !extras_[f.extra - 1].server_name.empty();
  std::span<const uint8_t> payload(pkt.payload, pkt.payload_len);
  bool dns = (pkt.proto == 17 || pkt.proto == 6) && (pkt.src_port == 53 || pkt.dst_port == 53);
  if (dns) {
    if (named && extras_[f.extra - 1].answers.size() >= config_.max_dns_answers) return;
    std::optional<DnsInfo> info = parse_dns(payload, pkt.proto == 6);
    if (!info) return;
    if (!info->has_query && info->answer_count == 0) return;
    Extra* e = extra_for(idx);
    if (e == nullptr) {
      ++stats_.names_dropped;
      return;
    }
    if (!named && info->has_query) {
      e->server_name.assign(info->query.view());
      ++stats_.names;
    }
    for (uint8_t i = 0; i < info->answer_count; ++i) {
      if (e->answers.size() >= config_.max_dns_answers) {
        ++stats_.names_dropped;
        break;
      }
      const DnsAnswerName& a = info->answers[i];
      e->answers.push_back({std::string(a.name.view()), a.addr, a.ttl});
      ++stats_.dns_answers;
    }
    return;
  }
  // A ClientHello or request comes in the first packets; later ones are bulk data.
  if (named || pkt.proto != 6 || f.packets > kNameScanPackets) return;
  // Cheap first-byte tests keep the parsers off bulk data packets.
  std::optional<HostName> name;
  uint8_t first = pkt.payload[0];
  if (first == 0x16) {
    name = tls_client_hello_sni(payload);
  } else if (first >= 'A' && first <= 'Z') {
    name = http_request_host(payload);
  }
  if (!name) return;
  Extra* e = extra_for(idx);
  if (e == nullptr) {
    ++stats_.names_dropped;
    return;
  }
  e->server_name.assign(name->view());
  ++stats_.names;
}

}  // namespace orbwatch::ingest
