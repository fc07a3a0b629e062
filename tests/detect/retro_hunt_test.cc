#include "detect/retro_hunt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "intel/feed_parser.h"
#include "util/alert_helpers.h"

namespace orbwatch::detect {
namespace {

using test::evidence;

constexpr uint8_t kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
constexpr int64_t kT0 = 1'776'672'000'000;  // 2026-04-20T08:00:00Z

std::shared_ptr<const intel::LoadedFeed> feed(const std::string& name, const std::string& text,
                                              Severity severity = Severity::kHigh) {
  auto f = std::make_shared<intel::LoadedFeed>();
  f->config.name = name;
  f->config.severity = severity;
  f->parsed = intel::parse_feed(text, intel::FeedFormat::kPlain);
  f->loaded_ms = kT0;
  return f;
}

struct Flow {
  const char* src;
  const char* dst;
  uint16_t sport;
  uint16_t dport;
  uint8_t proto = 6;
  uint8_t flags = 0;
  int64_t at_ms = kT0;
  uint64_t bytes = 100;
  const char* name = nullptr;
};

void add(FlowBatch& b, const Flow& f) {
  FlowRecord& r = b.add();
  r.src = *IpAddr::parse(f.src);
  r.dst = *IpAddr::parse(f.dst);
  r.src_port = f.sport;
  r.dst_port = f.dport;
  r.proto = f.proto;
  r.tcp_flags = f.flags;
  r.start_ms = f.at_ms;
  r.end_ms = f.at_ms + 1000;
  r.bytes = f.bytes;
  r.packets = 2;
  if (f.name != nullptr) r.name_ref = b.add_name(f.name);
}

FlowBatch batch(std::initializer_list<Flow> flows) {
  FlowBatch b;
  for (const auto& f : flows) add(b, f);
  return b;
}

class RetroHuntTest : public ::testing::Test {
 protected:
  void use(std::vector<std::shared_ptr<const intel::LoadedFeed>> feeds) {
    intel_ = intel::IntelSet::build(feeds, kT0);
  }
  RetroHunt hunt(HuntOptions o = {}) const { return RetroHunt(intel_, model_, o); }
  // "host feed indicator direction" -> row
  std::map<std::string, HuntRow> by_key(const std::vector<HuntRow>& rows) const {
    std::map<std::string, HuntRow> out;
    for (const auto& r : rows) {
      const std::string key = r.host.to_string() + " " + intel_->feed_of(r.indicator).name + " " +
                              indicator_text(intel_->indicator(r.indicator)) + " " +
                              hunt_direction_name(r.direction);
      EXPECT_TRUE(out.emplace(key, r).second) << "duplicate row " << key;
    }
    return out;
  }

