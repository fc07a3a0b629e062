#include "ingest/udp_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "core/time.h"

namespace orbwatch::ingest {

namespace {

constexpr std::string_view kScheme = "udp://";

bool fail(std::string& error, std::string_view url, std::string_view why) {
  error = "invalid listen URL '";
  error += url;
  error += "': ";
  error += why;
  error += " (expected udp://IPV4:PORT or udp://[IPV6]:PORT)";
  return false;
}

std::string errno_text(const char* what, const std::string& where) {
  std::string s = what;
  s += " on ";
  s += where;
  s += ": ";
  s += std::strerror(errno);
  return s;
}

bool is_bad_source(const IpAddr& a, uint16_t port) {
  if (port == 0 || a.is_zero()) return true;
  if (a.is_v4()) {
    uint32_t v = a.v4_value();
    return v == 0 || v >> 28 == 0xe || v == 0xffffffffu;  // 0.0.0.0, 224/4 multicast, broadcast
  }
  return a.b[0] == 0xff;  // ff00::/8 multicast
}

// A control buffer large enough for the SO_RXQ_OVFL counter (and room to spare).
constexpr size_t kControlBytes = 64;

}  // namespace

const char* udp_drop_name(UdpDrop d) {
  switch (d) {
    case UdpDrop::kNotAllowed:
      return "not_allowed";
    case UdpDrop::kBadSource:
      return "bad_source";
    case UdpDrop::kTruncated:
      return "truncated";
    case UdpDrop::kEmpty:
      return "empty";
    case UdpDrop::kCount:
      break;
  }
  return "unknown";
}

std::string ListenAddress::to_string() const {
  std::string s(kScheme);
  if (v6) {
    // inet_ntop, not IpAddr::format: [::ffff:a.b.c.d] is an IPv6 socket and must stay bracketed.
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, addr.b.data(), buf, sizeof(buf));
    s += '[';
    s += buf;
    s += ']';
  } else {
    s += addr.to_string();
  }
  s += ':';
  s += std::to_string(port);
  return s;
}

bool parse_listen_url(std::string_view url, ListenAddress& out, std::string& error) {
  if (url.substr(0, kScheme.size()) != kScheme) return fail(error, url, "scheme must be udp://");
  std::string_view rest = url.substr(kScheme.size());
  std::string_view host, port_text;
  bool v6 = false;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return fail(error, url, "missing ']'");
    host = rest.substr(1, close - 1);
    if (close + 1 >= rest.size() || rest[close + 1] != ':') return fail(error, url, "missing port");
    port_text = rest.substr(close + 2);
    v6 = true;
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return fail(error, url, "missing port");
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return fail(error, url, "IPv6 addresses need brackets");
  }
  if (host.empty()) return fail(error, url, "missing address");
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() ||
      port > 65535)
    return fail(error, url, "port must be a number 0..65535");
  std::optional<IpAddr> addr;
  if (v6) {
    // Parsed with inet_pton so that [::ffff:1.2.3.4] stays an IPv6 socket address.
    std::string h(host);
    in6_addr a6;
    if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) addr = IpAddr::v6_bytes(a6.s6_addr);
  } else {
    std::string h(host);
    in_addr a4;
    if (inet_pton(AF_INET, h.c_str(), &a4) == 1)
      addr = IpAddr::v4_bytes(reinterpret_cast<const uint8_t*>(&a4.s_addr));
  }
  if (!addr) return fail(error, url, "address must be a numeric IP (no host names)");
  out.addr = *addr;
  out.port = static_cast<uint16_t>(port);
  out.v6 = v6;
  return true;
}

uint64_t UdpStats::total_drops() const {
  uint64_t t = 0;
  for (uint64_t d : drops) t += d;
  return t;
}

void UdpStats::add(const UdpSocketCounters& c) {
  constexpr auto r = std::memory_order_relaxed;
  datagrams += c.datagrams.load(r);
  bytes += c.bytes.load(r);
  kernel_drops += c.kernel_drops.load(r);
  for (size_t i = 0; i < static_cast<size_t>(UdpDrop::kCount); ++i) drops[i] += c.drops[i].load(r);
  batches += c.batches.load(r);
  recv_errors += c.recv_errors.load(r);
}

// One socket with its receive thread's buffers. The buffers belong to that thread only.
struct UdpListener::Socket {
  int fd = -1;
  size_t index = 0;
  uint16_t local_port = 0;
  int granted_rcvbuf = 0;
  UdpSocketCounters counters;

