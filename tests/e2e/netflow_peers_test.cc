// End-to-end against real peers: a pcap of mixed traffic made here (TCP sessions with
// SYN/ACK/FIN, UDP, ICMP, IPv6) is exported by softflowd as NetFlow v5, v9 and IPFIX to both
// `orbwatch collect` and nfdump's nfcapd; the flows each collector stored must be the same
// (5-tuples, packets, bytes). Then nfreplay replays nfcapd's file as v5 and v9 into orbwatch,
// checked against `nfdump -r` of that file. Loopback only, ephemeral ports, every peer killed
// on teardown. Skips when softflowd / nfcapd / nfdump / nfreplay are not installed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>

#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>
#include "util/child_process.h"
#include "util/pcap_writer.h"
#include "util/peer_tools.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

using orbwatch::test::Child;
using orbwatch::test::free_udp_port;
using orbwatch::test::have_tool;
using orbwatch::test::PcapWriter;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// ---- the traffic ----------------------------------------------------------------------------

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kFin = 0x01, kPsh = 0x08;

// 60 IPv4 + 20 IPv6 TCP sessions (handshake, data both ways, FIN both ways), 40 UDP
// request/response pairs, 10 ICMP echo exchanges: 260 unidirectional flows (200 of them IPv4,
// all NetFlow v5 can carry).
void write_traffic(const std::string& path) {
  PcapWriter w(path);
  ASSERT_TRUE(w.ok());
  auto v4 = [](uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return std::vector<uint8_t>{a, b, c, d};
  };
  auto v6 = [](uint16_t net, uint8_t host) {
    std::vector<uint8_t> a(16, 0);
    a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
    a[4] = static_cast<uint8_t>(net >> 8), a[5] = static_cast<uint8_t>(net);
    a[15] = host;
    return a;
  };
  int64_t t = 0;
  auto tcp = [&](bool six, const std::vector<uint8_t>& c, const std::vector<uint8_t>& s,
                 uint16_t cp, uint16_t sp, size_t up, size_t down) {
    w.packet(t, six, c.data(), s.data(), 6, cp, sp, kSyn, 0);
    w.packet(t + 1, six, s.data(), c.data(), 6, sp, cp, kSyn | kAck, 0);
    w.packet(t + 2, six, c.data(), s.data(), 6, cp, sp, kAck, 0);
    w.packet(t + 3, six, c.data(), s.data(), 6, cp, sp, kAck | kPsh, up);
    w.packet(t + 4, six, s.data(), c.data(), 6, sp, cp, kAck | kPsh, down);
    w.packet(t + 5, six, s.data(), c.data(), 6, sp, cp, kAck | kPsh, down / 2);
    w.packet(t + 6, six, c.data(), s.data(), 6, cp, sp, kFin | kAck, 0);
    w.packet(t + 7, six, s.data(), c.data(), 6, sp, cp, kFin | kAck, 0);
    w.packet(t + 8, six, c.data(), s.data(), 6, cp, sp, kAck, 0);
    t += 37;
  };
  const uint16_t services[] = {80, 443, 22, 25, 8080};
  for (uint8_t i = 0; i < 60; ++i) {
    tcp(false, v4(10, 1, 0, static_cast<uint8_t>(1 + i % 20)),
        v4(198, 51, 100, static_cast<uint8_t>(1 + i % 7)), static_cast<uint16_t>(40000 + i),
        services[i % 5], 100 + i, 1000 + 10 * i);
  }
  for (uint8_t i = 0; i < 20; ++i) {
    tcp(true, v6(1, static_cast<uint8_t>(1 + i % 5)), v6(2, static_cast<uint8_t>(1 + i % 3)),
        static_cast<uint16_t>(50000 + i), services[i % 5], 200 + i, 700 + i);
  }
  for (uint8_t i = 0; i < 40; ++i) {
    bool six = i % 4 == 0;
    auto c = six ? v6(1, 9) : v4(10, 1, 1, static_cast<uint8_t>(1 + i));
    auto s = six ? v6(3, 53) : v4(192, 0, 2, 53);
    w.packet(t, six, c.data(), s.data(), 17, static_cast<uint16_t>(30000 + i), 53, 0, 30 + i);
    w.packet(t + 2, six, s.data(), c.data(), 17, 53, static_cast<uint16_t>(30000 + i), 0, 90 + i);
    t += 11;
  }
  for (uint8_t i = 0; i < 10; ++i) {
    auto c = v4(10, 1, 2, static_cast<uint8_t>(1 + i));
    auto s = v4(203, 0, 113, 7);
    for (int k = 0; k < 3; ++k) {  // 3 echo requests / replies
      w.packet(t + k * 1000, false, c.data(), s.data(), 1, 8, 0, 0, 56);
      w.packet(t + k * 1000 + 1, false, s.data(), c.data(), 1, 0, 0, 0, 56);
    }
    t += 13;
  }
}

// ---- collector outputs ----------------------------------------------------------------------

// src dst sport dport proto packets bytes, as text; compared as sorted lists.
using Flow = std::tuple<std::string, std::string, int, int, int, uint64_t, uint64_t>;

