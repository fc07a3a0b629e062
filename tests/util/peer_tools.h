// Small helpers for tests that run real peers (nfcapd, softflowd, ...) on the loopback.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace orbwatch::test {

// True when `tool` is on PATH.
inline bool have_tool(const char* tool) {
  return std::system((std::string("command -v ") + tool + " > /dev/null 2>&1").c_str()) == 0;
}

// A port on 127.0.0.1 that was free a moment ago (`type` SOCK_DGRAM or SOCK_STREAM), for peers
// and servers that cannot bind port 0.
inline uint16_t free_port(int type) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}
inline uint16_t free_udp_port() {
  return free_port(SOCK_DGRAM);
}
inline uint16_t free_tcp_port() {
  return free_port(SOCK_STREAM);
}

}  // namespace orbwatch::test
