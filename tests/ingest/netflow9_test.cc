#include <gtest/gtest.h>

#include "core/time.h"
#include "ingest/export_decoder.h"
#include "util/export_builder.h"

namespace orbwatch::ingest {
namespace {

using test::V9Builder;

Datagram dg(const std::vector<uint8_t>& b, const char* from = "192.0.2.1") {
  return Datagram{b, *IpAddr::parse(from), 2055, 2055, 1700000000000};
}

// A typical IPv4 template: addresses, ports, proto, flags, counters, uptime times, interfaces.
void ipv4_template(V9Builder& b, uint16_t id) {
  b.begin_set(0)
      .template_record(id, {{8, 4},
                            {12, 4},
                            {7, 2},
                            {11, 2},
                            {4, 1},
                            {6, 1},
                            {1, 4},
                            {2, 4},
                            {22, 4},
                            {21, 4},
                            {10, 2},
                            {14, 2},
                            {16, 4},
                            {17, 4}})
      .end_set();
}

void ipv4_record(V9Builder& b, const char* src, uint16_t sport, uint32_t bytes) {
  b.w.ipv4(src)
      .ipv4("198.51.100.9")
      .be16(sport)
      .be16(443)
      .u8(6)
      .u8(0x12)
      .be32(bytes)
      .be32(5)
      .be32(50000)
      .be32(59000)
      .be16(7)
      .be16(8)
      .be32(64496)
      .be32(64497);
}

TEST(Netflow9, TemplateThenDataInOneMessage) {
  V9Builder b(60000, 1700000000, 1, 42);
  ipv4_template(b, 256);
  b.begin_set(256);
  ipv4_record(b, "10.1.1.1", 1111, 900);
  ipv4_record(b, "10.1.1.2", 2222, 1800);
  b.end_set(2);  // padding to 4 bytes
  ExportDecoder d;
  FlowBatch out;
  EXPECT_EQ(d.decode(dg(b.finish()), out), ExportKind::kNetflow9);
  ASSERT_EQ(out.size(), 2u);
  const FlowRecord& r = out.records[1];
  EXPECT_EQ(r.src.to_string(), "10.1.1.2");
  EXPECT_EQ(r.src_port, 2222);
  EXPECT_EQ(r.dst_port, 443);
  EXPECT_EQ(r.bytes, 1800u);
  EXPECT_EQ(r.packets, 5u);
  EXPECT_EQ(r.tcp_flags, 0x12);
  EXPECT_EQ(r.in_if, 7u);
  EXPECT_EQ(r.out_if, 8u);
  EXPECT_EQ(r.src_as, 64496u);
  EXPECT_EQ(r.obs_domain, 42u);
  EXPECT_EQ(r.source, FlowSource::kNetflow9);
  // sysUpTime-relative: first = 10 s, last = 1 s before the export at 1700000000 s.
  EXPECT_EQ(r.start_ms, 1700000000000 - 10000);
  EXPECT_EQ(r.end_ms, 1700000000000 - 1000);
  EXPECT_EQ(d.stats().error(DecodeError::kBadRecord), 0u);  // padding is not a record
}

TEST(Netflow9, TemplatesAreScopedByExporterAndSourceId) {
  ExportDecoder d;
  FlowBatch out;
  V9Builder t(1000, 1700000000, 0, 1);
  ipv4_template(t, 300);
  d.decode(dg(t.finish()), out);
  for (auto [from, source_id] : {std::pair{"192.0.2.1", 2u}, std::pair{"192.0.2.2", 1u}}) {
    V9Builder b(1000, 1700000000, 1, source_id);
    b.begin_set(300);
    ipv4_record(b, "10.0.0.1", 1, 1);
    b.end_set();
    d.decode(dg(b.finish(), from), out);
  }
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(d.stats().error(DecodeError::kNoTemplate), 2u);
}

TEST(Netflow9, DataBeforeTemplateIsHeldAndDecodedWhenItArrives) {
  ExportDecoder d;
  FlowBatch out;
  V9Builder data(60000, 1700000000, 0, 0);
  data.begin_set(256);
  ipv4_record(data, "10.9.9.9", 999, 4242);
  data.end_set();
  d.decode(dg(data.finish()), out);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(d.stats().error(DecodeError::kNoTemplate), 1u);

  V9Builder tpl(61000, 1700000001, 1, 0);
  ipv4_template(tpl, 256);
  d.decode(dg(tpl.finish()), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.records[0].src.to_string(), "10.9.9.9");
  EXPECT_EQ(out.records[0].bytes, 4242u);
  // Times use the held message's own header, not the template message's.
  EXPECT_EQ(out.records[0].end_ms, 1700000000000 - 1000);
  EXPECT_EQ(d.stats().pending_decoded, 1u);
}

TEST(Netflow9, OptionsSamplerRatesScaleCounters) {
  ExportDecoder d;
  FlowBatch out;
  V9Builder b(1000, 1700000000, 0, 5);
  // Options template 257: scope system (type 1, 4 bytes); sampler id, mode, random interval.
  b.begin_set(1).options_template(257, {{1, 4}}, {{48, 1}, {49, 1}, {50, 4}}).end_set(2);
  b.begin_set(257);
  b.w.be32(0).u8(3).u8(2).be32(512);  // sampler 3: 1 in 512
  b.w.be32(0).u8(4).u8(2).be32(64);   // sampler 4: 1 in 64
  b.end_set(2);
  b.begin_set(0).template_record(258, {{8, 4}, {12, 4}, {1, 4}, {2, 4}, {48, 1}}).end_set();
  b.begin_set(258);
  b.w.ipv4("10.0.0.1").ipv4("10.0.0.2").be32(100).be32(2).u8(3);
  b.w.ipv4("10.0.0.3").ipv4("10.0.0.4").be32(100).be32(2).u8(4);
  b.w.ipv4("10.0.0.5").ipv4("10.0.0.6").be32(100).be32(2).u8(9);  // unknown sampler
  b.end_set(3);
  d.decode(dg(b.finish()), out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out.records[0].sampling_rate, 512u);
  EXPECT_EQ(out.records[0].bytes, 51200u);
  EXPECT_EQ(out.records[0].packets, 1024u);
  EXPECT_EQ(out.records[1].sampling_rate, 64u);
  EXPECT_EQ(out.records[1].bytes, 6400u);
  // No rate for sampler 9: the most recent rate of the domain is the best estimate.
  EXPECT_EQ(out.records[2].sampling_rate, 64u);
  EXPECT_EQ(d.stats().options_records, 2u);
}

TEST(Netflow9, SystemWideSamplingIntervalAppliesWithoutSamplerId) {
  ExportDecoder d;
  FlowBatch out;
  V9Builder b(1000, 1700000000, 0, 0);
  b.begin_set(1).options_template(256, {{1, 4}}, {{34, 4}, {35, 1}}).end_set(3);
  b.begin_set(256);
  b.w.be32(0).be32(1000).u8(1);
  b.end_set(3);
  b.begin_set(0).template_record(259, {{8, 4}, {12, 4}, {1, 4}}).end_set();
  b.begin_set(259);
  b.w.ipv4("10.0.0.1").ipv4("10.0.0.2").be32(60);
  b.end_set();
  d.decode(dg(b.finish()), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.records[0].sampling_rate, 1000u);
  EXPECT_EQ(out.records[0].bytes, 60000u);
}

TEST(Netflow9, Ipv6AndIcmpAndZeroLengthFields) {
  ExportDecoder d;
  FlowBatch out;
  V9Builder b(1000, 1700000000, 0, 0);
  // A zero-length field (logstash netflow9_test_0length_fields) and an IPv6 template.
  b.begin_set(0)
      .template_record(
          260, {{27, 16}, {28, 16}, {4, 1}, {32, 2}, {1, 8}, {2, 8}, {89, 0}, {29, 1}, {30, 1}})
      .end_set();
  b.begin_set(260);
  b.w.ipv6("2001:db8::1")
      .ipv6("2001:db8::2")
      .u8(58)
      .be16(0x8000)
      .be64(1ull << 33)
      .be64(7)
      .u8(64)
      .u8(48);
  b.end_set();
  d.decode(dg(b.finish()), out);
  ASSERT_EQ(out.size(), 1u);
  const FlowRecord& r = out.records[0];
  EXPECT_EQ(r.src.to_string(), "2001:db8::1");
  EXPECT_EQ(r.dst.to_string(), "2001:db8::2");
  EXPECT_EQ(r.proto, 58);
  EXPECT_EQ(r.dst_port, 0x8000);  // echo request, NetFlow's type << 8 | code
  EXPECT_EQ(r.bytes, 1ull << 33);
  EXPECT_EQ(r.src_mask, 64);
  EXPECT_EQ(r.dst_mask, 48);
  EXPECT_TRUE(r.flags & flow_flags::kTimeEstimated);  // the template has no times
}

TEST(Netflow9, HostileTemplatesAreCountedNotTrusted) {
  ExportDecoder d;
  FlowBatch out;
  V9Builder b(1000, 1700000000, 0, 0);
  b.begin_set(0);
  b.w.be16(400).be16(0);  // zero fields
  b.end_set();
  b.begin_set(0);
  b.w.be16(401).be16(65535).be16(8).be16(4);  // 65535 fields, one present
  b.end_set();
  b.begin_set(0).template_record(402, {{89, 0}, {90, 0}}).end_set();  // zero-length record
  b.begin_set(0).template_record(12, {{8, 4}}).end_set();             // id below 256
  d.decode(dg(b.finish()), out);
  EXPECT_EQ(d.stats().templates, 0u);
  EXPECT_EQ(d.stats().error(DecodeError::kBadTemplate), 4u);
}

TEST(Netflow9, SetLengthsPastTheEndAndTruncationsAreSafe) {
  V9Builder b(60000, 1700000000, 1, 42);
  ipv4_template(b, 256);
  b.begin_set(256);
  ipv4_record(b, "10.1.1.1", 1111, 900);
  b.end_set();
  auto msg = b.finish();
  for (size_t n = 0; n <= msg.size(); ++n) {
    ExportDecoder d;
    FlowBatch out;
    std::vector<uint8_t> cut(msg.begin(), msg.begin() + static_cast<long>(n));
    d.decode(dg(cut), out);
    EXPECT_LE(out.size(), 1u);
    if (n == msg.size()) {
      EXPECT_EQ(out.size(), 1u);
    } else if (n > 20 && n != 20 + 64) {  // 20 + 64: the template set alone, a valid message
      EXPECT_GT(d.stats().total_errors(), 0u) << n;
    }
  }
}

TEST(Netflow9, TemplateFloodIsCappedPerExporter) {
  IngestLimits limits;
  limits.max_templates_per_exporter = 16;
  ExportDecoder d(limits);
  FlowBatch out;
  for (uint16_t i = 0; i < 100; ++i) {
    V9Builder b(1000, 1700000000, i, 0);
    b.begin_set(0).template_record(static_cast<uint16_t>(256 + i), {{8, 4}}).end_set();
    d.decode(dg(b.finish()), out);
  }
  size_t templates = 0;
  d.exporters().for_each([&](const ExporterState& e) { templates += e.template_count(); });
  EXPECT_EQ(templates, 16u);
  EXPECT_EQ(d.stats().error(DecodeError::kTemplateEvicted), 84u);
}

TEST(Netflow9, PendingBufferIsBounded) {
  IngestLimits limits;
  limits.max_pending_sets_per_exporter = 4;
  ExportDecoder d(limits);
  FlowBatch out;
  for (uint16_t i = 0; i < 10; ++i) {
    V9Builder b(1000, 1700000000, i, 0);
    b.begin_set(static_cast<uint16_t>(1000 + i));
    b.w.zeros(100);
    b.end_set();
    d.decode(dg(b.finish()), out);
  }
  EXPECT_EQ(d.stats().error(DecodeError::kPendingDropped), 6u);
  d.exporters().for_each([](const ExporterState& e) { EXPECT_EQ(e.pending_bytes(), 400u); });
  EXPECT_EQ(d.exporters().pending_bytes(), 400u);
}

TEST(Netflow9, SpoofedExportersAreEvictedLeastRecentlySeenFirst) {
  IngestLimits limits;
  limits.max_exporters = 8;
  ExportDecoder d(limits);
  FlowBatch out;
  V9Builder b(1000, 1700000000, 0, 0);
  ipv4_template(b, 256);
  auto msg = b.finish();
  for (uint32_t i = 0; i < 100; ++i) {
    d.decode(Datagram{msg, IpAddr::v4(0x0a000000 + i), 1, 2055, 0}, out);
  }
  EXPECT_EQ(d.exporters().size(), 8u);
  EXPECT_EQ(d.stats().error(DecodeError::kExporterEvicted), 92u);
}

TEST(Netflow9, SequenceCountsExportPackets) {
  ExportDecoder d;
  FlowBatch out;
  for (uint32_t seq : {10u, 11u, 12u, 20u}) {
    V9Builder b(1000, 1700000000, seq, 0);
    ipv4_template(b, 256);
    d.decode(dg(b.finish()), out);
  }
  EXPECT_EQ(d.stats().seq_lost, 7u);
}

TEST(Netflow9, NprobeHttpHostAsVendorType) {
  // nProbe in v9 numbers its elements 57472 + id: HTTP_HOST = 57659 (fixed length, NUL-padded).
  ExportDecoder d;
  FlowBatch out;
  V9Builder b(1000, 1700000000, 0, 0);
  b.begin_set(0).template_record(300, {{8, 4}, {57659, 16}}).end_set();
  b.begin_set(300);
  b.w.ipv4("10.0.0.1").str("w8510.com").zeros(7);
  b.end_set();
  d.decode(dg(b.finish()), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.name(out.records[0].name_ref), "w8510.com");
}

TEST(Netflow9, AbsurdFieldLengthMakesEveryDataSetABadRecord) {
  ExportDecoder d;
  FlowBatch out;
  V9Builder b(1000, 1700000000, 0, 0);
  b.begin_set(0).template_record(310, {{8, 4}, {82, 60000}}).end_set();
  b.begin_set(310);
  b.w.ipv4("10.0.0.1").str("not sixty thousand bytes");
  b.end_set();
  d.decode(dg(b.finish()), out);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(d.stats().error(DecodeError::kBadRecord), 1u);
}

}  // namespace
}  // namespace orbwatch::ingest
