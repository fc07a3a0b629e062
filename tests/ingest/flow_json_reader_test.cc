// Flow JSON lines read back: every field of what append_flow_json writes survives the trip, and
// a line that is not a flow is refused with the field named and nothing added.
#include "ingest/flow_json_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "core/flow_json.h"

namespace orbwatch::ingest {
namespace {

FlowBatch varied(size_t n) {
  std::mt19937_64 rng(3);
  FlowBatch b;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t x = rng();
    FlowRecord& r = b.add();
    r.start_ms = 1'775'000'000'000 + static_cast<int64_t>(x % 1'000'000'000);
    r.end_ms = r.start_ms + static_cast<int64_t>((x >> 20) % 60'000);
    r.src = i % 3 == 0 ? *IpAddr::parse("2001:db8::" + std::to_string(i % 0xffff + 1))
                       : IpAddr::v4(static_cast<uint32_t>(x));
    r.dst = IpAddr::v4(static_cast<uint32_t>(x >> 32));
    r.exporter = IpAddr::v4(0xc0000201u + static_cast<uint32_t>(i % 3));
    r.src_port = static_cast<uint16_t>(x);
    r.dst_port = static_cast<uint16_t>(x >> 16);
    r.proto = static_cast<uint8_t>(x >> 24);
    r.tcp_flags = static_cast<uint8_t>(x >> 30);
    r.bytes = x >> 8;
    r.packets = x >> 40;
    r.in_if = static_cast<uint32_t>(x >> 3);
    r.out_if = static_cast<uint32_t>(x >> 5);
    r.src_as = static_cast<uint32_t>(x >> 7);
    r.dst_as = static_cast<uint32_t>(x >> 9);
    r.sampling_rate = static_cast<uint32_t>(x % 3 == 0 ? 1000 : 0);
    r.obs_domain = static_cast<uint32_t>(x >> 11);
    r.source = static_cast<FlowSource>(i % 6);
    r.direction = static_cast<FlowDirection>(i % 3);
    r.vlan = static_cast<uint16_t>(x >> 13);
    r.tos = static_cast<uint8_t>(x >> 17);
    r.src_mask = static_cast<uint8_t>(x % 33);
    r.dst_mask = static_cast<uint8_t>((x >> 1) % 129);
    r.flags = i % 4 == 1 ? flow_flags::kBiflowForward : i % 4 == 2 ? flow_flags::kBiflowReverse : 0;
    if (i % 5 == 0) r.name_ref = b.add_name("host-" + std::to_string(i) + ".example\t\"x\"");
    if (i % 7 == 0) {
      b.dns.push_back({static_cast<uint32_t>(i), b.add_name("a" + std::to_string(i) + ".example"),
                       IpAddr::v4(0x0a000001u + static_cast<uint32_t>(i)), 300});
      b.dns.push_back(
          {static_cast<uint32_t>(i), b.add_name("b.example"), *IpAddr::parse("2001:db8::53"), 60});
    }
  }
  return b;
}

TEST(FlowJsonReader, EveryFieldSurvivesTheTrip) {
  const FlowBatch in = varied(2000);
  FlowJsonReader reader;
  FlowBatch out;
  std::string error;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string line;
    append_flow_json(line, in, i);
    ASSERT_TRUE(reader.read(line, out, error)) << error << "\n" << line;
    // Written again, the record reads as the same line (every field, names, DNS answers).
    std::string again;
    append_flow_json(again, out, out.size() - 1);
    EXPECT_EQ(again, line);
    const FlowRecord& a = in.records[i];
    const FlowRecord& b = out.records.back();
    EXPECT_EQ(a.start_ms, b.start_ms);
    EXPECT_EQ(a.src, b.src);
    EXPECT_EQ(a.bytes, b.bytes);
    EXPECT_EQ(a.flags, b.flags);
    EXPECT_EQ(in.name(a.name_ref), out.name(b.name_ref));
  }
  EXPECT_EQ(out.dns.size(), in.dns.size());
}

TEST(FlowJsonReader, RefusesWhatIsNotAFlowAndAddsNothing) {
  FlowJsonReader reader;
  FlowBatch out;
  std::string error;
  const std::string ok =
      R"({"ts_start":"2026-04-01T00:00:00.000Z","ts_end":"2026-04-01T00:00:01.000Z",)"
      R"("src_ip":"10.0.0.1","dst_ip":"192.0.2.1","future_field":[1,2]})";
  ASSERT_TRUE(reader.read(ok, out, error)) << error;  // unknown fields are ignored
  EXPECT_EQ(out.records[0].end_ms - out.records[0].start_ms, 1000);
  struct Case {
    std::string line, message;
  };
  const Case cases[] = {
      {"not json", "line: not JSON"},
      {"[1,2]", "line: expected a JSON object, got [1,2]"},
      {R"({"ts_start":"2026-04-01T00:00:00Z","ts_end":"2026-04-01T00:00:00Z","dst_ip":"192.0.2.1"})",
       "src_ip: missing"},
      {R"({"ts_start":"yesterday","ts_end":"2026-04-01T00:00:00Z","src_ip":"10.0.0.1","dst_ip":"192.0.2.1"})",
       "ts_start: expected an RFC 3339 time, got \"yesterday\""},
      {R"({"ts_start":"2026-04-01T00:00:00Z","ts_end":"2026-04-01T00:00:00Z","src_ip":"10.0.0.300","dst_ip":"192.0.2.1"})",
       "src_ip: expected an IP address, got \"10.0.0.300\""},
      {R"({"ts_start":"2026-04-01T00:00:00Z","ts_end":"2026-04-01T00:00:00Z","src_ip":"10.0.0.1","dst_ip":"192.0.2.1","dst_port":70000})",
       "dst_port: expected a whole number from 0 to 65535, got 70000"},
      {R"({"ts_start":"2026-04-01T00:00:00Z","ts_end":"2026-04-01T00:00:00Z","src_ip":"10.0.0.1","dst_ip":"192.0.2.1","bytes":-1})",
       "bytes: expected a whole number from 0 to 18446744073709551615, got -1"},
      {R"({"ts_start":"2026-04-01T00:00:00Z","ts_end":"2026-04-01T00:00:00Z","src_ip":"10.0.0.1","dst_ip":"192.0.2.1","flow_source":"netflow11"})",
       "flow_source: unknown value \"netflow11\""},
      {R"({"ts_start":"2026-04-01T00:00:00Z","ts_end":"2026-04-01T00:00:00Z","src_ip":"10.0.0.1","dst_ip":"192.0.2.1","dns_answers":[{"name":"a.example","ip":"nope"}]})",
       "dns_answers.ip: expected an IP address, got \"nope\""},
      {R"({"ts_start":"2026-04-01T00:00:00Z","ts_end":"2026-04-01T00:00:00Z","src_ip":"10.0.0.1","dst_ip":"192.0.2.1","server_name":")" +
           std::string(2000, 'a') + "\"}",
       "server_name: longer than 1024 bytes"},
      {std::string(FlowJsonReader::kMaxLine + 1, ' '), "line: longer than 65536 bytes"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(reader.read(c.line, out, error)) << c.line;
    EXPECT_EQ(error.substr(0, c.message.size()), c.message) << c.line;
  }
  EXPECT_EQ(out.size(), 1u);
  EXPECT_TRUE(out.dns.empty());
  EXPECT_TRUE(out.names.empty());
}

}  // namespace
}  // namespace orbwatch::ingest
