#include <gtest/gtest.h>

#include "core/time.h"
#include "ingest/export_decoder.h"
#include "util/export_builder.h"

namespace orbwatch::ingest {
namespace {

using test::IpfixBuilder;

constexpr uint32_t kExport = 1700000000;
constexpr uint32_t kPenReverse = 29305;

Datagram dg(const std::vector<uint8_t>& b, const char* from = "192.0.2.1") {
  return Datagram{b, *IpAddr::parse(from), 4739, 4739, 1700000000000};
}

struct Decoded {
  ExportDecoder d;
  FlowBatch out;
  void feed(const std::vector<uint8_t>& msg) { d.decode(dg(msg), out); }
};

TEST(Ipfix, FixedTemplateWithMillisecondTimesAndInterfaces) {
  IpfixBuilder b(kExport, 0, 7);
  b.begin_set(2)
      .template_record(256, {{8, 4},
                             {12, 4},
                             {7, 2},
                             {11, 2},
                             {4, 1},
                             {6, 2},
                             {1, 8},
                             {2, 8},
                             {152, 8},
                             {153, 8},
                             {10, 4},
                             {14, 4},
                             {61, 1},
                             {58, 2}})
      .end_set();
  b.begin_set(256);
  b.w.ipv4("192.168.1.10")
      .ipv4("203.0.113.5")
      .be16(50000)
      .be16(22)
      .u8(6)
      .be16(0x5018)
      .be64(12345)
      .be64(17)
      .be64(1699999990123)
      .be64(1699999999456)
      .be32(11)
      .be32(12)
      .u8(1)
      .be16(0x1064);
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 1u);
  const FlowRecord& r = t.out.records[0];
  EXPECT_EQ(r.src.to_string(), "192.168.1.10");
  EXPECT_EQ(r.dst_port, 22);
  EXPECT_EQ(r.tcp_flags, 0x18);  // the low byte of the 16-bit tcpControlBits
  EXPECT_EQ(r.bytes, 12345u);
  EXPECT_EQ(r.packets, 17u);
  EXPECT_EQ(r.start_ms, 1699999990123);
  EXPECT_EQ(r.end_ms, 1699999999456);
  EXPECT_EQ(r.in_if, 11u);
  EXPECT_EQ(r.out_if, 12u);
  EXPECT_EQ(r.direction, FlowDirection::kEgress);
  EXPECT_EQ(r.vlan, 0x064);
  EXPECT_EQ(r.obs_domain, 7u);
  EXPECT_EQ(r.source, FlowSource::kIpfix);
}

// Each time encoding of RFC 7011 6.1 and the IPFIX information model gives the same flow.
TEST(Ipfix, EveryTimeEncoding) {
  const int64_t start = 1699999990250, end = 1699999995750;
  const uint64_t ntp_s = 2208988800ull;
  auto ntp = [&](int64_t ms) {
    uint64_t secs = static_cast<uint64_t>(ms / 1000) + ntp_s;
    uint64_t frac = (static_cast<uint64_t>(ms % 1000) << 32) / 1000 + 1;  // round up
    return (secs << 32) | frac;
  };
  struct Case {
    const char* name;
    std::vector<test::FieldSpec> fields;
    std::function<void(test::WireBuilder&)> write;
    int64_t want_start, want_end;
  };
  std::vector<Case> cases = {
      {"seconds",
       {{150, 4}, {151, 4}},
       [&](auto& w) { w.be32(start / 1000).be32(end / 1000); },
       start / 1000 * 1000,
       end / 1000 * 1000},
      {"milliseconds", {{152, 8}, {153, 8}}, [&](auto& w) { w.be64(start).be64(end); }, start, end},
      {"microseconds",
       {{154, 8}, {155, 8}},
       [&](auto& w) { w.be64(ntp(start)).be64(ntp(end)); },
       start,
       end},
      {"nanoseconds",
       {{156, 8}, {157, 8}},
       [&](auto& w) { w.be64(ntp(start)).be64(ntp(end)); },
       start,
       end},
      {"delta microseconds",
       {{158, 4}, {159, 4}},
       [&](auto& w) { w.be32(9750000).be32(4250000); },
       int64_t{kExport} * 1000 - 9750,
       int64_t{kExport} * 1000 - 4250},
      {"start + duration ms",
       {{152, 8}, {161, 4}},
       [&](auto& w) { w.be64(start).be32(5500); },
       start,
       end},
      {"end + duration us",
       {{153, 8}, {162, 4}},
       [&](auto& w) { w.be64(end).be32(5500000); },
       start,
       end},
      {"sysuptime + systemInit in record",
       {{160, 8}, {22, 4}, {21, 4}},
       [&](auto& w) { w.be64(start - 1000).be32(1000).be32(6500); },
       start,
       end},
  };
  for (const auto& c : cases) {
    IpfixBuilder b(kExport, 0, 0);
    b.begin_set(2).template_record(300, c.fields).end_set();
    b.begin_set(300);
    c.write(b.w);
    b.end_set();
    Decoded t;
    t.feed(b.finish());
    ASSERT_EQ(t.out.size(), 1u) << c.name;
    EXPECT_EQ(t.out.records[0].start_ms, c.want_start) << c.name;
    EXPECT_EQ(t.out.records[0].end_ms, c.want_end) << c.name;
    EXPECT_FALSE(t.out.records[0].flags & flow_flags::kTimeEstimated) << c.name;
  }
}

TEST(Ipfix, SysUpTimeUsesSystemInitTimeFromOptions) {
  IpfixBuilder b(kExport, 0, 3);
  b.begin_set(3).options_template(400, 1, {{149, 4}, {160, 8}}).end_set();
  b.begin_set(400);
  b.w.be32(3).be64(1699990000000);
  b.end_set();
  b.begin_set(2).template_record(401, {{8, 4}, {22, 4}, {21, 4}}).end_set();
  b.begin_set(401);
  b.w.ipv4("10.0.0.1").be32(5000).be32(7000);
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out.records[0].start_ms, 1699990005000);
  EXPECT_EQ(t.out.records[0].end_ms, 1699990007000);
}

