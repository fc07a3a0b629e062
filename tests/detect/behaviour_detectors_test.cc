// The behavioural detectors (scan, beacon, spray, relay, egress) on flows built by hand: each
// finds what it is for, stays quiet on its look-alike benign pattern, and keeps its bounds.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/snapshot.h"
#include "detect/anomaly_detector.h"
#include "detect/baseline_detector.h"
#include "detect/beacon_detector.h"
#include "detect/egress_detector.h"
#include "detect/engine.h"
#include "detect/relay_detector.h"
#include "detect/scan_detector.h"
#include "detect/spray_detector.h"
#include "netmodel/model.h"
#include "sim/rng.h"
#include "util/alert_helpers.h"

namespace orbwatch::detect {
namespace {

using test::evidence;

constexpr uint8_t kSyn = 0x02, kPsh = 0x08, kAck = 0x10, kFin = 0x01;
constexpr uint8_t kDone = kSyn | kAck | kPsh | kFin;  // a whole answered session
constexpr int64_t kSec = 1000, kMin = 60 * kSec, kHour = 60 * kMin, kDay = 24 * kHour;
constexpr int64_t kT0 = 1'776'643'200'000;  // 2026-04-20T00:00:00Z, a Monday

constexpr const char* kModel = R"(
[network]
internal = ["10.0.0.0/8"]
[[assets]]
name = "cam-1"
address = "10.20.5.10"
kind = "camera"
[[assets]]
name = "branch-1"
address = "10.40.1.1"
kind = "router"
[[assets]]
name = "vpn-gw"
address = "10.20.1.1"
kind = "vpn"
services = ["tcp/443"]
[[assets]]
name = "mail"
address = "10.20.1.25"
kind = "mail"
[[assets]]
name = "nas"
address = "10.20.5.200"
kind = "nas"
)";

// Hosting 31.0.0.0/16 (AS64600), residential 81.0.0.0/12 (AS64601), business 150.0.0.0/16;
// countries: 31/8 DE, 81/8 GB, 150/8 US.
constexpr const char* kAsn =
    "31.0.0.0,31.0.255.255,64600,Nimbus Hosting Ltd\n"
    "81.0.0.0,81.15.255.255,64601,Cobalt Broadband\n"
    "150.0.0.0,150.0.255.255,64602,Harbor University\n";
constexpr const char* kCountry =
    "31.0.0.0,31.255.255.255,DE\n81.0.0.0,81.255.255.255,GB\n150.0.0.0,150.255.255.255,US\n";

IpAddr v4(uint32_t a) {
  return IpAddr::v4(a);
}
IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

class BehaviourTest : public ::testing::Test {
 protected:
  template <class D, class O>
  void make(const O& options) {
    std::vector<std::string> errors;
    auto m = netmodel::parse_model(kModel, "t.toml", errors);
    ASSERT_TRUE(m.has_value()) << errors[0];
    enrich::GeoDb::Builder b;
    std::vector<std::string> warnings;
    std::string error;
    ASSERT_TRUE(b.add_csv(kAsn, "asn.csv", warnings, error)) << error;
    ASSERT_TRUE(b.add_csv(kCountry, "country.csv", warnings, error)) << error;
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<D>(options));
    detector_ = d.back().get();
    EngineOptions eo;
    eo.model = netmodel::ModelIndex::build(std::move(*m));
    eo.geo = b.build();
    eo.lateness_ms = 0;
    engine_ = std::make_unique<Engine>(eo, std::move(d), intel_, sink_);
  }
  FlowRecord& add(const IpAddr& src, uint16_t sport, const IpAddr& dst, uint16_t dport, int64_t at,
                  uint8_t flags = kDone, uint64_t bytes = 800, uint8_t proto = 6) {
    FlowRecord& r = batch_.add();
    r.src = src;
    r.dst = dst;
    r.src_port = sport;
    r.dst_port = dport;
    r.proto = proto;
    r.tcp_flags = proto == 6 ? flags : 0;
    r.start_ms = at;
    r.end_ms = at + 500;
    r.bytes = bytes;
    r.packets = 1 + bytes / 1000;
    return r;
  }
  // Sends what was added (in end-time order, as exporters do) through the engine.
  void flush_batch() {
    std::stable_sort(batch_.records.begin(), batch_.records.end(),
                     [](const FlowRecord& a, const FlowRecord& b) { return a.end_ms < b.end_ms; });
    for (size_t i = 0; i < batch_.records.size(); i += 512) {
      FlowBatch part;
      for (size_t k = i; k < std::min(batch_.records.size(), i + 512); ++k)
        part.records.push_back(batch_.records[k]);
      engine_->process(part);
    }
    batch_.clear();
  }
  std::vector<Alert> alerts() {
    flush_batch();
    engine_->finish();
    return sink_.latest();
  }