bool is_icmp(int proto) {
  return proto == 1 || proto == 58;
}

// ICMP ports differ in convention between collectors (type/code in the destination port or
// not): compare ICMP flows without ports.
Flow normal(Flow f) {
  if (is_icmp(std::get<4>(f))) std::get<2>(f) = std::get<3>(f) = 0;
  return f;
}

std::vector<Flow> read_orbwatch(const std::string& path) {
  std::vector<Flow> out;
  std::ifstream in(path);
  std::string line;
  auto s = [&](const char* k) {
    std::smatch m;
    std::regex re(std::string("\"") + k + "\":\"([^\"]*)\"");
    return std::regex_search(line, m, re) ? m[1].str() : std::string();
  };
  auto n = [&](const char* k) -> uint64_t {
    std::smatch m;
    std::regex re(std::string("\"") + k + "\":(\\d+)");
    return std::regex_search(line, m, re) ? std::stoull(m[1]) : 0;
  };
  while (std::getline(in, line)) {
    out.push_back(normal({s("src_ip"), s("dst_ip"), static_cast<int>(n("src_port")),
                          static_cast<int>(n("dst_port")), static_cast<int>(n("proto")),
                          n("packets"), n("bytes")}));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string run_capture(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p.get())) > 0) out.append(buf, n);
  return out;
}

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(' '));
  s.erase(s.find_last_not_of(' ') + 1);
  return s;
}

// nfdump's view of an nfcapd file or directory (-R), optionally filtered.
std::vector<Flow> read_nfdump(const std::string& source_args, const std::string& filter = "") {
  std::string cmd = "nfdump " + source_args + " -q -N -o 'fmt:%sa|%da|%sp|%dp|%pr|%pkt|%byt' " +
                    (filter.empty() ? "" : "'" + filter + "'") + " 2>/dev/null";
  std::vector<Flow> out;
  std::istringstream in(run_capture(cmd));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, '|')) c.push_back(trim(cell));
    if (c.size() != 7) continue;
    // %dp prints ICMP as "type.code"; %pr prints the number with -N.
    out.push_back(normal({c[0], c[1], std::atoi(c[2].c_str()), std::atoi(c[3].c_str()),
                          std::atoi(c[4].c_str()), std::stoull(c[5]), std::stoull(c[6])}));
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Totals {
  size_t flows = 0;
  uint64_t packets = 0, bytes = 0;
};
Totals totals(const std::vector<Flow>& v) {
  Totals t;
  t.flows = v.size();
  for (const Flow& f : v) t.packets += std::get<5>(f), t.bytes += std::get<6>(f);
  return t;
}

std::string show(const Flow& f) {
  return std::get<0>(f) + ":" + std::to_string(std::get<2>(f)) + " > " + std::get<1>(f) + ":" +
         std::to_string(std::get<3>(f)) + " p" + std::to_string(std::get<4>(f)) + " " +
         std::to_string(std::get<5>(f)) + "P " + std::to_string(std::get<6>(f)) + "B";
}

void expect_same(const std::vector<Flow>& ours, const std::vector<Flow>& theirs,
                 const std::string& what) {
  Totals a = totals(ours), b = totals(theirs);
  std::printf(
      "[peers] %-28s orbwatch flows=%zu packets=%llu bytes=%llu | nfdump flows=%zu "
      "packets=%llu bytes=%llu\n",
      what.c_str(), a.flows, static_cast<unsigned long long>(a.packets),
      static_cast<unsigned long long>(a.bytes), b.flows, static_cast<unsigned long long>(b.packets),
      static_cast<unsigned long long>(b.bytes));
  EXPECT_GT(b.flows, 0u) << what;
  EXPECT_EQ(a.flows, b.flows) << what;
  EXPECT_EQ(a.packets, b.packets) << what;
  EXPECT_EQ(a.bytes, b.bytes) << what;
  std::vector<Flow> only_ours, only_theirs;
  std::set_difference(ours.begin(), ours.end(), theirs.begin(), theirs.end(),
                      std::back_inserter(only_ours));
  std::set_difference(theirs.begin(), theirs.end(), ours.begin(), ours.end(),
                      std::back_inserter(only_theirs));
  for (size_t i = 0; i < only_ours.size() && i < 5; ++i) {
    ADD_FAILURE() << what << ": only orbwatch has " << show(only_ours[i]);
  }
  for (size_t i = 0; i < only_theirs.size() && i < 5; ++i) {
    ADD_FAILURE() << what << ": only nfdump has " << show(only_theirs[i]);
  }
}

// ---- the peers ------------------------------------------------------------------------------