TEST(Ipfix, VariableLengthAndUnknownEnterpriseFieldsAreSkippedByLength) {
  IpfixBuilder b(kExport, 0, 0);
  b.begin_set(2)
      .template_record(
          256, {{8, 4}, {12, 4}, {999, 65535, 12345}, {82, 65535}, {7, 2}, {100, 3, 9999}, {11, 2}})
      .end_set();
  b.begin_set(256);
  // Short varlen (1-byte length) and long varlen (255 + 2-byte length).
  b.w.ipv4("10.0.0.1")
      .ipv4("10.0.0.2")
      .u8(3)
      .str("abc")
      .u8(255)
      .be16(300)
      .zeros(300)
      .be16(1234)
      .zeros(3)
      .be16(80);
  b.w.ipv4("10.0.0.3").ipv4("10.0.0.4").u8(0).u8(1).str("x").be16(4321).zeros(3).be16(443);
  b.end_set(1);
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 2u);
  EXPECT_EQ(t.out.records[0].src_port, 1234);
  EXPECT_EQ(t.out.records[0].dst_port, 80);
  EXPECT_EQ(t.out.records[1].src.to_string(), "10.0.0.3");
  EXPECT_EQ(t.out.records[1].dst_port, 443);
  EXPECT_EQ(t.d.stats().error(DecodeError::kBadRecord), 0u);
}

TEST(Ipfix, VariableLengthPastTheSetIsABadRecordAndEarlierRecordsSurvive) {
  IpfixBuilder b(kExport, 0, 0);
  b.begin_set(2).template_record(256, {{8, 4}, {82, 65535}}).end_set();
  b.begin_set(256);
  b.w.ipv4("10.0.0.1").u8(2).str("ok");
  b.w.ipv4("10.0.0.2").u8(200).str("short");
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.d.stats().error(DecodeError::kBadRecord), 1u);
}

