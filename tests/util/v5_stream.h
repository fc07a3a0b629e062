// A deterministic NetFlow v5 stream for end-to-end tests: datagrams of 30 flows with spread
// addresses (10.0.0-3.x to 198.51.100/203.0.113/192.168.0), ports, protocols, TCP flags,
// counters, interfaces and AS numbers, and a paced sender to 127.0.0.1.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <random>
#include <thread>
#include <vector>

namespace orbwatch::test {

inline void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void put32(std::vector<uint8_t>& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

// NetFlow v5 datagrams of 30 flows each, from a fixed seed.
inline std::vector<std::vector<uint8_t>> make_v5_stream(int datagrams, uint32_t seed = 20261126) {
  std::mt19937 rng(seed);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  const uint32_t now = static_cast<uint32_t>(::time(nullptr)) - 600;
  const uint32_t uptime = 3'600'000;
  const uint16_t services[] = {22, 53, 80, 123, 443, 3389, 8080, 8443};
  const uint16_t as_numbers[] = {0, 64512, 65001, 15169, 13335};
  std::vector<std::vector<uint8_t>> out;
  for (int d = 0; d < datagrams; ++d) {
    std::vector<uint8_t> b;
    put16(b, 5);
    put16(b, 30);
    put32(b, uptime);
    put32(b, now);
    put32(b, 0);
    put32(b, static_cast<uint32_t>(d) * 30);
    b.push_back(0);
    b.push_back(0);
    put16(b, 0);
    for (int i = 0; i < 30; ++i) {
      const uint32_t src = 0x0a000000u | pick(4) << 8 | (1 + pick(250));  // 10.0.0-3.x
      const uint32_t pools[] = {0xc6336400u, 0xcb007100u, 0xc0a80000u};   // 198.51.100, 203.0.113
      const uint32_t dst = pools[pick(3)] | (1 + pick(60));
      const uint32_t kind = pick(10);
      const uint8_t proto = kind < 6 ? 6 : kind < 9 ? 17 : 1;
      const uint16_t sport = proto == 1 ? 0 : static_cast<uint16_t>(1024 + pick(60000));
      const uint16_t dport = proto == 1 ? static_cast<uint16_t>(pick(2) == 0 ? 0x0800 : 0x0303)
                                        : (pick(4) == 0 ? static_cast<uint16_t>(1024 + pick(60000))
                                                        : services[pick(8)]);
      const uint32_t packets = 1 + (pick(3) == 0 ? pick(5000) : pick(20));
      const uint32_t bytes = packets * (40 + pick(1460));
      const uint32_t first = uptime - 1000 * (1 + pick(500));
      const uint32_t last = first + pick(60'000) > uptime ? uptime : first + pick(60'000);
      put32(b, src);
      put32(b, dst);
      put32(b, 0);                               // next hop
      put16(b, static_cast<uint16_t>(pick(8)));  // input
      put16(b, static_cast<uint16_t>(pick(8)));  // output
      put32(b, packets);
      put32(b, bytes);
      put32(b, first);
      put32(b, last);
      put16(b, sport);
      put16(b, dport);
      b.push_back(0);
      b.push_back(proto == 6 ? static_cast<uint8_t>(pick(64)) : 0);
      b.push_back(proto);
      b.push_back(0);  // tos
      put16(b, as_numbers[pick(5)]);
      put16(b, as_numbers[pick(5)]);
      b.push_back(24);
      b.push_back(24);
      put16(b, 0);
    }
    out.push_back(std::move(b));
  }
  return out;
}

inline void send_v5_stream(const std::vector<std::vector<uint8_t>>& stream, uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (size_t i = 0; i < stream.size(); ++i) {
    sendto(fd, stream[i].data(), stream[i].size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    // nfcapd's default socket buffer holds ~140 datagrams: stay far below it, also under load.
    if (i % 10 == 9) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  close(fd);
}

}  // namespace orbwatch::test
