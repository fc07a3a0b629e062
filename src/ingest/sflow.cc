// sFlow v5 decoding. Section numbers refer to "sFlow Version 5" (sflow.org, July 2004); the
// discard sample is from the drops extension (sflow.org/sflow_drops.txt).
//
// Layout: datagram header, then `num_samples` x {data_format, length, opaque}; each flow or
// counter sample holds `num_records` x {data_format, length, opaque}. Everything is XDR:
// big-endian 32-bit words, opaque data padded to 4 bytes. Every length is checked against the
// bytes that remain in its enclosing structure before it is used, and every skip is bounded by
// it, so a hostile length can only end the enclosing structure early.
//
// Bytes of a sampled header: frame_length - stripped, times the sampling rate. frame_length
// counts the frame as received including the 4-byte Ethernet FCS (5.1 sampled_header); agents
// report that FCS (and any other removed encapsulation) in `stripped`, so the difference is the
// frame as a packet capture of it would count it. tshark shows both raw fields; sflowtool reports
// frame_length unchanged; akvorado reports the IP total length instead (L3 bytes, as NetFlow).
#include "ingest/sflow.h"

#include <algorithm>

#include "core/byte_reader.h"
#include "ingest/packet.h"

namespace orbwatch::ingest {
namespace {

// Sample formats (enterprise 0), 5 and the drops extension.
constexpr uint32_t kFlowSample = 1;
constexpr uint32_t kCounterSample = 2;
constexpr uint32_t kFlowSampleExpanded = 3;
constexpr uint32_t kCounterSampleExpanded = 4;
constexpr uint32_t kDiscardSample = 5;

// Flow record formats (enterprise 0), 5.1 and 5.3.
constexpr uint32_t kRecSampledHeader = 1;
constexpr uint32_t kRecSampledIpv4 = 3;
constexpr uint32_t kRecSampledIpv6 = 4;
constexpr uint32_t kRecExtSwitch = 1001;
constexpr uint32_t kRecExtRouter = 1002;
constexpr uint32_t kRecExtGateway = 1003;

constexpr uint32_t kCounterGeneric = 1;  // 5.2 if_counters
constexpr size_t kGenericCountersLen = 88;

// Interface encoding (5.1 "interface"): value 0x3FFFFFFF means the agent itself.
constexpr uint32_t kIfLocal = 0x3fffffff;

constexpr size_t pad4(size_t n) {
  return (n + 3) & ~size_t{3};
}

// Reads an `address` union (5.1): type 1 = IPv4, 2 = IPv6, 0 = unknown (no bytes).
bool read_address(ByteReader& r, IpAddr& a, bool& known_type) {
  uint32_t type;
  if (!r.u32(type)) return false;
  const uint8_t* p;
  known_type = true;
  switch (type) {
    case 0:
      a = IpAddr{};
      return true;
    case 1:
      if (!r.bytes(4, p)) return false;
      a = IpAddr::v4_bytes(p);
      return true;
    case 2:
      if (!r.bytes(16, p)) return false;
      a = IpAddr::v6_bytes(p);
      return true;
    default:
      known_type = false;
      return false;
  }
}

// One interface of a flow sample as (format, value). Format 0 = a single ifIndex; 1 = the
// packet was discarded (value = reason); 2 = sent to several interfaces (value = how many).
// FlowRecord carries one ifIndex, so only format 0 maps to one; "local" (the agent) becomes 0.
uint32_t interface_index(uint32_t format, uint32_t value) {
  if (format != 0 || value == kIfLocal) return 0;
  return value;
}

// What a flow sample's records said about its packet.
struct L3Info {
  bool valid = false;
  IpAddr src, dst;
  uint16_t src_port = 0, dst_port = 0;
  uint8_t proto = 0, tcp_flags = 0, tos = 0;
  uint16_t vlan = 0;
  uint64_t bytes = 0;  // unscaled
};

}  // namespace

template <class K, class V>
V& SflowAgentState::touch(Table<K, V>& t, const K& k, size_t cap, uint64_t& evicted,
                          bool& created) {
  ++tick_;
  auto it = t.find(k);
  if (it != t.end()) {
    it->second.tick = tick_;
    created = false;
    return it->second.value;
  }
  cap = std::max<size_t>(cap, 1);
  if (t.size() >= cap) {
    // Evict the least recently used 1/16 (at least one) in a single pass.
    size_t n = std::max<size_t>(t.size() / 16, 1);
    scratch_.clear();
    for (const auto& [key, slot] : t) scratch_.push_back(slot.tick);
    std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<ptrdiff_t>(n - 1),
                     scratch_.end());
    uint64_t limit = scratch_[n - 1];
    for (auto j = t.begin(); j != t.end();) {
      if (j->second.tick <= limit) {
        j = t.erase(j);
        ++evicted;
      } else {
        ++j;
      }
    }
  }
  created = true;
  auto& slot = t[k];
  slot.tick = tick_;
  return slot.value;
}