TEST(Ipfix, Rfc5103BiflowBecomesTwoRecords) {
  IpfixBuilder b(kExport, 0, 0);
  b.begin_set(2)
      .template_record(256, {{8, 4},
                             {12, 4},
                             {7, 2},
                             {11, 2},
                             {4, 1},
                             {1, 8},
                             {2, 8},
                             {6, 1},
                             {1, 8, kPenReverse},
                             {2, 8, kPenReverse},
                             {6, 1, kPenReverse},
                             {152, 8},
                             {153, 8},
                             {10, 4},
                             {14, 4}})
      .end_set();
  b.begin_set(256);
  b.w.ipv4("10.0.0.5")
      .ipv4("203.0.113.80")
      .be16(51000)
      .be16(443)
      .u8(6)
      .be64(700)
      .be64(7)
      .u8(0x1a)
      .be64(90000)
      .be64(70)
      .u8(0x12)
      .be64(1699999990000)
      .be64(1699999999000)
      .be32(1)
      .be32(2);
  // A unidirectional record: no reverse traffic, no reverse half.
  b.w.ipv4("10.0.0.6")
      .ipv4("203.0.113.81")
      .be16(51001)
      .be16(443)
      .u8(6)
      .be64(60)
      .be64(1)
      .u8(0x02)
      .be64(0)
      .be64(0)
      .u8(0)
      .be64(1699999990000)
      .be64(1699999990000)
      .be32(1)
      .be32(2);
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 3u);
  const FlowRecord& fwd = t.out.records[0];
  const FlowRecord& rev = t.out.records[1];
  EXPECT_TRUE(fwd.flags & flow_flags::kBiflowForward);
  EXPECT_TRUE(rev.flags & flow_flags::kBiflowReverse);
  EXPECT_EQ(rev.src.to_string(), "203.0.113.80");
  EXPECT_EQ(rev.dst.to_string(), "10.0.0.5");
  EXPECT_EQ(rev.src_port, 443);
  EXPECT_EQ(rev.dst_port, 51000);
  EXPECT_EQ(rev.bytes, 90000u);
  EXPECT_EQ(rev.packets, 70u);
  EXPECT_EQ(rev.tcp_flags, 0x12);
  EXPECT_EQ(rev.in_if, 2u);
  EXPECT_EQ(rev.out_if, 1u);
  EXPECT_EQ(t.out.records[2].flags & flow_flags::kBiflowForward, 0);
}

TEST(Ipfix, SamplingFromOptionsRecords) {
  // samplingPacketInterval/Space (RFC 7270 / PSAMP): 1 of every 1+99 packets => rate 100.
  IpfixBuilder b(kExport, 0, 9);
  b.begin_set(3).options_template(500, 1, {{302, 4}, {305, 4}, {306, 4}}).end_set();
  b.begin_set(500);
  b.w.be32(77).be32(1).be32(99);
  b.end_set();
  b.begin_set(3).options_template(501, 1, {{48, 2}, {50, 4}}).end_set();
  b.begin_set(501);
  b.w.be16(5).be32(2000);  // samplerId 5: samplerRandomInterval 2000
  b.end_set(2);
  b.begin_set(2).template_record(502, {{8, 4}, {2, 4}, {1, 4}, {302, 4}}).end_set();
  b.begin_set(2).template_record(503, {{8, 4}, {2, 4}, {1, 4}, {48, 2}}).end_set();
  b.begin_set(502);
  b.w.ipv4("10.0.0.1").be32(1).be32(100).be32(77);
  b.end_set();
  b.begin_set(503);
  b.w.ipv4("10.0.0.2").be32(1).be32(100).be16(5);
  b.end_set(2);
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 2u);
  EXPECT_EQ(t.out.records[0].sampling_rate, 100u);
  EXPECT_EQ(t.out.records[0].bytes, 10000u);
  EXPECT_EQ(t.out.records[1].sampling_rate, 2000u);
  EXPECT_EQ(t.out.records[1].packets, 2000u);
}

