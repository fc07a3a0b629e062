#include "store/filter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace orbwatch::store {
namespace {

FlowRecord flow(const char* src, const char* dst, uint16_t sport, uint16_t dport, uint8_t proto = 6,
                uint8_t flags = 0x02, uint64_t bytes = 100, uint64_t packets = 2) {
  FlowRecord r;
  r.src = *IpAddr::parse(src);
  r.dst = *IpAddr::parse(dst);
  r.src_port = sport;
  r.dst_port = dport;
  r.proto = proto;
  r.tcp_flags = flags;
  r.bytes = bytes;
  r.packets = packets;
  r.start_ms = 1000;
  r.end_ms = 3500;
  r.src_as = 64500;
  r.dst_as = 15169;
  r.exporter = *IpAddr::parse("192.0.2.254");
  return r;
}

bool matches(const std::string& text, const FlowRecord& r) {
  FilterError e;
  auto f = Filter::parse(text, e);
  EXPECT_TRUE(f.has_value()) << text << ": " << e.to_string();
  if (!f) return false;
  // Every case checks the batch evaluation (queries) against the per-record one.
  const bool one = f->match(r);
  std::vector<uint32_t> sel{0};
  f->select(&r, sel);
  EXPECT_EQ(sel.size() == 1, one) << text << ": select() and match() differ";
  return one;
}

std::string error_of(const std::string& text) {
  FilterError e;
  EXPECT_FALSE(Filter::parse(text, e).has_value()) << text;
  return e.to_string();
}

TEST(Filter, AddressesNetsAndDirections) {
  const auto r = flow("10.1.2.3", "198.51.100.7", 50000, 443);
  EXPECT_TRUE(matches("", r));
  EXPECT_TRUE(matches("any", r));
  EXPECT_TRUE(matches("ip 10.1.2.3", r));
  EXPECT_TRUE(matches("host 198.51.100.7", r));
  EXPECT_TRUE(matches("src ip 10.1.2.3", r));
  EXPECT_FALSE(matches("dst ip 10.1.2.3", r));
  EXPECT_TRUE(matches("src or dst ip 198.51.100.7", r));
  EXPECT_FALSE(matches("src and dst ip 198.51.100.7", r));
  EXPECT_TRUE(matches("net 10.0.0.0/8", r));
  EXPECT_TRUE(matches("src net 10.1.0.0/16", r));
  EXPECT_FALSE(matches("dst net 10.0.0.0/8", r));
  EXPECT_TRUE(matches("dst net 198.51.100.0 255.255.255.0", r));
  EXPECT_TRUE(matches("ip in [192.0.2.1 198.51.100.0/24, 2001:db8::/32]", r));
  EXPECT_FALSE(matches("src ip in [198.51.100.0/24]", r));
  EXPECT_TRUE(matches("inet", r));
  EXPECT_FALSE(matches("inet6", r));
  const auto v6 = flow("2001:db8::1", "2001:db8:ff::2", 50000, 22);
  EXPECT_TRUE(matches("ipv6 and net 2001:db8::/32", v6));
  EXPECT_TRUE(matches("exporter 192.0.2.254 and router ip 192.0.2.254", r));
}

TEST(Filter, PortsProtocolsFlagsAndCounters) {
  const auto r = flow("10.1.2.3", "198.51.100.7", 50000, 443, 6, 0x02, 15'000'000, 12'000);
  EXPECT_TRUE(matches("port 443", r));
  EXPECT_TRUE(matches("dst port 443 and src port > 1023", r));
  EXPECT_FALSE(matches("src port 443", r));
  EXPECT_TRUE(matches("port in [22 443 8443]", r));
  EXPECT_TRUE(matches("dst port gt 442 and dst port lt 444 and dst port >= 443", r));
  EXPECT_TRUE(matches("proto tcp", r));
  EXPECT_TRUE(matches("proto 6", r));
  EXPECT_FALSE(matches("proto udp", r));
  EXPECT_TRUE(matches("flags S and not flags AFRPU", r));  // SYN only
  const auto established = flow("10.1.2.3", "198.51.100.7", 50000, 443, 6, 0x1a);
  EXPECT_FALSE(matches("flags S and not flags AFRPU", established));
  EXPECT_TRUE(matches("flags SA", established));
  EXPECT_FALSE(matches("flags X", established));
  EXPECT_TRUE(matches("bytes > 10M", r));  // 10,000,000 (nfdump scales by 1000)
  EXPECT_FALSE(matches("bytes > 20m", r));
  EXPECT_TRUE(matches("packets >= 12k and packets <= 12k", r));
  EXPECT_TRUE(matches("packets = 12000", r));
  EXPECT_TRUE(matches("duration == 2500", r));
  EXPECT_TRUE(matches("as 15169", r));
  EXPECT_TRUE(matches("src as 64500 and dst as in [15169, 8075]", r));
  EXPECT_FALSE(matches("src as > 64500", r));
}

TEST(Filter, Interfaces) {
  auto r = flow("10.1.2.3", "198.51.100.7", 50000, 443, 6, 0x02);
  r.in_if = 3;
  r.out_if = 7;
  EXPECT_TRUE(matches("in if 3", r));
  EXPECT_FALSE(matches("out if 3", r));
  EXPECT_TRUE(matches("if 7 and out if > 6", r));
  EXPECT_FALSE(matches("in if 7", r));
  FilterError e;
  EXPECT_FALSE(Filter::parse("in if x", e));
  EXPECT_EQ(e.column, 7u) << e.to_string();
}

TEST(Filter, BooleansPrecedenceAndCase) {
  const auto r = flow("10.1.2.3", "198.51.100.7", 50000, 443);
  EXPECT_TRUE(matches("port 22 or port 443 and proto tcp", r));  // and binds tighter
  EXPECT_FALSE(matches("(port 22 or port 443) and proto udp", r));
  EXPECT_TRUE(matches("not (port 22 or proto udp)", r));
  EXPECT_TRUE(matches("! port 22 && (ip 10.1.2.3 || ip 10.9.9.9)", r));
  EXPECT_TRUE(matches("SRC IP 10.1.2.3 AND PROTO TCP", r));
  EXPECT_TRUE(matches("not not port 443", r));
}

TEST(Filter, BatchSelectionEqualsPerRecordMatching) {
  // Random records over few values, so that every branch of and/or/not sees both outcomes.
  std::mt19937 rng(11);
  std::vector<FlowRecord> rs;
  const char* hosts[] = {"10.1.2.3", "10.1.2.4", "198.51.100.7", "2001:db8::1"};
  for (int i = 0; i < 3000; ++i) {
    FlowRecord r =
        flow(hosts[rng() % 4], hosts[rng() % 4], static_cast<uint16_t>(rng() % 3 + 52),
             static_cast<uint16_t>(rng() % 2 ? 443 : 53), static_cast<uint8_t>(rng() % 2 ? 6 : 17),
             static_cast<uint8_t>(rng() & 0x3f), rng() % 2000, rng() % 20);
    r.in_if = rng() % 3;
    rs.push_back(r);
  }
  for (const char* text :
       {"", "any", "port 443", "proto tcp and dst port 443", "port 53 or proto tcp",
        "not (ip 10.1.2.3 or net 198.51.100.0/24)", "flags S and not flags AFRPU", "not flags AR",
        "(src port 52 or dst port 53) and not (bytes > 1k or packets < 3)",
        "ip in [10.1.2.3 2001:db8::/64] or in if 2", "inet6 or (inet and not src ip 10.1.2.4)",
        "src and dst net 10.0.0.0/8 or port in [52 54] and not proto udp",
        "not not (duration > 2000 and as 64500)"}) {
    FilterError e;
    auto f = Filter::parse(text, e);
    ASSERT_TRUE(f) << text << ": " << e.to_string();
    std::vector<uint32_t> want, sel(rs.size());
    for (uint32_t i = 0; i < rs.size(); ++i) {
      sel[i] = i;
      if (f->match(rs[i])) want.push_back(i);
    }
    f->select(rs.data(), sel);
    EXPECT_EQ(sel, want) << text;
    EXPECT_GT(want.size(), 0u) << text;
  }
}

TEST(Filter, ErrorsPointAtTheColumn) {
  EXPECT_EQ(error_of("port ssh"), "column 6: expected a port number, got 'ssh'");
  EXPECT_EQ(error_of("ip 10.0.0.300"), "column 4: expected an address, got '10.0.0.300'");
  EXPECT_EQ(error_of("src ip 10.0.0.1 and"),
            "column 20: expected a filter term such as 'ip', 'port' or 'proto', got the end");
  EXPECT_EQ(error_of("(port 22 or port 23"),
            "column 20: expected ')' to close the '(' at column 1, got the end");
  EXPECT_EQ(error_of("port 22 port 23"), "column 9: expected 'and', 'or' or the end, got 'port'");
  EXPECT_EQ(error_of("proto tcpp"),
            "column 7: expected a protocol name (tcp, udp, icmp, ...) or number, got 'tcpp'");
  EXPECT_EQ(error_of("flags SYN"),
            "column 7: expected TCP flags from A, S, F, R, P, U, X, got 'SYN'");
  EXPECT_EQ(error_of("bytes > lots"), "column 9: expected a number like 10k, got 'lots'");
  EXPECT_EQ(error_of("port 70000"), "column 6: expected a port number, got '70000'");
  EXPECT_EQ(error_of("src proto tcp"), "column 1: 'proto' takes no src/dst");
  EXPECT_EQ(error_of("ip in [10.0.0.1"), "column 16: expected ']' to close the list, got the end");
  EXPECT_EQ(error_of("dst net 10.0.0.0 255.0.255.0"),
            "column 18: expected a netmask like 255.255.0.0, got '255.0.255.0'");
  EXPECT_EQ(error_of("colour red"),
            "column 1: expected a filter term such as 'ip', 'net', 'port', 'proto', 'flags', "
            "'bytes', got 'colour'");
}

TEST(Filter, HostileFiltersAreBounded) {
  std::string deep(100, '(');
  EXPECT_EQ(error_of(deep + "any" + std::string(100, ')')),
            "column 65: nested too deeply (more than 64 levels)");
  std::string many = "port 1";
  for (int i = 0; i < 1200; ++i) many += " or port 1";
  EXPECT_NE(error_of(many).find("filter too long"), std::string::npos);
  std::string list = "ip in [";
  for (int i = 0; i < 100'001; ++i) list += "10.0.0.1 ";
  EXPECT_NE(error_of(list + "]").find("list too long"), std::string::npos);
  // A long list within bounds is one prefix-table lookup per address.
  std::string ok = "ip in [";
  for (int i = 0; i < 5000; ++i)
    ok += "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24 ";
  EXPECT_TRUE(matches(ok + "]", flow("10.19.3.9", "192.0.2.1", 1, 2)));
  EXPECT_FALSE(matches(ok + "]", flow("10.20.0.9", "192.0.2.1", 1, 2)));
}

}  // namespace
}  // namespace orbwatch::store