  size_t slot = 0;
  std::unique_ptr<uint8_t[]> data;  // batch * slot bytes, not zeroed: untouched pages stay free
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iov;
  std::vector<sockaddr_storage> names;
  std::vector<std::array<uint8_t, kControlBytes>> control;
  std::vector<Datagram> out;

  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

UdpListener::UdpListener(UdpListenerOptions options) : opt_(std::move(options)) {
  if (opt_.sockets_per_listen == 0) opt_.sockets_per_listen = 1;
  if (opt_.batch == 0) opt_.batch = 1;
  if (opt_.max_datagram_bytes == 0) opt_.max_datagram_bytes = 65535;
  if (opt_.wake_ms <= 0) opt_.wake_ms = 100;
}

UdpListener::~UdpListener() {
  stop();
}

bool UdpListener::open(std::string& error) {
  if (opt_.listen.empty()) {
    error = "no listen address given";
    return false;
  }
  const int one = 1;
  for (size_t li = 0; li < opt_.listen.size(); ++li) {
    ListenAddress la = opt_.listen[li];
    const std::string where = la.to_string();
    for (unsigned k = 0; k < opt_.sockets_per_listen; ++k) {
      auto s = std::make_unique<Socket>();
      s->index = sockets_.size();
      s->fd = ::socket(la.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (s->fd < 0) {
        error = errno_text("socket()", where);
        return false;
      }
      if (setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        error = errno_text("SO_REUSEPORT", where);
        return false;
      }
      if (la.v6) {
        // [::] takes IPv4 exporters too (dual stack); a specific IPv6 address only its own.
        int v6only = la.addr.is_zero() ? 0 : 1;
        setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
      }
      if (opt_.rcvbuf_bytes > 0) {
        // SO_RCVBUFFORCE (CAP_NET_ADMIN) passes net.core.rmem_max; otherwise SO_RCVBUF, capped.
        int want = opt_.rcvbuf_bytes;
        if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0)
          setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
      }
      int got = 0;
      socklen_t got_len = sizeof(got);
      getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &got, &got_len);
      // The kernel doubles the value it stores (bookkeeping overhead); report what was asked for.
      s->granted_rcvbuf = got / 2;
      if (opt_.rcvbuf_bytes > 0 && s->granted_rcvbuf < opt_.rcvbuf_bytes && k == 0) {
        warnings_.push_back(where + ": receive buffer " + std::to_string(s->granted_rcvbuf) +
                            " bytes, asked for " + std::to_string(opt_.rcvbuf_bytes) +
                            " (raise net.core.rmem_max or run with CAP_NET_ADMIN)");
      }
      if (setsockopt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) != 0 && k == 0)
        warnings_.push_back(where + ": SO_RXQ_OVFL unavailable, kernel drops will read 0");
      timeval tv{};
      tv.tv_sec = opt_.wake_ms / 1000;
      tv.tv_usec = (opt_.wake_ms % 1000) * 1000;
      setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

      sockaddr_storage ss{};
      socklen_t ss_len;
      if (la.v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(la.port);
        std::memcpy(&a->sin6_addr, la.addr.b.data(), 16);
        ss_len = sizeof(sockaddr_in6);
      } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(la.port);
        std::memcpy(&a->sin_addr, &la.addr.b[12], 4);
        ss_len = sizeof(sockaddr_in);
      }
      if (::bind(s->fd, reinterpret_cast<sockaddr*>(&ss), ss_len) != 0) {
        error = errno_text("bind()", where);
        return false;
      }
      if (la.port == 0) {
        // Port 0: the first socket picks the port, the others of this address share it.
        sockaddr_storage bound{};
        socklen_t bl = sizeof(bound);
        getsockname(s->fd, reinterpret_cast<sockaddr*>(&bound), &bl);
        la.port = ntohs(la.v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      }
      s->local_port = la.port;
      sockets_.push_back(std::move(s));
    }
    ports_.push_back(la.port);
  }
  return true;
}

uint16_t UdpListener::port(size_t listen_index) const {
  return listen_index < ports_.size() ? ports_[listen_index] : 0;
}

int UdpListener::granted_rcvbuf(size_t socket_index) const {
  return socket_index < sockets_.size() ? sockets_[socket_index]->granted_rcvbuf : 0;
}

UdpStats UdpListener::stats() const {
  UdpStats st;
  for (const auto& s : sockets_) st.add(s->counters);
  return st;
}

UdpStats UdpListener::socket_stats(size_t socket_index) const {
  UdpStats st;
  if (socket_index < sockets_.size()) st.add(sockets_[socket_index]->counters);
  return st;
}

void UdpListener::start(DatagramConsumer& consumer) {
  stop_.store(false, std::memory_order_release);
  for (auto& s : sockets_) {
    Socket* sp = s.get();
    threads_.emplace_back([this, sp, &consumer] { run(*sp, consumer); });
  }
}

