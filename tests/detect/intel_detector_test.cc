#include "detect/intel_detector.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/snapshot.h"
#include "detect/engine.h"
#include "detect/registry.h"
#include "intel/feed_parser.h"
#include "util/alert_helpers.h"

namespace orbwatch::detect {
namespace {

using test::evidence;

constexpr uint8_t kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
constexpr int64_t kT0 = 1'776'672'000'000;  // 2026-04-20T08:00:00Z
constexpr int64_t kMin = 60'000;

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

class IntelDetectorTest : public ::testing::Test {
 protected:
  void use(std::vector<std::shared_ptr<const intel::LoadedFeed>> feeds,
           IntelDetectorOptions o = {}) {
    intel_.store(intel::IntelSet::build(feeds, kT0));
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<IntelDetector>(o));
    EngineOptions eo;
    eo.lateness_ms = 0;
    engine_ = std::make_unique<Engine>(eo, std::move(d), intel_, sink_);
  }
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
  void run(std::initializer_list<Flow> flows) {
    FlowBatch b;
    for (const auto& f : flows) add(b, f);
    engine_->process(b);
  }
  std::vector<Alert> finish() {
    engine_->finish();
    return sink_.latest();
  }

  SnapshotHolder<intel::IntelSet> intel_{intel::IntelSet::empty()};
  test::CollectAlerts sink_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(IntelDetectorTest, OutboundAnsweredIsOneLevelAboveTheFeed) {
  use({feed("c2", "198.51.100.7\n")});
  run({{"10.0.0.5", "198.51.100.7", 50000, 443, 6, kSyn | kAck | kPsh},
       {"198.51.100.7", "10.0.0.5", 443, 50000, 6, kSyn | kAck | kPsh, kT0, 5000}});
  auto alerts = finish();
  ASSERT_EQ(alerts.size(), 1u);
  const Alert& a = alerts[0];
  EXPECT_EQ(a.detector, "intel");
  EXPECT_EQ(a.severity, Severity::kCritical);
  EXPECT_EQ(a.src.to_string(), "10.0.0.5");
  EXPECT_EQ(a.dst.to_string(), "198.51.100.7");
  EXPECT_EQ(a.dst_port, 443);
  EXPECT_EQ(a.count, 2u);
  EXPECT_EQ(a.indicator->feed, "c2");
  EXPECT_EQ(a.indicator->value, "198.51.100.7");
  EXPECT_EQ(evidence(a, "direction"), "outbound");
  EXPECT_EQ(evidence(a, "answered"), "1");
  EXPECT_EQ(evidence(a, "bytes_out"), "100");
  EXPECT_EQ(evidence(a, "bytes_in"), "5000");
  EXPECT_EQ(evidence(a, "host_internal"), "1");
  EXPECT_EQ(a.first_seen_ms, kT0);
  EXPECT_EQ(a.last_seen_ms, kT0 + 1000);
}

TEST_F(IntelDetectorTest, SeverityFollowsDirectionAndAnswer) {
  use({feed("c2", "198.51.100.0/24\n")});
  run({// outbound, only SYNs: the indicator never answered
       {"10.0.0.1", "198.51.100.1", 50000, 443, 6, kSyn},
       // inbound scan, not answered
       {"198.51.100.2", "10.0.0.2", 50001, 22, 6, kSyn},
       // inbound, refused with a RST: still not answered
       {"198.51.100.3", "10.0.0.3", 50002, 23, 6, kSyn},
       {"10.0.0.3", "198.51.100.3", 23, 50002, 6, kRst | kAck},
       // inbound, the host answered
       {"198.51.100.4", "10.0.0.4", 50003, 443, 6, kSyn | kAck | kPsh},
       {"10.0.0.4", "198.51.100.4", 443, 50003, 6, kSyn | kAck | kPsh},
       // neither side a service port: direction unknown
       {"10.0.0.5", "198.51.100.5", 40000, 40001, 17}});
  auto alerts = finish();
  ASSERT_EQ(alerts.size(), 5u);
  std::map<std::string, const Alert*> by_host;
  for (const auto& a : alerts) by_host[evidence(a, "host")] = &a;
  EXPECT_EQ(by_host["10.0.0.1"]->severity, Severity::kHigh);
  EXPECT_EQ(evidence(*by_host["10.0.0.1"], "direction"), "outbound");
  EXPECT_EQ(by_host["10.0.0.2"]->severity, Severity::kMedium);
  EXPECT_EQ(evidence(*by_host["10.0.0.2"], "direction"), "inbound");
  EXPECT_EQ(by_host["10.0.0.2"]->src.to_string(), "198.51.100.2");
  EXPECT_EQ(by_host["10.0.0.2"]->dst_port, 22);
  EXPECT_EQ(by_host["10.0.0.3"]->severity, Severity::kMedium);
  EXPECT_EQ(evidence(*by_host["10.0.0.3"], "answered"), "0");
  EXPECT_EQ(by_host["10.0.0.4"]->severity, Severity::kHigh);
  EXPECT_EQ(evidence(*by_host["10.0.0.4"], "answered"), "1");
  EXPECT_EQ(by_host["10.0.0.5"]->severity, Severity::kHigh);
  EXPECT_EQ(evidence(*by_host["10.0.0.5"], "direction"), "unknown");
  for (const auto& a : alerts) EXPECT_EQ(a.indicator->value, "198.51.100.0/24");
}

TEST_F(IntelDetectorTest, FeedSeverityIsTheBase) {
  use({feed("scanners", "198.51.100.7\n", Severity::kLow),
       feed("c2", "198.51.100.7\n", Severity::kMedium)});
  run({{"10.0.0.5", "198.51.100.7", 50000, 443, 6, kSyn | kAck},
       {"198.51.100.7", "10.0.0.6", 50000, 3389, 6, kSyn}});
  auto alerts = finish();
  // One alert per (feed, indicator, host): two feeds x two hosts.
  ASSERT_EQ(alerts.size(), 4u);
  std::map<std::string, Severity> sev;
  for (const auto& a : alerts) sev[a.indicator->feed + " " + evidence(a, "host")] = a.severity;
  EXPECT_EQ(sev["c2 10.0.0.5"], Severity::kHigh);
  EXPECT_EQ(sev["scanners 10.0.0.5"], Severity::kMedium);
  EXPECT_EQ(sev["c2 10.0.0.6"], Severity::kLow);
  EXPECT_EQ(sev["scanners 10.0.0.6"], Severity::kLow);
}

TEST_F(IntelDetectorTest, MostSpecificIndicatorOfAFeedSpeaksForIt) {
  use({feed("c2", "198.51.100.0/24\n198.51.100.7\n198.51.0.0/16\n")});
  run({{"10.0.0.5", "198.51.100.7", 50000, 443, 6, kSyn}});
  auto alerts = finish();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].indicator->value, "198.51.100.7");
}

