// The network-model detectors: allowlist and segmentation, on flows built by hand against the
// documented example model.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/snapshot.h"
#include "detect/allowlist_detector.h"
#include "detect/engine.h"
#include "detect/segmentation_detector.h"
#include "netmodel/model.h"
#include "util/alert_helpers.h"

namespace orbwatch::detect {
namespace {

using test::evidence;

constexpr uint8_t kSyn = 0x02, kPsh = 0x08, kAck = 0x10;
constexpr int64_t kT0 = 1'776'672'000'000;
constexpr int64_t kMin = 60'000;

constexpr const char* kModel = R"(
[network]
internal = ["10.0.0.0/8", "fd00::/8"]
[zones]
dmz  = ["10.20.1.0/24"]
corp = ["10.20.3.0/24", "fd00:3::/64"]
iot  = ["10.20.5.0/24", "fd00:5::/64"]
partners = ["198.51.100.0/24"]
[[assets]]
name = "vpn-gw"
address = ["10.20.1.1", "fd00:1::1"]
kind = "vpn"
services = ["tcp/443", "udp/500", "udp/4500"]
allow_from = ["zone:partners", "203.0.113.0/24"]
[[assets]]
name = "core-router"
address = "10.20.1.254"
kind = "router"
criticality = "critical"
allow = { "tcp/22" = ["zone:corp"] }
[[segmentation]]
from = "iot"
to = "corp"
action = "deny"
)";

struct Flow {
  const char* src;
  const char* dst;
  uint16_t sport;
  uint16_t dport;
  uint8_t proto = 6;
  uint8_t flags = kSyn;
  int64_t at_ms = kT0;
};

class ModelDetectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> errors;
    auto m = netmodel::parse_model(kModel, "t.toml", errors);
    ASSERT_TRUE(m.has_value()) << errors[0];
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<AllowlistDetector>(AllowlistDetectorOptions{}));
    d.push_back(std::make_unique<SegmentationDetector>(SegmentationDetectorOptions{}));
    EngineOptions eo;
    eo.model = netmodel::ModelIndex::build(std::move(*m));
    eo.lateness_ms = 0;
    engine_ = std::make_unique<Engine>(eo, std::move(d), intel_, sink_);
  }
  void run(std::initializer_list<Flow> flows) {
    FlowBatch b;
    for (const auto& f : flows) {
      FlowRecord& r = b.add();
      r.src = *IpAddr::parse(f.src);
      r.dst = *IpAddr::parse(f.dst);
      r.src_port = f.sport;
      r.dst_port = f.dport;
      r.proto = f.proto;
      r.tcp_flags = f.flags;
      r.start_ms = r.end_ms = f.at_ms;
      r.packets = 1;
      r.bytes = 60;
    }
    engine_->process(b);
  }
  std::vector<Alert> finish(const char* detector) {
    engine_->finish();
    std::vector<Alert> out;
    for (auto& a : sink_.latest()) {
      if (a.detector == detector) out.push_back(a);
    }
    return out;
  }

  SnapshotHolder<intel::IntelSet> intel_{intel::IntelSet::empty()};
  test::CollectAlerts sink_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(ModelDetectorsTest, AllowedSourcesRaiseNothing) {
  run({{"198.51.100.9", "10.20.1.1", 50000, 443, 6, kSyn | kAck | kPsh},  // partner
       {"203.0.113.5", "10.20.1.1", 50000, 4500, 17, 0},                  // listed prefix
       {"10.20.3.5", "10.20.1.254", 50000, 22, 6, kSyn | kAck | kPsh},    // corp ssh
       {"192.0.2.1", "10.20.1.1", 50000, 8443, 6, kSyn},   // not a listed service of vpn-gw
       {"192.0.2.1", "10.20.1.254", 50000, 443, 6, kSyn},  // router 443 has no allow-list
       {"10.20.3.5", "10.20.5.9", 50000, 22, 6, kSyn}});   // corp -> iot is not governed
  EXPECT_TRUE(finish("allowlist").empty());
  EXPECT_TRUE(sink_.all.empty());
}

