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

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kPsh = 0x08, kFin = 0x01;

std::string temp_path(const std::string& name) {
  return "/tmp/orbwatch_intel_e2e_" + std::to_string(getpid()) + "_" + name;
}

// A DNS message: one question (A), and when `answer` is set one A record for it.
std::vector<uint8_t> dns(const std::string& name, const std::string& answer = {}) {
  std::vector<uint8_t> m = {0x12, 0x34, static_cast<uint8_t>(answer.empty() ? 0x01 : 0x81), 0x80, 0,
                            1,    0,    static_cast<uint8_t>(answer.empty() ? 0 : 1),       0,    0,
                            0,    0};
  std::istringstream in(name);
  std::string label;
  while (std::getline(in, label, '.')) {
    m.push_back(static_cast<uint8_t>(label.size()));
    m.insert(m.end(), label.begin(), label.end());
  }
  m.insert(m.end(), {0, 0, 1, 0, 1});
  if (!answer.empty()) {
    m.insert(m.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4});
    auto a = ipv4_bytes(answer);
    m.insert(m.end(), a.begin(), a.end());
  }
  return m;
}

// The fields of one alert line this test checks (the line is orbwatch's own flat JSON).

struct Ioc {
  std::vector<std::string> tier2_ips;
  std::string tier2_domain;
};

Ioc read_raptor_train(const std::filesystem::path& path) {
  Ioc ioc;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::istringstream row(line);
    std::string col;
    while (std::getline(row, col, '\t')) cols.push_back(col);
    if (cols.size() < 5 || cols[4].rfind("Tier 2", 0) != 0) continue;
    if (cols[1] == "IP" && ioc.tier2_ips.size() < 3) ioc.tier2_ips.push_back(cols[0]);
    if (cols[1] == "Domain" && ioc.tier2_domain.empty()) ioc.tier2_domain = cols[0];
  }
  return ioc;
}

TEST(IntelE2e, RaptorTrainTier2CaptureGivesExactlyTheExpectedAlerts) {
  const auto iocs = orbwatch::test::inteldata() / "blacklotuslabs" / "Raptor_Train_IOCs.txt";
  if (!std::filesystem::exists(iocs)) {
    GTEST_SKIP() << "shared intel not found at " << iocs
                 << " (ORBWATCH_SHARED_DIR): the interop suite needs ../shared/intel";
  }
  const Ioc ioc = read_raptor_train(iocs);
  ASSERT_EQ(ioc.tier2_ips.size(), 3u);
  ASSERT_FALSE(ioc.tier2_domain.empty());

  const std::string pcap = temp_path("raptor.pcap");
  {
    PcapWriter w(pcap, 1776672000000);  // 2026-04-20T08:00:00Z
    ASSERT_TRUE(w.ok());
    auto cam = ipv4_bytes("10.20.5.7"), nas = ipv4_bytes("10.20.5.8"),
         vpn = ipv4_bytes("10.20.1.1");
    auto laptop = ipv4_bytes("10.20.5.9"), resolver = ipv4_bytes("10.20.0.53");
    auto c2 = ipv4_bytes(ioc.tier2_ips[0]), c2b = ipv4_bytes(ioc.tier2_ips[1]),
         scanner = ipv4_bytes(ioc.tier2_ips[2]);
    auto web = ipv4_bytes("192.0.2.10"), resolved = ipv4_bytes("192.0.2.77");
    // The camera talks TLS to a tier-2 node and gets data back: critical.
    w.packet(0, false, cam.data(), c2.data(), 6, 50000, 443, kSyn, 0);
    w.packet(10, false, c2.data(), cam.data(), 6, 443, 50000, kSyn | kAck, 0);
    w.packet(20, false, cam.data(), c2.data(), 6, 50000, 443, kAck | kPsh, 300);
    w.packet(30, false, c2.data(), cam.data(), 6, 443, 50000, kAck | kPsh, 1200);
    w.packet(40, false, cam.data(), c2.data(), 6, 50000, 443, kAck | kFin, 0);
    w.packet(50, false, c2.data(), cam.data(), 6, 443, 50000, kAck | kFin, 0);
    // The NAS tries another tier-2 node three times; nobody answers: high.
    for (int i = 0; i < 3; ++i)
      w.packet(100 + i * 1000, false, nas.data(), c2b.data(), 6, 50001, 443, kSyn, 0);
    // A third tier-2 node knocks on the VPN gateway's SSH; the gateway stays silent: medium.
    w.packet(5000, false, scanner.data(), vpn.data(), 6, 41000, 22, kSyn, 0);
    // The laptop resolves a tier-2 C2 domain, then exchanges data with the answer: critical.
    const std::string name = "api." + ioc.tier2_domain;
    w.packet(6000, false, laptop.data(), resolver.data(), 17, 53000, 53, 0, dns(name));
    w.packet(6010, false, resolver.data(), laptop.data(), 17, 53, 53000, 0,
             dns(name, "192.0.2.77"));
    w.packet(6100, false, laptop.data(), resolved.data(), 6, 50002, 443, kSyn, 0);
    w.packet(6110, false, resolved.data(), laptop.data(), 6, 443, 50002, kSyn | kAck, 0);
    w.packet(6120, false, laptop.data(), resolved.data(), 6, 50002, 443, kAck | kPsh, 200);
    w.packet(6130, false, resolved.data(), laptop.data(), 6, 443, 50002, kAck | kPsh, 900);
    // Ordinary traffic: no alert.
    w.packet(7000, false, cam.data(), web.data(), 6, 50003, 443, kSyn, 0);
    w.packet(7010, false, web.data(), cam.data(), 6, 443, 50003, kSyn | kAck, 0);
    w.packet(7020, false, cam.data(), web.data(), 6, 50003, 443, kAck | kPsh, 100);
  }
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