TEST_F(IntelDetectorTest, OneAlertPerWindowRaisedAgainWhenItGrows) {
  IntelDetectorOptions o;
  o.window_ms = 60 * kMin;
  use({feed("c2", "198.51.100.7\n")}, o);
  // A beacon every 10 minutes for 2.5 hours, SYN only at first.
  for (int i = 0; i < 15; ++i) {
    uint8_t flags = i < 2 ? kSyn : (kSyn | kAck | kPsh);
    run({{"10.0.0.5", "198.51.100.7", static_cast<uint16_t>(50000 + i), 443, 6, flags,
          kT0 + i * 10 * kMin}});
  }
  engine_->finish();
  // First window: raised at the first flow (high), again when the C2 answered (critical, same
  // id), again when the window closed with more flows. Second and third windows: new ids.
  ASSERT_GE(sink_.all.size(), 3u);
  EXPECT_EQ(sink_.all[0].severity, Severity::kHigh);
  EXPECT_EQ(sink_.all[0].count, 1u);
  EXPECT_EQ(sink_.all[1].id, sink_.all[0].id);
  EXPECT_EQ(sink_.all[1].severity, Severity::kCritical);
  EXPECT_EQ(sink_.all[1].count, 3u);
  auto alerts = sink_.latest();
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[0].count, 6u);  // minutes 0..50
  EXPECT_EQ(alerts[1].count, 6u);  // 60..110
  EXPECT_EQ(alerts[2].count, 3u);  // 120..140
  EXPECT_EQ(alerts[1].first_seen_ms, kT0 + 60 * kMin);
  EXPECT_NE(alerts[1].id, alerts[0].id);
  // Every version carries the whole case so far; none goes back in count.
  for (size_t i = 1; i < sink_.all.size(); ++i) {
    if (sink_.all[i].id == sink_.all[i - 1].id) {
      EXPECT_GE(sink_.all[i].count, sink_.all[i - 1].count);
    }
  }
}

