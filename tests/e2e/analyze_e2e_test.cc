// End-to-end: the real `orbwatch analyze` on a live interface (loopback) and on unusable input.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "util/child_process.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

using orbwatch::test::Child;
using namespace std::chrono_literals;

std::string temp_path(const char* name) {
  return "/tmp/orbwatch_e2e_" + std::to_string(getpid()) + "_" + name;
}

void send_udp(uint16_t sport, uint16_t dport, int count) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(sport);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  a.sin_port = htons(dport);
  const char payload[100] = "orbwatch live capture test";
  for (int i = 0; i < count; ++i) {
    sendto(fd, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  close(fd);
}

// Live capture on `lo` with a BPF filter: the datagrams we send become one metered flow.
TEST(AnalyzeE2e, LiveCaptureOnLoopbackMetersFlows) {
  const std::string out = temp_path("live.jsonl");
  const uint16_t sport = static_cast<uint16_t>(40000 + getpid() % 10000), dport = sport + 1;
  Child c({ORBWATCH_BINARY, "analyze", "--interface", "lo", "--bpf",
           "udp and port " + std::to_string(dport), "--duration", "2", "--flows-out", out, "-q"});
  ASSERT_TRUE(c.started());
  std::smatch m;
  if (!c.wait_for(std::regex("capturing on lo|orbwatch analyze: (.*)"), m, 10s) ||
      m[0].str().find("capturing") == std::string::npos) {
    c.stop(SIGKILL, 5s);
    GTEST_SKIP() << "live capture unavailable here (needs CAP_NET_RAW): " << c.err();
  }
  send_udp(sport, dport, 7);
  send_udp(sport, static_cast<uint16_t>(dport + 1), 3);  // filtered out by the BPF
  ASSERT_EQ(c.stop(0, 20s), 0) << c.err();
  std::ifstream in(out);
  std::string line, all;
  size_t flows = 0;
  while (std::getline(in, line)) {
    ++flows;
    all += line + "\n";
  }
  ASSERT_EQ(flows, 1u) << all;
  EXPECT_NE(all.find("\"src_port\":" + std::to_string(sport)), std::string::npos) << all;
  EXPECT_NE(all.find("\"dst_port\":" + std::to_string(dport)), std::string::npos) << all;
  EXPECT_NE(all.find("\"proto\":17"), std::string::npos) << all;
  EXPECT_NE(all.find("\"packets\":7,"), std::string::npos) << all;
  EXPECT_NE(all.find("\"bytes\":896,"), std::string::npos) << all;  // 7 * (20 + 8 + 100)
  EXPECT_NE(all.find("\"flow_source\":\"meter\""), std::string::npos) << all;
  std::remove(out.c_str());
}

TEST(AnalyzeE2e, UnusableInputFailsWithOneLineReason) {
  const std::string junk = temp_path("junk.bin");
  std::ofstream(junk) << "this is not a capture\n";
  Child c({ORBWATCH_BINARY, "analyze", junk});
  ASSERT_TRUE(c.started());
  EXPECT_EQ(c.stop(0, 10s), 1);
  EXPECT_NE(c.err().find("not a pcap, pcapng, IPFIX file or NetFlow v5 stream"), std::string::npos)
      << c.err();
  Child missing({ORBWATCH_BINARY, "analyze", temp_path("does-not-exist.pcap")});
  EXPECT_EQ(missing.stop(0, 10s), 1);
  EXPECT_NE(missing.err().find("No such file"), std::string::npos) << missing.err();
  std::remove(junk.c_str());
}

}  // namespace
