// End-to-end: `orbwatch analyze --config --store` on a capture the test writes, with a network
// model the test writes: exactly the expected allowlist, segmentation and exposure alerts, and
// exactly the expected edge inventory from `orbwatch inventory`; `orbwatch check-config` on a
// good and a broken file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "util/json_field.h"
#include "util/pcap_writer.h"
#include "util/run_command.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

using orbwatch::test::ipv4_bytes;
using orbwatch::test::json_field;
using orbwatch::test::PcapWriter;
using orbwatch::test::run_command;

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kPsh = 0x08;

constexpr const char* kConfig = R"(# a small site
[network]
internal = ["10.0.0.0/8"]

[zones]
dmz      = ["10.20.1.0/24"]
corp     = ["10.20.3.0/24"]
iot      = ["10.20.5.0/24"]
partners = ["198.51.100.0/24"]

[[assets]]
name       = "vpn-gw"
address    = ["10.20.1.1"]
kind       = "vpn"
services   = ["tcp/443"]
allow_from = ["zone:partners"]

[[assets]]
name    = "edge-router"
address = "10.20.1.254"
kind    = "router"

[[segmentation]]
from   = "iot"
to     = "corp"
action = "deny"
)";

class NetmodelE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("orbwatch_netmodel_e2e_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

// A TCP conversation; `answered`: the server replies and data flows both ways.
void session(PcapWriter& w, int64_t ms, const std::string& client, const std::string& server,
             uint16_t cport, uint16_t sport, bool answered) {
  auto c = ipv4_bytes(client), s = ipv4_bytes(server);
  w.packet(ms, false, c.data(), s.data(), 6, cport, sport, kSyn, 0);
  if (!answered) return;
  w.packet(ms + 10, false, s.data(), c.data(), 6, sport, cport, kSyn | kAck, 0);
  w.packet(ms + 20, false, c.data(), s.data(), 6, cport, sport, kAck | kPsh, 200);
  w.packet(ms + 30, false, s.data(), c.data(), 6, sport, cport, kAck | kPsh, 800);
}

TEST_F(NetmodelE2e, ModelAlertsAndInventoryAreExactlyTheExpectedOnes) {
  std::ofstream(path("orbwatch.toml")) << kConfig;
  {
    PcapWriter w(path("site.pcap"), 1776672000000);  // 2026-04-20T08:00:00Z
    ASSERT_TRUE(w.ok());
    session(w, 0, "198.51.100.5", "10.20.1.1", 40001, 443, true);      // partner: allowed
    session(w, 1000, "192.0.2.50", "10.20.1.1", 40002, 443, true);     // outsider, answered
    session(w, 2000, "192.0.2.51", "10.20.1.1", 40003, 443, false);    // outsider, attempt
    session(w, 3000, "192.0.2.60", "10.20.1.254", 40004, 7777, true);  // backdoor listener
    session(w, 4000, "10.20.5.23", "10.20.3.10", 40005, 445, false);   // iot -> corp
    session(w, 5000, "10.20.3.10", "10.20.1.1", 40006, 443, true);     // corp -> dmz: fine
  }
  const std::string bin = ORBWATCH_BINARY;
  auto r =
      run_command(bin + " analyze -q " + path("site.pcap") + " --config " + path("orbwatch.toml") +
                  " --store " + path("store") + " --alerts-out " + path("alerts.jsonl"));
  ASSERT_EQ(r.rc, 0) << r.out;

  std::map<std::string, std::string> latest;  // id -> last line
  std::ifstream in(path("alerts.jsonl"));
  std::string line;
  while (std::getline(in, line)) latest[json_field(line, "id")] = line;
  std::map<std::string, std::string> by_detector;
  for (const auto& [id, l] : latest) by_detector[json_field(l, "detector")] = l;
  ASSERT_EQ(latest.size(), 3u) << r.out;
  ASSERT_EQ(by_detector.size(), 3u) << r.out;

  // The VPN gateway: two outsiders (one answered) and, not in the allow-list either, corp.
  const auto& allow = by_detector["allowlist"];
  EXPECT_EQ(json_field(allow, "severity"), "high");
  EXPECT_EQ(json_field(allow, "asset"), "vpn-gw");
  EXPECT_EQ(json_field(allow, "dst_port"), "443");
  EXPECT_EQ(json_field(allow, "sources"), "3");
  EXPECT_EQ(json_field(allow, "source_list"), "192.0.2.50,192.0.2.51,10.20.3.10");
  EXPECT_EQ(json_field(allow, "answered"), "4");  // both records of each answered session show it
  const auto& seg = by_detector["segmentation"];
  EXPECT_EQ(json_field(seg, "severity"), "medium");
  EXPECT_EQ(json_field(seg, "src_ip"), "10.20.5.23");
  EXPECT_EQ(json_field(seg, "dst_ip"), "10.20.3.10");
  EXPECT_EQ(json_field(seg, "from_zone"), "iot");
  EXPECT_EQ(json_field(seg, "to_zone"), "corp");
  EXPECT_EQ(json_field(seg, "rule"), path("orbwatch.toml") + ":23");
  const auto& exposure = by_detector["exposure"];
  EXPECT_EQ(json_field(exposure, "severity"), "critical");
  EXPECT_EQ(json_field(exposure, "asset"), "edge-router");
  EXPECT_EQ(json_field(exposure, "reason"), "backdoor");

  // The same alerts are in the store; one can be acknowledged with a note.
  auto stored = run_command(bin + " alerts --store " + path("store") + " --format jsonl");
  ASSERT_EQ(stored.rc, 0) << stored.out;
  size_t lines = 0;
  for (char c : stored.out) lines += c == '\n';
  EXPECT_EQ(lines, 3u) << stored.out;
  const std::string exposure_id = json_field(exposure, "id");
  auto ack = run_command(bin + " alerts ack " + exposure_id +
                         " --note 'router reflashed' --store " + path("store"));
  EXPECT_EQ(ack.rc, 0) << ack.out;
  auto acked = run_command(bin + " alerts --store " + path("store") + " --status ack --format csv");
  EXPECT_NE(acked.out.find(exposure_id + ",exposure,critical,ack,"), std::string::npos)
      << acked.out;
  EXPECT_NE(acked.out.find("\"router reflashed\""), std::string::npos) << acked.out;

  auto inv = run_command(bin + " inventory --store " + path("store") + " --format csv --config " +
                         path("orbwatch.toml"));
  ASSERT_EQ(inv.rc, 0) << inv.out;
  EXPECT_EQ(inv.out,
            "address,asset,service,first_seen,last_seen,flows,bytes,external_peers,hints\n"
            "10.20.1.1,vpn-gw,tcp/443,2026-04-20T08:00:00.000Z,2026-04-20T08:00:01.030Z,4,"
            "2320,2,\"web\"\n"
            "10.20.1.254,edge-router,tcp/7777,2026-04-20T08:00:03.000Z,"
            "2026-04-20T08:00:03.030Z,2,1160,1,\"backdoor-quad7\"\n");
}

TEST_F(NetmodelE2e, CheckConfigNamesEveryProblem) {
  std::ofstream(path("good.toml")) << kConfig;
  const std::string bin = ORBWATCH_BINARY;
  auto good = run_command(bin + " check-config " + path("good.toml"));
  EXPECT_EQ(good.rc, 0) << good.out;
  EXPECT_NE(
      good.out.find("ok (1 internal prefixes, 4 zones, 0 lists, 2 assets, 1 segmentation "
                    "rules, 0 feeds, 0 detector settings, 0 geo databases, 3 listen addresses, 0 "
                    "outputs)"),
      std::string::npos)
      << good.out;
  std::ofstream(path("bad.toml")) << "[zones]\n"
                                     "corp = [\"10.20.0.0/16\"]\n"
                                     "iot = [\"10.20.5.0/24\"]\n"
                                     "[[assets]]\n"
                                     "name = \"cam\"\n"
                                     "address = \"10.20.5.300\"\n"
                                     "[[segmentation]]\n"
                                     "from = \"iot\"\n"
                                     "to = \"ot\"\n"
                                     "action = \"deny\"\n"
                                     "[detectors.intel]\n"
                                     "window = \"soon\"\n"
                                     "[colect]\n";
  auto bad = run_command(bin + " check-config " + path("bad.toml"));
  EXPECT_EQ(bad.rc, 1);
  const std::string f = path("bad.toml");
  EXPECT_EQ(bad.out,
            f +
                ":3: zones.iot: 10.20.5.0/24 overlaps zone \"corp\" (10.20.0.0/16, line 2): an "
                "address belongs to one zone\n" +
                f +
                ":6: assets[1].address: expected a prefix like \"10.0.0.0/8\", got "
                "\"10.20.5.300\"\n" +
                f +
                ":9: segmentation[1].to: expected a zone name from [zones] or \"external\", "
                "got \"ot\"\n" +
                f + ":12: detectors.intel.window: expected a duration like \"1h\", got \"soon\"\n" +
                f +
                ":13: colect: unknown table (expected network, zones, lists, assets, "
                "segmentation, inventory, feeds, intel, detectors, enrich, collect, store, http, "
                "outputs)\n" +
                f + ": 5 problems\n");
}

}  // namespace