SflowAgentState::SflowAgentState(const Limits& limits) : limits_(limits) {}

const IfCounters* SflowAgentState::counters(const IpAddr& agent, uint32_t if_index) const {
  auto it = counters_.find(CounterKey{agent, if_index});
  return it == counters_.end() ? nullptr : &it->second.value;
}

class SflowDecoder {
 public:
  SflowDecoder(const Datagram& dg, SflowAgentState& st, FlowBatch& out, DecodeStats& stats)
      : dg_(dg), st_(st), out_(out), stats_(stats), exporter_(dg.exporter) {}

  void run() {
    // stats.datagrams is counted by the caller (ExportDecoder), as for the NetFlow decoders.
    ++st_.counts_.datagrams;
    ByteReader r(dg_.data);
    // 5.4 sample_datagram_v5 header.
    uint32_t version;
    if (!r.u32(version)) return fail(DecodeError::kTruncated, r);
    if (version != 5) return fail(DecodeError::kBadVersion, 0, version);
    bool known = false;
    if (!read_address(r, agent_, known)) {
      return fail(known ? DecodeError::kTruncated : DecodeError::kBadVersion, r);
    }
    // An agent that does not know its address sends 0.0.0.0 (or type 0): use the UDP source.
    bool unset = agent_.is_zero() || (agent_.is_v4() && agent_.v4_value() == 0);
    if (!unset) exporter_ = agent_;
    uint32_t seq, uptime, num_samples;
    if (!r.u32(sub_agent_) || !r.u32(seq) || !r.u32(uptime) || !r.u32(num_samples)) {
      return fail(DecodeError::kTruncated, r);
    }
    st_.last_header_ = {agent_, sub_agent_, seq, uptime, num_samples};
    bool created;
    auto& agent = st_.touch(st_.agents_, SflowAgentState::AgentKey{exporter_, sub_agent_},
                            st_.limits_.max_agents, st_.counts_.agents_evicted, created);
    auto res = agent.seq.observe(seq, 1);
    stats_.sequence(res.lost, res.reset);

    // Each sample takes at least its 8-byte tag and length.
    if (num_samples > r.remaining() / 8) fail(DecodeError::kBadLength, r, num_samples);
    for (uint32_t i = 0; i < num_samples; ++i) {
      size_t at = offset(r);
      if (r.remaining() == 0) return fail(DecodeError::kTruncated, at, i);  // fewer than claimed
      uint32_t format, len;
      ByteReader s(nullptr, 0);
      if (!r.u32(format) || !r.u32(len)) return fail(DecodeError::kTruncated, at);
      if (!r.sub(len, s)) return fail(DecodeError::kTruncated, at, format);
      r.skip(std::min(pad4(len) - len, r.remaining()));
      sample(format, s, at);
    }
  }

 private:
  size_t offset(const ByteReader& r) const {
    return static_cast<size_t>(r.data() - dg_.data.data());
  }
  void fail(DecodeError e, const ByteReader& r, uint32_t id = 0) { fail(e, offset(r), id); }
  void fail(DecodeError e, size_t at, uint32_t id = 0) { stats_.fail(e, exporter_, at, id); }

  void sample(uint32_t format, ByteReader& s, size_t at) {
    switch (format) {  // enterprise 0 only: enterprise << 12 | format
      case kFlowSample:
        ++st_.counts_.flow_samples;
        return flow_sample(s, false, at);
      case kFlowSampleExpanded:
        ++st_.counts_.expanded_flow_samples;
        return flow_sample(s, true, at);
      case kCounterSample:
        ++st_.counts_.counter_samples;
        return counter_sample(s, false, at);
      case kCounterSampleExpanded:
        ++st_.counts_.expanded_counter_samples;
        return counter_sample(s, true, at);
      case kDiscardSample:
        ++st_.counts_.discard_samples;
        return discard_sample(s, at);
      default:
        ++st_.counts_.unknown_samples;
        return;  // already skipped by length
    }
  }

