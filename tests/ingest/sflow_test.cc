#include "ingest/sflow.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "util/packet_builder.h"
#include "util/sflow_builder.h"

namespace orbwatch::ingest {
namespace {

using test::WireBuilder;
namespace sf = test::sflow;

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

struct Decoded {
  FlowBatch batch;
  DecodeStats stats;
};

// Decodes from an exactly-sized heap copy so AddressSanitizer catches reads past the end.
void decode(const uint8_t* data, size_t len, SflowAgentState& st, Decoded& d,
            const char* udp_src = "203.0.113.9") {
  auto buf = std::make_unique<uint8_t[]>(len == 0 ? 1 : len);
  std::copy(data, data + len, buf.get());
  Datagram dg;
  dg.data = std::span<const uint8_t>(buf.get(), len);
  dg.exporter = ip(udp_src);
  dg.recv_ms = 1'700'000'000'123;
  decode_sflow(dg, st, d.batch, d.stats);
}
void decode(const WireBuilder& w, SflowAgentState& st, Decoded& d,
            const char* udp_src = "203.0.113.9") {
  decode(w.data(), w.size(), st, d, udp_src);
}

WireBuilder tcp_frame() {
  return test::eth_ipv4_tcp("192.0.2.10", "198.51.100.20", 40000, 443, 0x18, 30);
}

TEST(SflowTest, FlowSampleWithSampledHeader) {
  WireBuilder frame = tcp_frame();  // 84 bytes
  sf::FlowSampleFields f;
  f.rate = 512;
  WireBuilder dg = sf::datagram(
      "10.0.0.1", 7, 100,
      {sf::flow_sample(f,
                       {sf::header_record(1, static_cast<uint32_t>(frame.size() + 4), 4, frame)})});
  SflowAgentState st;
  Decoded d;
  decode(dg, st, d);
  EXPECT_EQ(d.stats.total_errors(), 0u) << d.stats.last_error_text();
  ASSERT_EQ(d.batch.size(), 1u);
  const FlowRecord& r = d.batch.records[0];
  EXPECT_EQ(r.src, ip("192.0.2.10"));
  EXPECT_EQ(r.dst, ip("198.51.100.20"));
  EXPECT_EQ(r.src_port, 40000);
  EXPECT_EQ(r.dst_port, 443);
  EXPECT_EQ(r.proto, 6);
  EXPECT_EQ(r.tcp_flags, 0x18);
  EXPECT_EQ(r.bytes, frame.size() * 512);  // frame_length - stripped (FCS)
  EXPECT_EQ(r.packets, 512u);
  EXPECT_EQ(r.sampling_rate, 512u);
  EXPECT_EQ(r.flags, flow_flags::kSampled | flow_flags::kTimeEstimated);
  EXPECT_EQ(r.source, FlowSource::kSflow);
  EXPECT_EQ(r.exporter, ip("10.0.0.1"));
  EXPECT_EQ(r.obs_domain, 7u);
  EXPECT_EQ(r.in_if, 3u);
  EXPECT_EQ(r.out_if, 7u);
  EXPECT_EQ(r.start_ms, 1'700'000'000'123);
  EXPECT_EQ(r.end_ms, r.start_ms);
  EXPECT_EQ(d.stats.records, 1u);
  EXPECT_EQ(st.counts().flow_samples, 1u);
  EXPECT_EQ(st.counts().datagrams, 1u);
}

TEST(SflowTest, AgentAddressFallbackAndIpv6Agent) {
  WireBuilder frame = tcp_frame();
  auto sample = sf::flow_sample({}, {sf::header_record(1, 100, 4, frame)});
  SflowAgentState st;
  Decoded d;
  decode(sf::datagram("0.0.0.0", 0, 1, {sample}), st, d, "203.0.113.9");
  ASSERT_EQ(d.batch.size(), 1u);
  EXPECT_EQ(d.batch.records[0].exporter, ip("203.0.113.9"));

  decode(sf::datagram("", 0, 1, {sample}, "2001:db8::5"), st, d);
  ASSERT_EQ(d.batch.size(), 2u);
  EXPECT_EQ(d.batch.records[1].exporter, ip("2001:db8::5"));
}

TEST(SflowTest, HeaderProtocolsIpv4AndIpv6) {
  WireBuilder v4;
  test::ipv4(v4, 17, "10.1.1.1", "10.2.2.2", 8 + 20);
  test::udp(v4, 53, 33000, 20);
  v4.zeros(20);
  WireBuilder v6;
  test::ipv6(v6, 58, "2001:db8::1", "2001:db8::2", 8);
  test::icmp(v6, 135, 0);
  SflowAgentState st;
  Decoded d;
  sf::FlowSampleFields f;
  f.rate = 10;
  decode(sf::datagram("10.0.0.1", 0, 1,
                      {sf::flow_sample(f, {sf::header_record(11, 48, 0, v4)}),
                       sf::flow_sample(f, {sf::header_record(12, 48, 0, v6)})}),
         st, d);
  ASSERT_EQ(d.batch.size(), 2u);
  EXPECT_EQ(d.batch.records[0].src, ip("10.1.1.1"));
  EXPECT_EQ(d.batch.records[0].src_port, 53);
  EXPECT_EQ(d.batch.records[0].bytes, 480u);
  EXPECT_EQ(d.batch.records[1].proto, 58);
  EXPECT_EQ(d.batch.records[1].dst_port, 135 << 8);
}

TEST(SflowTest, ExpandedSampleAndInterfaceEncodings) {
  WireBuilder frame = tcp_frame();
  auto rec = sf::header_record(1, 100, 4, frame);
  SflowAgentState st;
  Decoded d;
  sf::FlowSampleFields f;
  f.input = 1140;
  f.output = 2000000;  // expanded: full 32-bit ifIndex
  sf::FlowSampleFields disc = f;
  disc.out_format = 1;  // discarded
  disc.output = 258;
  sf::FlowSampleFields multi = f;
  multi.out_format = 2;  // multiple interfaces
  multi.output = 7;
  decode(sf::datagram("10.0.0.1", 0, 1,
                      {sf::flow_sample_expanded(f, {rec}), sf::flow_sample_expanded(disc, {rec}),
                       sf::flow_sample_expanded(multi, {rec})}),
         st, d);
  ASSERT_EQ(d.batch.size(), 3u);
  EXPECT_EQ(d.batch.records[0].in_if, 1140u);
  EXPECT_EQ(d.batch.records[0].out_if, 2000000u);
  EXPECT_EQ(d.batch.records[1].out_if, 0u);
  EXPECT_EQ(d.batch.records[2].out_if, 0u);
  EXPECT_EQ(d.batch.records[2].in_if, 1140u);
  EXPECT_EQ(st.counts().expanded_flow_samples, 3u);

  // Compact encodings: top two bits of the interface word.
  Decoded c;
  sf::FlowSampleFields local, cdisc, cmulti;
  local.output = 0x3fffffff;  // the agent itself
  cdisc.output = 0x40000001;
  cmulti.output = 0x80000007;
  cmulti.input = 9;
  decode(sf::datagram("10.0.0.1", 0, 2,
                      {sf::flow_sample(local, {rec}), sf::flow_sample(cdisc, {rec}),
                       sf::flow_sample(cmulti, {rec})}),
         st, c);
  ASSERT_EQ(c.batch.size(), 3u);
  for (const auto& r : c.batch.records) EXPECT_EQ(r.out_if, 0u);
  EXPECT_EQ(c.batch.records[2].in_if, 9u);
}

TEST(SflowTest, ExtendedSwitchRouterGateway) {
  WireBuilder frame = tcp_frame();
  SflowAgentState st;
  Decoded d;
  decode(sf::datagram(
             "10.0.0.1", 0, 1,
             {sf::flow_sample({}, {sf::header_record(1, 100, 4, frame), sf::ext_switch(300, 301),
                                   sf::ext_router("192.0.2.254", 24, 16),
                                   sf::ext_gateway(65000, 64500, 64501, {64501, 3356, 15169})}),
              sf::flow_sample(
                  {}, {sf::ext_gateway(65000, 0, 0, {}), sf::header_record(1, 100, 4, frame)})}),
         st, d);
  EXPECT_EQ(d.stats.total_errors(), 0u) << d.stats.last_error_text();
  ASSERT_EQ(d.batch.size(), 2u);
  const FlowRecord& r = d.batch.records[0];
  EXPECT_EQ(r.vlan, 300);
  EXPECT_EQ(r.src_mask, 24);
  EXPECT_EQ(r.dst_mask, 16);
  EXPECT_EQ(r.src_as, 64500u);
  EXPECT_EQ(r.dst_as, 15169u);
  // Empty path / zero source AS: the router's own AS (locally originated / delivered).
  EXPECT_EQ(d.batch.records[1].src_as, 65000u);
  EXPECT_EQ(d.batch.records[1].dst_as, 65000u);
}

TEST(SflowTest, VlanFromFrameWhenNoSwitchRecord) {
  WireBuilder frame;
  test::ethernet(frame, test::ethertype::kVlan);
  test::vlan_tag(frame, 42, test::ethertype::kIpv4);
  test::ipv4(frame, 17, "10.0.0.1", "10.0.0.2", 8);
  test::udp(frame, 1, 2, 0);
  SflowAgentState st;
  Decoded d;
  decode(
      sf::datagram("10.0.0.1", 0, 1, {sf::flow_sample({}, {sf::header_record(1, 50, 4, frame)})}),
      st, d);
  ASSERT_EQ(d.batch.size(), 1u);
  EXPECT_EQ(d.batch.records[0].vlan, 42);
}

TEST(SflowTest, SampledIpRecords) {
  SflowAgentState st;
  Decoded d;
  sf::FlowSampleFields f;
  f.rate = 100;
  WireBuilder frame = tcp_frame();
  decode(
      sf::datagram(
          "10.0.0.1", 0, 1,
          {sf::flow_sample(f,
                           {sf::ipv4_record(1500, 6, "10.5.5.5", "10.6.6.6", 80, 1234, 0x11, 8)}),
           sf::flow_sample(f, {sf::ipv6_record(1280, 17, "2001:db8::a", "2001:db8::b", 443, 5000)}),
           // Header and IPv4 record: the header wins.
           sf::flow_sample(f, {sf::ipv4_record(1500, 6, "10.5.5.5", "10.6.6.6", 80, 1234),
                               sf::header_record(1, 88, 4, frame)})}),
      st, d);
  EXPECT_EQ(d.stats.total_errors(), 0u) << d.stats.last_error_text();
  ASSERT_EQ(d.batch.size(), 3u);
  EXPECT_EQ(d.batch.records[0].src, ip("10.5.5.5"));
  EXPECT_EQ(d.batch.records[0].bytes, 150000u);
  EXPECT_EQ(d.batch.records[0].tcp_flags, 0x11);
  EXPECT_EQ(d.batch.records[0].tos, 8);
  EXPECT_EQ(d.batch.records[1].dst, ip("2001:db8::b"));
  EXPECT_EQ(d.batch.records[1].proto, 17);
  EXPECT_EQ(d.batch.records[2].src, ip("192.0.2.10"));
  EXPECT_EQ(d.batch.records[2].bytes, 8400u);
}

TEST(SflowTest, NonIpAndUnknownAreSkipped) {
  WireBuilder arp;
  test::ethernet(arp, test::ethertype::kArp);
  arp.zeros(28);
  WireBuilder frame = tcp_frame();
  WireBuilder unknown_body;
  unknown_body.be32(1).be32(2).be32(3);
  SflowAgentState st;
  Decoded d;
  decode(sf::datagram("10.0.0.1", 0, 1,
                      {sf::flow_sample({}, {sf::header_record(1, 64, 4, arp)}),
                       sf::element((9999u << 12) | 1, unknown_body),  // enterprise sample
                       sf::flow_sample({}, {sf::element(2000, unknown_body),
                                            sf::header_record(1, 100, 4, frame)})}),
         st, d);
  EXPECT_EQ(d.stats.total_errors(), 0u) << d.stats.last_error_text();
  ASSERT_EQ(d.batch.size(), 1u);
  EXPECT_EQ(st.counts().non_ip_samples, 1u);
  EXPECT_EQ(st.counts().unknown_samples, 1u);
  EXPECT_EQ(st.counts().unknown_records, 1u);
}

TEST(SflowTest, CounterSamples) {
  SflowAgentState st;
  Decoded d;
  decode(
      sf::datagram(
          "10.0.0.1", 0, 1,
          {sf::counter_sample(1, 5, {sf::generic_counters(5, 1000, 2000), sf::ethernet_counters()}),
           sf::counter_sample_expanded(
               1, 0, 70000, {sf::ethernet_counters(), sf::generic_counters(70000, 3, 4)})}),
      st, d);
  EXPECT_EQ(d.stats.total_errors(), 0u) << d.stats.last_error_text();
  EXPECT_EQ(d.batch.size(), 0u);
  EXPECT_EQ(d.stats.counter_samples, 2u);
  EXPECT_EQ(st.counts().counter_samples, 1u);
  EXPECT_EQ(st.counts().expanded_counter_samples, 1u);
  const IfCounters* c = st.counters(ip("10.0.0.1"), 5);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->if_index, 5u);
  EXPECT_EQ(c->if_type, 6u);
  EXPECT_EQ(c->if_speed, 10'000'000'000ull);
  EXPECT_EQ(c->direction, 1u);
  EXPECT_EQ(c->status, 3u);
  EXPECT_EQ(c->in_octets, 1000u);
  EXPECT_EQ(c->in_ucast, 11u);
  EXPECT_EQ(c->in_unknown, 16u);
  EXPECT_EQ(c->out_octets, 2000u);
  EXPECT_EQ(c->out_errors, 25u);
  EXPECT_EQ(c->promisc, 1u);
  EXPECT_EQ(c->updated_ms, 1'700'000'000'123);
  ASSERT_NE(st.counters(ip("10.0.0.1"), 70000), nullptr);
  EXPECT_EQ(st.counters(ip("10.0.0.1"), 70000)->in_octets, 3u);
  EXPECT_EQ(st.counters(ip("10.0.0.2"), 5), nullptr);

  // A generic record that is too short is an error, the next sample still counts.
  WireBuilder short_body;
  short_body.be32(9).be32(6);
  Decoded e;
  decode(sf::datagram("10.0.0.1", 0, 2,
                      {sf::counter_sample(2, 9, {sf::element(1, short_body)}),
                       sf::counter_sample(2, 6, {sf::generic_counters(6, 1, 1)})}),
         st, e);
  EXPECT_EQ(e.stats.error(DecodeError::kBadSample), 1u);
  EXPECT_EQ(e.stats.counter_samples, 1u);
}

TEST(SflowTest, CounterTableIsCapped) {
  SflowAgentState::Limits lim;
  lim.max_counters = 32;
  SflowAgentState st(lim);
  for (uint32_t i = 1; i <= 500; ++i) {
    Decoded d;
    decode(
        sf::datagram("10.0.0.1", 0, i, {sf::counter_sample(i, i, {sf::generic_counters(i, i, i)})}),
        st, d);
  }
  EXPECT_LE(st.counters_size(), 32u);
  EXPECT_GE(st.counts().counters_evicted, 468u);
  EXPECT_NE(st.counters(ip("10.0.0.1"), 500), nullptr) << "the newest survives";
  EXPECT_EQ(st.counters(ip("10.0.0.1"), 1), nullptr) << "the oldest is evicted";
}

TEST(SflowTest, SourceAndAgentTablesAreCapped) {
  SflowAgentState::Limits lim;
  lim.max_agents = 8;
  lim.max_sources = 16;
  SflowAgentState st(lim);
  WireBuilder frame = tcp_frame();
  for (uint32_t i = 0; i < 300; ++i) {
    sf::FlowSampleFields f;
    f.source_index = i;
    Decoded d;
    decode(
        sf::datagram("10.0.0.1", i, 1, {sf::flow_sample(f, {sf::header_record(1, 100, 4, frame)})}),
        st, d);
    ASSERT_EQ(d.batch.size(), 1u);
  }
  EXPECT_LE(st.agents_size(), 8u);
  EXPECT_LE(st.sources_size(), 16u);
  EXPECT_GT(st.counts().agents_evicted, 0u);
  EXPECT_GT(st.counts().sources_evicted, 0u);
}

TEST(SflowTest, DiscardSamplesAndDrops) {
  WireBuilder frame = tcp_frame();
  SflowAgentState st;
  Decoded d;
  decode(sf::datagram("10.0.0.1", 0, 1,
                      {sf::discard_sample(1, 0, 258, {sf::header_record(1, 100, 4, frame)}),
                       sf::discard_sample(2, 5, 3, {})}),
         st, d);
  EXPECT_EQ(d.stats.total_errors(), 0u) << d.stats.last_error_text();
  EXPECT_EQ(d.batch.size(), 0u) << "discarded packets are not flows";
  EXPECT_EQ(d.stats.discarded_packets, 2u);
  EXPECT_EQ(st.counts().discard_samples, 2u);

  // The flow sample `drops` field is cumulative: the increase is counted.
  Decoded e;
  sf::FlowSampleFields f;
  f.drops = 100;
  auto rec = sf::header_record(1, 100, 4, frame);
  decode(sf::datagram("10.0.0.1", 0, 2, {sf::flow_sample(f, {rec})}), st, e);
  EXPECT_EQ(e.stats.discarded_packets, 0u) << "first value is the baseline";
  f.seq = 2;
  f.drops = 130;
  decode(sf::datagram("10.0.0.1", 0, 3, {sf::flow_sample(f, {rec})}), st, e);
  EXPECT_EQ(e.stats.discarded_packets, 30u);
}

TEST(SflowTest, SequenceGaps) {
  WireBuilder frame = tcp_frame();
  auto rec = sf::header_record(1, 100, 4, frame);
  SflowAgentState st;
  Decoded d;
  sf::FlowSampleFields f;
  f.seq = 10;
  decode(sf::datagram("10.0.0.1", 0, 1, {sf::flow_sample(f, {rec})}), st, d);
  f.seq = 11;
  decode(sf::datagram("10.0.0.1", 0, 2, {sf::flow_sample(f, {rec})}), st, d);
  EXPECT_EQ(d.stats.seq_lost, 0u);
  f.seq = 20;                                                                  // 8 samples missing
  decode(sf::datagram("10.0.0.1", 0, 5, {sf::flow_sample(f, {rec})}), st, d);  // 2 datagrams
  EXPECT_EQ(d.stats.seq_lost, 2u);
  EXPECT_EQ(st.counts().samples_lost, 8u);
  // Another sub-agent has its own sequence.
  decode(sf::datagram("10.0.0.1", 1, 1000, {}), st, d);
  EXPECT_EQ(d.stats.seq_lost, 2u);
  // Agent restart: the sequence goes back to 1, a reset rather than 4 billion lost.
  decode(sf::datagram("10.0.0.1", 0, 1, {}), st, d);
  EXPECT_EQ(d.stats.seq_lost, 2u);
  EXPECT_EQ(d.stats.seq_resets, 1u);
}

TEST(SflowTest, BadHeaders) {
  SflowAgentState st;
  Decoded d;
  WireBuilder v4;
  v4.be32(4).be32(1).ipv4("10.0.0.1").be32(0).be32(1).be32(0).be32(0);
  decode(v4, st, d);
  EXPECT_EQ(d.stats.error(DecodeError::kBadVersion), 1u);
  WireBuilder at;
  at.be32(5).be32(3).zeros(24);
  decode(at, st, d);
  EXPECT_EQ(d.stats.error(DecodeError::kBadVersion), 2u);
  decode(nullptr, 0, st, d);
  EXPECT_EQ(d.stats.error(DecodeError::kTruncated), 1u);
  EXPECT_EQ(d.batch.size(), 0u);
}

TEST(SflowTest, AbsurdCounts) {
  SflowAgentState st;
  WireBuilder frame = tcp_frame();
  {
    Decoded d;  // num_samples = 2^32-1 with one real sample
    WireBuilder w = sf::datagram("10.0.0.1", 0, 1,
                                 {sf::flow_sample({}, {sf::header_record(1, 100, 4, frame)})});
    w.patch_be32(24, 0xffffffff);
    decode(w, st, d);
    EXPECT_EQ(d.stats.error(DecodeError::kBadLength), 1u);
    EXPECT_EQ(d.batch.size(), 1u) << "the sample that is there still decodes";
  }
  {
    Decoded d;  // num_records = 2^32-1
    WireBuilder w = sf::datagram("10.0.0.1", 0, 2,
                                 {sf::flow_sample({}, {sf::header_record(1, 100, 4, frame)})});
    w.patch_be32(28 + 8 + 28, 0xffffffff);
    decode(w, st, d);
    EXPECT_EQ(d.stats.error(DecodeError::kBadSample), 1u);
    EXPECT_EQ(d.batch.size(), 0u);
  }
  {
    Decoded d;  // header_length larger than the record
    WireBuilder w = sf::datagram("10.0.0.1", 0, 3,
                                 {sf::flow_sample({}, {sf::header_record(1, 100, 4, frame)})});
    w.patch_be32(28 + 8 + 32 + 8 + 12, 0x7fffffff);
    decode(w, st, d);
    EXPECT_EQ(d.stats.error(DecodeError::kBadSample), 1u);
    EXPECT_EQ(d.batch.size(), 0u);
  }
  {
    Decoded d;  // AS path with 2^32-1 segments, and a segment with 2^32-1 ASes
    WireBuilder w =
        sf::datagram("10.0.0.1", 0, 4, {sf::flow_sample({}, {sf::ext_gateway(1, 2, 3, {4, 5})})});
    // gateway body: nh type+addr (8), as, src_as, peer (12), segments at +20
    size_t gw = 28 + 8 + 32 + 8;
    WireBuilder w2 = w;
    w.patch_be32(gw + 20, 0xffffffff);
    decode(w, st, d);
    w2.patch_be32(gw + 28, 0xffffffff);
    decode(w2, st, d);
    EXPECT_EQ(d.stats.error(DecodeError::kBadSample), 2u);
  }
  {
    Decoded d;  // sample length past the end
    WireBuilder w = sf::datagram("10.0.0.1", 0, 5, {sf::counter_sample(1, 1, {})});
    w.patch_be32(28 + 4, 0xfffffff0);
    decode(w, st, d);
    EXPECT_EQ(d.stats.error(DecodeError::kTruncated), 1u);
    EXPECT_EQ(d.stats.last_error.offset, 28u);
  }
}

TEST(SflowTest, TruncationAtEveryOffset) {
  WireBuilder frame = tcp_frame();
  sf::FlowSampleFields f;
  WireBuilder dg = sf::datagram(
      "10.0.0.1", 3, 1,
      {sf::flow_sample(f,
                       {sf::header_record(1, 100, 4, frame), sf::ext_switch(5, 6),
                        sf::ext_router("10.0.0.254", 8, 9), sf::ext_gateway(1, 2, 3, {4, 5, 6})}),
       sf::counter_sample(1, 3, {sf::generic_counters(3, 1, 2), sf::ethernet_counters()}),
       sf::flow_sample_expanded(f, {sf::ipv6_record(100, 6, "2001:db8::1", "2001:db8::2", 1, 2)}),
       sf::discard_sample(1, 0, 1, {sf::header_record(1, 100, 4, frame)}),
       sf::counter_sample_expanded(1, 0, 4, {sf::generic_counters(4, 1, 2)})});
  {
    SflowAgentState st;
    Decoded full;
    decode(dg, st, full);
    ASSERT_EQ(full.stats.total_errors(), 0u) << full.stats.last_error_text();
    ASSERT_EQ(full.batch.size(), 2u);
  }
  SflowAgentState st;  // shared: state must stay consistent across broken inputs
  for (size_t n = 0; n < dg.size(); ++n) {
    Decoded d;
    decode(dg.data(), n, st, d);
    EXPECT_GT(d.stats.total_errors(), 0u) << "prefix " << n;
    EXPECT_LE(d.batch.size(), 2u);
    for (const auto& r : d.batch.records) {
      EXPECT_EQ(r.source, FlowSource::kSflow);
      EXPECT_TRUE(r.src == ip("192.0.2.10") || r.src == ip("2001:db8::1"));
    }
  }
}

TEST(SflowTest, ByteFlipsDoNotCrash) {
  WireBuilder frame = tcp_frame();
  WireBuilder dg = sf::datagram(
      "10.0.0.1", 3, 1,
      {sf::flow_sample({}, {sf::header_record(1, 100, 4, frame), sf::ext_gateway(1, 2, 3, {4})}),
       sf::counter_sample(1, 3, {sf::generic_counters(3, 1, 2)})});
  SflowAgentState st;
  for (size_t i = 0; i < dg.size(); ++i) {
    for (uint8_t v : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x80}, uint8_t{0x01}}) {
      WireBuilder m = dg;
      m.vec()[i] = v;
      Decoded d;
      decode(m, st, d);
      EXPECT_LE(d.batch.size(), 1u);
    }
  }
}

}  // namespace
}  // namespace orbwatch::ingest