  SnapshotHolder<intel::IntelSet> intel_{intel::IntelSet::empty()};
  test::CollectAlerts sink_;
  std::unique_ptr<Engine> engine_;
  Detector* detector_ = nullptr;
  FlowBatch batch_;
  sim::Rng rng_{42};
};

// --- scan ---------------------------------------------------------------------------------

TEST_F(BehaviourTest, ScanFindsAnEdgeDeviceSweepingTelnetButNotABusyMailServer) {
  make<ScanDetector>(ScanDetectorOptions{});
  const IpAddr cam = ip("10.20.5.10"), mail = ip("10.20.1.25");
  for (uint32_t i = 0; i < 40; ++i)  // 40 residential hosts on telnet, none answers
    add(cam, static_cast<uint16_t>(40000 + i), v4(0x51000000 + i * 977), 23, kT0 + i * kSec, kSyn,
        60);
  for (uint32_t i = 0; i < 300; ++i)  // 300 relays on SMTP, all answer
    add(mail, static_cast<uint16_t>(40000 + i), v4(0x96000000 + i * 13), 25, kT0 + i * kSec);
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].detector, "scan");
  EXPECT_EQ(a[0].src, cam);
  EXPECT_EQ(a[0].dst_port, 23);
  EXPECT_EQ(a[0].severity, Severity::kHigh);  // an edge device
  EXPECT_EQ(evidence(a[0], "destinations"), "40");
  EXPECT_EQ(evidence(a[0], "kind"), "horizontal");
}

TEST_F(BehaviourTest, ScanFindsAVerticalPortScanFromAWorkstation) {
  make<ScanDetector>(ScanDetectorOptions{});
  const IpAddr ws = ip("10.21.0.5"), target = ip("10.20.2.10");
  for (uint16_t p = 1; p <= 60; ++p) add(ws, 50000, target, p, kT0 + p * kSec, kSyn, 60);
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(evidence(a[0], "kind"), "vertical");
  EXPECT_EQ(evidence(a[0], "ports"), "60");
  EXPECT_EQ(a[0].severity, Severity::kMedium);
}

