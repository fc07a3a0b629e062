// `orbwatch hunt` against `orbwatch analyze --feed` on the same traffic: a capture is archived
// (analyze --store) while the intel detector alerts on it; hunting the archive with the same
// feeds must find exactly the (host, feed, indicator) the detector alerted on, with the same
// directions and, for address and name matches, the same flow counts. The one documented
// difference: the archive keeps no DNS answers, so a connection to an address that DNS gave for
// an indicator domain is seen by the detector only; the hunt still finds that host's lookup.
//   - the Raptor Train tier-2 capture of the intel end-to-end test, with the real IOC file;
//   - real malware captures from ../shared/testdata, hunted for the real IOC file plus the
//     outside addresses and server names their infected hosts talked to (read from the capture
//     itself), so that the comparison has something to compare.
// Skips without ../shared.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
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

namespace orbwatch::test {
namespace {

namespace fs = std::filesystem;

fs::path raptor_iocs() {
  return inteldata() / "blacklotuslabs" / "Raptor_Train_IOCs.txt";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '{') out.push_back(line);
  }
  return out;
}

// What one (host, feed, indicator) amounts to on either side.
struct Case {
  uint64_t flows = 0;
  std::set<std::string> directions;  // outbound, inbound, both, unknown
  std::set<std::string> matches;
};

std::string direction_of(const std::set<std::string>& hunt_directions) {
  const bool out = hunt_directions.count("outbound") != 0;
  const bool in = hunt_directions.count("inbound") != 0;
  return out && in ? "both" : out ? "outbound" : in ? "inbound" : "unknown";
}

class HuntInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orbwatch_hunt_interop_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Archives `capture` into a fresh store while the detectors alert on it, hunts the store for
  // the same feeds, and compares. Returns the number of cases compared.
  size_t compare(const std::string& capture, const std::vector<std::string>& feeds) {
    const std::string store = (dir_ / fs::path(capture).stem()).string();
    const std::string alerts = store + "-alerts.jsonl";
    std::string feed_args;
    for (const auto& f : feeds) feed_args += " --feed '" + f + "'";
    auto a = run_command(std::string(ORBWATCH_BINARY) + " analyze -q --store " + store + feed_args +
                         " --alerts-out " + alerts + " '" + capture + "'");
    EXPECT_EQ(a.rc, 0) << a.out;
    auto h = run_command(std::string(ORBWATCH_BINARY) + " hunt -q --store " + store + feed_args +
                         " --format jsonl");
    EXPECT_EQ(h.rc, 0) << h.out;

    // The detector: the latest line of each alert id, summed per (host, feed, value).
    std::map<std::string, std::string> latest;
    std::ifstream in(alerts);
    for (std::string line; std::getline(in, line);) {
      if (json_field(line, "detector") == "intel") latest[json_field(line, "id")] = line;
    }
    std::map<std::string, Case> detected;
    for (const auto& [id, l] : latest) {
      Case& c = detected[json_field(l, "host") + " " + json_field(l, "feed") + " " +
                         json_field(l, "value")];
      c.flows += std::stoull(json_field(l, "count"));
      c.directions.insert(json_field(l, "direction"));
      c.matches.insert(json_field(l, "match"));
    }
    std::map<std::string, Case> hunted;
    for (const auto& l : lines_of(h.out)) {
      Case& c = hunted[json_field(l, "internal_ip") + " " + json_field(l, "feed") + " " +
                       json_field(l, "indicator")];
      c.flows += std::stoull(json_field(l, "flows"));
      c.directions.insert(json_field(l, "direction"));
      c.matches.insert(json_field(l, "match"));
    }

    std::vector<std::string> want, got;
    for (const auto& [k, c] : detected) want.push_back(k);
    for (const auto& [k, c] : hunted) got.push_back(k);
    EXPECT_EQ(got, want) << capture << "\nhunt:\n" << h.out;
    for (const auto& [key, d] : detected) {
      auto it = hunted.find(key);
      if (it == hunted.end()) continue;
      const Case& hc = it->second;
      if (d.matches.count("dns_answer") != 0) {
        // Connections to DNS-derived addresses are not in the archive: only the lookup is.
        EXPECT_EQ(hc.matches, std::set<std::string>{"dns_query"}) << key;
        EXPECT_LT(hc.flows, d.flows) << key;
        continue;
      }
      EXPECT_EQ(hc.flows, d.flows) << key;
      // Several alert windows may each say a direction; together they say what the hunt does.
      std::set<std::string> known = d.directions;
      if (known.size() > 1) known.erase("unknown");
      const bool both =
          known.count("both") != 0 || (known.count("outbound") != 0 && known.count("inbound") != 0);
      const std::string detector_direction = both ? "both" : *known.begin();
      EXPECT_EQ(direction_of(hc.directions), detector_direction) << key;
    }
    return detected.size();
  }

  fs::path dir_;
};

