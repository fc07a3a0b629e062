#include "netmodel/inventory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "store/inventory_store.h"

namespace orbwatch::netmodel {
namespace {

ServiceKey svc(const char* a, uint8_t proto, uint16_t port) {
  return {*IpAddr::parse(a), proto, port};
}

TEST(EdgeInventory, RecordsServicesDevicesAndNewness) {
  EdgeInventory inv;
  auto o = inv.observe(svc("10.0.0.1", 6, 443), *IpAddr::parse("192.0.2.1"), 1000, 2000, 500);
  EXPECT_TRUE(o.edge);
  EXPECT_TRUE(o.new_device);
  EXPECT_TRUE(o.new_service);
  EXPECT_EQ(o.device_first_seen_ms, 1000);
  o = inv.observe(svc("10.0.0.1", 6, 443), *IpAddr::parse("192.0.2.2"), 3000, 4000, 700);
  EXPECT_FALSE(o.new_device);
  EXPECT_FALSE(o.new_service);
  o = inv.observe(svc("10.0.0.1", 6, 22), *IpAddr::parse("192.0.2.2"), 5000, 5000, 100);
  EXPECT_FALSE(o.new_device);
  EXPECT_TRUE(o.new_service);
  EXPECT_EQ(o.device_first_seen_ms, 1000);
  const auto& r = inv.services().at(svc("10.0.0.1", 6, 443));
  EXPECT_EQ(r.flows, 2u);
  EXPECT_EQ(r.bytes, 1200u);
  EXPECT_EQ(r.first_seen_ms, 1000);
  EXPECT_EQ(r.last_seen_ms, 4000);
  EXPECT_EQ(r.peers(), 2u);
  EXPECT_EQ(inv.learning_start_ms(), 1000);
  inv.observe_exporter(*IpAddr::parse("10.0.0.254"), 10);
  inv.observe_exporter(*IpAddr::parse("10.0.0.254"), 20);
  EXPECT_EQ(inv.exporters().at(*IpAddr::parse("10.0.0.254")).flows, 2u);
}

TEST(EdgeInventory, PeerEstimateIsCloseAndCapsHold) {
  ServiceRecord r;
  for (uint32_t i = 0; i < 500; ++i) r.add_peer(IpAddr::v4(0xC6336400u + i * 7919));
  const double est = static_cast<double>(r.peers());
  EXPECT_NEAR(est, 500.0, 500.0 * 0.08);  // linear counting, 1024 bits
  EdgeInventory small(2, 1);
  small.observe(svc("10.0.0.1", 6, 1), IpAddr{}, 1, 1, 1);
  small.observe(svc("10.0.0.1", 6, 2), IpAddr{}, 1, 1, 1);
  auto o = small.observe(svc("10.0.0.1", 6, 3), IpAddr{}, 1, 1, 1);
  EXPECT_FALSE(o.edge);  // not recorded: past the cap
  small.observe_exporter(*IpAddr::parse("10.0.0.254"), 1);
  small.observe_exporter(*IpAddr::parse("10.0.0.253"), 1);
  EXPECT_EQ(small.services().size(), 2u);
  EXPECT_EQ(small.exporters().size(), 1u);
  EXPECT_EQ(small.dropped(), 2u);
}

TEST(EdgeInventory, KindHintsAndPortClasses) {
  EXPECT_EQ(device_kind_hints({{17, 500}, {17, 4500}, {6, 443}}),
            (std::vector<std::string>{"vpn"}));
  EXPECT_EQ(device_kind_hints({{6, 22}, {6, 80}, {6, 7777}}),
            (std::vector<std::string>{"router-admin", "backdoor-quad7"}));
  EXPECT_EQ(device_kind_hints({{6, 554}}), (std::vector<std::string>{"camera-nvr"}));
  EXPECT_EQ(device_kind_hints({{6, 443}}), (std::vector<std::string>{"web"}));
  EXPECT_TRUE(device_kind_hints({{6, 12345}}).empty());
  EXPECT_TRUE(is_backdoor_port(6, 63256));
  EXPECT_FALSE(is_backdoor_port(17, 7777));
  EXPECT_TRUE(is_management_port(6, 8291));
  EXPECT_TRUE(is_management_port(17, 161));
  EXPECT_FALSE(is_management_port(6, 443));
}

TEST(InventoryStore, SavesAndLoadsEverything) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("orbwatch_inventory_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = store::state_db_path(dir.string());
  EdgeInventory inv;
  inv.observe(svc("10.0.0.1", 6, 443), *IpAddr::parse("192.0.2.1"), 1000, 2000, 500);
  inv.observe(svc("fd00::1", 17, 500), *IpAddr::parse("2001:db8::1"), 1500, 2500, 300);
  inv.observe_exporter(*IpAddr::parse("10.0.0.254"), 1800);
  std::string error;
  ASSERT_TRUE(store::save_inventory(db, inv, error)) << error;
  // Saving again (a later run) replaces, it does not duplicate.
  inv.observe(svc("10.0.0.1", 6, 443), *IpAddr::parse("192.0.2.9"), 3000, 3500, 100);
  ASSERT_TRUE(store::save_inventory(db, inv, error)) << error;

  EdgeInventory back;
  ASSERT_TRUE(store::load_inventory(db, back, false, error)) << error;
  EXPECT_EQ(back.learning_start_ms(), 1000);
  ASSERT_EQ(back.services().size(), 2u);
  const auto& r = back.services().at(svc("10.0.0.1", 6, 443));
  EXPECT_EQ(r.flows, 2u);
  EXPECT_EQ(r.last_seen_ms, 3500);
  EXPECT_EQ(r.peers(), 2u);
  EXPECT_EQ(back.devices().size(), 2u);
  EXPECT_EQ(back.exporters().at(*IpAddr::parse("10.0.0.254")).first_seen_ms, 1800);
  // The loaded inventory knows the service: it is not new again.
  EXPECT_FALSE(back.observe(svc("fd00::1", 17, 500), IpAddr{}, 4000, 4000, 1).new_service);

  EdgeInventory none;
  EXPECT_FALSE(store::load_inventory((dir / "missing.db").string(), none, false, error));
  EXPECT_NE(error.find("missing.db"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(InventoryStore, KeepsEachDetectorsStateByName) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("orbwatch_detstate_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = store::state_db_path(dir.string());
  std::string error, out;
  ASSERT_TRUE(store::load_detector_state(db, "baseline", out, error)) << error;
  EXPECT_TRUE(out.empty());
  const std::string state("orbwatch-baseline 1\n\0binary-safe", 30);
  ASSERT_TRUE(store::save_detector_state(db, "baseline", state, 1000, error)) << error;
  ASSERT_TRUE(store::save_detector_state(db, "beacon", "other", 1000, error)) << error;
  ASSERT_TRUE(store::save_detector_state(db, "baseline", state + "!", 2000, error)) << error;
  ASSERT_TRUE(store::load_detector_state(db, "baseline", out, error)) << error;
  EXPECT_EQ(out, state + "!");
  ASSERT_TRUE(store::load_detector_state(db, "beacon", out, error)) << error;
  EXPECT_EQ(out, "other");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace orbwatch::netmodel