  std::shared_ptr<const intel::IntelSet> intel_ = intel::IntelSet::empty();
  std::shared_ptr<const netmodel::ModelIndex> model_ =
      netmodel::ModelIndex::with_internal({*Prefix::parse("10.0.0.0/8")});
};

TEST_F(RetroHuntTest, OneRowPerHostIndicatorAndDirectionWithCountsAndAnswer) {
  use({feed("c2", "198.51.100.7\n203.0.113.0/24\n")});
  auto h = hunt();
  h.add(batch({
      // 10.0.0.5 talks to the C2 and gets an answer: two records, one outbound row.
      {"10.0.0.5", "198.51.100.7", 50000, 443, 6, kSyn | kAck | kPsh, kT0 + 5000, 300},
      {"198.51.100.7", "10.0.0.5", 443, 50000, 6, kSyn | kAck | kPsh, kT0 + 5000, 1200},
      // 10.0.0.6 tries three times, never answered.
      {"10.0.0.6", "198.51.100.7", 50001, 443, 6, kSyn, kT0 + 1000},
      {"10.0.0.6", "198.51.100.7", 50002, 443, 6, kSyn, kT0 + 2000},
      {"10.0.0.6", "198.51.100.7", 50003, 443, 6, kSyn, kT0 + 3000},
      // Two addresses of the listed /24 knock on 10.0.0.7's SSH; a RST is no answer.
      {"203.0.113.9", "10.0.0.7", 41000, 22, 6, kSyn, kT0 + 7000},
      {"10.0.0.7", "203.0.113.9", 22, 41000, 6, kRst | kAck, kT0 + 7000},
      {"203.0.113.10", "10.0.0.7", 41001, 22, 6, kSyn, kT0 + 9000},
      // Ordinary traffic.
      {"10.0.0.5", "192.0.2.1", 50004, 443, 6, kSyn | kAck, kT0},
  }));
  EXPECT_EQ(h.flows_matched(), 8u);
  const auto rows = h.rows();
  ASSERT_EQ(rows.size(), 3u);
  // Ordered by first seen.
  EXPECT_EQ(rows[0].host.to_string(), "10.0.0.6");
  EXPECT_EQ(rows[1].host.to_string(), "10.0.0.5");
  EXPECT_EQ(rows[2].host.to_string(), "10.0.0.7");

  auto rows_by = by_key(rows);
  const HuntRow& talk = rows_by.at("10.0.0.5 c2 198.51.100.7 outbound");
  EXPECT_TRUE(talk.answered);
  EXPECT_TRUE(talk.host_internal);
  EXPECT_EQ(talk.flows, 2u);
  EXPECT_EQ(talk.bytes, 1500u);
  EXPECT_EQ(talk.bytes_out, 300u);
  EXPECT_EQ(talk.bytes_in, 1200u);
  EXPECT_EQ(talk.packets, 4u);
  EXPECT_EQ(talk.port, 443);
  EXPECT_EQ(talk.peer.to_string(), "198.51.100.7");
  EXPECT_EQ(talk.matches, hunt_match::kAddress);

  const HuntRow& tries = rows_by.at("10.0.0.6 c2 198.51.100.7 outbound");
  EXPECT_FALSE(tries.answered);
  EXPECT_EQ(tries.flows, 3u);
  EXPECT_EQ(tries.first_ms, kT0 + 1000);
  EXPECT_EQ(tries.last_ms, kT0 + 4000);

  const HuntRow& scan = rows_by.at("10.0.0.7 c2 203.0.113.0/24 inbound");
  EXPECT_FALSE(scan.answered);
  EXPECT_EQ(scan.flows, 3u);
  EXPECT_EQ(scan.port, 22);
  EXPECT_EQ(scan.peer.to_string(), "203.0.113.9");  // the earliest flow's
  EXPECT_EQ(scan.peers.size(), 2u);
  EXPECT_EQ(scan.bytes_out, 100u);  // the RST, from the host
  EXPECT_EQ(scan.bytes_in, 200u);
}

TEST_F(RetroHuntTest, DirectionsOfOneHostAndIndicatorAreSeparateRows) {
  use({feed("c2", "198.51.100.7\n")});
  auto h = hunt();
  h.add(batch({{"10.0.0.5", "198.51.100.7", 50000, 443, 6, kSyn},
               {"198.51.100.7", "10.0.0.5", 50001, 22, 6, kSyn},
               {"10.0.0.5", "198.51.100.7", 40000, 40001, 17}}));
  auto rows = by_key(h.rows());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.count("10.0.0.5 c2 198.51.100.7 outbound"), 1u);
  EXPECT_EQ(rows.count("10.0.0.5 c2 198.51.100.7 inbound"), 1u);
  const HuntRow& unknown = rows.at("10.0.0.5 c2 198.51.100.7 unknown");
  EXPECT_TRUE(unknown.host_was_src);
  EXPECT_EQ(unknown.port, 40001);
}

TEST_F(RetroHuntTest, MostSpecificIndicatorPerFeedAndOneRowPerFeed) {
  use({feed("a", "198.51.100.7\n198.51.100.0/24\n"), feed("b", "198.51.100.0/24\n")});
  auto h = hunt();
  h.add(batch({{"10.0.0.5", "198.51.100.7", 50000, 443, 6, kSyn}}));
  auto rows = by_key(h.rows());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.count("10.0.0.5 a 198.51.100.7 outbound"), 1u);
  EXPECT_EQ(rows.count("10.0.0.5 b 198.51.100.0/24 outbound"), 1u);
}