TEST_F(HuntInterop, RaptorTrainCaptureHuntsTheCasesTheDetectorAlertedOn) {
  if (!fs::exists(raptor_iocs())) {
    GTEST_SKIP() << "shared intel not found at " << raptor_iocs()
                 << " (ORBWATCH_SHARED_DIR): the interop suite needs ../shared/intel";
  }
  const RaptorTrainIocs ioc = read_raptor_train(raptor_iocs());
  const std::string pcap = (dir_ / "raptor.pcap").string();
  ASSERT_TRUE(write_raptor_train_capture(pcap, ioc));
  // The camera, the NAS, the VPN gateway (addresses) and the laptop (a domain).
  EXPECT_EQ(compare(pcap, {raptor_iocs().string()}), 4u);

  // The same hunt as rows: the laptop's lookup is the domain's row.
  auto h =
      run_command(std::string(ORBWATCH_BINARY) + " hunt -q --store " + (dir_ / "raptor").string() +
                  " --feed '" + raptor_iocs().string() + "' --format jsonl");
  std::map<std::string, std::string> rows;
  for (const auto& l : lines_of(h.out)) rows[json_field(l, "internal_ip")] = l;
  ASSERT_EQ(rows.size(), 4u) << h.out;
  EXPECT_EQ(json_field(rows["10.20.5.7"], "indicator"), ioc.tier2_ips[0]);
  EXPECT_EQ(json_field(rows["10.20.5.7"], "answered"), "true");
  EXPECT_EQ(json_field(rows["10.20.5.7"], "tags"), "[\"Tier 2\"]");
  EXPECT_EQ(json_field(rows["10.20.1.1"], "direction"), "inbound");
  EXPECT_EQ(json_field(rows["10.20.5.9"], "indicator"), ioc.tier2_domain);
  EXPECT_EQ(json_field(rows["10.20.5.9"], "match"), "dns_query");
  EXPECT_EQ(json_field(rows["10.20.5.9"], "server_name"), "api." + ioc.tier2_domain);
}

bool is_internal(const std::string& ip) {
  return ip.rfind("10.", 0) == 0 || ip.rfind("192.168.", 0) == 0 ||
         (ip.rfind("172.", 0) == 0 && std::stoi(ip.substr(4)) >= 16 &&
          std::stoi(ip.substr(4)) <= 31);
}

// A feed of what the capture's internal hosts talked to: the outside addresses they sent most
// flows to, the server names they sent, and a /24 around one of them.
std::string feed_from_capture(const std::string& capture, const fs::path& out) {
  auto r =
      run_command(std::string(ORBWATCH_BINARY) + " analyze -q --flows-out - '" + capture + "'");
  std::map<std::string, int> peers;
  std::set<std::string> names;
  for (const auto& l : lines_of(r.out)) {
    const std::string src = json_field(l, "src_ip"), dst = json_field(l, "dst_ip");
    if (src.find(':') != std::string::npos || !is_internal(src) || is_internal(dst)) continue;
    ++peers[dst];
    const std::string name = json_field(l, "server_name");
    if (name != "(missing)" && names.size() < 3) names.insert(name);
  }
  std::vector<std::pair<int, std::string>> ranked;
  for (const auto& [ip, n] : peers) ranked.emplace_back(-n, ip);
  std::sort(ranked.begin(), ranked.end());
  std::ofstream f(out);
  for (size_t i = 0; i < ranked.size() && i < 5; ++i) f << ranked[i].second << "\n";
  if (ranked.size() > 5) {
    const std::string& ip = ranked[5].second;
    f << ip.substr(0, ip.rfind('.')) << ".0/24\n";
  }
  for (const auto& n : names) f << n << "\n";
  return out.string();
}

TEST_F(HuntInterop, RealMalwareCapturesHuntTheCasesTheDetectorAlertedOn) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  if (!fs::exists(raptor_iocs())) GTEST_SKIP() << "shared intel not found at " << raptor_iocs();
  size_t cases = 0;
  for (const char* rel : {"nDPI/malware/emotet.pcap", "nDPI/malware/trickbot.pcap",
                          "stratosphere/pcap/test7-malicious.pcap"}) {
    const fs::path capture = testdata() / rel;
    if (!fs::exists(capture)) {
      ADD_FAILURE() << "missing " << capture;
      continue;
    }
    SCOPED_TRACE(rel);
    const std::string feed = feed_from_capture(
        capture.string(), dir_ / (fs::path(rel).stem().string() + "-contacts.txt"));
    const size_t n = compare(capture.string(), {raptor_iocs().string(), feed});
    EXPECT_GT(n, 0u) << rel << ": the feed taken from the capture matched nothing";
    cases += n;
  }
  std::cout << "compared " << cases << " (host, feed, indicator) cases\n";
}

}  // namespace
}  // namespace orbwatch::test
