#include "store/flow_aggregate.h"

#include <gtest/gtest.h>

#include "store/filter.h"

namespace orbwatch::store {
namespace {

FlowRecord rec(const char* src, const char* dst, uint16_t dport, uint64_t bytes, int64_t t = 0) {
  FlowRecord r;
  r.src = *IpAddr::parse(src);
  r.dst = *IpAddr::parse(dst);
  r.dst_port = dport;
  r.proto = 6;
  r.bytes = bytes;
  r.packets = 1;
  r.start_ms = t;
  r.end_ms = t + 10;
  return r;
}

TEST(GroupBy, ParsesOurAndNfdumpNamesAndRejectsMistakes) {
  std::string error;
  auto s = parse_group_by("src_ip,dstport", error);
  ASSERT_TRUE(s) << error;
  ASSERT_EQ(s->fields.size(), 2u);
  EXPECT_EQ(s->fields[0], GroupField::kSrcIp);
  EXPECT_EQ(s->fields[1], GroupField::kDstPort);
  EXPECT_FALSE(parse_group_by("src_ip,bogus", error));
  EXPECT_NE(error.find("unknown field 'bogus'"), std::string::npos) << error;
  EXPECT_FALSE(parse_group_by("ip,dst_port", error));
  EXPECT_FALSE(parse_group_by("src_ip,src_ip", error));
  EXPECT_FALSE(parse_group_by("src_ip,dst_ip,exporter", error));
  EXPECT_FALSE(parse_group_by("", error));
}

TEST(Aggregator, TopByBytesWithTotalsAndTimes) {
  std::string error;
  Aggregator a(*parse_group_by("src_ip", error), 100);
  a.add(rec("10.0.0.1", "1.1.1.1", 443, 100, 1000));
  a.add(rec("10.0.0.2", "1.1.1.1", 443, 500, 2000));
  a.add(rec("10.0.0.1", "8.8.8.8", 53, 50, 3000));
  auto top = a.top(GroupOrder::kBytes, 1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].first.ip[0], *IpAddr::parse("10.0.0.2"));
  EXPECT_EQ(top[0].second.bytes, 500u);
  top = a.top(GroupOrder::kFlows, 0);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].first.ip[0], *IpAddr::parse("10.0.0.1"));
  EXPECT_EQ(top[0].second.flows, 2u);
  EXPECT_EQ(top[0].second.first_ms, 1000);
  EXPECT_EQ(top[0].second.last_ms, 3010);
  EXPECT_EQ(a.total().bytes, 650u);
}

TEST(Aggregator, EitherSideFieldCountsAFlowForBothEnds) {
  std::string error;
  Aggregator a(*parse_group_by("ip", error), 100);
  a.add(rec("10.0.0.1", "1.1.1.1", 443, 100));
  a.add(rec("1.1.1.1", "10.0.0.2", 443, 10));
  const auto top = a.top(GroupOrder::kBytes, 0);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].first.ip[0], *IpAddr::parse("1.1.1.1"));
  EXPECT_EQ(top[0].second.flows, 2u);
  EXPECT_EQ(top[0].second.bytes, 110u);
  EXPECT_EQ(a.total().flows, 2u);
}

TEST(Aggregator, MergedPartsEqualOneAggregatorAndTiesAreStable) {
  std::string error;
  const auto spec = *parse_group_by("dst_ip,dst_port", error);
  Aggregator whole(spec, 1000), p1(spec, 1000), p2(spec, 1000);
  for (int i = 0; i < 200; ++i) {
    const auto r =
        rec("10.0.0.1", i % 2 ? "1.1.1.1" : "2.2.2.2", static_cast<uint16_t>(i % 7), 10, i);
    whole.add(r);
    (i % 3 ? p1 : p2).add(r);
  }
  p1.merge(p2);
  const auto a = whole.top(GroupOrder::kBytes, 5), b = p1.top(GroupOrder::kBytes, 5);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second.bytes, b[i].second.bytes);
    EXPECT_EQ(a[i].second.first_ms, b[i].second.first_ms);
  }
  EXPECT_EQ(group_value(spec, a[0].first, 1).number, a[0].first.n[0]);
}

TEST(Aggregator, SixteenBitFieldsUseTheDirectTableWithTheSameResults) {
  std::string error;
  const auto spec = *parse_group_by("dst_port", error);
  Aggregator whole(spec, 1000), p1(spec, 1000), p2(spec, 1000), capped(spec, 3);
  for (int i = 0; i < 500; ++i) {
    const auto r = rec("10.0.0.1", "1.1.1.1", static_cast<uint16_t>(i % 7 == 0 ? 65535 : i % 5),
                       static_cast<uint64_t>(10 + i), i);
    whole.add(r);
    (i % 2 ? p1 : p2).add(r);
    capped.add(r);
  }
  p1.merge(p2);
  EXPECT_EQ(whole.groups(), 6u);  // 0..4 and 65535
  const auto a = whole.top(GroupOrder::kBytes, 0), b = p1.top(GroupOrder::kBytes, 0);
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second.flows, b[i].second.flows);
    EXPECT_EQ(a[i].second.bytes, b[i].second.bytes);
  }
  uint64_t flows = 0;
  for (const auto& [k, t] : a) flows += t.flows;
  EXPECT_EQ(flows, 500u);
  EXPECT_EQ(capped.groups(), 3u);
  EXPECT_TRUE(capped.overflowed());
}

TEST(Aggregator, GroupCapBoundsMemoryAndSaysSo) {
  std::string error;
  Aggregator a(*parse_group_by("src_ip", error), 10);
  for (uint32_t i = 0; i < 1000; ++i) {
    FlowRecord r;
    r.src = IpAddr::v4(i);
    a.add(r);
  }
  EXPECT_EQ(a.groups(), 10u);
  EXPECT_TRUE(a.overflowed());
  EXPECT_EQ(a.total().flows, 1000u);
}

TEST(FilterHint, BoundsAddressesOnlyWhereEveryMatchNeedsThem) {
  FilterError e;
  auto hint = [&](const char* text) { return Filter::parse(text, e)->address_hint(); };
  auto h = hint("src ip 10.1.2.3 and port 443");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].len, 128);
  h = hint("net 10.0.0.0/8 or ip in [192.0.2.1 198.51.100.0/24]");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 3u);
  EXPECT_FALSE(hint("not ip 10.1.2.3"));
  EXPECT_FALSE(hint("ip 10.1.2.3 or port 53"));
  EXPECT_FALSE(hint("proto tcp"));
  EXPECT_FALSE(hint(""));
}

}  // namespace
}  // namespace orbwatch::store