  // 5.1 flow_sample / flow_sample_expanded.
  void flow_sample(ByteReader& s, bool expanded, size_t at) {
    uint32_t seq = 0, source_type = 0, source_index = 0, rate = 0, pool = 0, drops = 0;
    uint32_t in_format = 0, in_value = 0, out_format = 0, out_value = 0, num_records = 0;
    bool ok = s.u32(seq);
    if (expanded) {
      ok = ok && s.u32(source_type) && s.u32(source_index) && s.u32(rate) && s.u32(pool) &&
           s.u32(drops) && s.u32(in_format) && s.u32(in_value) && s.u32(out_format) &&
           s.u32(out_value);
    } else {
      uint32_t source = 0, in = 0, out = 0;
      ok = ok && s.u32(source) && s.u32(rate) && s.u32(pool) && s.u32(drops) && s.u32(in) &&
           s.u32(out);
      if (ok) {
        source_type = source >> 24;  // 5.1 sflow_data_source: type in the top byte
        source_index = source & 0x00ffffff;
        in_format = in >> 30;  // top 2 bits: format (5.1 "interface")
        in_value = in & 0x3fffffff;
        out_format = out >> 30;
        out_value = out & 0x3fffffff;
      }
    }
    ok = ok && s.u32(num_records);
    if (!ok) return fail(DecodeError::kBadSample, at, expanded ? kFlowSampleExpanded : kFlowSample);

    bool created;
    auto& src = st_.touch(
        st_.sources_, SflowAgentState::SourceKey{exporter_, sub_agent_, source_type, source_index},
        st_.limits_.max_sources, st_.counts_.sources_evicted, created);
    auto res = src.seq.observe(seq, 1);
    st_.counts_.samples_lost += res.lost;
    st_.counts_.sample_seq_resets += res.reset ? 1 : 0;
    // `drops` is cumulative since the agent (re)started: count what was added since last time.
    if (src.drops_seen && drops >= src.drops) stats_.discarded_packets += drops - src.drops;
    src.drops = drops;
    src.drops_seen = true;

    FlowRecord rec;
    L3Info header, ip_record;
    if (!records(s, num_records, &rec, &header, &ip_record)) return;

    const L3Info& l3 = header.valid ? header : ip_record;
    if (!l3.valid) return;
    rec.start_ms = rec.end_ms = dg_.recv_ms;
    rec.src = l3.src;
    rec.dst = l3.dst;
    rec.exporter = exporter_;
    rec.src_port = l3.src_port;
    rec.dst_port = l3.dst_port;
    rec.proto = l3.proto;
    rec.tcp_flags = l3.tcp_flags;
    rec.tos = l3.tos;
    if (rec.vlan == 0) rec.vlan = l3.vlan;  // extended switch data wins over the frame's tag
    rec.obs_domain = sub_agent_;
    rec.in_if = interface_index(in_format, in_value);
    rec.out_if = interface_index(out_format, out_value);
    rec.source = FlowSource::kSflow;
    rec.flags |= flow_flags::kTimeEstimated;
    if (rate > 0) {
      rec.sampling_rate = rate;
      rec.packets = rate;
      rec.bytes = l3.bytes * rate;
      rec.flags |= flow_flags::kSampled;
    } else {
      rec.packets = 1;
      rec.bytes = l3.bytes;
    }
    out_.records.push_back(rec);
    ++stats_.records;
  }

  // Walks `num_records` flow records, filling rec (extended data), header and ip_record.
  // Returns false (error counted) when the record list is malformed.
  bool records(ByteReader& s, uint32_t num_records, FlowRecord* rec, L3Info* header,
               L3Info* ip_record) {
    if (num_records > s.remaining() / 8) {
      fail(DecodeError::kBadSample, s, num_records);
      return false;
    }
    for (uint32_t i = 0; i < num_records; ++i) {
      size_t rat = offset(s);
      uint32_t format = 0, len = 0;
      ByteReader d(nullptr, 0);
      if (!s.u32(format) || !s.u32(len) || !s.sub(len, d)) {
        fail(DecodeError::kBadSample, rat, format);
        return false;
      }
      s.skip(std::min(pad4(len) - len, s.remaining()));
      if (rec == nullptr) continue;  // discard sample: records are not used
      bool ok = true;
      switch (format) {
        case kRecSampledHeader:
          ok = sampled_header(d, *header, rat);
          break;
        case kRecSampledIpv4:
          ok = sampled_ip(d, false, *ip_record);
          break;
        case kRecSampledIpv6:
          ok = sampled_ip(d, true, *ip_record);
          break;
        case kRecExtSwitch:
          ok = ext_switch(d, *rec);
          break;
        case kRecExtRouter:
          ok = ext_router(d, *rec);
          break;
        case kRecExtGateway:
          ok = ext_gateway(d, *rec);
          break;
        default:
          ++st_.counts_.unknown_records;
          break;
      }
      if (!ok) fail(DecodeError::kBadSample, rat, format);  // this record only; go on
    }
    return true;
  }

