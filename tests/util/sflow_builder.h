// Builders for sFlow v5 datagrams (sflow.org "sFlow Version 5"): a datagram header, samples and
// records, each written as XDR (big-endian words, opaque data padded to 4 bytes).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "util/wire_builder.h"

namespace orbwatch::test::sflow {

// Wraps `body` as one {data_format, length, opaque} element (sample or record), padded.
inline WireBuilder element(uint32_t format, const WireBuilder& body) {
  WireBuilder w;
  w.be32(format).be32(static_cast<uint32_t>(body.size())).append(body).pad_to(4);
  return w;
}

struct FlowSampleFields {
  uint32_t seq = 1;
  uint32_t source_type = 0;
  uint32_t source_index = 3;
  uint32_t rate = 1000;
  uint32_t pool = 5000;
  uint32_t drops = 0;
  uint32_t input = 3;  // compact encoding: format in the top 2 bits
  uint32_t output = 7;
  // Expanded samples: separate format words.
  uint32_t in_format = 0, out_format = 0;
};

// 5.1 flow_sample (format 1) holding `records`.
inline WireBuilder flow_sample(const FlowSampleFields& f,
                               std::initializer_list<WireBuilder> records) {
  WireBuilder b;
  b.be32(f.seq).be32((f.source_type << 24) | (f.source_index & 0xffffff)).be32(f.rate);
  b.be32(f.pool).be32(f.drops).be32(f.input).be32(f.output);
  b.be32(static_cast<uint32_t>(records.size()));
  for (const auto& r : records) b.append(r);
  return element(1, b);
}
// 5.1 flow_sample_expanded (format 3).
inline WireBuilder flow_sample_expanded(const FlowSampleFields& f,
                                        std::initializer_list<WireBuilder> records) {
  WireBuilder b;
  b.be32(f.seq).be32(f.source_type).be32(f.source_index).be32(f.rate).be32(f.pool).be32(f.drops);
  b.be32(f.in_format).be32(f.input).be32(f.out_format).be32(f.output);
  b.be32(static_cast<uint32_t>(records.size()));
  for (const auto& r : records) b.append(r);
  return element(3, b);
}

// 5.1 sampled_header (record 1).
inline WireBuilder header_record(uint32_t protocol, uint32_t frame_length, uint32_t stripped,
                                 const WireBuilder& header) {
  WireBuilder b;
  b.be32(protocol).be32(frame_length).be32(stripped).be32(static_cast<uint32_t>(header.size()));
  b.append(header).pad_to(4);
  return element(1, b);
}
// 5.1 sampled_ipv4 (record 3).
inline WireBuilder ipv4_record(uint32_t length, uint32_t proto, std::string_view src,
                               std::string_view dst, uint32_t sport, uint32_t dport,
                               uint32_t tcp_flags = 0, uint32_t tos = 0) {
  WireBuilder b;
  b.be32(length).be32(proto).ipv4(src).ipv4(dst).be32(sport).be32(dport).be32(tcp_flags).be32(tos);
  return element(3, b);
}
// 5.1 sampled_ipv6 (record 4).
inline WireBuilder ipv6_record(uint32_t length, uint32_t proto, std::string_view src,
                               std::string_view dst, uint32_t sport, uint32_t dport,
                               uint32_t tcp_flags = 0, uint32_t priority = 0) {
  WireBuilder b;
  b.be32(length).be32(proto).ipv6(src).ipv6(dst).be32(sport).be32(dport).be32(tcp_flags);
  b.be32(priority);
  return element(4, b);
}
// 5.1 extended_switch (record 1001).
inline WireBuilder ext_switch(uint32_t src_vlan, uint32_t dst_vlan) {
  WireBuilder b;
  b.be32(src_vlan).be32(0).be32(dst_vlan).be32(0);
  return element(1001, b);
}
// 5.1 extended_router (record 1002), IPv4 next hop.
inline WireBuilder ext_router(std::string_view next_hop, uint32_t src_mask, uint32_t dst_mask) {
  WireBuilder b;
  b.be32(1).ipv4(next_hop).be32(src_mask).be32(dst_mask);
  return element(1002, b);
}
// 5.1 extended_gateway (record 1003), IPv4 next hop, one AS_SEQUENCE segment.
inline WireBuilder ext_gateway(uint32_t as, uint32_t src_as, uint32_t src_peer_as,
                               std::initializer_list<uint32_t> dst_path) {
  WireBuilder b;
  b.be32(1).ipv4("192.0.2.254").be32(as).be32(src_as).be32(src_peer_as);
  b.be32(dst_path.size() ? 1 : 0);
  if (dst_path.size()) {
    b.be32(2).be32(static_cast<uint32_t>(dst_path.size()));
    for (uint32_t a : dst_path) b.be32(a);
  }
  b.be32(1).be32(0xfde80064);  // one community
  b.be32(100);                 // local_pref
  return element(1003, b);
}

// 5.2 if_counters (counter record 1), distinctive values derived from if_index.
inline WireBuilder generic_counters(uint32_t if_index, uint64_t in_octets, uint64_t out_octets) {
  WireBuilder b;
  b.be32(if_index).be32(6).be64(10'000'000'000ull).be32(1).be32(3);
  b.be64(in_octets).be32(11).be32(12).be32(13).be32(14).be32(15).be32(16);
  b.be64(out_octets).be32(21).be32(22).be32(23).be32(24).be32(25).be32(1);
  return element(1, b);
}
// 5.2 ethernet counters (counter record 2): 13 words.
inline WireBuilder ethernet_counters() {
  WireBuilder b;
  for (uint32_t i = 0; i < 13; ++i) b.be32(i);
  return element(2, b);
}
inline WireBuilder counter_sample(uint32_t seq, uint32_t source,
                                  std::initializer_list<WireBuilder> records) {
  WireBuilder b;
  b.be32(seq).be32(source).be32(static_cast<uint32_t>(records.size()));
  for (const auto& r : records) b.append(r);
  return element(2, b);
}
inline WireBuilder counter_sample_expanded(uint32_t seq, uint32_t type, uint32_t index,
                                           std::initializer_list<WireBuilder> records) {
  WireBuilder b;
  b.be32(seq).be32(type).be32(index).be32(static_cast<uint32_t>(records.size()));
  for (const auto& r : records) b.append(r);
  return element(4, b);
}
// Drops extension discarded_packet (sample format 5).
inline WireBuilder discard_sample(uint32_t seq, uint32_t drops, uint32_t reason,
                                  std::initializer_list<WireBuilder> records) {
  WireBuilder b;
  b.be32(seq).be32(0).be32(3).be32(drops).be32(3).be32(0).be32(reason);
  b.be32(static_cast<uint32_t>(records.size()));
  for (const auto& r : records) b.append(r);
  return element(5, b);
}

// Datagram header (5.4) with an IPv4 agent ("" = address type 2 with `agent6`).
inline WireBuilder datagram(std::string_view agent, uint32_t sub_agent, uint32_t seq,
                            std::initializer_list<WireBuilder> samples,
                            std::string_view agent6 = "") {
  WireBuilder w;
  w.be32(5);
  if (!agent6.empty()) {
    w.be32(2).ipv6(agent6);
  } else {
    w.be32(1).ipv4(agent);
  }
  w.be32(sub_agent).be32(seq).be32(123456).be32(static_cast<uint32_t>(samples.size()));
  for (const auto& s : samples) w.append(s);
  return w;
}

}  // namespace orbwatch::test::sflow
