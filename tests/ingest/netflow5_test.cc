#include <gtest/gtest.h>

#include "core/time.h"
#include "ingest/export_decoder.h"
#include "util/export_builder.h"

namespace orbwatch::ingest {
namespace {

using test::V5Builder;

Datagram dg(const std::vector<uint8_t>& b, const char* from = "192.0.2.1") {
  return Datagram{b, *IpAddr::parse(from), 2055, 2055, 1700000000000};
}

TEST(Netflow5, DecodesRecordsWithAbsoluteTimes) {
  // Export at 1700000000.5 s; exporter up 100000 ms; flow 90000..95000 ms of uptime.
  auto msg = V5Builder(100000, 1700000000, 500000000, 7, 0, 1, 2)
                 .record("10.0.0.1", "198.51.100.7", 40000, 443, 6, 10, 1500, 90000, 95000, 0x1b, 3,
                         4, 64500, 15169)
                 .record("10.0.0.2", "198.51.100.8", 53, 53, 17, 1, 80, 99999, 100001)
                 .finish();
  ExportDecoder d;
  FlowBatch out;
  EXPECT_EQ(d.decode(dg(msg), out), ExportKind::kNetflow5);
  ASSERT_EQ(out.size(), 2u);
  const FlowRecord& r = out.records[0];
  EXPECT_EQ(r.src.to_string(), "10.0.0.1");
  EXPECT_EQ(r.dst.to_string(), "198.51.100.7");
  EXPECT_EQ(r.src_port, 40000);
  EXPECT_EQ(r.dst_port, 443);
  EXPECT_EQ(r.proto, 6);
  EXPECT_EQ(r.tcp_flags, 0x1b);
  EXPECT_EQ(r.packets, 10u);
  EXPECT_EQ(r.bytes, 1500u);
  EXPECT_EQ(r.in_if, 3u);
  EXPECT_EQ(r.out_if, 4u);
  EXPECT_EQ(r.src_as, 64500u);
  EXPECT_EQ(r.dst_as, 15169u);
  EXPECT_EQ(r.src_mask, 24);
  EXPECT_EQ(r.dst_mask, 16);
  EXPECT_EQ(r.obs_domain, 0x0102u);
  EXPECT_EQ(r.exporter.to_string(), "192.0.2.1");
  EXPECT_EQ(r.source, FlowSource::kNetflow5);
  EXPECT_EQ(rfc3339_ms(r.start_ms), "2023-11-14T22:13:10.500Z");  // 10 s before export
  EXPECT_EQ(rfc3339_ms(r.end_ms), "2023-11-14T22:13:15.500Z");
  // A record stamped after the header's uptime (clock skew) lands just after the export time.
  EXPECT_EQ(out.records[1].end_ms - out.records[1].start_ms, 2);
  EXPECT_EQ(d.stats().records, 2u);
}

TEST(Netflow5, AppliesTheHeaderSamplingInterval) {
  // Mode 01 (deterministic) in the top bits, interval 100.
  auto msg = V5Builder(1000, 1700000000, 0, 0, (1u << 14) | 100)
                 .record("10.0.0.1", "10.0.0.2", 1, 2, 17, 3, 300, 0, 0)
                 .finish();
  ExportDecoder d;
  FlowBatch out;
  d.decode(dg(msg), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.records[0].sampling_rate, 100u);
  EXPECT_EQ(out.records[0].packets, 300u);
  EXPECT_EQ(out.records[0].bytes, 30000u);
  EXPECT_TRUE(out.records[0].flags & flow_flags::kSampled);
}

TEST(Netflow5, SequenceGapsEstimateLostFlows) {
  ExportDecoder d;
  FlowBatch out;
  auto one = [&](uint32_t seq, int n) {
    V5Builder b(1000, 1700000000, 0, seq);
    for (int i = 0; i < n; ++i) b.record("10.0.0.1", "10.0.0.2", 1, 2, 17, 1, 1, 0, 0);
    return b.finish();
  };
  d.decode(dg(one(0, 2)), out);   // next expected: 2
  d.decode(dg(one(2, 3)), out);   // in order; next 5
  d.decode(dg(one(15, 1)), out);  // 10 flows lost
  EXPECT_EQ(d.stats().seq_lost, 10u);
  // Another exporter has its own sequence space.
  d.decode(dg(one(1000, 1), "192.0.2.2"), out);
  EXPECT_EQ(d.stats().seq_lost, 10u);
}

TEST(Netflow5, RejectsCountsThatDoNotFit) {
  auto msg = V5Builder(0, 0, 0, 0).record("10.0.0.1", "10.0.0.2", 1, 2, 17, 1, 1, 0, 0).finish();
  ExportDecoder d;
  FlowBatch out;
  auto bad = msg;
  bad[3] = 2;  // claims 2 records, holds 1
  d.decode(dg(bad), out);
  bad[2] = 0xd9;  // 55582 records, as in logstash's netflow5_test_invalid01.dat
  bad[3] = 0x1e;
  d.decode(dg(bad), out);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(d.stats().error(DecodeError::kBadLength) + d.stats().error(DecodeError::kBadVersion),
            2u);
  // Every truncation of a valid datagram is refused without reading past the end.
  for (size_t n = 0; n < msg.size(); ++n) {
    std::vector<uint8_t> cut(msg.begin(), msg.begin() + static_cast<long>(n));
    d.decode(dg(cut), out);
  }
  EXPECT_EQ(out.size(), 0u);
}

}  // namespace
}  // namespace orbwatch::ingest
