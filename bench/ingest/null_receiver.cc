// orbwatch-null-receiver: the do-nothing recvmmsg receiver. It marks the physical limit of the
// ingest harness (kernel + loopback + one receive thread): any real collector is measured as a
// fraction of it. Counts datagrams, and flows from the headers only (v5/v9 count field of data
// datagrams, IPFIX data set lengths / --record-bytes); decodes nothing else.
// Prints one `key=value` line on stdout at exit (SIGINT/SIGTERM or --duration).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

int64_t mono_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

// Flows in one export datagram, from headers and set lengths only.
uint64_t peek_flows(const uint8_t* p, size_t n, size_t ipfix_record) {
  if (n < 4) return 0;
  switch (be16(p)) {
    case 5:
      return be16(p + 2);
    case 9:  // count covers template records too: count only datagrams that start with data
      return n >= 24 && be16(p + 20) >= 256 ? be16(p + 2) : 0;
    case 10: {
      uint64_t flows = 0;
      for (size_t off = 16; off + 4 <= n;) {
        uint16_t id = be16(p + off), len = be16(p + off + 2);
        if (len < 4) break;
        if (id >= 256 && ipfix_record > 0) flows += (len - 4u) / ipfix_record;
        off += len;
      }
      return flows;
    }
    default:
      return 0;
  }
}

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: orbwatch-null-receiver [--host 127.0.0.1|::1] [--port N] [--rcvbuf BYTES]\n"
               "         [--duration SECONDS] [--record-bytes N (IPFIX data record size, 64)]\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  uint16_t port = 2055;
  int rcvbuf = 8 << 20;
  double duration = 0;
  size_t record_bytes = 64;  // orbwatch-flowgen's IPFIX record
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") usage(0);
    if (i + 1 >= argc) usage(2);
    const char* v = argv[++i];
    if (a == "--host")
      host = v;
    else if (a == "--port")
      port = static_cast<uint16_t>(std::atoi(v));
    else if (a == "--rcvbuf")
      rcvbuf = std::atoi(v);
    else if (a == "--duration")
      duration = std::atof(v);
    else if (a == "--record-bytes")
      record_bytes = static_cast<size_t>(std::atoi(v));
    else
      usage(2);
  }
  const bool v6 = host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::perror("socket");
    return 1;
  }
  // Same buffer policy as orbwatch: force past rmem_max when permitted.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
  timeval tv{0, 100'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1) usage(2);
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) usage(2);
    len = sizeof(*a);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    std::perror("bind");
    return 1;
  }
  int granted = 0;
  socklen_t gl = sizeof(granted);
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &gl);
  std::fprintf(stderr, "null-receiver: listening on %s port %u, rcvbuf %d\n", host.c_str(), port,
               granted / 2);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  constexpr size_t kBatch = 256, kSlot = 65536;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[kBatch * kSlot]);
  std::vector<mmsghdr> msgs(kBatch);
  std::vector<iovec> iov(kBatch);
  std::vector<std::array<uint8_t, 64>> ctrl(kBatch);
  for (size_t i = 0; i < kBatch; ++i) {
    iov[i] = {buf.get() + i * kSlot, kSlot};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = ctrl[i].data();
  }
  uint64_t datagrams = 0, flows = 0, bytes = 0;
  uint32_t drops = 0;
  const int64_t start = mono_ms();
  int64_t first_ms = -1, last_ms = -1;
  const int64_t end = duration > 0 ? start + static_cast<int64_t>(duration * 1000) : INT64_MAX;
  bool draining = false;
  for (;;) {
    if (!draining && (g_stop || mono_ms() >= end)) draining = true;  // then empty the queue
    for (auto& m : msgs) m.msg_hdr.msg_controllen = 64;
    int n = recvmmsg(fd, msgs.data(), kBatch, draining ? MSG_DONTWAIT : MSG_WAITFORONE, nullptr);
    if (n <= 0) {
      if (draining && n < 0 && errno != EINTR) break;
      continue;
    }
    last_ms = mono_ms();
    if (first_ms < 0) first_ms = last_ms;
    datagrams += static_cast<uint64_t>(n);
    for (int i = 0; i < n; ++i) {
      bytes += msgs[i].msg_len;
      flows +=
          peek_flows(buf.get() + static_cast<size_t>(i) * kSlot, msgs[i].msg_len, record_bytes);
      msghdr& h = msgs[i].msg_hdr;
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
          std::memcpy(&drops, CMSG_DATA(c), sizeof(drops));
      }
    }
  }
  double active = first_ms >= 0 ? static_cast<double>(last_ms - first_ms) / 1000.0 : 0;
  std::printf("datagrams=%llu flows=%llu bytes=%llu kernel_drops=%u active_seconds=%.3f\n",
              static_cast<unsigned long long>(datagrams), static_cast<unsigned long long>(flows),
              static_cast<unsigned long long>(bytes), drops, active);
  ::close(fd);
  return 0;
}