TEST_F(RetroHuntTest, InternalEndOfABothListedFlowIsTheHostOnly) {
  // A bogon-style feed lists the internal range too.
  use({feed("wide", "10.0.0.0/8\n198.51.100.7\n")});
  auto h = hunt();
  h.add(batch({{"10.0.0.5", "198.51.100.7", 50000, 443, 6, kSyn},
               // Two external listed ends: each is the other's indicator.
               {"198.51.100.7", "10.9.9.9", 50000, 443, 6, kSyn}}));
  auto rows = by_key(h.rows());
  EXPECT_EQ(rows.count("10.0.0.5 wide 198.51.100.7 outbound"), 1u);
  EXPECT_EQ(rows.count("198.51.100.7 wide 10.0.0.0/8 inbound"), 0u);
  EXPECT_EQ(rows.count("10.9.9.9 wide 198.51.100.7 inbound"), 1u);
  EXPECT_EQ(rows.size(), 2u);

  // With nobody internal, both ends are reported, each as the other's indicator.
  model_ = netmodel::ModelIndex::with_internal({*Prefix::parse("172.16.0.0/12")});
  auto h2 = hunt();
  h2.add(batch({{"10.0.0.5", "198.51.100.7", 50000, 443, 6, kSyn}}));
  auto rows2 = by_key(h2.rows());
  ASSERT_EQ(rows2.size(), 2u);
  EXPECT_EQ(rows2.count("10.0.0.5 wide 198.51.100.7 outbound"), 1u);
  EXPECT_EQ(rows2.count("198.51.100.7 wide 10.0.0.0/8 inbound"), 1u);
  EXPECT_FALSE(rows2.at("10.0.0.5 wide 198.51.100.7 outbound").host_internal);
}

TEST_F(RetroHuntTest, DomainsMatchServerNamesAndDnsQueries) {
  use({feed("c2", "k3121.com\n198.51.100.9\n")});
  auto h = hunt();
  h.add(batch({
      // TLS to a C2 subdomain, answered.
      {"10.0.0.5", "192.0.2.77", 50000, 443, 6, kSyn | kAck | kPsh, kT0, 200, "abc.k3121.com"},
      {"192.0.2.77", "10.0.0.5", 443, 50000, 6, kSyn | kAck | kPsh, kT0, 900, "abc.k3121.com"},
      // A lookup of it, and the resolver's answer (carrying the name too).
      {"10.0.0.6", "10.0.0.53", 53000, 53, 17, 0, kT0 + 100, 60, "x.k3121.com"},
      {"10.0.0.53", "10.0.0.6", 53, 53000, 17, 0, kT0 + 110, 90, "x.k3121.com"},
      // Listed by address and by name: counted once, as the address.
      {"10.0.0.7", "198.51.100.9", 50001, 443, 6, kSyn, kT0 + 200, 100, "k3121.com"},
      // An unrelated name.
      {"10.0.0.8", "192.0.2.80", 50002, 443, 6, kSyn, kT0, 100, "example.com"},
  }));
  auto rows = by_key(h.rows());
  ASSERT_EQ(rows.size(), 3u);
  const HuntRow& tls = rows.at("10.0.0.5 c2 k3121.com outbound");
  EXPECT_EQ(tls.matches, hunt_match::kServerName);
  EXPECT_TRUE(tls.answered);
  EXPECT_EQ(tls.flows, 2u);
  EXPECT_EQ(tls.peer.to_string(), "192.0.2.77");
  EXPECT_EQ(tls.server_name, "abc.k3121.com");
  const HuntRow& dns = rows.at("10.0.0.6 c2 k3121.com outbound");
  EXPECT_EQ(dns.matches, hunt_match::kDnsQuery);
  EXPECT_FALSE(dns.answered);  // the resolver answering says nothing about the indicator
  EXPECT_EQ(dns.flows, 2u);
  EXPECT_EQ(dns.peer.to_string(), "10.0.0.53");
  EXPECT_EQ(dns.port, 53);
  const HuntRow& both = rows.at("10.0.0.7 c2 198.51.100.9 outbound");
  EXPECT_EQ(both.matches, hunt_match::kAddress);
  EXPECT_EQ(both.server_name, "k3121.com");

  // Addresses only.
  HuntOptions o;
  o.match_domains = false;
  auto h2 = hunt(o);
  h2.add(batch({{"10.0.0.5", "192.0.2.77", 50000, 443, 6, kSyn, kT0, 200, "abc.k3121.com"}}));
  EXPECT_TRUE(h2.rows().empty());
}