TEST_F(IntelDetectorTest, ServerNameMatchesDomainAndParents) {
  intel::ParsedFeed p;
  auto f = std::make_shared<intel::LoadedFeed>();
  f->config.name = "raptor";
  f->parsed = intel::parse_feed("k3121.com\n", intel::FeedFormat::kPlain);
  f->loaded_ms = kT0;
  use({f});
  run({{"10.0.0.5", "192.0.2.80", 50000, 443, 6, kSyn | kAck | kPsh, kT0, 700, "api.K3121.com"},
       {"10.0.0.6", "192.0.2.81", 50000, 443, 6, kSyn | kAck | kPsh, kT0, 700, "k3121.com.evil"}});
  auto alerts = finish();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(evidence(alerts[0], "match"), "server_name");
  EXPECT_EQ(evidence(alerts[0], "server_name"), "api.K3121.com");
  EXPECT_EQ(alerts[0].indicator->value, "k3121.com");
  EXPECT_EQ(alerts[0].dst.to_string(), "192.0.2.80");
  EXPECT_EQ(alerts[0].severity, Severity::kCritical);  // outbound and the handshake finished
}

TEST_F(IntelDetectorTest, DnsAnswersMakeTemporaryAddressIndicators) {
  IntelDetectorOptions o;
  o.dns_min_ttl_ms = 30 * kMin;
  o.window_ms = 5 * kMin;
  use({feed("raptor", "w8510.com\n")}, o);
  FlowBatch b;
  add(b, {"10.0.0.5", "10.0.0.53", 40000, 53, 17, 0, kT0, 60, "c2.w8510.com"});
  add(b, {"10.0.0.53", "10.0.0.5", 53, 40000, 17, 0, kT0, 90, "c2.w8510.com"});
  b.dns.push_back({1, b.add_name("c2.w8510.com"), *IpAddr::parse("192.0.2.66"), 60});
  engine_->process(b);
  // 10 minutes later: the DNS TTL (60 s) has passed but the 30-minute minimum holds.
  run({{"10.0.0.7", "192.0.2.66", 50000, 443, 6, kSyn, kT0 + 10 * kMin}});
  // An hour later it has expired.
  run({{"10.0.0.8", "192.0.2.66", 50000, 443, 6, kSyn, kT0 + 60 * kMin}});
  auto alerts = finish();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(evidence(alerts[0], "match"), "dns_query");
  EXPECT_EQ(evidence(alerts[0], "host"), "10.0.0.5");
  EXPECT_EQ(alerts[0].severity, Severity::kHigh);  // the resolver answering says nothing
  EXPECT_EQ(alerts[0].count, 2u);
  EXPECT_EQ(alerts[0].dst_port, 53);
  EXPECT_EQ(evidence(alerts[1], "match"), "dns_answer");
  EXPECT_EQ(evidence(alerts[1], "host"), "10.0.0.7");
  EXPECT_EQ(alerts[1].indicator->value, "w8510.com");  // reported as the domain it came from
  EXPECT_EQ(alerts[1].indicator->feed, "raptor");
  EXPECT_EQ(alerts[1].dst.to_string(), "192.0.2.66");
  EXPECT_EQ(alerts[1].severity, Severity::kHigh);
}

