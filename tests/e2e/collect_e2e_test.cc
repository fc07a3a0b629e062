// End-to-end: runs the real `orbwatch collect` on ephemeral loopback ports, sends NetFlow v5
// exports to it, stops it with SIGTERM and checks that every flow is in the JSON output.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "util/child_process.h"
#include "util/loopback.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

using orbwatch::test::Child;
using namespace std::chrono_literals;

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

// Sends NetFlow v5 datagrams of 30 flows; flow k gets source port `first_port + k`.
void send_v5(bool v6, uint16_t port, uint16_t first_port, int datagrams) {
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_storage ss;
  const socklen_t len = orbwatch::test::loopback(v6, port, ss);
  const uint32_t now = static_cast<uint32_t>(time(nullptr));
  uint32_t seq = 0;
  for (int d = 0; d < datagrams; ++d) {
    uint8_t buf[24 + 30 * 48] = {};
    put16(buf, 5);
    put16(buf + 2, 30);
    put32(buf + 4, 3'600'000);  // sysUpTime
    put32(buf + 8, now);
    put32(buf + 16, seq);
    for (int r = 0; r < 30; ++r) {
      uint8_t* rec = buf + 24 + r * 48;
      uint16_t sport = static_cast<uint16_t>(first_port + d * 30 + r);
      put32(rec, 0x0A000001);      // 10.0.0.1
      put32(rec + 4, 0xC6336401);  // 198.51.100.1
      put32(rec + 16, 3);          // packets
      put32(rec + 20, 180);        // bytes
      put32(rec + 24, 3'590'000);  // First
      put32(rec + 28, 3'595'000);  // Last
      put16(rec + 32, sport);
      put16(rec + 34, 443);
      rec[38] = 6;
    }
    seq += 30;
    ASSERT_EQ(sendto(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&ss), len),
              static_cast<ssize_t>(sizeof(buf)));
  }
  close(fd);
}

std::string temp_path(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  std::string base = dir ? dir : "/tmp";
  return base + "/orbwatch_e2e_" + std::to_string(getpid()) + "_" + name;
}

TEST(CollectE2e, EveryFlowArrivesAfterSigterm) {
  const std::string out = temp_path("flows.jsonl");
  Child c({ORBWATCH_BINARY, "collect", "--listen", "udp://127.0.0.1:0", "--listen", "udp://[::1]:0",
           "--threads", "2", "--flows-out", out, "--stats-interval", "0"});
  ASSERT_TRUE(c.started());
  std::smatch m;
  const std::regex v4(R"(listening on udp://127\.0\.0\.1:(\d+))");
  const std::regex v6(R"(listening on udp://\[::1\]:(\d+))");
  ASSERT_TRUE(c.wait_for(v4, m, 10s)) << c.err();
  const uint16_t port4 = static_cast<uint16_t>(std::stoi(m[1]));
  ASSERT_TRUE(c.wait_for(v6, m, 10s)) << c.err();
  const uint16_t port6 = static_cast<uint16_t>(std::stoi(m[1]));

  // 100 datagrams to each address: 6000 flows with distinct source ports.
  send_v5(false, port4, 1, 100);
  send_v5(true, port6, 3001, 100);
  ASSERT_EQ(c.stop(SIGTERM, 20s), 0) << c.err();
  EXPECT_NE(c.err().find("records=6000"), std::string::npos) << c.err();

  std::ifstream in(out);
  std::string line;
  std::set<int> ports;
  size_t lines = 0, from_v6 = 0;
  const std::regex sport(R"("src_port":(\d+))");
  while (std::getline(in, line)) {
    ++lines;
    ASSERT_TRUE(std::regex_search(line, m, sport)) << line;
    ports.insert(std::stoi(m[1]));
    if (line.find(R"("exporter":"::1")") != std::string::npos) ++from_v6;
    EXPECT_NE(line.find(R"("dst_ip":"198.51.100.1")"), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 6000u);
  EXPECT_EQ(ports.size(), 6000u);
  EXPECT_EQ(*ports.begin(), 1);
  EXPECT_EQ(*ports.rbegin(), 6000);
  EXPECT_EQ(from_v6, 3000u);
  std::remove(out.c_str());
}

TEST(CollectE2e, BadListenUrlFailsWithReason) {
  Child c({ORBWATCH_BINARY, "collect", "--listen", "udp://localhost:2055"});
  ASSERT_TRUE(c.started());
  EXPECT_NE(c.stop(0, 10s), 0);
  EXPECT_NE(c.err().find("invalid listen URL"), std::string::npos) << c.err();
}

TEST(CollectE2e, ExporterAllowListDenies) {
  const std::string out = temp_path("denied.jsonl");
  Child c({ORBWATCH_BINARY, "collect", "--listen", "udp://127.0.0.1:0", "--flows-out", out,
           "--exporter-allow", "192.0.2.0/24", "--stats-interval", "0"});
  ASSERT_TRUE(c.started());
  std::smatch m;
  ASSERT_TRUE(c.wait_for(std::regex(R"(listening on udp://127\.0\.0\.1:(\d+))"), m, 10s))
      << c.err();
  send_v5(false, static_cast<uint16_t>(std::stoi(m[1])), 1, 5);
  ASSERT_EQ(c.stop(SIGTERM, 20s), 0) << c.err();
  EXPECT_NE(c.err().find("records=0"), std::string::npos) << c.err();
  EXPECT_NE(c.err().find("drop_not_allowed=5"), std::string::npos) << c.err();
  std::remove(out.c_str());
}

}  // namespace
