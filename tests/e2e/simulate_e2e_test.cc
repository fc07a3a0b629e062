// End-to-end runs of `orbwatch simulate` with the real binary: its NetFlow export, sent over
// loopback, reaches `orbwatch collect` and nfdump's nfcapd unchanged; its pcap of export
// datagrams, analysed with the network model and feed it wrote, raises the alerts its labels
// name for the model detectors (intel, allowlist, exposure, segmentation); a small simulated
// week scored by `orbwatch eval` meets the detection goals (recall, false alerts).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "util/child_process.h"
#include "util/json_field.h"
#include "util/peer_tools.h"
#include "util/run_command.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

using orbwatch::test::Child;
using orbwatch::test::json_field;
using orbwatch::test::run_command;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kBin = ORBWATCH_BINARY;

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// What both sides must agree on for a flow, as one comparable string.
std::string flow_key(const std::string& line) {
  std::string k;
  for (const char* f : {"ts_start", "ts_end", "src_ip", "dst_ip", "src_port", "dst_port", "proto",
                        "tcp_flags", "bytes", "packets", "src_as", "dst_as"})
    k += json_field(line, f) + "|";
  return k;
}

class SimulateE2e : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("orbwatch_simulate_e2e_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SimulateE2e, ExportOverUdpReachesCollectUnchanged) {
  for (const char* format : {"v9", "ipfix", "v5"}) {
    SCOPED_TRACE(format);
    const fs::path got = dir_ / (std::string(format) + "-collect.jsonl");
    const fs::path sent = dir_ / (std::string(format) + "-sim.jsonl");
    Child ow({kBin, "collect", "--listen", "udp://127.0.0.1:0", "--flows-out", got.string(),
              "--stats-interval", "0"});
    std::smatch m;
    ASSERT_TRUE(ow.wait_for(std::regex(R"(listening on udp://127\.0\.0\.1:(\d+))"), m, 10s))
        << ow.err();
    const auto r = run_command(kBin + " simulate --hosts 20 --days 0.25 --seed 5 --format " +
                               format + " --rate 100000 --export udp://127.0.0.1:" + m[1].str() +
                               " --flows-out " + sent.string());
    ASSERT_EQ(r.rc, 0) << r.out;
    std::this_thread::sleep_for(500ms);
    ASSERT_EQ(ow.stop(SIGTERM, 10s), 0) << ow.err();
    auto a = lines_of(sent), b = lines_of(got);
    ASSERT_GT(a.size(), 10'000u);
    ASSERT_EQ(a.size(), b.size()) << ow.err();
    std::vector<std::string> ka, kb;
    for (const auto& l : a) ka.push_back(flow_key(l));
    for (const auto& l : b) kb.push_back(flow_key(l));
    std::sort(ka.begin(), ka.end());
    std::sort(kb.begin(), kb.end());
    EXPECT_TRUE(ka == kb);
    EXPECT_NE(r.out.find(std::to_string(a.size()) + " flows"), std::string::npos) << r.out;
  }
}

TEST_F(SimulateE2e, NfcapdStoresTheSameFlows) {
  for (const char* tool : {"nfcapd", "nfdump"}) {
    if (!orbwatch::test::have_tool(tool)) GTEST_SKIP() << tool << " not installed (Debian: nfdump)";
  }
  const fs::path nfdir = dir_ / "nfcapd";
  fs::create_directories(nfdir);
  const uint16_t port = orbwatch::test::free_udp_port();
  Child nf({"nfcapd", "-w", nfdir.string(), "-p", std::to_string(port), "-b", "127.0.0.1"});
  std::smatch m;
  ASSERT_TRUE(nf.wait_for(std::regex("Startup"), m, 10s)) << nf.err();
  std::this_thread::sleep_for(200ms);
  const fs::path sent = dir_ / "sim.jsonl";
  const auto r = run_command(kBin + " simulate --hosts 20 --days 0.25 --seed 6 --format v9 " +
                             "--rate 100000 --export udp://127.0.0.1:" + std::to_string(port) +
                             " --flows-out " + sent.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(nf.stop(SIGTERM, 10s), 0) << nf.err();
  const auto lines = lines_of(sent);
  uint64_t bytes = 0;
  for (const auto& l : lines) bytes += std::stoull(json_field(l, "bytes"));
  // nfdump's summary line: "Summary: total flows: N, total bytes: B, ..."
  const auto s = run_command("nfdump -R " + nfdir.string() + " -q -o 'fmt:%byt' -N");
  ASSERT_EQ(s.rc, 0) << s.out;
  std::istringstream in(s.out);
  uint64_t n = 0, total = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" ") == std::string::npos) continue;
    ++n;
    total += std::stoull(line);
  }
  EXPECT_EQ(n, lines.size());
  EXPECT_EQ(total, bytes);
}