TEST(Ipfix, TemplateWithdrawalSingleAndAll) {
  Decoded t;
  IpfixBuilder a(kExport, 0, 0);
  a.begin_set(2).template_record(256, {{8, 4}}).template_record(257, {{12, 4}}).end_set();
  t.feed(a.finish());
  IpfixBuilder w(kExport, 0, 0);
  w.begin_set(2).withdraw(256).end_set();
  t.feed(w.finish());
  EXPECT_EQ(t.d.stats().templates_withdrawn, 1u);
  IpfixBuilder data(kExport, 0, 0);
  data.begin_set(256);
  data.w.ipv4("10.0.0.1");
  data.end_set();
  data.begin_set(257);
  data.w.ipv4("10.0.0.2");
  data.end_set();
  t.feed(data.finish());
  ASSERT_EQ(t.out.size(), 1u);  // 257 still known, 256 withdrawn
  IpfixBuilder all(kExport, 0, 0);
  all.begin_set(2).withdraw(2).end_set();  // template id == set id: withdraw all
  t.feed(all.finish());
  EXPECT_EQ(t.d.stats().templates_withdrawn, 2u);
}

// One exporter sending a one-field template, then messages of `n` records numbered `seq`.
struct SequenceStream : Decoded {
  SequenceStream() {
    IpfixBuilder tpl(kExport, 0, 0);
    tpl.begin_set(2).template_record(256, {{8, 4}}).end_set();
    feed(tpl.finish());
  }
  void data(uint32_t seq, int n) {
    IpfixBuilder b(kExport, seq, 0);
    b.begin_set(256);
    for (int i = 0; i < n; ++i) b.w.ipv4("10.0.0.1");
    b.end_set();
    feed(b.finish());
  }
};

TEST(Ipfix, SequenceCountsDataRecords) {
  SequenceStream t;
  t.data(0, 3);
  t.data(3, 2);
  t.data(10, 1);  // 5 records lost
  EXPECT_EQ(t.d.stats().seq_lost, 5u);
}

TEST(Ipfix, MessageLengthMustMatch) {
  IpfixBuilder b(kExport, 0, 0);
  b.begin_set(2).template_record(256, {{8, 4}}).end_set();
  auto msg = b.finish();
  Decoded t;
  auto longer = msg;
  longer.push_back(0);  // datagram longer than the message: sniffed as not-IPFIX
  t.feed(longer);
  msg[3] = static_cast<uint8_t>(msg[3] + 8);  // claims more than it has
  t.feed(msg);
  EXPECT_EQ(t.d.stats().templates, 0u);
  EXPECT_EQ(t.d.stats().total_errors(), 2u);
}

TEST(Ipfix, ServerNameFromVendorStringElement) {
  IpfixBuilder b(kExport, 0, 0);
  b.begin_set(2).template_record(256, {{8, 4}, {157, 65535, 2636}, {157, 16, 2636}}).end_set();
  b.begin_set(256);
  b.w.ipv4("10.0.0.1").u8(9).str("k3121.com").str("w8510.com").zeros(7);
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 1u);
  // The last occurrence wins; NUL padding of fixed-length strings is stripped.
  EXPECT_EQ(t.out.name(t.out.records[0].name_ref), "w8510.com");
}

