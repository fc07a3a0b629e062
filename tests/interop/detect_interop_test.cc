// The behavioural detectors on real captures from ../shared/testdata (docs/detection.md,
// "On real captures"): the Hide'N Seek IoT bot's telnet sweeps, Stratosphere's scripted HTTPS
// beacons and an nmap SYN scan are found, with the binary and default parameters (plus the
// capture's own network for the beacons). Skips when ../shared is absent.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/interop.h"
#include "util/json_field.h"
#include "util/run_command.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

namespace fs = std::filesystem;
using orbwatch::test::json_field;

// The alerts of `orbwatch analyze CAPTURE ARGS`, one JSON line each.
std::vector<std::string> alerts_of(const std::string& capture, const std::string& args) {
  const fs::path out = fs::path(testing::TempDir()) /
                       ("orbwatch_detect_interop_" + std::to_string(getpid()) + ".jsonl");
  const auto r =
      orbwatch::test::run_command(std::string(ORBWATCH_BINARY) + " analyze -q " + capture + " " +
                                  args + " --alerts-out " + out.string());
  EXPECT_EQ(r.rc, 0) << r.out;
  std::vector<std::string> lines;
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  fs::remove(out);
  return lines;
}

class DetectInterop : public testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(orbwatch::test::testdata() / "stratosphere"))
      GTEST_SKIP() << "../shared/testdata absent (a fresh clone): interop suite skipped";
  }
  static std::string capture(const char* rel) {
    return (orbwatch::test::testdata() / rel).string();
  }
};

TEST_F(DetectInterop, HideAndSeekBotSweepsTelnetAndIsFoundByScan) {
  const auto alerts = alerts_of(capture("stratosphere/pcap/test7-malicious.pcap"), "");
  std::vector<std::string> ports;
  for (const auto& a : alerts) {
    if (json_field(a, "detector") != "scan") continue;
    EXPECT_EQ(json_field(a, "src_ip"), "192.168.2.16");
    ports.push_back(json_field(a, "dst_port"));
  }
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  EXPECT_EQ(ports, (std::vector<std::string>{"23", "2323", "8080"}));
}

TEST_F(DetectInterop, ScriptedHttpsBeaconsAreFoundByBeacon) {
  for (const char* f :
       {"stratosphere/pcap/test-cc-capture-1.pcap", "stratosphere/pcap/test-cc-capture-2.pcap"}) {
    SCOPED_TRACE(f);
    const auto alerts = alerts_of(capture(f), "--internal 147.32.0.0/16 --param beacon.learning=0");
    int beacons = 0;
    for (const auto& a : alerts) {
      if (json_field(a, "detector") != "beacon") continue;
      ++beacons;
      EXPECT_EQ(json_field(a, "src_ip"), "147.32.80.37");
      EXPECT_EQ(json_field(a, "dst_port"), "443");
      EXPECT_GE(std::stod(json_field(a, "score")), 0.8);
    }
    EXPECT_EQ(beacons, 1);
  }
}

TEST_F(DetectInterop, NmapSynScanIsAVerticalScan) {
  const auto alerts = alerts_of(capture("nDPI/malware/synscan.pcap"), "");
  ASSERT_FALSE(alerts.empty());
  bool found = false;
  for (const auto& a : alerts) {
    if (json_field(a, "detector") == "scan" && json_field(a, "kind") == "vertical" &&
        json_field(a, "src_ip") == "172.16.0.8")
      found = std::stoi(json_field(a, "ports")) >= 1000;
  }
  EXPECT_TRUE(found);
}

}  // namespace