TEST_F(SimulateE2e, AnalyzeOfThePcapRaisesTheLabelledAlerts) {
  const fs::path out = dir_ / "world";
  const fs::path pcap = dir_ / "export.pcap";
  auto r = run_command(kBin + " simulate --hosts 40 --days 3 --clean-days 1 --seed 11 --out " +
                       out.string() + " --pcap " + pcap.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  for (const char* f : {"model.toml", "feed.txt", "labels.jsonl", "asn.csv", "country.csv"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const fs::path alerts = dir_ / "alerts.jsonl";
  r = run_command(kBin + " analyze " + pcap.string() + " --config " +
                  (out / "model.toml").string() + " --feed " + (out / "feed.txt").string() +
                  " --alerts-out " + alerts.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto alert_lines = lines_of(alerts);
  int checked = 0;
  for (const std::string& label : lines_of(out / "labels.jsonl")) {
    const std::string scenario = json_field(label, "scenario");
    // The scenarios a detector of this build covers, with that detector.
    std::string detector;
    if (scenario == "intel_hit") detector = "intel";
    if (scenario == "allowlist_breach") detector = "allowlist";
    if (scenario == "backdoor_listener") detector = "exposure";
    if (scenario == "segmentation") detector = "segmentation";
    if (detector.empty()) continue;
    // The label's first internal address.
    const size_t at = label.find("\"internal\":[\"") + 13;
    const std::string host = label.substr(at, label.find('"', at) - at);
    const bool found = std::any_of(alert_lines.begin(), alert_lines.end(), [&](const auto& a) {
      return json_field(a, "detector") == detector &&
             (json_field(a, "src_ip") == host || json_field(a, "dst_ip") == host) &&
             json_field(a, "first_seen") >= json_field(label, "start") &&
             json_field(a, "first_seen") <= json_field(label, "end");
    });
    EXPECT_TRUE(found) << scenario << " on " << host << ": no " << detector << " alert";
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST_F(SimulateE2e, ASmallSimulatedWeekMeetsTheDetectionGoals) {
  // Two instances of every scenario in a week of a 60-workstation network, with ASN data, the
  // exposure learning period matched to the simulation's clean days.
  const fs::path w = dir_ / "week";
  const fs::path pcap = dir_ / "week.pcap";
  auto r = run_command(kBin + " simulate --hosts 60 --days 7 --seed 21 --repeat 2 --out " +
                       w.string() + " --pcap " + pcap.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const fs::path alerts = dir_ / "week-alerts.jsonl";
  r = run_command(kBin + " analyze -q " + pcap.string() + " --config " +
                  (w / "model.toml").string() + " --feed " + (w / "feed.txt").string() + " --geo " +
                  (w / "asn.csv").string() + " --geo " + (w / "country.csv").string() +
                  " --param exposure.learning=2d --alerts-out " + alerts.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const fs::path report = dir_ / "eval.json";
  r = run_command("(" + kBin + " eval --format json --labels " + (w / "labels.jsonl").string() +
                  " --alerts " + alerts.string() + " > " + report.string() + ")");
  ASSERT_EQ(r.rc, 0) << r.out;
  std::ifstream in(report);
  const std::string json((std::istreambuf_iterator<char>(in)), {});
  // One object per (scenario, detector) and per detector; checked by their fields.
  size_t checked = 0;
  for (size_t at = json.find("{\"scenario\""); at != std::string::npos;
       at = json.find("{\"scenario\"", at + 1)) {
    const std::string obj = json.substr(at, json.find('}', at) - at + 1);
    const std::string detector = json_field(obj, "detector");
    if (detector == "baseline" || detector == "anomaly") continue;  // not built yet
    EXPECT_GE(std::stod(json_field(obj, "recall")), 0.95)
        << json_field(obj, "scenario") << " by " << detector;
    ++checked;
  }
  EXPECT_GE(checked, 20u);
  for (size_t at = json.find("{\"detector\""); at != std::string::npos;
       at = json.find("{\"detector\"", at + 1)) {
    const std::string obj = json.substr(at, json.find('}', at) - at + 1);
    EXPECT_LE(std::stod(json_field(obj, "false_per_10k_hosts_day")), 1.0)
        << json_field(obj, "detector");
  }
}

}  // namespace
