// End-to-end: `orbwatch analyze --feed` on a capture whose flows touch Raptor Train tier-2
// infrastructure from the real Black Lotus Labs IOC file: exactly the expected intel alerts,
// with direction and severity. Part of the interop suite (skips without ../shared/intel).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "util/interop.h"
#include "util/json_field.h"
#include "util/raptor_capture.h"
#include "util/run_command.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

using orbwatch::test::json_field;
using orbwatch::test::RaptorTrainIocs;
using orbwatch::test::read_raptor_train;
using orbwatch::test::run_command;
using orbwatch::test::write_raptor_train_capture;

std::string temp_path(const std::string& name) {
  return "/tmp/orbwatch_intel_e2e_" + std::to_string(getpid()) + "_" + name;
}

TEST(IntelE2e, RaptorTrainTier2CaptureGivesExactlyTheExpectedAlerts) {
  const auto iocs = orbwatch::test::inteldata() / "blacklotuslabs" / "Raptor_Train_IOCs.txt";
  if (!std::filesystem::exists(iocs)) {
    GTEST_SKIP() << "shared intel not found at " << iocs
                 << " (ORBWATCH_SHARED_DIR): the interop suite needs ../shared/intel";
  }
  const RaptorTrainIocs ioc = read_raptor_train(iocs);
  ASSERT_EQ(ioc.tier2_ips.size(), 3u);
  ASSERT_FALSE(ioc.tier2_domain.empty());

  const std::string pcap = temp_path("raptor.pcap");
  ASSERT_TRUE(write_raptor_train_capture(pcap, ioc));
  const std::string alerts = temp_path("alerts.jsonl");
  auto r = run_command(std::string(ORBWATCH_BINARY) + " analyze -q " + pcap + " --feed '" +
                       iocs.string() + "' --alerts-out " + alerts);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("intel     1 feeds"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("alerts    4 (critical 2, high 1, medium 1; intel 4)"), std::string::npos)
      << r.out;

  // The latest line of each alert id.
  std::map<std::string, std::string> latest;
  std::ifstream in(alerts);
  std::string line;
  while (std::getline(in, line)) latest[json_field(line, "id")] = line;
  std::map<std::string, std::string> by_host;  // evidence.host + match -> line
  for (const auto& [id, l] : latest)
    by_host[json_field(l, "host") + " " + json_field(l, "match")] = l;
  ASSERT_EQ(latest.size(), 4u) << r.out;

  const auto& cam = by_host["10.20.5.7 address"];
  EXPECT_EQ(json_field(cam, "severity"), "critical");
  EXPECT_EQ(json_field(cam, "direction"), "outbound");
  EXPECT_EQ(json_field(cam, "answered"), "1");
  EXPECT_EQ(json_field(cam, "src_ip"), "10.20.5.7");
  EXPECT_EQ(json_field(cam, "dst_ip"), ioc.tier2_ips[0]);
  EXPECT_EQ(json_field(cam, "dst_port"), "443");
  EXPECT_EQ(json_field(cam, "feed"), "Raptor_Train_IOCs");
  EXPECT_EQ(json_field(cam, "value"), ioc.tier2_ips[0]);
  EXPECT_NE(cam.find("\"tags\":[\"Tier 2\"]"), std::string::npos) << cam;
  EXPECT_EQ(json_field(cam, "count"), "2");
  EXPECT_EQ(json_field(cam, "bytes_in"), std::to_string(3 * 40 + 1200));

  const auto& nas = by_host["10.20.5.8 address"];
  EXPECT_EQ(json_field(nas, "severity"), "high");
  EXPECT_EQ(json_field(nas, "direction"), "outbound");
  EXPECT_EQ(json_field(nas, "answered"), "0");

  const auto& vpn = by_host["10.20.1.1 address"];
  EXPECT_EQ(json_field(vpn, "severity"), "medium");
  EXPECT_EQ(json_field(vpn, "direction"), "inbound");
  EXPECT_EQ(json_field(vpn, "src_ip"), ioc.tier2_ips[2]);
  EXPECT_EQ(json_field(vpn, "dst_port"), "22");

  // The lookup and the connection to the address it gave are one case, named by the domain.
  const auto& laptop = by_host["10.20.5.9 dns_answer"];
  EXPECT_EQ(json_field(laptop, "severity"), "critical");
  EXPECT_EQ(json_field(laptop, "value"), ioc.tier2_domain);
  EXPECT_EQ(json_field(laptop, "server_name"), "api." + ioc.tier2_domain);
  EXPECT_EQ(json_field(laptop, "dst_ip"), "192.0.2.77");
  EXPECT_EQ(json_field(laptop, "dst_port"), "443");
  EXPECT_EQ(json_field(laptop, "count"), "4");

  std::filesystem::remove(pcap);
  std::filesystem::remove(alerts);
}

TEST(IntelE2e, BadFeedOrParameterStopsBeforeReading) {
  const std::string junk = temp_path("junk.bin");
  std::ofstream(junk) << std::string("\x01\x02\x03\x04garbage", 11);
  const std::string bin = ORBWATCH_BINARY;
  auto bad_feed = run_command(bin + " analyze /dev/null --feed " + junk);
  EXPECT_EQ(bad_feed.rc, 2);
  EXPECT_NE(bad_feed.out.find("--feed " + junk + ": no indicators found"), std::string::npos)
      << bad_feed.out;
  auto bad_param = run_command(bin + " analyze /dev/null --param intel.window=soon");
  EXPECT_EQ(bad_param.rc, 2);
  EXPECT_NE(bad_param.out.find("intel.window: expected a duration"), std::string::npos)
      << bad_param.out;
  std::filesystem::remove(junk);
}

}  // namespace