class NetflowPeers : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"softflowd", "nfcapd", "nfdump", "nfreplay"}) {
      if (!have_tool(tool)) GTEST_SKIP() << tool << " not installed (Debian: softflowd, nfdump)";
    }
    dir_ = fs::path(testing::TempDir()) / ("orbwatch_peers_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    pcap_ = (dir_ / "traffic.pcap").string();
    write_traffic(pcap_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Starts `orbwatch collect` on an ephemeral loopback port; returns the port (0 on failure).
  uint16_t start_orbwatch(std::unique_ptr<Child>& c, const std::string& out) {
    c = std::make_unique<Child>(std::vector<std::string>{ORBWATCH_BINARY, "collect", "--listen",
                                                         "udp://127.0.0.1:0", "--flows-out", out,
                                                         "--stats-interval", "0"});
    std::smatch m;
    if (!c->wait_for(std::regex(R"(listening on udp://127\.0\.0\.1:(\d+))"), m, 10s)) {
      ADD_FAILURE() << "orbwatch collect did not start: " << c->err();
      return 0;
    }
    return static_cast<uint16_t>(std::stoi(m[1]));
  }

  // nfcapd on a free loopback port, writing into `dir`.
  uint16_t start_nfcapd(std::unique_ptr<Child>& c, const fs::path& dir) {
    fs::create_directories(dir);
    uint16_t port = free_udp_port();
    c = std::make_unique<Child>(std::vector<std::string>{"nfcapd", "-w", dir.string(), "-p",
                                                         std::to_string(port), "-b", "127.0.0.1"});
    std::smatch m;
    if (!c->wait_for(std::regex("Startup"), m, 10s)) {
      ADD_FAILURE() << "nfcapd did not start: " << c->err();
      return 0;
    }
    std::this_thread::sleep_for(200ms);  // "Startup" is printed just before the socket loop
    return port;
  }

  void softflowd(int version, uint16_t port) {
    Child sf({"softflowd", "-r", pcap_, "-n", "127.0.0.1:" + std::to_string(port), "-v",
              std::to_string(version), "-c", "none", "-a", "-d", "-p",
              (dir_ / "softflowd.pid").string()});
    ASSERT_EQ(sf.stop(0, 30s), 0) << "softflowd -v " << version << ": " << sf.err();
  }

  fs::path dir_;
  std::string pcap_;
};

TEST_F(NetflowPeers, SoftflowdToOrbwatchAndNfcapdAgree) {
  for (int version : {5, 9, 10}) {
    SCOPED_TRACE("softflowd -v " + std::to_string(version));
    const std::string tag = "v" + std::to_string(version);
    const std::string flows = (dir_ / (tag + ".jsonl")).string();
    const fs::path nfdir = dir_ / ("nfcapd-" + tag);
    std::unique_ptr<Child> ow, nf;
    uint16_t p1 = start_orbwatch(ow, flows);
    uint16_t p2 = start_nfcapd(nf, nfdir);
    ASSERT_TRUE(p1 != 0 && p2 != 0);
    // softflowd sends to one destination: run it once per collector on the same capture.
    softflowd(version, p1);
    softflowd(version, p2);
    std::this_thread::sleep_for(300ms);  // loopback delivery
    EXPECT_EQ(ow->stop(SIGTERM, 10s), 0) << ow->err();
    EXPECT_EQ(nf->stop(SIGTERM, 10s), 0) << nf->err();
    auto ours = read_orbwatch(flows);
    expect_same(ours, read_nfdump("-R " + nfdir.string()), "softflowd " + tag);
    EXPECT_EQ(ours.size(), version == 5 ? 200u : 260u);  // every flow of the capture
  }
}

TEST_F(NetflowPeers, NfreplayOfAnNfcapdFileMatchesNfdump) {
  // First an nfcapd file of the traffic (NetFlow v9 keeps the IPv6 flows).
  const fs::path nfdir = dir_ / "nfcapd-src";
  {
    std::unique_ptr<Child> nf;
    uint16_t port = start_nfcapd(nf, nfdir);
    ASSERT_NE(port, 0);
    softflowd(9, port);
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(nf->stop(SIGTERM, 10s), 0) << nf->err();
  }
  std::string file;
  for (const auto& e : fs::directory_iterator(nfdir)) {
    if (e.path().filename().string().rfind("nfcapd.", 0) == 0) file = e.path().string();
  }
  ASSERT_FALSE(file.empty()) << "nfcapd wrote no file";
  for (int version : {5, 9}) {
    SCOPED_TRACE("nfreplay -v " + std::to_string(version));
    const std::string flows = (dir_ / ("replay-v" + std::to_string(version) + ".jsonl")).string();
    std::unique_ptr<Child> ow;
    uint16_t port = start_orbwatch(ow, flows);
    ASSERT_NE(port, 0);
    Child replay({"nfreplay", "-r", file, "-H", "127.0.0.1", "-p", std::to_string(port), "-v",
                  std::to_string(version)});
    ASSERT_EQ(replay.stop(0, 30s), 0) << replay.err();
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(ow->stop(SIGTERM, 10s), 0) << ow->err();
    // NetFlow v5 has no IPv6: nfreplay leaves those flows out.
    expect_same(read_orbwatch(flows), read_nfdump("-r " + file, version == 5 ? "ipv4" : ""),
                "nfreplay v" + std::to_string(version));
  }
}

}  // namespace