  // 5.1 sampled_header. Returns false only when the record itself is malformed; a packet that
  // does not parse as IP is counted (kBadPacket or non_ip_samples) and leaves `l3` invalid.
  bool sampled_header(ByteReader& d, L3Info& l3, size_t at) {
    uint32_t protocol, frame_length, stripped, header_length;
    const uint8_t* hdr;
    if (!d.u32(protocol) || !d.u32(frame_length) || !d.u32(stripped) || !d.u32(header_length) ||
        !d.bytes(header_length, hdr)) {
      return false;
    }
    LinkType link;
    switch (protocol) {
      case 1:
        link = LinkType::kEthernet;
        break;  // ETHERNET-ISO88023
      case 11:
        link = LinkType::kIpv4;
        break;
      case 12:
        link = LinkType::kIpv6;
        break;
      default:
        ++st_.counts_.non_ip_samples;
        return true;  // token ring, FDDI, MPLS, ...
    }
    PacketInfo pkt;
    PacketStatus status = parse_packet(hdr, header_length, link, pkt);
    if (status == PacketStatus::kNotIp) {
      ++st_.counts_.non_ip_samples;
      return true;
    }
    if (status != PacketStatus::kOk) {
      fail(DecodeError::kBadPacket, at + 24, protocol);  // header<> starts 24 bytes in
      return true;
    }
    l3.valid = true;
    l3.src = pkt.src;
    l3.dst = pkt.dst;
    l3.src_port = pkt.src_port;
    l3.dst_port = pkt.dst_port;
    l3.proto = pkt.proto;
    l3.tcp_flags = pkt.tcp_flags;
    l3.tos = pkt.tos;
    l3.vlan = pkt.vlan;
    l3.bytes = frame_length >= stripped ? frame_length - stripped : frame_length;
    return true;
  }

  // 5.1 sampled_ipv4 / sampled_ipv6.
  static bool sampled_ip(ByteReader& d, bool v6, L3Info& l3) {
    uint32_t length, protocol, src_port, dst_port, tcp_flags, tos;
    const uint8_t *src, *dst;
    size_t alen = v6 ? 16 : 4;
    if (!d.u32(length) || !d.u32(protocol) || !d.bytes(alen, src) || !d.bytes(alen, dst) ||
        !d.u32(src_port) || !d.u32(dst_port) || !d.u32(tcp_flags) || !d.u32(tos)) {
      return false;
    }
    l3.valid = true;
    l3.src = v6 ? IpAddr::v6_bytes(src) : IpAddr::v4_bytes(src);
    l3.dst = v6 ? IpAddr::v6_bytes(dst) : IpAddr::v4_bytes(dst);
    l3.proto = static_cast<uint8_t>(protocol);
    l3.src_port = static_cast<uint16_t>(src_port);
    l3.dst_port = static_cast<uint16_t>(dst_port);
    l3.tcp_flags = static_cast<uint8_t>(tcp_flags);
    l3.tos = static_cast<uint8_t>(tos);  // IPv4 tos / IPv6 priority
    l3.bytes = length;                   // IP packet length, no lower layers
    return true;
  }

  // 5.1 extended_switch: the ingress VLAN (egress when ingress is unknown).
  static bool ext_switch(ByteReader& d, FlowRecord& rec) {
    uint32_t src_vlan, src_prio, dst_vlan, dst_prio;
    if (!d.u32(src_vlan) || !d.u32(src_prio) || !d.u32(dst_vlan) || !d.u32(dst_prio)) {
      return false;
    }
    uint32_t vlan = src_vlan != 0 ? src_vlan : dst_vlan;
    rec.vlan = static_cast<uint16_t>(vlan & 0x0fff);
    return true;
  }

  // 5.1 extended_router: next hop (not kept), source and destination prefix lengths.
  static bool ext_router(ByteReader& d, FlowRecord& rec) {
    IpAddr next_hop;
    bool known;
    uint32_t src_mask, dst_mask;
    if (!read_address(d, next_hop, known) || !d.u32(src_mask) || !d.u32(dst_mask)) return false;
    if (src_mask <= 128) rec.src_mask = static_cast<uint8_t>(src_mask);
    if (dst_mask <= 128) rec.dst_mask = static_cast<uint8_t>(dst_mask);
    return true;
  }

