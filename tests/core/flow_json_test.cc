#include "core/flow_json.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace orbwatch {
namespace {

TEST(FlowJson, WritesTheContractFieldsInOrder) {
  FlowBatch b;
  FlowRecord& r = b.add();
  r.start_ms = 1700000000123;
  r.end_ms = 1700000001000;
  r.src = *IpAddr::parse("10.0.0.1");
  r.dst = *IpAddr::parse("2001:db8::2");
  r.src_port = 51000;
  r.dst_port = 443;
  r.proto = 6;
  r.tcp_flags = 0x1b;
  r.bytes = 12345678901ull;
  r.packets = 42;
  r.exporter = *IpAddr::parse("192.0.2.1");
  r.in_if = 3;
  r.out_if = 4;
  r.src_as = 64500;
  r.dst_as = 15169;
  r.sampling_rate = 100;
  r.source = FlowSource::kIpfix;
  r.direction = FlowDirection::kIngress;
  std::string out;
  append_flow_json(out, b, 0);
  EXPECT_EQ(out,
            "{\"ts_start\":\"2023-11-14T22:13:20.123Z\",\"ts_end\":\"2023-11-14T22:13:21.000Z\","
            "\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"2001:db8::2\",\"src_port\":51000,"
            "\"dst_port\":443,\"proto\":6,\"tcp_flags\":27,\"bytes\":12345678901,\"packets\":42,"
            "\"exporter\":\"192.0.2.1\",\"in_if\":3,\"out_if\":4,\"src_as\":64500,"
            "\"dst_as\":15169,\"sampling_rate\":100,\"obs_domain\":0,\"flow_source\":\"ipfix\","
            "\"direction\":\"ingress\",\"vlan\":0,\"tos\":0,\"src_mask\":0,\"dst_mask\":0}\n");
}

TEST(FlowJson, NamesAndDnsAnswersAreEscapedAndAttachedToTheirRecord) {
  FlowBatch b;
  b.add();
  FlowRecord& r = b.add();
  r.name_ref = b.add_name("evil\"</script>\n\xff.example");
  b.dns.push_back({1, b.add_name("k3121.com"), *IpAddr::parse("203.0.113.9"), 60});
  std::string first, second;
  append_flow_json(first, b, 0);
  append_flow_json(second, b, 1);
  EXPECT_EQ(first.find("server_name"), std::string::npos);
  EXPECT_EQ(first.find("dns_answers"), std::string::npos);
  EXPECT_NE(second.find("\"server_name\":\"evil\\\"</script>\\n\xEF\xBF\xBD.example\""),
            std::string::npos)
      << second;
  EXPECT_NE(second.find("\"dns_answers\":[{\"name\":\"k3121.com\",\"ip\":\"203.0.113.9\","
                        "\"ttl\":60}]"),
            std::string::npos)
      << second;
}

TEST(Json, KeepsValidUtf8AndEscapesControls) {
  std::string out;
  json::append_string(out, "caf\xC3\xA9 \x01 \xE2\x82");  // valid é, control, cut sequence
  EXPECT_EQ(out, "\"caf\xC3\xA9 \\u0001 \xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(FlowBatch, AppendRebasesReferences) {
  FlowBatch a, b;
  a.add().name_ref = a.add_name("a.example");
  FlowRecord& r = b.add();
  r.name_ref = b.add_name("b.example");
  b.dns.push_back({0, b.add_name("c.example"), *IpAddr::parse("10.0.0.1"), 5});
  a.append(b);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a.name(a.records[1].name_ref), "b.example");
  ASSERT_EQ(a.dns.size(), 1u);
  EXPECT_EQ(a.dns[0].record, 1u);
  EXPECT_EQ(a.name(a.dns[0].name), "c.example");
}

}  // namespace
}  // namespace orbwatch
