// The ClickHouse client against a real server (Debian's clickhouse-server 18.16, started by the
// test on 127.0.0.1): schema, RowBinary inserts read back exactly, errors named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <set>
#include <string>

#include "sink/clickhouse.h"
#include "store/filter.h"
#include "util/clickhouse_server.h"

namespace orbwatch::sink {
namespace {

class ClickHouse : public testing::Test {
 protected:
  void SetUp() override {
    if (!test::ClickHouseServer::available())
      GTEST_SKIP() << "clickhouse-server is not installed (scripts/install-deps.sh installs it)";
    server_ = std::make_unique<test::ClickHouseServer>(std::filesystem::path(testing::TempDir()) /
                                                       ("orbwatch_ch_" + std::to_string(getpid())));
    ASSERT_TRUE(server_->start()) << server_->log();
    ClickHouseOptions o;
    o.url = server_->url();
    o.database = "orbwatch_test";
    client_ = std::make_unique<ClickHouseClient>(o);
  }

  std::string ask(const std::string& sql) {
    std::string error;
    auto r = client_->query(sql, error);
    EXPECT_TRUE(r) << error;
    return r.value_or("");
  }

  std::unique_ptr<test::ClickHouseServer> server_;
  std::unique_ptr<ClickHouseClient> client_;
};

FlowBatch make_flows(size_t n) {
  FlowBatch b;
  for (size_t i = 0; i < n; ++i) {
    FlowRecord r;
    r.start_ms = 1'775'000'000'000 + static_cast<int64_t>(i) * 1000 + 123;
    r.end_ms = r.start_ms + 5000;
    r.src = i % 3 == 0 ? *IpAddr::parse("2001:db8::" + std::to_string(i % 1000))
                       : *IpAddr::parse("10.0." + std::to_string(i % 200) + ".1");
    r.dst = *IpAddr::parse("192.0.2." + std::to_string(i % 250));
    r.exporter = *IpAddr::parse("198.51.100.1");
    r.src_port = static_cast<uint16_t>(40000 + i % 1000);
    r.dst_port = i % 2 ? 443 : 53;
    r.proto = i % 2 ? 6 : 17;
    r.tcp_flags = 0x1b;
    r.bytes = 1000 + i;
    r.packets = 1 + i % 10;
    r.in_if = 3;
    r.out_if = 7;
    r.src_as = 64500;
    r.dst_as = 64501 + static_cast<uint32_t>(i % 3);
    r.sampling_rate = i % 5 == 0 ? 100 : 0;
    r.obs_domain = 9;
    r.source = FlowSource::kIpfix;
    r.direction = FlowDirection::kEgress;
    r.vlan = 12;
    r.tos = 0x20;
    r.src_mask = 24;
    r.dst_mask = 16;
    r.flags = i % 4 == 0 ? flow_flags::kBiflowReverse : 0;
    if (i % 7 == 0) r.name_ref = b.add_name("host" + std::to_string(i) + ".example");
    b.records.push_back(r);
  }
  return b;
}

TEST_F(ClickHouse, CreatesTheSchemaAndReadsBackWhatItInserted) {
  std::string error;
  ASSERT_TRUE(client_->create_schema(error)) << error;
  ASSERT_TRUE(client_->create_schema(error)) << error;  // idempotent
  const FlowBatch b = make_flows(20'000);
  uint64_t bytes = 0, packets = 0;
  std::string rows;
  for (size_t i = 0; i < b.size(); ++i) {
    append_flow_row(rows, b, i, 77);
    bytes += b.records[i].bytes;
    packets += b.records[i].packets;
  }
  ASSERT_TRUE(client_->insert("flows", flow_columns(), rows, error)) << error;
  EXPECT_EQ(ask("SELECT count(), sum(bytes), sum(packets) FROM orbwatch_test.flows"),
            std::to_string(b.size()) + "\t" + std::to_string(bytes) + "\t" +
                std::to_string(packets) + "\n");
  // Every column of one row, as the flow JSON line has it.
  EXPECT_EQ(ask("SELECT ts_start, ts_end, hex(src_ip), hex(dst_ip), src_port, dst_port, proto, "
                "tcp_flags, bytes, packets, hex(exporter), in_if, out_if, src_as, dst_as, "
                "sampling_rate, obs_domain, flow_source, direction, vlan, tos, src_mask, "
                "dst_mask, biflow, server_name, batch FROM orbwatch_test.flows "
                "WHERE ts_start = 1775000000123"),
            "1775000000123\t1775000005123\t20010DB8000000000000000000000000\t"
            "00000000000000000000FFFFC0000200\t40000\t53\t17\t27\t1000\t1\t"
            "00000000000000000000FFFFC6336401\t3\t7\t64500\t64501\t100\t9\tipfix\tegress\t12\t32\t"
            "24\t16\treverse\thost0.example\t77\n");
  // The day partition.
  EXPECT_EQ(ask("SELECT count() FROM system.parts WHERE database = 'orbwatch_test' AND "
                "table = 'flows' AND active AND partition = '20260331'"),
            "1\n");
  // The per-minute rollup, filled as the flows were inserted, sums to the same.
  EXPECT_EQ(ask("SELECT sum(flows), sum(bytes), sum(packets) FROM orbwatch_test.flows_1m"),
            std::to_string(b.size()) + "\t" + std::to_string(bytes) + "\t" +
                std::to_string(packets) + "\n");
  std::set<int64_t> minutes;
  for (const FlowRecord& r : b.records) minutes.insert(r.start_ms / 60'000);
  EXPECT_EQ(ask("SELECT count() FROM (SELECT minute FROM orbwatch_test.flows_1m GROUP BY "
                "minute)"),
            std::to_string(minutes.size()) + "\n");
  // Both runs of create_schema applied the one migration once.
  EXPECT_EQ(ask("SELECT version FROM orbwatch_test.schema_migrations"), "1\n");
}

TEST_F(ClickHouse, KeepsTheLatestVersionOfAnAlert) {
  std::string error;
  ASSERT_TRUE(client_->create_schema(error)) << error;
  Alert a;
  a.id = "75714be12eac08e3";
  a.detector = "intel";
  a.severity = Severity::kHigh;
  a.summary = "10.21.0.44 exchanged traffic with 185.2.254.173";
  a.src = *IpAddr::parse("10.21.0.44");
  a.dst = *IpAddr::parse("185.2.254.173");
  a.dst_port = 443;
  a.proto = 6;
  a.first_seen_ms = 1'775'000'000'000;
  a.last_seen_ms = a.ts_ms = 1'775'000'060'000;
  a.count = 3;
  std::string rows;
  append_alert_row(rows, a);
  a.severity = Severity::kCritical;  // it grew
  a.count = 9;
  a.last_seen_ms = a.ts_ms = 1'775'000'600'000;
  append_alert_row(rows, a);
  ASSERT_TRUE(client_->insert("alerts", alert_columns(), rows, error)) << error;
  EXPECT_EQ(ask("SELECT id, severity, count, hex(dst_ip) FROM orbwatch_test.alerts FINAL"),
            "75714be12eac08e3\tcritical\t9\t00000000000000000000FFFFB902FEAD\n");
  const std::string json = ask("SELECT json FROM orbwatch_test.alerts FINAL");
  EXPECT_NE(json.find("\"count\":9"), std::string::npos) << json;
}

// Every kind of filter term, as SQL over the flows table, selects exactly the rows that
// Filter::match selects over the same flows.
TEST_F(ClickHouse, FiltersAsSqlSelectWhatTheArchiveFilterSelects) {
  std::string error;
  ASSERT_TRUE(client_->create_schema(error)) << error;
  std::mt19937 rng(11);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  const char* v4[] = {"10.1.2.3",      "10.1.200.9",  "10.200.0.1",
                      "192.0.2.17",    "192.0.2.200", "198.51.100.4",
                      "203.0.113.250", "0.0.0.0",     "255.255.255.255"};
  const char* v6[] = {"2001:db8::1", "2001:db8:8000::5", "2001:db9::1", "fe80::1", "::1"};
  FlowBatch b;
  for (int i = 0; i < 20'000; ++i) {
    FlowRecord r;
    const bool six = pick(5) == 0;
    r.src = *IpAddr::parse(six ? v6[pick(5)] : v4[pick(9)]);
    r.dst = *IpAddr::parse(six ? v6[pick(5)] : v4[pick(9)]);
    r.start_ms = 1'775'000'000'000 + pick(86'400'000);
    r.end_ms = r.start_ms + (pick(4) == 0 ? 0 : pick(20'000));
    const uint16_t ports[] = {22, 53, 443, 8443, 40000, 51234, 65535};
    r.src_port = ports[pick(7)];
    r.dst_port = ports[pick(7)];
    const uint8_t protos[] = {1, 6, 17, 47, 58};
    r.proto = protos[pick(5)];
    r.tcp_flags = static_cast<uint8_t>(pick(64));
    r.bytes = pick(50'000);
    r.packets = 1 + pick(10);
    r.src_as = 64500 + pick(20);
    r.dst_as = 64500 + pick(20);
    r.in_if = pick(8);
    r.out_if = pick(8);
    r.exporter = *IpAddr::parse(pick(2) ? "198.51.100.1" : "2001:db8:ffff::1");
    b.records.push_back(r);
  }
  std::string rows;
  for (size_t i = 0; i < b.size(); ++i) append_flow_row(rows, b, i, 1);
  ASSERT_TRUE(client_->insert("flows", flow_columns(), rows, error)) << error;
  const char* filters[] = {
      "",
      "any",
      "ip 10.1.2.3",
      "host 2001:db8::1",
      "src net 10.1.0.0/16",
      "dst net 10.1.128.0/17",
      "net 192.0.2.0/25",
      "net 10.0.0.0 255.0.0.0",
      "src and dst net 10.0.0.0/8",
      "net 2001:db8::/33",
      "net 0.0.0.0/0",
      "ip in [10.1.2.3 192.0.2.0/26 2001:db8::1]",
      "src ip in [255.255.255.255, 0.0.0.0/1]",
      "not dst ip in [10.1.2.3]",
      "port 443",
      "src port > 40000",
      "dst port <= 53",
      "port in [53 443 8443]",
      "src and dst port 53",
      "as 64500",
      "src as in [64500 64501]",
      "dst as >= 64510",
      "in if 3",
      "out if gt 5",
      "if 2",
      "proto tcp",
      "proto 17",
      "proto icmp6",
      "flags S",
      "flags SA",
      "flags X",
      "not flags AFRPU",
      "flags S and not flags AFRPU",
      "bytes > 10k",
      "bytes < 1000",
      "packets <= 3",
      "duration > 5000",
      "duration = 0",
      "exporter 198.51.100.1",
      "router ip 2001:db8:ffff::1",
      "inet",
      "ipv6",
      "not (port 53 or proto icmp)",
      "(src net 10.0.0.0/8 and dst port 443) or (src port 53 and not proto tcp)",
      "!(net 192.0.2.0/24 || port 22) && bytes >= 25000",
  };
  for (const char* text : filters) {
    store::FilterError fe;
    const auto f = store::Filter::parse(text, fe);
    ASSERT_TRUE(f) << text << ": " << fe.to_string();
    uint64_t n = 0, bytes = 0;
    for (const FlowRecord& r : b.records) {
      if (!f->match(r)) continue;
      ++n;
      bytes += r.bytes;
    }
    EXPECT_EQ(ask("SELECT count(), sum(bytes) FROM orbwatch_test.flows WHERE " + f->to_sql()),
              std::to_string(n) + "\t" + std::to_string(bytes) + "\n")
        << text << "\n"
        << f->to_sql();
  }
}

TEST_F(ClickHouse, NamesWhatWentWrong) {
  std::string error;
  EXPECT_FALSE(client_->exec("SELECT nonsense(", error));
  EXPECT_NE(error.find("HTTP 400"), std::string::npos) << error;
  EXPECT_NE(error.find(server_->url()), std::string::npos) << error;
  EXPECT_FALSE(client_->insert("flows; DROP TABLE x", flow_columns(), "", error));
  EXPECT_NE(error.find("letters, digits and _ only"), std::string::npos) << error;
  ClickHouseOptions o;
  o.database = "bad-name";
  o.url = server_->url();
  ClickHouseClient bad(o);
  EXPECT_FALSE(bad.create_schema(error));
  EXPECT_NE(error.find("bad-name"), std::string::npos);
  server_->kill();
  EXPECT_FALSE(client_->exec("SELECT 1", error));
  EXPECT_NE(error.find("ClickHouse " + server_->url()), std::string::npos) << error;
}

}  // namespace
}  // namespace orbwatch::sink