// Found by the interop suite (Procera, FS.com, Swisscom exports): a template with both IPv4 and
// IPv6 addresses leaves the family not in use all zeros, which must not hide the other one.
TEST(Ipfix, DualFamilyTemplateKeepsTheAddressInUse) {
  IpfixBuilder b(kExport, 0, 1);
  b.begin_set(2).template_record(256, {{8, 4}, {27, 16}, {12, 4}, {28, 16}, {4, 1}}).end_set();
  b.begin_set(256);
  b.w.ipv4("198.51.100.7").ipv6("::").ipv4("203.0.113.9").ipv6("::").u8(6);  // IPv4 flow
  b.w.ipv4("0.0.0.0").ipv6("2001:db8::1").ipv4("0.0.0.0").ipv6("2001:db8::2").u8(17);
  b.w.ipv4("0.0.0.0").ipv6("::").ipv4("0.0.0.0").ipv6("::").u8(1);  // nothing: 0.0.0.0 stays
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 3u);
  EXPECT_EQ(t.out.records[0].src.to_string(), "198.51.100.7");
  EXPECT_EQ(t.out.records[0].dst.to_string(), "203.0.113.9");
  EXPECT_EQ(t.out.records[1].src.to_string(), "2001:db8::1");
  EXPECT_EQ(t.out.records[1].dst.to_string(), "2001:db8::2");
  EXPECT_EQ(t.out.records[2].src.to_string(), "0.0.0.0");
  EXPECT_EQ(t.out.records[2].dst.to_string(), "0.0.0.0");
}

// Huawei/Swisscom routers (pmacct test 106, traffic-reproducer captures) put the outer tunnel
// header's addresses and protocol first and the inner flow's later in the same record. The
// later field wins, in template order, as in nfacctd (whose expected output shows the inner flow).
TEST(Ipfix, RepeatedElementsLaterFieldWinsInTemplateOrder) {
  IpfixBuilder b(kExport, 0, 1);
  b.begin_set(2)
      .template_record(
          256,
          {{27, 16}, {28, 16}, {4, 1}, {7, 2}, {8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 8}})
      .end_set();
  b.begin_set(256);
  b.w.ipv6("2001:db8:53::1").ipv6("2001:db8:9::1").u8(4).be16(0);  // outer: IP-in-IP
  b.w.ipv4("192.0.2.110").ipv4("192.0.2.14").be16(2222).be16(1111).u8(17).be64(1000);
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 1u);
  const FlowRecord& r = t.out.records[0];
  EXPECT_EQ(r.src.to_string(), "192.0.2.110");
  EXPECT_EQ(r.dst.to_string(), "192.0.2.14");
  EXPECT_EQ(r.src_port, 2222);
  EXPECT_EQ(r.dst_port, 1111);
  EXPECT_EQ(r.proto, 17);
}

TEST(Ipfix, RandomNOutOfNSamplingFromSizeAndPopulation) {
  // Cisco: samplingPacketInterval 1 beside samplingSize 1 / samplingPopulation 256 (RFC 5477).
  IpfixBuilder b(kExport, 0, 1);
  b.begin_set(3).options_template(600, 1, {{302, 4}, {305, 4}, {309, 4}, {310, 4}}).end_set();
  b.begin_set(600);
  b.w.be32(1).be32(1).be32(1).be32(256);
  b.end_set();
  b.begin_set(2).template_record(601, {{8, 4}, {1, 4}, {2, 4}, {302, 4}}).end_set();
  b.begin_set(601);
  b.w.ipv4("10.0.0.1").be32(100).be32(1).be32(1);
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out.records[0].sampling_rate, 256u);
  EXPECT_EQ(t.out.records[0].bytes, 25600u);
}

