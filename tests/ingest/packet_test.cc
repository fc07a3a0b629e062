#include "ingest/packet.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "util/packet_builder.h"

namespace orbwatch::ingest {
namespace {

using test::WireBuilder;
namespace et = test::ethertype;

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

// Parses from an exactly-sized heap copy so AddressSanitizer catches any read past caplen. The
// copy lives until the next call (PacketInfo::payload points into it).
PacketStatus parse(const WireBuilder& w, LinkType link, PacketInfo& out, size_t len = SIZE_MAX) {
  static std::unique_ptr<uint8_t[]> buf;
  len = std::min(len, w.size());
  buf = std::make_unique<uint8_t[]>(len == 0 ? 1 : len);
  std::copy(w.data(), w.data() + len, buf.get());
  return parse_packet(len == 0 ? nullptr : buf.get(), len, link, out);
}

TEST(PacketTest, EthernetIpv4Tcp) {
  WireBuilder w = test::eth_ipv4_tcp("192.0.2.1", "198.51.100.2", 40000, 443, 0x18, 5);
  PacketInfo p;
  ASSERT_EQ(parse(w, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.src, ip("192.0.2.1"));
  EXPECT_EQ(p.dst, ip("198.51.100.2"));
  EXPECT_EQ(p.proto, 6);
  EXPECT_EQ(p.src_port, 40000);
  EXPECT_EQ(p.dst_port, 443);
  EXPECT_EQ(p.tcp_flags, 0x18);
  EXPECT_EQ(p.tcp_seq, 1000u);
  EXPECT_EQ(p.ttl, 64);
  EXPECT_EQ(p.ip_len, 45u);
  EXPECT_EQ(p.l3_offset, 14u);
  EXPECT_TRUE(p.l4_valid);
  EXPECT_FALSE(p.is_fragment);
  EXPECT_EQ(p.vlan, 0);
  ASSERT_EQ(p.payload_len, 5u);
  EXPECT_EQ(p.payload[0], 'x');
}

TEST(PacketTest, TcpOptionsAndBadDataOffset) {
  WireBuilder w;
  test::ethernet(w, et::kIpv4);
  test::ipv4(w, 6, "10.0.0.1", "10.0.0.2", 32 + 3);
  test::tcp(w, 1, 2, 7, 0x02, 8);
  w.bytes({'a', 'b', 'c'});
  PacketInfo p;
  ASSERT_EQ(parse(w, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_TRUE(p.l4_valid);
  EXPECT_EQ(p.payload_len, 3u);
  EXPECT_EQ(p.payload[0], 'a');

  // Data offset 2 (< 5 words) is impossible: ports are read, the header is not valid.
  WireBuilder bad;
  test::ethernet(bad, et::kIpv4);
  test::ipv4(bad, 6, "10.0.0.1", "10.0.0.2", 20);
  test::tcp(bad, 5, 6, 7, 0x02, 2);
  bad.zeros(12);
  ASSERT_EQ(parse(bad, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_FALSE(p.l4_valid);
  EXPECT_EQ(p.src_port, 5);
}

TEST(PacketTest, UdpPayloadLimitedByIpLengthNotEthernetPadding) {
  WireBuilder w;
  test::ethernet(w, et::kIpv4);
  test::ipv4(w, 17, "10.0.0.1", "10.0.0.2", 8 + 4);
  test::udp(w, 53, 5353, 4);
  w.bytes({1, 2, 3, 4}).zeros(18);  // padding to the 60-byte minimum frame
  PacketInfo p;
  ASSERT_EQ(parse(w, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_TRUE(p.l4_valid);
  EXPECT_EQ(p.src_port, 53);
  EXPECT_EQ(p.dst_port, 5353);
  EXPECT_EQ(p.payload_len, 4u);
}

TEST(PacketTest, Icmp) {
  WireBuilder w;
  test::ethernet(w, et::kIpv4);
  test::ipv4(w, 1, "10.0.0.1", "10.0.0.2", 8);
  test::icmp(w, 3, 13);
  PacketInfo p;
  ASSERT_EQ(parse(w, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.src_port, 0);
  EXPECT_EQ(p.dst_port, (3 << 8) | 13);
  EXPECT_TRUE(p.l4_valid);

  WireBuilder v6;
  test::ethernet(v6, et::kIpv6);
  test::ipv6(v6, 58, "2001:db8::1", "2001:db8::2", 8);
  test::icmp(v6, 128, 0);
  ASSERT_EQ(parse(v6, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.proto, 58);
  EXPECT_EQ(p.dst_port, 128 << 8);
}

TEST(PacketTest, Ipv4OptionsAndTos) {
  WireBuilder w;
  test::ethernet(w, et::kIpv4);
  test::Ipv4Opts o;
  o.option_words = 2;
  o.tos = 0xb8;
  test::ipv4(w, 17, "10.0.0.1", "10.0.0.2", 8, o);
  test::udp(w, 1000, 2000, 0);
  PacketInfo p;
  ASSERT_EQ(parse(w, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.tos, 0xb8);
  EXPECT_EQ(p.ip_len, 36u);
  EXPECT_EQ(p.src_port, 1000);
  EXPECT_TRUE(p.l4_valid);
}

TEST(PacketTest, Ipv4Fragments) {
  PacketInfo p;
  WireBuilder first;
  test::ethernet(first, et::kIpv4);
  test::Ipv4Opts o;
  o.id = 0x1234;
  o.frag = 0x2000;  // MF, offset 0
  test::ipv4(first, 17, "10.0.0.1", "10.0.0.2", 16, o);
  test::udp(first, 1111, 2222, 8);
  first.zeros(8);
  ASSERT_EQ(parse(first, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_TRUE(p.first_fragment);
  EXPECT_EQ(p.frag_id, 0x1234u);
  EXPECT_EQ(p.src_port, 1111);
  EXPECT_TRUE(p.l4_valid);

  WireBuilder later;
  test::ethernet(later, et::kIpv4);
  o.frag = 3;  // offset 24 bytes, last fragment
  test::ipv4(later, 17, "10.0.0.1", "10.0.0.2", 16, o);
  later.zeros(16);
  ASSERT_EQ(parse(later, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_FALSE(p.first_fragment);
  EXPECT_EQ(p.proto, 17);
  EXPECT_EQ(p.src_port, 0);
  EXPECT_FALSE(p.l4_valid);
}

TEST(PacketTest, Ipv4Malformed) {
  PacketInfo p;
  WireBuilder ihl;
  test::ethernet(ihl, et::kIpv4);
  test::ipv4(ihl, 6, "10.0.0.1", "10.0.0.2", 0);
  ihl.vec()[14] = 0x44;  // IHL 4 words < 20 bytes
  EXPECT_EQ(parse(ihl, LinkType::kEthernet, p), PacketStatus::kMalformed);

  WireBuilder total;
  test::ethernet(total, et::kIpv4);
  test::Ipv4Opts o;
  o.total_len = 12;  // shorter than its own header
  test::ipv4(total, 6, "10.0.0.1", "10.0.0.2", 0, o);
  EXPECT_EQ(parse(total, LinkType::kEthernet, p), PacketStatus::kMalformed);

  WireBuilder version;
  test::ethernet(version, et::kIpv4);
  test::ipv6(version, 6, "::1", "::2", 0);  // ethertype says IPv4, nibble says 6
  EXPECT_EQ(parse(version, LinkType::kEthernet, p), PacketStatus::kMalformed);
}

TEST(PacketTest, Ipv4TotalLengthZeroUsesCapture) {
  WireBuilder w;
  test::ethernet(w, et::kIpv4);
  test::Ipv4Opts o;
  o.total_len = 0;  // TSO capture
  test::ipv4(w, 6, "10.0.0.1", "10.0.0.2", 0, o);
  test::tcp(w, 1, 2, 3, 0x10);
  PacketInfo p;
  ASSERT_EQ(parse(w, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.ip_len, 40u);
  EXPECT_TRUE(p.l4_valid);
}

TEST(PacketTest, Ipv6ExtensionHeaders) {
  // hop-by-hop -> routing (16 bytes) -> destination options -> AH (16 bytes) -> UDP.
  WireBuilder w;
  test::ethernet(w, et::kIpv6);
  size_t ext = 8 + 16 + 8 + 16;
  test::ipv6(w, 0, "2001:db8::1", "2001:db8::2", ext + 8 + 2, 0x2e, 7);
  test::ipv6_ext(w, 43);
  test::ipv6_ext(w, 60, 1);
  test::ipv6_ext(w, 51);
  w.u8(17).u8(2).zeros(14);  // AH: payload len 2 -> (2 + 2) * 4 = 16 bytes
  test::udp(w, 500, 4500, 2);
  w.bytes({9, 9});
  PacketInfo p;
  ASSERT_EQ(parse(w, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.proto, 17);
  EXPECT_EQ(p.src, ip("2001:db8::1"));
  EXPECT_EQ(p.dst, ip("2001:db8::2"));
  EXPECT_EQ(p.tos, 0x2e);
  EXPECT_EQ(p.ttl, 7);
  EXPECT_EQ(p.src_port, 500);
  EXPECT_EQ(p.dst_port, 4500);
  EXPECT_TRUE(p.l4_valid);
  EXPECT_EQ(p.payload_len, 2u);
  EXPECT_EQ(p.ip_len, 40 + ext + 10);
}

TEST(PacketTest, Ipv6Fragments) {
  PacketInfo p;
  WireBuilder first;
  test::ethernet(first, et::kIpv6);
  test::ipv6(first, 44, "2001:db8::1", "2001:db8::2", 8 + 20);
  test::ipv6_frag(first, 6, 0, true, 0xabcdef01);
  test::tcp(first, 22, 50000, 1, 0x10);
  ASSERT_EQ(parse(first, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_TRUE(p.first_fragment);
  EXPECT_EQ(p.frag_id, 0xabcdef01u);
  EXPECT_EQ(p.proto, 6);
  EXPECT_EQ(p.src_port, 22);
  EXPECT_TRUE(p.l4_valid);

  WireBuilder later;
  test::ethernet(later, et::kIpv6);
  test::ipv6(later, 0, "2001:db8::1", "2001:db8::2", 8 + 8 + 20);
  test::ipv6_ext(later, 44);
  test::ipv6_frag(later, 6, 100, false, 7);
  later.zeros(20);
  ASSERT_EQ(parse(later, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_FALSE(p.first_fragment);
  EXPECT_EQ(p.frag_id, 7u);
  EXPECT_EQ(p.proto, 6);
  EXPECT_EQ(p.src_port, 0);
  EXPECT_FALSE(p.l4_valid);
}

TEST(PacketTest, Ipv6NoNextHeaderAndEsp) {
  PacketInfo p;
  WireBuilder w;
  test::ethernet(w, et::kIpv6);
  test::ipv6(w, 50, "2001:db8::1", "2001:db8::2", 8);
  w.be32(0x100).be32(1);  // ESP SPI, sequence
  ASSERT_EQ(parse(w, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.proto, 50);
  EXPECT_FALSE(p.l4_valid);
}

TEST(PacketTest, VlanAndQinq) {
  PacketInfo p;
  WireBuilder one;
  test::ethernet(one, et::kVlan);
  test::vlan_tag(one, 100, et::kIpv4);
  test::ipv4(one, 17, "10.0.0.1", "10.0.0.2", 8);
  test::udp(one, 1, 2, 0);
  ASSERT_EQ(parse(one, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.vlan, 100);
  EXPECT_EQ(p.src_port, 1);
  EXPECT_EQ(p.l3_offset, 18u);

  for (uint16_t outer_type : {et::kQinq, et::kQinqOld, et::kVlan}) {
    WireBuilder q;
    test::ethernet(q, outer_type);
    test::vlan_tag(q, 2000, et::kVlan);
    test::vlan_tag(q, 30, et::kIpv6);
    test::ipv6(q, 17, "2001:db8::1", "2001:db8::2", 8);
    test::udp(q, 3, 4, 0);
    ASSERT_EQ(parse(q, LinkType::kEthernet, p), PacketStatus::kOk) << outer_type;
    EXPECT_EQ(p.vlan, 2000) << "outermost tag is kept";
    EXPECT_EQ(p.l3_offset, 22u);
    EXPECT_EQ(p.dst_port, 4);
  }

  // A stack of tags that never ends is malformed, not a loop.
  WireBuilder many;
  test::ethernet(many, et::kVlan);
  for (int i = 0; i < 20; ++i) test::vlan_tag(many, 1, et::kVlan);
  EXPECT_EQ(parse(many, LinkType::kEthernet, p), PacketStatus::kMalformed);
}

TEST(PacketTest, NonIpFrames) {
  PacketInfo p;
  WireBuilder arp;
  test::ethernet(arp, et::kArp);
  arp.zeros(28);
  EXPECT_EQ(parse(arp, LinkType::kEthernet, p), PacketStatus::kNotIp);

  WireBuilder llc;  // 802.3 length field, then LLC (STP)
  llc.mac({1, 0x80, 0xc2, 0, 0, 0}).mac({2, 0, 0, 0, 0, 1}).be16(38).bytes({0x42, 0x42, 3});
  llc.zeros(35);
  EXPECT_EQ(parse(llc, LinkType::kEthernet, p), PacketStatus::kNotIp);
}

TEST(PacketTest, Mpls) {
  PacketInfo p;
  WireBuilder v4;
  test::ethernet(v4, et::kMpls);
  test::mpls_label(v4, 18, false);
  test::mpls_label(v4, 0, true);  // explicit null at the bottom
  test::ipv4(v4, 6, "10.1.0.1", "10.2.0.1", 20);
  test::tcp(v4, 179, 30000, 5, 0x18);
  ASSERT_EQ(parse(v4, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.src, ip("10.1.0.1"));
  EXPECT_EQ(p.src_port, 179);

  WireBuilder v6;
  test::ethernet(v6, 0x8848);
  test::mpls_label(v6, 2, true);
  test::ipv6(v6, 17, "2001:db8::1", "2001:db8::2", 8);
  test::udp(v6, 1, 2, 0);
  ASSERT_EQ(parse(v6, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.ip_version, 6);

  // Ethernet over MPLS: control word, then a whole Ethernet frame with its own VLAN tag.
  WireBuilder eompls;
  test::ethernet(eompls, et::kVlan);
  test::vlan_tag(eompls, 10, et::kMpls);
  test::mpls_label(eompls, 300000, false);
  test::mpls_label(eompls, 17, true);
  eompls.be32(0);  // RFC 4385 control word
  test::ethernet(eompls, et::kVlan);
  test::vlan_tag(eompls, 55, et::kIpv4);
  test::ipv4(eompls, 17, "10.31.0.1", "10.34.0.1", 8);
  test::udp(eompls, 7, 8, 0);
  ASSERT_EQ(parse(eompls, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.vlan, 10) << "outermost VLAN, not the customer's";
  EXPECT_EQ(p.src, ip("10.31.0.1"));
  EXPECT_EQ(p.dst_port, 8);

  WireBuilder nibble;
  test::ethernet(nibble, et::kMpls);
  test::mpls_label(nibble, 100, true);
  nibble.bytes({0x10, 0, 0, 0});
  EXPECT_EQ(parse(nibble, LinkType::kEthernet, p), PacketStatus::kMalformed);

  WireBuilder deep;  // no bottom-of-stack bit
  test::ethernet(deep, et::kMpls);
  for (int i = 0; i < 40; ++i) test::mpls_label(deep, 100, false);
  EXPECT_EQ(parse(deep, LinkType::kEthernet, p), PacketStatus::kMalformed);

  WireBuilder cut;  // bottom label is the last byte
  test::ethernet(cut, et::kMpls);
  test::mpls_label(cut, 100, true);
  EXPECT_EQ(parse(cut, LinkType::kEthernet, p), PacketStatus::kTruncated);
}

TEST(PacketTest, Pppoe) {
  PacketInfo p;
  for (uint16_t proto : {uint16_t{0x0021}, uint16_t{0x0057}, uint16_t{0xc021}}) {
    WireBuilder w;
    test::ethernet(w, et::kPppoeSession);
    bool v6 = proto == 0x0057;
    w.u8(0x11).u8(0).be16(0x1234).be16(v6 ? 50 : 30).be16(proto);
    if (v6) {
      test::ipv6(w, 17, "2001:db8::1", "2001:db8::2", 8);
    } else {
      test::ipv4(w, 17, "100.64.0.1", "8.8.8.8", 8);
    }
    test::udp(w, 1234, 53, 0);
    PacketStatus s = parse(w, LinkType::kEthernet, p);
    if (proto == 0xc021) {
      EXPECT_EQ(s, PacketStatus::kNotIp);  // LCP
    } else {
      ASSERT_EQ(s, PacketStatus::kOk);
      EXPECT_EQ(p.ip_version, v6 ? 6 : 4);
      EXPECT_EQ(p.dst_port, 53);
    }
  }
}

TEST(PacketTest, LinuxCooked) {
  PacketInfo p;
  WireBuilder sll;
  sll.be16(0).be16(1).be16(6).mac({2, 0, 0, 0, 0, 9}).be16(0).be16(et::kIpv4);
  test::ipv4(sll, 6, "10.0.0.1", "10.0.0.2", 20);
  test::tcp(sll, 80, 8080, 1, 0x12);
  ASSERT_EQ(parse(sll, LinkType::kLinuxSll, p), PacketStatus::kOk);
  EXPECT_EQ(p.src_port, 80);

  WireBuilder sll2;
  sll2.be16(et::kIpv6).be16(0).be32(3).be16(1).u8(0).u8(6).mac({2, 0, 0, 0, 0, 9}).be16(0);
  test::ipv6(sll2, 17, "2001:db8::1", "2001:db8::2", 8);
  test::udp(sll2, 5, 6, 0);
  ASSERT_EQ(parse(sll2, LinkType::kLinuxSll2, p), PacketStatus::kOk);
  EXPECT_EQ(p.dst_port, 6);

  WireBuilder sll_vlan;  // SLL with a tag left in place
  sll_vlan.be16(0).be16(1).be16(6).mac({2, 0, 0, 0, 0, 9}).be16(0).be16(et::kVlan);
  test::vlan_tag(sll_vlan, 42, et::kIpv4);
  test::ipv4(sll_vlan, 17, "10.0.0.1", "10.0.0.2", 8);
  test::udp(sll_vlan, 5, 6, 0);
  ASSERT_EQ(parse(sll_vlan, LinkType::kLinuxSll, p), PacketStatus::kOk);
  EXPECT_EQ(p.vlan, 42);

  WireBuilder sll_arp;
  sll_arp.be16(0).be16(1).be16(6).mac({2, 0, 0, 0, 0, 9}).be16(0).be16(et::kArp).zeros(28);
  EXPECT_EQ(parse(sll_arp, LinkType::kLinuxSll, p), PacketStatus::kNotIp);
}

TEST(PacketTest, LoopbackAndRaw) {
  PacketInfo p;
  auto body4 = [] {
    WireBuilder b;
    test::ipv4(b, 17, "127.0.0.1", "127.0.0.1", 8);
    test::udp(b, 1, 2, 0);
    return b;
  };
  auto body6 = [] {
    WireBuilder b;
    test::ipv6(b, 17, "::1", "::1", 8);
    test::udp(b, 1, 2, 0);
    return b;
  };
  // BSD NULL: host order of the writer; both orders are accepted.
  for (bool le : {true, false}) {
    WireBuilder w;
    le ? w.le32(2) : w.be32(2);
    w.append(body4());
    ASSERT_EQ(parse(w, LinkType::kNull, p), PacketStatus::kOk) << le;
    EXPECT_EQ(p.ip_version, 4);
    for (uint32_t af : {24u, 28u, 30u}) {
      WireBuilder w6;
      le ? w6.le32(af) : w6.be32(af);
      w6.append(body6());
      ASSERT_EQ(parse(w6, LinkType::kNull, p), PacketStatus::kOk) << af;
      EXPECT_EQ(p.ip_version, 6);
    }
  }
  WireBuilder other;
  other.le32(7).zeros(20);
  EXPECT_EQ(parse(other, LinkType::kNull, p), PacketStatus::kNotIp);

  WireBuilder loop;  // OpenBSD: network order
  loop.be32(24).append(body6());
  ASSERT_EQ(parse(loop, LinkType::kLoop, p), PacketStatus::kOk);
  EXPECT_EQ(p.ip_version, 6);

  EXPECT_EQ(parse(body4(), LinkType::kRaw, p), PacketStatus::kOk);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(parse(body6(), LinkType::kRaw, p), PacketStatus::kOk);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(parse(body4(), LinkType::kIpv4, p), PacketStatus::kOk);
  EXPECT_EQ(parse(body6(), LinkType::kIpv6, p), PacketStatus::kOk);
  EXPECT_EQ(parse(body6(), LinkType::kIpv4, p), PacketStatus::kMalformed);
  WireBuilder junk{0x50, 0, 0, 0};
  EXPECT_EQ(parse(junk, LinkType::kRaw, p), PacketStatus::kMalformed);
}

TEST(PacketTest, TunnelsAreNotFollowed) {
  PacketInfo p;
  WireBuilder gre;
  test::ethernet(gre, et::kIpv4);
  test::ipv4(gre, 47, "203.0.113.1", "203.0.113.2", 4 + 28);
  gre.be16(0).be16(et::kIpv4);
  test::ipv4(gre, 17, "10.9.9.9", "10.8.8.8", 8);
  test::udp(gre, 1, 2, 0);
  ASSERT_EQ(parse(gre, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.proto, 47);
  EXPECT_EQ(p.src, ip("203.0.113.1"));
  EXPECT_EQ(p.src_port, 0);

  WireBuilder ipip;
  test::ethernet(ipip, et::kIpv4);
  test::ipv4(ipip, 41, "203.0.113.1", "203.0.113.2", 48);
  test::ipv6(ipip, 17, "2001:db8::1", "2001:db8::2", 8);
  test::udp(ipip, 1, 2, 0);
  ASSERT_EQ(parse(ipip, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.proto, 41);
  EXPECT_EQ(p.ip_version, 4);

  WireBuilder vxlan;  // outer UDP to 4789: reported as UDP, inner frame ignored
  test::ethernet(vxlan, et::kIpv4);
  test::ipv4(vxlan, 17, "192.0.2.1", "192.0.2.2", 8 + 8 + 14 + 28);
  test::udp(vxlan, 55555, 4789, 8 + 14 + 28);
  vxlan.be32(0x08000000).be32(100 << 8);
  test::ethernet(vxlan, et::kIpv4);
  test::ipv4(vxlan, 17, "10.0.0.1", "10.0.0.2", 8);
  test::udp(vxlan, 1, 2, 0);
  ASSERT_EQ(parse(vxlan, LinkType::kEthernet, p), PacketStatus::kOk);
  EXPECT_EQ(p.dst_port, 4789);
  EXPECT_EQ(p.src, ip("192.0.2.1"));
}

// Every prefix of a valid packet: no out-of-bounds read (ASan), and a status that matches how
// far the bytes go.
void check_prefixes(const WireBuilder& w, LinkType link, size_t l3_end, size_t l4_end) {
  PacketInfo full;
  ASSERT_EQ(parse(w, link, full), PacketStatus::kOk);
  for (size_t n = 0; n <= w.size(); ++n) {
    PacketInfo p;
    PacketStatus s = parse(w, link, p, n);
    if (n < l3_end) {
      EXPECT_EQ(s, PacketStatus::kTruncated) << "prefix " << n;
      EXPECT_FALSE(p.l4_valid);
    } else {
      EXPECT_EQ(s, PacketStatus::kOk) << "prefix " << n;
      EXPECT_EQ(p.src, full.src);
      EXPECT_EQ(p.dst, full.dst);
      EXPECT_EQ(p.proto, full.proto);
      EXPECT_EQ(p.l4_valid, n >= l4_end) << "prefix " << n;
      if (n >= l4_end) {
        EXPECT_EQ(p.dst_port, full.dst_port);
      }
      EXPECT_LE(p.payload_len, n);
    }
  }
}

TEST(PacketTest, TruncationAtEveryOffset) {
  {
    WireBuilder w = test::eth_ipv4_tcp("192.0.2.1", "198.51.100.2", 1, 2, 0x02, 10);
    check_prefixes(w, LinkType::kEthernet, 14 + 20, 14 + 20 + 20);
  }
  {
    WireBuilder w;  // QinQ + IPv6 with two extension headers + UDP
    test::ethernet(w, et::kQinq);
    test::vlan_tag(w, 5, et::kVlan);
    test::vlan_tag(w, 6, et::kIpv6);
    test::ipv6(w, 0, "2001:db8::1", "2001:db8::2", 8 + 8 + 8 + 3);
    test::ipv6_ext(w, 44);
    test::ipv6_frag(w, 17, 0, true, 9);
    test::udp(w, 1, 2, 3);
    w.bytes({1, 2, 3});
    check_prefixes(w, LinkType::kEthernet, 22 + 40 + 16, 22 + 40 + 16 + 8);
  }
  {
    WireBuilder w;  // MPLS EoMPLS + PPPoE would be odd; MPLS + IPv4 with options + ICMP
    test::ethernet(w, et::kMpls);
    test::mpls_label(w, 16, false);
    test::mpls_label(w, 17, true);
    test::Ipv4Opts o;
    o.option_words = 1;
    test::ipv4(w, 1, "10.0.0.1", "10.0.0.2", 8, o);
    test::icmp(w, 8, 0);
    check_prefixes(w, LinkType::kEthernet, 22 + 24, 22 + 24 + 8);
  }
  {
    WireBuilder w;
    w.be16(0).be16(1).be16(6).mac({2, 0, 0, 0, 0, 9}).be16(0).be16(et::kPppoeSession);
    w.u8(0x11).u8(0).be16(1).be16(30).be16(0x0021);
    test::ipv4(w, 17, "10.0.0.1", "10.0.0.2", 8);
    test::udp(w, 1, 2, 0);
    check_prefixes(w, LinkType::kLinuxSll, 16 + 8 + 20, 16 + 8 + 28);
  }
}

TEST(PacketTest, TruncatedFillsWhatItCan) {
  WireBuilder w = test::eth_ipv4_tcp("192.0.2.1", "198.51.100.2", 1, 2, 0x02);
  PacketInfo p;
  EXPECT_EQ(parse(w, LinkType::kEthernet, p, 14 + 16), PacketStatus::kTruncated);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.proto, 6);
  EXPECT_EQ(p.src, ip("192.0.2.1"));
  EXPECT_TRUE(p.dst.is_zero());
  // L3 complete, TCP cut after the ports: ports are known, the header is not valid.
  EXPECT_EQ(parse(w, LinkType::kEthernet, p, 14 + 20 + 6), PacketStatus::kOk);
  EXPECT_EQ(p.dst_port, 2);
  EXPECT_FALSE(p.l4_valid);
}

TEST(PacketTest, NullDataIsTruncated) {
  PacketInfo p;
  EXPECT_EQ(parse_packet(nullptr, 0, LinkType::kEthernet, p), PacketStatus::kTruncated);
  EXPECT_EQ(parse_packet(nullptr, 100, LinkType::kRaw, p), PacketStatus::kTruncated);
}

}  // namespace
}  // namespace orbwatch::ingest
