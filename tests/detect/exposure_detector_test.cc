#include "detect/exposure_detector.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/snapshot.h"
#include "detect/engine.h"
#include "netmodel/model.h"
#include "util/alert_helpers.h"

namespace orbwatch::detect {
namespace {

using test::evidence;

constexpr uint8_t kSyn = 0x02, kPsh = 0x08, kAck = 0x10;
constexpr int64_t kT0 = 1'776'672'000'000;
constexpr int64_t kDay = 86'400'000;

class ExposureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> errors;
    auto m = netmodel::parse_model(
        "[[assets]]\nname = \"edge-fw\"\naddress = \"10.0.0.1\"\nkind = \"firewall\"\n"
        "services = [\"tcp/443\", \"tcp/22\"]\n",
        "t.toml", errors);
    ASSERT_TRUE(m.has_value());
    ExposureDetectorOptions o;
    o.learning_ms = 2 * kDay;
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<ExposureDetector>(o));
    EngineOptions eo;
    eo.model = netmodel::ModelIndex::build(std::move(*m));
    eo.inventory = &inventory_;
    eo.lateness_ms = 0;
    engine_ = std::make_unique<Engine>(eo, std::move(d), intel_, sink_);
  }
  // An external client's connection that the internal server answers (its reply record).
  void answered(const char* server, uint16_t port, int64_t at, const char* client = "192.0.2.7") {
    FlowBatch b;
    for (int dir = 0; dir < 2; ++dir) {
      FlowRecord& r = b.add();
      r.src = *IpAddr::parse(dir == 0 ? client : server);
      r.dst = *IpAddr::parse(dir == 0 ? server : client);
      r.src_port = dir == 0 ? 50000 : port;
      r.dst_port = dir == 0 ? port : 50000;
      r.proto = 6;
      r.tcp_flags = dir == 0 ? kSyn : (kSyn | kAck | kPsh);
      r.start_ms = r.end_ms = at;
      r.packets = 3;
      r.bytes = 200;
    }
    engine_->process(b);
  }

  netmodel::EdgeInventory inventory_;
  SnapshotHolder<intel::IntelSet> intel_{intel::IntelSet::empty()};
  test::CollectAlerts sink_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(ExposureTest, BackdoorListenerIsCriticalOnSight) {
  answered("10.0.0.9", 7777, kT0);
  engine_->finish();
  ASSERT_EQ(sink_.all.size(), 1u);
  const Alert& a = sink_.all[0];
  EXPECT_EQ(a.severity, Severity::kCritical);
  EXPECT_EQ(evidence(a, "reason"), "backdoor");
  EXPECT_EQ(a.dst.to_string(), "10.0.0.9");
  EXPECT_EQ(a.dst_port, 7777);
  EXPECT_EQ(evidence(a, "device_hints"), "backdoor-quad7");
}

TEST_F(ExposureTest, ManagementServicesUnlessTheModelDeclaresThem) {
  answered("10.0.0.1", 22, kT0);  // edge-fw lists tcp/22: expected
  answered("10.0.0.2", 23, kT0);  // telnet on an undeclared device
  engine_->finish();
  ASSERT_EQ(sink_.all.size(), 1u);
  EXPECT_EQ(sink_.all[0].severity, Severity::kHigh);
  EXPECT_EQ(evidence(sink_.all[0], "reason"), "management");
  EXPECT_EQ(sink_.all[0].dst.to_string(), "10.0.0.2");
}

TEST_F(ExposureTest, NewServiceAfterTheLearningPeriodOnAKnownOrModelledDevice) {
  answered("10.0.0.5", 443, kT0);                     // learning starts
  answered("10.0.0.5", 8443, kT0 + kDay);             // new, but still learning
  answered("10.0.0.6", 9000, kT0 + 3 * kDay);         // a device never seen before: learning it
  answered("10.0.0.5", 9999, kT0 + 3 * kDay);         // known device, new service, after learning
  answered("10.0.0.5", 9999, kT0 + 3 * kDay + 1000);  // the same, folded in
  answered("10.0.0.1", 8443, kT0 + 3 * kDay);  // edge-fw, first seen now, but the model names it
  engine_->finish();
  std::vector<Alert> known, modelled;
  for (const auto& x : sink_.all) (x.dst.to_string() == "10.0.0.5" ? known : modelled).push_back(x);
  ASSERT_EQ(modelled.size(), 1u);
  EXPECT_EQ(modelled[0].asset, "edge-fw");
  EXPECT_EQ(evidence(modelled[0], "reason"), "new_service");
  ASSERT_EQ(known.size(), 2u);  // raised, then its final count when the case closed
  const Alert& a = known.back();
  EXPECT_EQ(a.id, known.front().id);
  EXPECT_EQ(a.severity, Severity::kMedium);
  EXPECT_EQ(evidence(a, "reason"), "new_service");
  EXPECT_EQ(a.dst.to_string(), "10.0.0.5");
  EXPECT_EQ(a.dst_port, 9999);
  EXPECT_EQ(a.count, 2u);
  EXPECT_EQ(evidence(a, "device_first_seen"), "2026-04-20T08:00:00.000Z");
  EXPECT_EQ(evidence(a, "learned_until"), "2026-04-22T08:00:00.000Z");
}

TEST_F(ExposureTest, UnansweredOrInternalClientsAreNotEdge) {
  FlowBatch b;
  FlowRecord& r = b.add();  // a SYN to 7777 that nobody answered
  r.src = *IpAddr::parse("192.0.2.7");
  r.dst = *IpAddr::parse("10.0.0.9");
  r.src_port = 50000;
  r.dst_port = 7777;
  r.proto = 6;
  r.tcp_flags = kSyn;
  r.start_ms = r.end_ms = kT0;
  r.packets = 1;
  engine_->process(b);
  answered("10.0.0.9", 23, kT0, "10.0.0.77");  // an internal client
  engine_->finish();
  EXPECT_TRUE(sink_.all.empty());
  EXPECT_TRUE(inventory_.services().empty());
}

}  // namespace
}  // namespace orbwatch::detect
