#include "ingest/flow_meter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "util/wire_builder.h"

namespace orbwatch::ingest {
namespace {

using test::WireBuilder;

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

PacketInfo tcp(std::string_view src, std::string_view dst, uint16_t sport, uint16_t dport,
               uint32_t ip_len = 100, uint8_t flags = kAck) {
  PacketInfo p;
  p.src = *IpAddr::parse(src);
  p.dst = *IpAddr::parse(dst);
  p.src_port = sport;
  p.dst_port = dport;
  p.proto = 6;
  p.tcp_flags = flags;
  p.ip_version = p.src.is_v4() ? 4 : 6;
  p.ip_len = ip_len;
  p.l4_valid = true;
  return p;
}

PacketInfo udp(std::string_view src, std::string_view dst, uint16_t sport, uint16_t dport,
               uint32_t ip_len = 60) {
  PacketInfo p = tcp(src, dst, sport, dport, ip_len, 0);
  p.proto = 17;
  return p;
}

void feed(FlowMeter& m, const PacketInfo& p, int64_t ts, FlowBatch& out) {
  m.process(PacketStatus::kOk, p, ts, out);
}

TEST(FlowMeter, CountsOneFlowPerDirection) {
  FlowMeterConfig cfg;
  cfg.exporter = *IpAddr::parse("192.0.2.254");
  cfg.in_if = 7;
  FlowMeter m(cfg);
  FlowBatch out;
  const int64_t t0 = 1700000000000;
  feed(m, tcp("10.0.0.1", "10.0.0.2", 40000, 443, 60, kSyn), t0, out);
  feed(m, tcp("10.0.0.2", "10.0.0.1", 443, 40000, 60, kSyn | kAck), t0 + 1, out);
  auto p = tcp("10.0.0.1", "10.0.0.2", 40000, 443, 1500, kAck);
  p.tos = 0x28;
  feed(m, p, t0 + 2, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(m.active_flows(), 2u);
  m.flush(out);
  ASSERT_EQ(out.size(), 2u);
  const FlowRecord& a = out.records[0];
  EXPECT_EQ(a.src, *IpAddr::parse("10.0.0.1"));
  EXPECT_EQ(a.packets, 2u);
  EXPECT_EQ(a.bytes, 1560u);
  EXPECT_EQ(a.tcp_flags, kSyn | kAck);
  EXPECT_EQ(a.tos, 0);  // first packet's
  EXPECT_EQ(a.start_ms, t0);
  EXPECT_EQ(a.end_ms, t0 + 2);
  EXPECT_EQ(a.source, FlowSource::kMeter);
  EXPECT_EQ(a.exporter, cfg.exporter);
  EXPECT_EQ(a.in_if, 7u);
  EXPECT_EQ(a.proto, 6);
  EXPECT_EQ(out.records[1].src_port, 443);
  EXPECT_EQ(m.stats().expired[static_cast<size_t>(ExpiryReason::kFlush)], 2u);
  EXPECT_EQ(m.stats().packets, 3u);
  EXPECT_EQ(m.stats().bytes, 1620u);
}

TEST(FlowMeter, VlanAndInterfaceArePartOfTheKey) {
  FlowMeter m;
  FlowBatch out;
  auto p = udp("10.0.0.1", "10.0.0.2", 1, 2);
  feed(m, p, 0, out);
  p.vlan = 10;
  feed(m, p, 0, out);
  EXPECT_EQ(m.active_flows(), 2u);
}

TEST(FlowMeter, InactiveTimeout) {
  FlowMeterConfig cfg;
  cfg.inactive_timeout_ms = 15000;
  FlowMeter m(cfg);
  FlowBatch out;
  feed(m, udp("10.0.0.1", "10.0.0.2", 1, 2), 1000, out);
  feed(m, udp("10.0.0.3", "10.0.0.4", 1, 2), 10000, out);
  m.advance(15999, out);
  EXPECT_TRUE(out.empty());
  m.advance(16000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.records[0].src, *IpAddr::parse("10.0.0.1"));
  // Packets drive time too: the next packet 20 s later expires the second flow first.
  feed(m, udp("10.0.0.3", "10.0.0.4", 1, 2), 30000, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.records[1].end_ms, 10000);
  EXPECT_EQ(m.stats().expired[static_cast<size_t>(ExpiryReason::kInactive)], 2u);
  EXPECT_EQ(m.active_flows(), 1u);
}

TEST(FlowMeter, ExpiredFlowIsNotExtendedBetweenScans) {
  FlowMeterConfig cfg;
  cfg.inactive_timeout_ms = 500;  // shorter than the scan interval
  FlowMeter m(cfg);
  FlowBatch out;
  feed(m, udp("10.0.0.1", "10.0.0.2", 1, 2), 0, out);
  feed(m, udp("10.0.0.1", "10.0.0.2", 1, 2), 600, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.records[0].packets, 1u);
}

TEST(FlowMeter, ActiveTimeoutSplitsLongFlows) {
  FlowMeterConfig cfg;
  cfg.active_timeout_ms = 60000;
  FlowMeter m(cfg);
  FlowBatch out;
  for (int64_t t = 0; t <= 150000; t += 1000) {
    feed(m, tcp("10.0.0.1", "10.0.0.2", 5000, 22), t, out);
  }
  m.flush(out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out.records[0].start_ms, 0);
  EXPECT_EQ(out.records[0].packets, 60u);
  EXPECT_EQ(out.records[1].start_ms, 60000);
  EXPECT_EQ(out.records[2].packets, 31u);
  EXPECT_EQ(m.stats().expired[static_cast<size_t>(ExpiryReason::kActive)], 2u);
}

TEST(FlowMeter, FinAndRstEndTheFlow) {
  FlowMeter m;
  FlowBatch out;
  feed(m, tcp("10.0.0.1", "10.0.0.2", 5000, 80, 60, kSyn), 0, out);
  feed(m, tcp("10.0.0.1", "10.0.0.2", 5000, 80, 60, kFin | kAck), 10, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.records[0].packets, 2u);
  EXPECT_EQ(out.records[0].tcp_flags, kSyn | kFin | kAck);
  feed(m, tcp("10.0.0.1", "10.0.0.2", 5000, 80, 40, kAck), 11, out);  // final ACK: new flow
  feed(m, tcp("10.0.0.2", "10.0.0.1", 80, 5000, 40, kRst), 12, out);
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(m.active_flows(), 1u);
  EXPECT_EQ(m.stats().expired[static_cast<size_t>(ExpiryReason::kTcpEnd)], 2u);

  FlowMeterConfig keep;
  keep.tcp_end_expiry = false;
  FlowMeter m2(keep);
  FlowBatch out2;
  feed(m2, tcp("10.0.0.1", "10.0.0.2", 5000, 80, 60, kFin), 0, out2);
  EXPECT_TRUE(out2.empty());
}

TEST(FlowMeter, FullTableExpiresLeastRecentlySeen) {
  FlowMeterConfig cfg;
  cfg.max_flows = 3;
  FlowMeter m(cfg);
  FlowBatch out;
  feed(m, udp("10.0.0.1", "10.0.0.9", 1, 1), 0, out);
  feed(m, udp("10.0.0.2", "10.0.0.9", 1, 1), 1, out);
  feed(m, udp("10.0.0.3", "10.0.0.9", 1, 1), 2, out);
  feed(m, udp("10.0.0.1", "10.0.0.9", 1, 1), 3, out);  // refreshes .1
  feed(m, udp("10.0.0.4", "10.0.0.9", 1, 1), 4, out);  // pushes out .2
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.records[0].src, *IpAddr::parse("10.0.0.2"));
  EXPECT_EQ(m.stats().expired[static_cast<size_t>(ExpiryReason::kEmergency)], 1u);
  EXPECT_EQ(m.active_flows(), 3u);
}

TEST(FlowMeter, ManyFlowsSurviveTableGrowthAndDeletion) {
  FlowMeterConfig cfg;
  cfg.max_flows = 5000;
  FlowMeter m(cfg);
  FlowBatch out;
  for (uint32_t round = 0; round < 3; ++round) {
    for (uint32_t i = 0; i < 20000; ++i) {
      PacketInfo p = udp("10.0.0.1", "10.0.0.2", static_cast<uint16_t>(i), 53);
      p.src = IpAddr::v4(0x0A000000u + i);
      feed(m, p, round, out);
    }
  }
  m.flush(out);
  uint64_t packets = 0;
  for (const auto& r : out.records) packets += r.packets;
  EXPECT_EQ(packets, 60000u);
  EXPECT_EQ(m.stats().flows_created, m.stats().expired_total());
  EXPECT_EQ(m.active_flows(), 0u);
}

TEST(FlowMeter, FragmentsFollowTheFirstFragment) {
  FlowMeter m;
  FlowBatch out;
  PacketInfo first = udp("10.0.0.1", "10.0.0.2", 4000, 2055, 1500);
  first.is_fragment = true;
  first.first_fragment = true;
  first.frag_id = 77;
  PacketInfo later = first;
  later.first_fragment = false;
  later.l4_valid = false;
  later.src_port = later.dst_port = 0;
  later.ip_len = 300;
  PacketInfo orphan = later;
  orphan.frag_id = 78;
  feed(m, first, 0, out);
  feed(m, later, 1, out);
  feed(m, orphan, 2, out);
  m.flush(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.records[0].dst_port, 2055);
  EXPECT_EQ(out.records[0].packets, 2u);
  EXPECT_EQ(out.records[0].bytes, 1800u);
  EXPECT_EQ(out.records[1].dst_port, 0);
  EXPECT_EQ(m.stats().fragments, 3u);
  EXPECT_EQ(m.stats().fragments_unmatched, 1u);
}

TEST(FlowMeter, NonIpAndBrokenPacketsAreCountedOnly) {
  FlowMeter m;
  FlowBatch out;
  PacketInfo none;
  m.process(PacketStatus::kNotIp, none, 0, out);
  m.process(PacketStatus::kTruncated, none, 0, out);
  m.process(PacketStatus::kMalformed, none, 0, out);
  m.flush(out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(m.stats().non_ip, 1u);
  EXPECT_EQ(m.stats().truncated, 1u);
  EXPECT_EQ(m.stats().malformed, 1u);
  EXPECT_EQ(m.stats().packets, 0u);
}

TEST(FlowMeter, HttpHostBecomesServerName) {
  FlowMeter m;
  FlowBatch out;
  std::string req = "GET / HTTP/1.1\r\nHost: Example.org\r\n\r\n";
  auto p = tcp("10.0.0.1", "10.0.0.2", 5000, 80);
  feed(m, p, 0, out);
  p.payload = reinterpret_cast<const uint8_t*>(req.data());
  p.payload_len = req.size();
  feed(m, p, 1, out);
  std::string other = "GET / HTTP/1.1\r\nHost: second.org\r\n\r\n";
  p.payload = reinterpret_cast<const uint8_t*>(other.data());
  p.payload_len = other.size();
  feed(m, p, 2, out);
  m.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.name(out.records[0].name_ref), "example.org");
  EXPECT_EQ(m.stats().names, 1u);
}

WireBuilder dns_a_response(std::string_view qname_label, int answers) {
  WireBuilder b;
  b.be16(1).be16(0x8180).be16(1).be16(static_cast<uint16_t>(answers)).be16(0).be16(0);
  b.u8(static_cast<uint8_t>(qname_label.size())).str(qname_label).u8(4).str("test").u8(0);
  b.be16(1).be16(1);
  for (int i = 0; i < answers; ++i) {
    b.be16(0xC00C).be16(1).be16(1).be32(30).be16(4).be32(0xC0000200u + static_cast<uint32_t>(i));
  }
  return b;
}

TEST(FlowMeter, DnsAnswersFollowTheirRecordAndAreCapped) {
  FlowMeterConfig cfg;
  cfg.max_dns_answers = 16;
  FlowMeter m(cfg);
  FlowBatch out;
  WireBuilder r1 = dns_a_response("host", 10);
  WireBuilder r2 = dns_a_response("other", 10);
  auto p = udp("192.0.2.53", "10.0.0.1", 53, 33000);
  p.payload = r1.data();
  p.payload_len = r1.size();
  feed(m, p, 0, out);
  p.payload = r2.data();
  p.payload_len = r2.size();
  feed(m, p, 1, out);
  auto q = udp("10.0.0.1", "192.0.2.53", 33001, 53);
  feed(m, q, 2, out);  // no payload: no name, no answers
  m.flush(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.name(out.records[0].name_ref), "host.test");
  ASSERT_EQ(out.dns.size(), 16u);
  for (const auto& d : out.dns) EXPECT_EQ(d.record, 0u);
  EXPECT_EQ(out.name(out.dns[0].name), "host.test");
  EXPECT_EQ(out.dns[0].addr, *IpAddr::parse("192.0.2.0"));
  EXPECT_EQ(out.dns[15].addr, *IpAddr::parse("192.0.2.5"));
  EXPECT_EQ(out.dns[0].ttl, 30u);
  EXPECT_EQ(out.records[1].name_ref, 0u);
  EXPECT_EQ(m.stats().names_dropped, 1u);
}

TEST(FlowMeter, NamePoolIsBounded) {
  FlowMeterConfig cfg;
  cfg.max_named_flows = 2;
  FlowMeter m(cfg);
  FlowBatch out;
  std::string req = "GET / HTTP/1.1\r\nHost: a.org\r\n\r\n";
  for (uint16_t i = 0; i < 5; ++i) {
    auto p = tcp("10.0.0.1", "10.0.0.2", static_cast<uint16_t>(1000 + i), 80);
    p.payload = reinterpret_cast<const uint8_t*>(req.data());
    p.payload_len = req.size();
    feed(m, p, i, out);
  }
  m.flush(out);
  EXPECT_EQ(m.stats().names, 2u);
  EXPECT_EQ(m.stats().names_dropped, 3u);
  EXPECT_EQ(out.names.size(), 2u);
}

// A quick throughput figure (formal benchmarks live in bench/); not a pass/fail check.
TEST(FlowMeter, ThroughputSmoke) {
  FlowMeter m;
  FlowBatch out;
  std::vector<PacketInfo> pkts;
  for (uint32_t i = 0; i < 4096; ++i) {
    PacketInfo p = tcp("10.0.0.1", "10.0.0.2", static_cast<uint16_t>(1024 + (i % 512)), 443);
    p.src = IpAddr::v4(0x0A000000u + (i * 2654435761u) % 20000);
    pkts.push_back(p);
  }
  const int n = 2000000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    feed(m, pkts[static_cast<size_t>(i) & 4095], i / 1000, out);
    if (out.size() > 4096) out.clear();
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("packets_per_second", std::to_string(static_cast<int64_t>(n / s)));
  std::printf("flow meter: %.2f M packets/s (%d packets, %zu flows)\n", n / s / 1e6, n,
              m.active_flows());
  EXPECT_EQ(m.stats().packets, static_cast<uint64_t>(n));
}

}  // namespace
}  // namespace orbwatch::ingest