TEST_F(BehaviourTest, ScanKeepsItsTargetsWithinTheGlobalCap) {
  ScanDetectorOptions o;
  o.max_total_targets = 100;
  make<ScanDetector>(o);
  for (uint32_t h = 0; h < 10; ++h)
    for (uint32_t i = 0; i < 50; ++i)
      add(v4(0x0a150000 + h), 40000, v4(0x51000000 + i), 23, kT0 + i * kSec, kSyn, 60);
  flush_batch();
  const auto s = detector_->stats();
  EXPECT_LE(s.state_bytes, 50'000u * 10);  // bounded, not growing with the sweep
  uint64_t refused = 0;
  for (const auto& [k, v] : s.counters)
    if (k == "targets_refused") refused = v;
  EXPECT_GT(refused, 0u);
}

// --- beacon -------------------------------------------------------------------------------

TEST(BeaconScore, PeriodicScoresHighAndPoissonLow) {
  sim::Rng rng(7);
  std::vector<int64_t> periodic, random;
  std::vector<uint64_t> sizes, random_sizes;
  int64_t t = 0, u = 0;
  for (int i = 0; i < 60; ++i) {
    t += static_cast<int64_t>(300'000 * std::max(0.2, rng.normal(1, 0.15)));
    periodic.push_back(t);
    sizes.push_back(560 + rng.below(80));
    u += static_cast<int64_t>(rng.exponential(300'000));
    random.push_back(u);
    random_sizes.push_back(static_cast<uint64_t>(rng.lognormal(8, 1.5)));
  }
  const auto p = score_beacon(periodic, sizes);
  const auto r = score_beacon(random, random_sizes);
  EXPECT_NEAR(p.median_interval_s, 300, 30);
  EXPECT_GT(p.score, 0.85);
  EXPECT_LT(r.score, 0.6);
  EXPECT_EQ(score_beacon({1, 2}, {1, 2}).score, 0);  // too few
}

TEST_F(BehaviourTest, BeaconFindsANewCheckInButNotTheHeartbeatThatWasThereFromTheStart) {
  make<BeaconDetector>(BeaconDetectorOptions{});
  const IpAddr cam = ip("10.20.5.10");
  const IpAddr cloud_a = ip("31.0.1.1"), cloud_b = ip("31.0.9.9"), c2 = ip("81.3.3.3");
  // A heartbeat every 60 s for 3 days; the vendor's cloud moves to another address of its AS
  // on day 2 (baseline by AS, so still quiet).
  for (int64_t at = kT0; at < kT0 + 3 * kDay; at += 60 * kSec)
    add(cam, static_cast<uint16_t>(40000 + at / kSec % 20000),
        at < kT0 + 2 * kDay ? cloud_a : cloud_b, 443, at, kDone, 300);
  // From day 2, every ~5 minutes (15% jitter) to a new address.
  for (int64_t at = kT0 + 2 * kDay; at < kT0 + 3 * kDay;
       at += static_cast<int64_t>(300'000 * std::max(0.2, rng_.normal(1, 0.15))))
    add(cam, static_cast<uint16_t>(30000 + at / kSec % 20000), c2, 443, at, kDone,
        560 + rng_.below(80));
  // A workstation's browsing to the same C2 network: random times, random sizes.
  for (int64_t at = kT0 + 2 * kDay; at < kT0 + 3 * kDay;
       at += static_cast<int64_t>(rng_.exponential(400'000)))
    add(ip("10.21.0.9"), 50000, ip("81.3.3.4"), 443, at, kDone,
        static_cast<uint64_t>(rng_.lognormal(8, 1.5)));
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u) << a[0].summary;
  EXPECT_EQ(a[0].src, cam);
  EXPECT_EQ(a[0].dst, c2);
  // First raised after enough connections (then again as its score rose).
  EXPECT_GE(sink_.all.front().ts_ms, kT0 + 2 * kDay + kHour);
  EXPECT_LE(sink_.all.front().ts_ms, kT0 + 2 * kDay + 3 * kHour);
  EXPECT_EQ(evidence(a[0], "dst_as_type"), "residential");
}

TEST_F(BehaviourTest, BeaconDoesNotTakeTheActiveTimeoutOfALongFlowForCheckIns) {
  BeaconDetectorOptions o;
  o.learning_ms = 0;
  make<BeaconDetector>(o);
  // One UDP flow exported every 5 minutes for a day: pieces of one flow, not check-ins.
  for (int64_t at = kT0; at < kT0 + kDay; at += 5 * kMin) {
    FlowRecord& r = add(ip("10.40.1.1"), 4500, ip("31.0.2.2"), 4500, at, 0, 5'000'000, 17);
    r.end_ms = at + 5 * kMin - 1;
  }
  EXPECT_TRUE(alerts().empty());
}

// --- spray --------------------------------------------------------------------------------

TEST_F(BehaviourTest, SprayFindsThousandsOfResidentialSourcesOverTheServicesBaseline) {
  make<SprayDetector>(SprayDetectorOptions{});
  const IpAddr vpn = ip("10.20.1.1");
  add(ip("81.0.0.1"), 50000, ip("10.20.1.80"), 443, kT0);  // the detector sees day 1 whole
  // Day 1: 30 remote users a day plus background. Day 2: 3,000 residential sources, once each.
  for (int day = 0; day < 2; ++day)
    for (uint32_t u = 0; u < 30; ++u)
      add(v4(0x51100000 + u), 50000, vpn, 443, kT0 + day * kDay + 8 * kHour + u * kMin);
  for (uint32_t s = 0; s < 3000; ++s)
    add(v4(0x51000000 + s * 131), 50000, vpn, 443, kT0 + kDay + s * 20 * kSec);
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].detector, "spray");
  EXPECT_EQ(a[0].dst, vpn);
  EXPECT_EQ(a[0].asset, "vpn-gw");
  EXPECT_EQ(a[0].severity, Severity::kHigh);
  EXPECT_EQ(evidence(a[0], "baseline_sources"), "(none)");  // a double: not text
  EXPECT_NE(evidence(a[0], "source_sample"), "");
  // Raised while the spray went on, not at the day's end.
  EXPECT_LT(a[0].first_seen_ms, kT0 + kDay + kHour);
}

TEST_F(BehaviourTest, SprayStaysQuietOnAPublicServiceThatAlwaysHasThousandsOfClients) {
  make<SprayDetector>(SprayDetectorOptions{});
  const IpAddr web = ip("10.20.1.80");
  // Sessions that start before midnight and end after it arrive among the next day's records:
  // they must not roll the window back (and reset the count).
  for (int day = 1; day < 4; ++day) {
    FlowRecord& late = add(ip("81.0.0.2"), 50000, web, 443, kT0 + day * kDay - 2 * kSec);
    late.end_ms = kT0 + day * kDay + 30 * kSec;
  }
  for (int day = 0; day < 4; ++day)
    for (uint32_t s = 0; s < 2500u + static_cast<uint32_t>(day) * 300; ++s)
      add(v4(0x51000000 + static_cast<uint32_t>(day) * 7 + s * 4099), 50000, web, 443,
          kT0 + day * kDay + s * 30 * kSec);
  EXPECT_TRUE(alerts().empty());
}

TEST_F(BehaviourTest, SprayPastItsMemoryCapStillCountsDistinctSources) {
  SprayDetectorOptions o;
  o.max_total_sources = 500;  // the exact table fills with the first 500
  make<SprayDetector>(o);
  const IpAddr vpn = ip("10.20.1.1");
  add(ip("81.0.0.1"), 50000, ip("10.20.1.80"), 443, kT0);
  for (uint32_t u = 0; u < 30; ++u)
    add(v4(0x51100000 + u), 50000, vpn, 443, kT0 + 8 * kHour + u * kMin);
  // 5,000 sources, each trying twice: counted once each, not twice.
  for (int rep = 0; rep < 2; ++rep)
    for (uint32_t s = 0; s < 5000; ++s)
      add(v4(0x51000000 + s * 131), 50000, vpn, 443, kT0 + kDay + rep * 6 * kHour + s * 4 * kSec);
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(evidence(a[0], "sources_estimated"), "1");
  double n = 0;
  for (const auto& [k, v] : a[0].evidence)
    if (k == "sources") n = static_cast<double>(std::get<int64_t>(v));
  EXPECT_NEAR(n, 5000, 250);
}

// --- relay --------------------------------------------------------------------------------

TEST_F(BehaviourTest, RelayPairsInboundAndOutboundSessionsOfNearEqualBytes) {
  make<RelayDetector>(RelayDetectorOptions{});
  const IpAddr router = ip("10.40.1.1"), controller = ip("31.0.7.7");
  for (int i = 0; i < 8; ++i) {
    const int64_t at = kT0 + i * 17 * kMin;
    const uint64_t bytes = 5000 + static_cast<uint64_t>(i) * 911;
    add(controller, 51000, router, 23456, at, kDone, bytes);
    add(router, 40000, v4(0x96000010 + static_cast<uint32_t>(i)), 443, at + 700, kDone,
        bytes + bytes / 200);
  }
  // The VPN gateway relays by design: not judged.
  for (int i = 0; i < 8; ++i) {
    add(ip("81.0.0.9"), 51000, ip("10.20.1.1"), 443, kT0 + i * kMin, kDone, 9000);
    add(ip("10.20.1.1"), 40000, ip("31.0.0.5"), 443, kT0 + i * kMin + 300, kDone, 9000);
  }
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].detector, "relay");
  EXPECT_EQ(a[0].dst, router);
  EXPECT_EQ(a[0].severity, Severity::kHigh);
  EXPECT_EQ(evidence(a[0], "pairs"), "8");
  EXPECT_EQ(evidence(a[0], "device_ports"), "23456");
}

TEST_F(BehaviourTest, RelayIgnoresUnrelatedTrafficOfABusyHost) {
  make<RelayDetector>(RelayDetectorOptions{});
  const IpAddr ws = ip("10.21.0.7");
  for (int i = 0; i < 2000; ++i) {  // replies and requests with unrelated sizes
    const int64_t at = kT0 + i * 3 * kSec;
    add(v4(0x1f000000 + static_cast<uint32_t>(i % 50)), 443, ws, 50000, at, kDone,
        static_cast<uint64_t>(rng_.lognormal(10, 1.8)));
    add(ws, 50001, v4(0x1f000100 + static_cast<uint32_t>(i % 50)), 443, at + 400, kDone,
        static_cast<uint64_t>(rng_.lognormal(7.5, 1)));
  }
  EXPECT_TRUE(alerts().empty());
}

// --- egress -------------------------------------------------------------------------------

TEST_F(BehaviourTest, EgressFindsACameraReachingANewHostingNetwork) {
  make<EgressDetector>(EgressDetectorOptions{});
  const IpAddr cam = ip("10.20.5.10");
  for (int64_t at = kT0; at < kT0 + 3 * kDay; at += kHour)
    add(cam, 40000, ip("31.0.1.1"), 443, at);  // its vendor, from the start
  // Day 3: a new address in the same AS (quiet), a new hosting network... none here: a
  // residential network, then NTP to anywhere (ignored).
  add(cam, 40001, ip("31.0.200.1"), 443, kT0 + 2 * kDay + kHour);
  add(cam, 40002, ip("150.0.0.9"), 443, kT0 + 2 * kDay + 2 * kHour, kDone, 200'000'000);
  add(cam, 123, ip("81.9.9.9"), 123, kT0 + 2 * kDay + 3 * kHour, 0, 76, 17);
  // Unanswered attempts are the scan detector's.
  add(cam, 40003, ip("81.1.1.1"), 23, kT0 + 2 * kDay + 4 * kHour, kSyn, 60);
  // A workstation is not an edge device.
  add(ip("10.21.0.5"), 40000, ip("150.0.0.10"), 443, kT0 + 2 * kDay);
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].detector, "egress");
  EXPECT_EQ(a[0].asset, "cam-1");
  EXPECT_EQ(evidence(a[0], "new_networks"), "1");
  EXPECT_EQ(a[0].severity, Severity::kHigh);  // 200 MB sent
}

// --- baseline -----------------------------------------------------------------------------

TEST_F(BehaviourTest, BaselineFindsAnHourFarAboveTheAssetsProfileAndSaysWhatWasExpected) {
  make<BaselineDetector>(BaselineDetectorOptions{});
  const IpAddr nas = ip("10.20.5.200");
  // Four days of cloud sync, ~2 MB an hour; on day 4 at 02:00, 6 GB to a VPS.
  for (int64_t h = 0; h < 4 * 24; ++h)
    add(nas, 40000, ip("31.0.1.1"), 443, kT0 + h * kHour + 10 * kMin, kDone,
        1'500'000 + rng_.below(1'000'000));
  add(nas, 40001, ip("31.0.66.6"), 443, kT0 + 3 * kDay + 2 * kHour + 20 * kMin, kDone,
      6'000'000'000);
  add(ip("10.21.0.1"), 40000, ip("31.0.1.1"), 443, kT0 + 4 * kDay + kHour);  // time moves on
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].detector, "baseline");
  EXPECT_EQ(a[0].asset, "nas");
  EXPECT_EQ(a[0].severity, Severity::kHigh);
  EXPECT_EQ(a[0].first_seen_ms, kT0 + 3 * kDay + 2 * kHour);
  EXPECT_EQ(evidence(a[0], "kind"), "volume");
  EXPECT_EQ(evidence(a[0], "top_destination"), "31.0.66.6");
  EXPECT_NE(a[0].summary.find("expected 2."), std::string::npos) << a[0].summary;
}

TEST_F(BehaviourTest, BaselineNotesRemoteAccessFromANewCountryAndKeepsItsStateAcrossRuns) {
  make<BaselineDetector>(BaselineDetectorOptions{});
  const IpAddr vpn = ip("10.20.1.1");
  for (int d = 0; d < 3; ++d)  // a home user from a GB ISP
    add(ip("81.0.5.5"), 50000, vpn, 443, kT0 + d * kDay + 8 * kHour, kDone, 20'000'000);
  add(ip("31.0.9.9"), 50000, vpn, 443, kT0 + 3 * kDay, kDone, 20'000'000);    // a VPS in DE
  add(ip("150.0.1.1"), 50000, vpn, 443, kT0 + 3 * kDay + kHour, kDone, 500);  // too small
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(evidence(a[0], "kind"), "new_country");
  EXPECT_EQ(evidence(a[0], "country"), "DE");
  EXPECT_EQ(a[0].severity, Severity::kMedium);  // a hosting AS
  // What it learned comes back into a fresh detector.
  const std::string state = detector_->save_state();
  BaselineDetector fresh{BaselineDetectorOptions{}};
  std::string error;
  ASSERT_TRUE(fresh.load_state(state, error)) << error;
  EXPECT_EQ(fresh.save_state().size(), state.size());
  EXPECT_FALSE(fresh.load_state("orbwatch-baseline 1\nw 3 1 2 3\n", error));
  EXPECT_EQ(error, "baseline state: line 2: unreadable");
  EXPECT_FALSE(fresh.load_state("something else\n", error));
}

// --- anomaly ------------------------------------------------------------------------------

TEST_F(BehaviourTest, AnomalyReportsTheHourACameraBehavesUnlikeItselfWithTheFeaturesThatDroveIt) {
  make<AnomalyDetector>(AnomalyDetectorOptions{});
  const IpAddr cam = ip("10.20.5.10"), ws = ip("10.21.0.8");
  // Three days of a camera's heartbeats and a workstation's office-hours browsing.
  for (int64_t at = kT0; at < kT0 + 4 * kDay; at += 2 * kMin)
    add(cam, static_cast<uint16_t>(40000 + at / kMin % 20000), ip("31.0.1.1"), 443, at, kDone, 300);
  for (int64_t at = kT0; at < kT0 + 4 * kDay;
       at += static_cast<int64_t>(rng_.exponential(90'000))) {
    if ((at - kT0) % kDay < 8 * kHour || (at - kT0) % kDay > 18 * kHour) continue;
    add(ws, 50000, v4(0x1f000000 + static_cast<uint32_t>(rng_.below(300))), 443, at, kDone,
        static_cast<uint64_t>(rng_.lognormal(8, 1)));
  }
  // Day 4, 03:00: the camera sweeps 400 hosts on telnet.
  for (uint32_t i = 0; i < 400; ++i)
    add(cam, static_cast<uint16_t>(30000 + i), v4(0x51000000 + i * 4099), 23,
        kT0 + 3 * kDay + 3 * kHour + i * 5 * kSec, kSyn, 60);
  const auto a = alerts();
  ASSERT_EQ(a.size(), 1u) << a[0].summary;
  EXPECT_EQ(a[0].detector, "anomaly");
  EXPECT_EQ(a[0].src, cam);
  EXPECT_EQ(a[0].first_seen_ms, kT0 + 3 * kDay + 3 * kHour);
  EXPECT_EQ(a[0].severity, Severity::kHigh);  // an edge device, far off
  EXPECT_NE(a[0].summary.find("fan_out"), std::string::npos) << a[0].summary;
  EXPECT_NE(evidence(a[0], "history_hours"), "(none)");
}

TEST_F(BehaviourTest, AnomalyJudgesAnEdgeServiceAgainstItsOwnHistory) {
  make<AnomalyDetector>(AnomalyDetectorOptions{});
  const IpAddr vpn = ip("10.20.1.1");  // declares tcp/443 in the model
  // Three days of a few remote users an hour; then one hour with 600 residential sources.
  for (int64_t at = kT0; at < kT0 + 4 * kDay; at += 20 * kMin)
    add(v4(0x51100000 + static_cast<uint32_t>(at / kHour % 5)), 50000, vpn, 443, at);
  for (uint32_t s = 0; s < 600; ++s)
    add(v4(0x51000000 + s * 131), 50000, vpn, 443, kT0 + 3 * kDay + 5 * kHour + s * 5 * kSec);
  const auto a = alerts();
  ASSERT_FALSE(a.empty());
  const Alert* service = nullptr;
  for (const auto& x : a)
    if (evidence(x, "entity") == "service") service = &x;
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->dst, vpn);
  EXPECT_EQ(service->dst_port, 443);
  EXPECT_EQ(service->asset, "vpn-gw");
  EXPECT_EQ(service->first_seen_ms, kT0 + 3 * kDay + 5 * kHour);
  EXPECT_NE(service->summary.find("sources"), std::string::npos) << service->summary;
}

TEST_F(BehaviourTest, AnomalyKeepsItsMemoryPerHostFixed) {
  AnomalyDetectorOptions o;
  o.max_hosts = 100;
  make<AnomalyDetector>(o);
  for (uint32_t h = 0; h < 300; ++h) add(v4(0x0a150000 + h), 50000, ip("31.0.1.1"), 443, kT0);
  flush_batch();
  const auto s = detector_->stats();
  EXPECT_EQ(s.state_entries, 100u);
  EXPECT_EQ(s.evicted, 200u);
  EXPECT_LT(s.state_bytes, 100u * 2048);
}

}  // namespace
}  // namespace orbwatch::detect