TEST(Ipfix, DataLinkFrameSectionGivesTheFlowKey) {
  // RFC 7133: only interfaces, the frame size and the frame's first bytes.
  test::WireBuilder frame;
  frame.mac({2, 0, 0, 0, 0, 1}).mac({2, 0, 0, 0, 0, 2}).be16(0x0800);
  frame.u8(0x45)
      .u8(0)
      .be16(40)
      .be16(0)
      .be16(0)
      .u8(64)
      .u8(6)
      .be16(0)
      .ipv4("192.0.2.10")
      .ipv4("198.51.100.20");
  frame.be16(51000).be16(443).be32(1).be32(0).u8(0x50).u8(0x12).be16(0).be16(0).be16(0);
  IpfixBuilder b(kExport, 0, 0);
  b.begin_set(2).template_record(700, {{10, 4}, {14, 4}, {312, 2}, {315, 65535}}).end_set();
  b.begin_set(700);
  b.w.be32(5).be32(6).be16(1514).u8(static_cast<uint8_t>(frame.size())).bytes(frame.view());
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 1u);
  const FlowRecord& r = t.out.records[0];
  EXPECT_EQ(r.src.to_string(), "192.0.2.10");
  EXPECT_EQ(r.dst.to_string(), "198.51.100.20");
  EXPECT_EQ(r.src_port, 51000);
  EXPECT_EQ(r.dst_port, 443);
  EXPECT_EQ(r.proto, 6);
  EXPECT_EQ(r.tcp_flags, 0x12);
  EXPECT_EQ(r.bytes, 1514u);  // dataLinkFrameSize
  EXPECT_EQ(r.packets, 1u);
  EXPECT_EQ(r.in_if, 5u);
}

// Fuzz finding: a systemInitTimeMilliseconds near 2^63 plus a huge sysUpTime overflowed int64.
TEST(Ipfix, HostileTimesAreIgnoredNotOverflowed) {
  IpfixBuilder b(kExport, 0, 0);
  b.begin_set(2)
      .template_record(800, {{8, 4}, {160, 8}, {22, 8}, {21, 8}, {161, 8}})
      .template_record(801, {{8, 4}, {150, 8}, {153, 8}, {158, 8}})
      .end_set();
  b.begin_set(800);
  b.w.ipv4("10.0.0.1")
      .be64(0xB5B5B5B5B5B5B5B5ull)
      .be64(0xB5B5B5B5B5B5B5B5ull)
      .be64(~0ull)
      .be64(~0ull);
  b.end_set();
  b.begin_set(801);
  b.w.ipv4("10.0.0.2").be64(~0ull).be64(~0ull).be64(~0ull);
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 2u);
  for (const FlowRecord& r : t.out.records) {
    EXPECT_EQ(r.start_ms, int64_t{kExport} * 1000);  // nothing usable: the export time
    EXPECT_EQ(r.end_ms, int64_t{kExport} * 1000);
    EXPECT_TRUE(r.flags & flow_flags::kTimeEstimated);
  }
}

TEST(Ipfix, NprobeServerNameElements) {
  // nProbe (PEN 35632): SSL_SERVER_NAME 188 and DNS_QUERY 205, variable length.
  IpfixBuilder b(kExport, 0, 0);
  b.begin_set(2).template_record(900, {{8, 4}, {188, 65535, 35632}}).end_set();
  b.begin_set(2).template_record(901, {{8, 4}, {205, 65535, 35632}}).end_set();
  b.begin_set(900);
  b.w.ipv4("10.0.0.1").u8(9).str("b2047.com");
  b.end_set();
  b.begin_set(901);
  b.w.ipv4("10.0.0.2").u8(9).str("k3121.com");
  b.end_set();
  Decoded t;
  t.feed(b.finish());
  ASSERT_EQ(t.out.size(), 2u);
  EXPECT_EQ(t.out.name(t.out.records[0].name_ref), "b2047.com");
  EXPECT_EQ(t.out.name(t.out.records[1].name_ref), "k3121.com");
}

// softflowd numbers IPFIX messages by the flow records up to and including each message (the
// logstash ipfix.dat capture: 6 flows with seq 6, 1 with seq 7, 5 with seq 12). That is no loss.
TEST(Ipfix, SequenceReadingIsLearnedPerExporter) {
  SequenceStream t;
  t.data(6, 6);
  t.data(7, 1);
  t.data(12, 5);
  t.data(15, 3);
  EXPECT_EQ(t.d.stats().seq_lost, 0u);
  t.data(30, 5);  // 10 flows really missing, by the learned reading (15 + 5 expected 20)
  EXPECT_EQ(t.d.stats().seq_lost, 10u);
}

}  // namespace
}  // namespace orbwatch::ingest