TEST_F(RetroHuntTest, MergingWorkersGivesTheSameRowsInAnyOrder) {
  use({feed("c2", "198.51.100.0/24\n")});
  std::vector<Flow> flows;
  std::deque<std::string> text;  // the addresses the flows point to
  for (int i = 0; i < 40; ++i) {
    const char* peer = text.emplace_back("198.51.100." + std::to_string(i % 7)).c_str();
    const char* host = text.emplace_back("10.0.0." + std::to_string(i % 3)).c_str();
    flows.push_back({i % 2 ? peer : host, i % 2 ? host : peer,
                     static_cast<uint16_t>(i % 2 ? 443 : 50000 + i),
                     static_cast<uint16_t>(i % 2 ? 50000 + i : 443), 6,
                     static_cast<uint8_t>(i % 5 == 0 ? kSyn : kSyn | kAck), kT0 + (i % 4) * 1000,
                     static_cast<uint64_t>(100 + i)});
  }
  auto one = hunt();
  FlowBatch all;
  for (const auto& f : flows) add(all, f);
  one.add(all);
  // Two workers, each with every other flow, the second in reverse order.
  auto w0 = hunt();
  auto w1 = hunt();
  FlowBatch even, odd;
  for (size_t i = 0; i < flows.size(); ++i) {
    if (i % 2 == 0) add(even, flows[i]);
  }
  for (size_t i = flows.size(); i-- > 0;) {
    if (i % 2 == 1) add(odd, flows[i]);
  }
  w0.add(even);
  w1.add(odd);
  w1.merge(w0);
  const auto a = one.rows();
  const auto b = w1.rows();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].host, b[i].host);
    EXPECT_EQ(a[i].indicator, b[i].indicator);
    EXPECT_EQ(a[i].direction, b[i].direction);
    EXPECT_EQ(a[i].flows, b[i].flows);
    EXPECT_EQ(a[i].bytes, b[i].bytes);
    EXPECT_EQ(a[i].answered, b[i].answered);
    EXPECT_EQ(a[i].first_ms, b[i].first_ms);
    EXPECT_EQ(a[i].last_ms, b[i].last_ms);
    EXPECT_EQ(a[i].peer, b[i].peer);
    EXPECT_EQ(a[i].port, b[i].port);
    EXPECT_EQ(a[i].peers, b[i].peers);
  }
  EXPECT_EQ(one.flows_matched(), w1.flows_matched());
}

TEST_F(RetroHuntTest, OrdersByBytesOrFlowsAndCapsRows) {
  use({feed("c2", "198.51.100.7\n198.51.100.8\n")});
  auto h = hunt();
  h.add(batch({{"10.0.0.1", "198.51.100.7", 50000, 443, 6, kSyn, kT0, 10},
               {"10.0.0.2", "198.51.100.8", 50000, 443, 6, kSyn, kT0 + 1, 5000},
               {"10.0.0.3", "198.51.100.8", 50000, 443, 6, kSyn, kT0 + 2, 20},
               {"10.0.0.3", "198.51.100.8", 50001, 443, 6, kSyn, kT0 + 3, 20}}));
  auto by_bytes = h.rows(HuntOrder::kBytes);
  ASSERT_EQ(by_bytes.size(), 3u);
  EXPECT_EQ(by_bytes[0].host.to_string(), "10.0.0.2");
  EXPECT_EQ(by_bytes[1].host.to_string(), "10.0.0.3");
  auto by_flows = h.rows(HuntOrder::kFlows);
  EXPECT_EQ(by_flows[0].host.to_string(), "10.0.0.3");

  HuntOptions o;
  o.max_rows = 1;
  auto capped = hunt(o);
  capped.add(batch({{"10.0.0.1", "198.51.100.7", 50000, 443, 6, kSyn},
                    {"10.0.0.2", "198.51.100.7", 50000, 443, 6, kSyn},
                    {"10.0.0.2", "198.51.100.7", 50001, 443, 6, kSyn}}));
  EXPECT_EQ(capped.row_count(), 1u);
  EXPECT_EQ(capped.flows_not_kept(), 2u);
}