void UdpListener::stop() {
  stop_.store(true, std::memory_order_release);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void UdpListener::run(Socket& s, DatagramConsumer& consumer) {
  const size_t n_slots = opt_.batch;
  // Slots are 64-byte aligned so each datagram starts on its own cache line.
  s.slot = (opt_.max_datagram_bytes + 63) & ~size_t{63};
  s.data.reset(new uint8_t[n_slots * s.slot]);
  s.msgs.assign(n_slots, mmsghdr{});
  s.iov.assign(n_slots, iovec{});
  s.names.assign(n_slots, sockaddr_storage{});
  s.control.assign(n_slots, {});
  s.out.reserve(n_slots);
  for (size_t i = 0; i < n_slots; ++i) {
    s.iov[i] = {s.data.get() + i * s.slot, opt_.max_datagram_bytes};
    msghdr& h = s.msgs[i].msg_hdr;
    h.msg_iov = &s.iov[i];
    h.msg_iovlen = 1;
    h.msg_name = &s.names[i];
    h.msg_control = s.control[i].data();
  }

  constexpr auto relaxed = std::memory_order_relaxed;
  const auto& allow = opt_.exporter_allow;
  bool draining = false;
  std::chrono::steady_clock::time_point drain_deadline;
  uint32_t kernel_drops = 0;

  for (;;) {
    if (!draining && stop_.load(std::memory_order_acquire)) {
      // Hand on what is already queued, but do not chase a sender that never stops.
      draining = true;
      drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    }
    if (draining && std::chrono::steady_clock::now() > drain_deadline) break;
    for (size_t i = 0; i < n_slots; ++i) {
      msghdr& h = s.msgs[i].msg_hdr;
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_controllen = kControlBytes;
      h.msg_flags = 0;
    }
    int n = recvmmsg(s.fd, s.msgs.data(), static_cast<unsigned>(n_slots),
                     draining ? MSG_DONTWAIT : MSG_WAITFORONE, nullptr);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
        if (draining) break;
        consumer.on_idle(s.index, false);
        continue;
      }
      s.counters.recv_errors.fetch_add(1, relaxed);
      if (draining) break;
      continue;
    }

    // One clock read per batch instead of SO_TIMESTAMP per datagram: a batch spans well under a
    // millisecond at the rates where the cost would matter, and the cmsg parsing is saved.
    const int64_t now_ms = wall_clock_ms();
    uint64_t bytes = 0;
    uint64_t drops[static_cast<size_t>(UdpDrop::kCount)]{};
    s.out.clear();
    for (int i = 0; i < n; ++i) {
      const msghdr& h = s.msgs[i].msg_hdr;
      const size_t len = s.msgs[i].msg_len;
      bytes += len;
      if (h.msg_controllen > 0) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
             c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
          // The kernel's drop count for this socket at the time the datagram was queued.
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t v;
            std::memcpy(&v, CMSG_DATA(c), sizeof(v));
            if (v > kernel_drops) kernel_drops = v;
          }
        }
      }
      if (h.msg_flags & MSG_TRUNC) {
        ++drops[static_cast<size_t>(UdpDrop::kTruncated)];
        continue;
      }
      if (len == 0) {
        ++drops[static_cast<size_t>(UdpDrop::kEmpty)];
        continue;
      }
      Datagram d;
      const auto& name = s.names[i];
      if (name.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&name);
        d.exporter = IpAddr::v6_bytes(a->sin6_addr.s6_addr);
        d.exporter_port = ntohs(a->sin6_port);
      } else {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&name);
        d.exporter = IpAddr::v4_bytes(reinterpret_cast<const uint8_t*>(&a->sin_addr.s_addr));
        d.exporter_port = ntohs(a->sin_port);
      }
      if (is_bad_source(d.exporter, d.exporter_port)) {
        ++drops[static_cast<size_t>(UdpDrop::kBadSource)];
        continue;
      }
      if (!allow.empty()) {
        bool ok = false;
        for (const Prefix& p : allow) {
          if (p.contains(d.exporter)) {
            ok = true;
            break;
          }
        }
        if (!ok) {
          ++drops[static_cast<size_t>(UdpDrop::kNotAllowed)];
          continue;
        }
      }
      d.data = {s.data.get() + static_cast<size_t>(i) * s.slot, len};
      d.local_port = s.local_port;
      d.recv_ms = now_ms;
      s.out.push_back(d);
    }
    s.counters.datagrams.fetch_add(static_cast<uint64_t>(n), relaxed);
    s.counters.bytes.fetch_add(bytes, relaxed);
    s.counters.batches.fetch_add(1, relaxed);
    s.counters.kernel_drops.store(kernel_drops, relaxed);
    for (size_t k = 0; k < static_cast<size_t>(UdpDrop::kCount); ++k) {
      if (drops[k] != 0) s.counters.drops[k].fetch_add(drops[k], relaxed);
    }
    if (!s.out.empty()) consumer.on_datagrams(s.index, s.out);
  }
  consumer.on_idle(s.index, true);
}

}  // namespace orbwatch::ingest
