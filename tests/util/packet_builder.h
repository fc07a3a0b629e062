// Builders for L2..L4 headers on top of WireBuilder, for packet-parser, flow-meter and sFlow
// sampled-header tests. Checksums are left zero (no parser here verifies them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/wire_builder.h"

namespace orbwatch::test {

namespace ethertype {
inline constexpr uint16_t kIpv4 = 0x0800;
inline constexpr uint16_t kIpv6 = 0x86dd;
inline constexpr uint16_t kArp = 0x0806;
inline constexpr uint16_t kVlan = 0x8100;
inline constexpr uint16_t kQinq = 0x88a8;
inline constexpr uint16_t kQinqOld = 0x9100;
inline constexpr uint16_t kMpls = 0x8847;
inline constexpr uint16_t kPppoeSession = 0x8864;
}  // namespace ethertype

// Ethernet II header with fixed MACs (02:00:00:00:00:01 -> 02:00:00:00:00:02).
inline WireBuilder& ethernet(WireBuilder& w, uint16_t type) {
  return w.mac({2, 0, 0, 0, 0, 2}).mac({2, 0, 0, 0, 0, 1}).be16(type);
}
// One 802.1Q-style tag: TCI (priority 0) then the next ethertype.
inline WireBuilder& vlan_tag(WireBuilder& w, uint16_t vid, uint16_t next_type) {
  return w.be16(vid & 0x0fff).be16(next_type);
}
// One MPLS label stack entry (RFC 3032).
inline WireBuilder& mpls_label(WireBuilder& w, uint32_t label, bool bottom, uint8_t ttl = 64) {
  return w.be32((label << 12) | (bottom ? 0x100u : 0u) | ttl);
}

struct Ipv4Opts {
  uint8_t tos = 0;
  uint8_t ttl = 64;
  uint16_t id = 0;
  uint16_t frag = 0;        // flags (MF 0x2000, DF 0x4000) | offset in 8-byte units
  size_t option_words = 0;  // IHL - 5, filled with NOPs
  int total_len = -1;       // -1: computed from payload_len
};

// IPv4 header; total length = header + payload_len unless overridden.
inline WireBuilder& ipv4(WireBuilder& w, uint8_t proto, std::string_view src, std::string_view dst,
                         size_t payload_len, const Ipv4Opts& o = {}) {
  size_t hlen = 20 + o.option_words * 4;
  uint16_t total = o.total_len >= 0 ? static_cast<uint16_t>(o.total_len)
                                    : static_cast<uint16_t>(hlen + payload_len);
  w.u8(static_cast<uint8_t>(0x40 | (hlen / 4))).u8(o.tos).be16(total).be16(o.id).be16(o.frag);
  w.u8(o.ttl).u8(proto).be16(0).ipv4(src).ipv4(dst);
  for (size_t i = 0; i < o.option_words * 4; ++i) w.u8(1);  // NOP
  return w;
}

// IPv6 fixed header; payload length = payload_len (extension headers included).
inline WireBuilder& ipv6(WireBuilder& w, uint8_t next, std::string_view src, std::string_view dst,
                         size_t payload_len, uint8_t tclass = 0, uint8_t hop_limit = 64) {
  w.be32(0x60000000u | (uint32_t{tclass} << 20));
  return w.be16(static_cast<uint16_t>(payload_len)).u8(next).u8(hop_limit).ipv6(src).ipv6(dst);
}
// Generic IPv6 extension header (hop-by-hop, routing, destination options): 8 * (1 + len8) bytes.
inline WireBuilder& ipv6_ext(WireBuilder& w, uint8_t next, uint8_t len8 = 0) {
  w.u8(next).u8(len8);
  return w.zeros(6 + size_t{len8} * 8);
}
inline WireBuilder& ipv6_frag(WireBuilder& w, uint8_t next, uint16_t offset8, bool more,
                              uint32_t id) {
  return w.u8(next).u8(0).be16(static_cast<uint16_t>((offset8 << 3) | (more ? 1 : 0))).be32(id);
}

inline WireBuilder& tcp(WireBuilder& w, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
                        uint8_t data_offset_words = 5) {
  w.be16(sport).be16(dport).be32(seq).be32(0);
  w.u8(static_cast<uint8_t>(data_offset_words << 4)).u8(flags).be16(65535).be16(0).be16(0);
  for (int i = 5; i < data_offset_words; ++i) w.be32(0x01010101);  // NOP options
  return w;
}
inline WireBuilder& udp(WireBuilder& w, uint16_t sport, uint16_t dport, size_t payload_len) {
  return w.be16(sport).be16(dport).be16(static_cast<uint16_t>(8 + payload_len)).be16(0);
}
inline WireBuilder& icmp(WireBuilder& w, uint8_t type, uint8_t code) {
  return w.u8(type).u8(code).be16(0).be32(0x00010002);
}

// A complete Ethernet/IPv4/TCP frame carrying `payload_len` bytes of 'x'.
inline WireBuilder eth_ipv4_tcp(std::string_view src, std::string_view dst, uint16_t sport,
                                uint16_t dport, uint8_t flags, size_t payload_len = 0) {
  WireBuilder w;
  ethernet(w, ethertype::kIpv4);
  ipv4(w, 6, src, dst, 20 + payload_len);
  tcp(w, sport, dport, 1000, flags);
  for (size_t i = 0; i < payload_len; ++i) w.u8('x');
  return w;
}

}  // namespace orbwatch::test