TEST_F(ModelDetectorsTest, OutsidersAreOneAlertPerAssetServiceAndAnsweredIsHigher) {
  // A slow spray against the VPN from 12 sources over 40 minutes; none answered at first.
  for (int i = 0; i < 12; ++i) {
    std::string src = "192.0.2." + std::to_string(10 + i);
    run({{src.c_str(), "10.20.1.1", static_cast<uint16_t>(40000 + i), 443, 6, kSyn,
          kT0 + i * 3 * kMin}});
  }
  // Then one gets an answer (the gateway's reply record).
  run({{"10.20.1.1", "192.0.2.10", 443, 40000, 6, kSyn | kAck | kPsh, kT0 + 40 * kMin}});
  engine_->finish();
  ASSERT_FALSE(sink_.all.empty());
  // Unanswered attempts from outside: the internet's background noise, low.
  EXPECT_EQ(sink_.all.front().severity, Severity::kLow);
  auto alerts = finish("allowlist");
  ASSERT_EQ(alerts.size(), 1u);
  const Alert& a = alerts[0];
  EXPECT_EQ(a.severity, Severity::kHigh);
  EXPECT_EQ(a.asset, "vpn-gw");
  EXPECT_EQ(a.dst.to_string(), "10.20.1.1");
  EXPECT_EQ(a.dst_port, 443);
  EXPECT_EQ(a.src.to_string(), "192.0.2.10");
  EXPECT_EQ(a.count, 13u);
  EXPECT_EQ(evidence(a, "sources"), "12");
  EXPECT_EQ(evidence(a, "answered"), "1");
  EXPECT_EQ(evidence(a, "attempts"), "12");
  EXPECT_EQ(evidence(a, "service"), "tcp/443");
  EXPECT_EQ(evidence(a, "source_list").substr(0, 23), "192.0.2.10,192.0.2.11,1");
}

TEST_F(ModelDetectorsTest, CriticalAssetIsOneLevelUpAndIpv6Works) {
  run({{"10.20.5.9", "10.20.1.254", 50000, 22, 6, kSyn},                   // iot -> router ssh
       {"2001:db8::5", "fd00:1::1", 50000, 443, 6, kSyn | kAck | kPsh}});  // v6 outsider, answered
  auto alerts = finish("allowlist");
  ASSERT_EQ(alerts.size(), 2u);
  std::map<std::string, const Alert*> by_asset;
  for (const auto& a : alerts) by_asset[a.asset] = &a;
  EXPECT_EQ(by_asset["core-router"]->severity, Severity::kHigh);  // attempt on a critical asset
  EXPECT_EQ(by_asset["vpn-gw"]->severity, Severity::kHigh);       // answered
  EXPECT_EQ(by_asset["vpn-gw"]->src.to_string(), "2001:db8::5");
}

TEST_F(ModelDetectorsTest, SegmentationDeniesIotToCorpPerHost) {
  // An IoT camera sweeps corp on 445 (nothing answers) and reaches one host on 3389.
  for (int h = 1; h <= 20; ++h) {
    std::string dst = "10.20.3." + std::to_string(h);
    run({{"10.20.5.23", dst.c_str(), 50000, 445, 6, kSyn, kT0 + h * 1000}});
  }
  run({{"10.20.3.7", "10.20.5.23", 3389, 50001, 6, kSyn | kAck | kPsh, kT0 + 30'000}});
  // Another IoT host, over IPv6.
  run({{"fd00:5::9", "fd00:3::1", 50000, 22, 6, kSyn, kT0 + 40'000}});
  auto alerts = finish("segmentation");
  ASSERT_EQ(alerts.size(), 2u);
  const Alert& cam = alerts[0].src.to_string() == "10.20.5.23" ? alerts[0] : alerts[1];
  const Alert& v6 = &cam == &alerts[0] ? alerts[1] : alerts[0];
  EXPECT_EQ(cam.severity, Severity::kHigh);  // 3389 answered
  EXPECT_EQ(cam.count, 21u);
  EXPECT_EQ(evidence(cam, "from_zone"), "iot");
  EXPECT_EQ(evidence(cam, "to_zone"), "corp");
  EXPECT_EQ(evidence(cam, "destinations"), "20");
  EXPECT_EQ(evidence(cam, "services"), "tcp/445,tcp/3389");
  EXPECT_EQ(evidence(cam, "rule"), "t.toml:21");
  EXPECT_EQ(evidence(cam, "answered"), "1");
  EXPECT_EQ(v6.severity, Severity::kMedium);
  EXPECT_EQ(v6.src.to_string(), "fd00:5::9");
}

}  // namespace
}  // namespace orbwatch::detect