TEST_F(IntelDetectorTest, LookupThenConnectionIsOneCaseNamedByTheConnection) {
  use({feed("raptor", "w8510.com\n")});
  FlowBatch b;
  add(b, {"10.0.0.5", "10.0.0.53", 40000, 53, 17, 0, kT0, 60, "w8510.com"});
  add(b, {"10.0.0.53", "10.0.0.5", 53, 40000, 17, 0, kT0, 90, "w8510.com"});
  b.dns.push_back({1, b.add_name("w8510.com"), *IpAddr::parse("192.0.2.66"), 300});
  engine_->process(b);
  run({{"10.0.0.5", "192.0.2.66", 50000, 443, 6, kSyn | kAck | kPsh, kT0 + 2000},
       {"192.0.2.66", "10.0.0.5", 443, 50000, 6, kSyn | kAck | kPsh, kT0 + 2000, 4000}});
  auto alerts = finish();
  ASSERT_EQ(alerts.size(), 1u);
  const Alert& a = alerts[0];
  EXPECT_EQ(a.count, 4u);
  EXPECT_EQ(a.severity, Severity::kCritical);
  EXPECT_EQ(evidence(a, "match"), "dns_answer");
  EXPECT_EQ(evidence(a, "direction"), "outbound");
  EXPECT_EQ(a.dst.to_string(), "192.0.2.66");
  EXPECT_EQ(a.dst_port, 443);
  EXPECT_EQ(a.first_seen_ms, kT0);
  EXPECT_EQ(a.summary,
            "10.0.0.5 exchanged traffic with 192.0.2.66:443/tcp, an address DNS gave for "
            "w8510.com, listed by raptor");
  // The lookup alone was raised first, at the feed's severity.
  EXPECT_EQ(sink_.all.front().severity, Severity::kHigh);
  EXPECT_EQ(evidence(sink_.all.front(), "match"), "dns_query");
}

TEST_F(IntelDetectorTest, StateIsBoundedAndEvictionRaisesWhatItCloses) {
  IntelDetectorOptions o;
  o.max_cases = 2;
  auto* det = new IntelDetector(o);
  intel_.store(intel::IntelSet::build(std::vector{feed("c2", "198.51.100.7\n")}, kT0));
  std::vector<std::unique_ptr<Detector>> d;
  d.emplace_back(det);
  EngineOptions eo;
  eo.lateness_ms = 0;
  engine_ = std::make_unique<Engine>(eo, std::move(d), intel_, sink_);
  run({{"10.0.0.1", "198.51.100.7", 50000, 443, 6, kSyn},
       {"10.0.0.1", "198.51.100.7", 50001, 443, 6, kSyn},
       {"10.0.0.2", "198.51.100.7", 50000, 443, 6, kSyn},
       {"10.0.0.3", "198.51.100.7", 50000, 443, 6, kSyn}});
  DetectorStats st = det->stats();
  EXPECT_EQ(st.evicted, 1u);
  EXPECT_EQ(st.state_entries, 2u);
  auto alerts = finish();
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[0].count, 2u);  // the evicted case was raised with its final count
}

TEST_F(IntelDetectorTest, NoIndicatorNoAlertAndExpiredIndicatorsAreGone) {
  auto f = std::make_shared<intel::LoadedFeed>();
  f->config.name = "old";
  f->config.ttl_ms = 7 * 86'400'000LL;
  f->parsed = intel::parse_feed("198.51.100.7\n", intel::FeedFormat::kPlain);
  f->loaded_ms = kT0 - 8 * 86'400'000LL;  // read 8 days ago, TTL 7 days
  use({f});
  EXPECT_EQ(intel_.load()->size(), 0u);
  EXPECT_EQ(intel_.load()->stats().expired, 1u);
  run({{"10.0.0.1", "198.51.100.7", 50000, 443, 6, kSyn},
       {"10.0.0.1", "192.0.2.1", 50000, 443, 6, kSyn}});
  EXPECT_TRUE(finish().empty());
}

TEST(DetectorRegistry, BuildsIntelAndRejectsBadParameters) {
  std::string error;
  ASSERT_NE(find_detector("intel"), nullptr);
  EXPECT_NE(find_detector("intel")->make({{"window", "2h"}}, error), nullptr);
  EXPECT_EQ(error, "");
  EXPECT_EQ(find_detector("intel")->make({{"window", "soon"}}, error), nullptr);
  EXPECT_EQ(error, "intel.window: expected a duration like \"1h\", got \"soon\"");
  error.clear();
  EXPECT_EQ(find_detector("intel")->make({{"windw", "1h"}}, error), nullptr);
  EXPECT_EQ(error, "intel.windw: expected a known parameter, got \"1h\"");
  error.clear();
  EXPECT_EQ(find_detector("intel")->make({{"max_cases", "0"}}, error), nullptr);
  EXPECT_NE(error.find("positive whole number"), std::string::npos);
}

}  // namespace
}  // namespace orbwatch::detect