  // 5.1 extended_gateway: src_as (the router's own AS when 0: locally originated), and the
  // last AS of the destination AS path (the router's AS when the path is empty).
  static bool ext_gateway(ByteReader& d, FlowRecord& rec) {
    IpAddr next_hop;
    bool known;
    uint32_t as, src_as, src_peer_as, segments;
    if (!read_address(d, next_hop, known) || !d.u32(as) || !d.u32(src_as) || !d.u32(src_peer_as) ||
        !d.u32(segments)) {
      return false;
    }
    if (segments > d.remaining() / 8) return false;  // each segment: type + count at least
    uint32_t dst_as = as;
    for (uint32_t i = 0; i < segments; ++i) {
      uint32_t type, count;
      if (!d.u32(type) || !d.u32(count) || count > d.remaining() / 4) return false;
      if (count > 0) {
        if (!d.skip((size_t{count} - 1) * 4) || !d.u32(dst_as)) return false;
      }
    }
    // Communities and local_pref follow; not needed.
    rec.src_as = src_as != 0 ? src_as : as;
    rec.dst_as = dst_as;
    return true;
  }

  // 5.2 counters_sample / counters_sample_expanded.
  void counter_sample(ByteReader& s, bool expanded, size_t at) {
    uint32_t seq = 0, source = 0, num_records = 0;
    bool ok = s.u32(seq) && s.u32(source) && (!expanded || s.u32(source)) && s.u32(num_records);
    uint32_t id = expanded ? kCounterSampleExpanded : kCounterSample;
    if (!ok) return fail(DecodeError::kBadSample, at, id);
    if (num_records > s.remaining() / 8) return fail(DecodeError::kBadSample, at, id);
    bool stored = false;
    for (uint32_t i = 0; i < num_records; ++i) {
      size_t rat = offset(s);
      uint32_t format = 0, len = 0;
      ByteReader d(nullptr, 0);
      if (!s.u32(format) || !s.u32(len) || !s.sub(len, d)) {
        return fail(DecodeError::kBadSample, rat, id);
      }
      s.skip(std::min(pad4(len) - len, s.remaining()));
      if (format != kCounterGeneric) {
        ++st_.counts_.unknown_records;  // ethernet, processor, host, ...: not kept
        continue;
      }
      if (len < kGenericCountersLen) {
        fail(DecodeError::kBadSample, rat, format);
        continue;
      }
      store_generic(d);
      stored = true;
    }
    if (stored) ++stats_.counter_samples;
  }

  void store_generic(ByteReader& d) {
    IfCounters c;
    uint32_t v[6] = {};  // the caller checked the record length; zeros keep GCC -O3 quiet
    d.u32(c.if_index);
    d.u32(c.if_type);
    d.u64(c.if_speed);
    d.u32(c.direction);
    d.u32(c.status);
    d.u64(c.in_octets);
    for (auto& x : v) d.u32(x);
    c.in_ucast = v[0];
    c.in_mcast = v[1];
    c.in_bcast = v[2];
    c.in_discards = v[3];
    c.in_errors = v[4];
    c.in_unknown = v[5];
    d.u64(c.out_octets);
    for (size_t i = 0; i < 5; ++i) d.u32(v[i]);
    c.out_ucast = v[0];
    c.out_mcast = v[1];
    c.out_bcast = v[2];
    c.out_discards = v[3];
    c.out_errors = v[4];
    d.u32(c.promisc);
    c.updated_ms = dg_.recv_ms;
    bool created;
    auto& slot = st_.touch(st_.counters_, SflowAgentState::CounterKey{exporter_, c.if_index},
                           st_.limits_.max_counters, st_.counts_.counters_evicted, created);
    slot = c;
  }

  // Drops extension: discarded_packet. Counted, never turned into a flow.
  void discard_sample(ByteReader& s, size_t at) {
    uint32_t seq, source_type, source_index, drops, in, out, reason, num_records;
    if (!s.u32(seq) || !s.u32(source_type) || !s.u32(source_index) || !s.u32(drops) || !s.u32(in) ||
        !s.u32(out) || !s.u32(reason) || !s.u32(num_records)) {
      return fail(DecodeError::kBadSample, at, kDiscardSample);
    }
    ++stats_.discarded_packets;
    records(s, num_records, nullptr, nullptr, nullptr);
  }

  const Datagram& dg_;
  SflowAgentState& st_;
  FlowBatch& out_;
  DecodeStats& stats_;
  IpAddr exporter_;
  IpAddr agent_;
  uint32_t sub_agent_ = 0;
};

void decode_sflow(const Datagram& dg, SflowAgentState& state, FlowBatch& out, DecodeStats& stats) {
  SflowDecoder(dg, state, out, stats).run();
}

}  // namespace orbwatch::ingest