TEST_F(RetroHuntTest, AlertsAreRetroIntelAlertsWithStableIds) {
  use({feed("c2", "198.51.100.7\n", Severity::kHigh), feed("scan", "203.0.113.0/24\n")});
  auto h = hunt();
  h.add(batch({{"10.0.0.5", "198.51.100.7", 50000, 443, 6, kSyn | kAck | kPsh, kT0, 300},
               {"198.51.100.7", "10.0.0.5", 443, 50000, 6, kSyn | kAck | kPsh, kT0, 1200},
               {"203.0.113.9", "10.0.0.7", 41000, 22, 6, kSyn, kT0 + 7000}}));
  auto rows = by_key(h.rows());
  const Alert out = make_hunt_alert(rows.at("10.0.0.5 c2 198.51.100.7 outbound"), *intel_);
  EXPECT_TRUE(out.retro);
  EXPECT_EQ(out.detector, "intel");
  EXPECT_EQ(out.severity, Severity::kCritical);  // answered: one above the feed's
  EXPECT_EQ(out.src.to_string(), "10.0.0.5");
  EXPECT_EQ(out.dst.to_string(), "198.51.100.7");
  EXPECT_EQ(out.dst_port, 443);
  EXPECT_EQ(out.count, 2u);
  EXPECT_EQ(out.first_seen_ms, kT0);
  EXPECT_EQ(out.last_seen_ms, kT0 + 1000);
  EXPECT_EQ(out.indicator->feed, "c2");
  EXPECT_EQ(out.indicator->value, "198.51.100.7");
  EXPECT_EQ(evidence(out, "direction"), "outbound");
  EXPECT_EQ(evidence(out, "answered"), "1");
  EXPECT_EQ(evidence(out, "flows"), "2");
  EXPECT_EQ(evidence(out, "bytes"), "1500");
  EXPECT_NE(out.summary.find("exchanged traffic with 198.51.100.7:443/tcp"), std::string::npos)
      << out.summary;
  std::string json;
  append_alert_json(json, out);
  EXPECT_NE(json.find(",\"retro\":true}"), std::string::npos) << json;

  const Alert in = make_hunt_alert(rows.at("10.0.0.7 scan 203.0.113.0/24 inbound"), *intel_);
  EXPECT_EQ(in.severity, Severity::kMedium);  // an unanswered scan: one below
  EXPECT_EQ(in.src.to_string(), "203.0.113.9");
  EXPECT_EQ(in.dst.to_string(), "10.0.0.7");
  EXPECT_EQ(in.dst_port, 22);
  EXPECT_NE(in.id, out.id);

  // The same row seen over a wider range (earlier first flow, more flows) keeps its id, so a
  // later hunt updates the alert; another direction or host is another alert.
  HuntRow wider = rows.at("10.0.0.5 c2 198.51.100.7 outbound");
  wider.first_ms -= 86'400'000;
  wider.flows += 10;
  EXPECT_EQ(make_hunt_alert(wider, *intel_).id, out.id);
  HuntRow other = wider;
  other.direction = HuntDirection::kInbound;
  EXPECT_NE(make_hunt_alert(other, *intel_).id, out.id);
  other = wider;
  other.host = *IpAddr::parse("10.0.0.6");
  EXPECT_NE(make_hunt_alert(other, *intel_).id, out.id);
}

}  // namespace
}  // namespace orbwatch::detect
