#include "ingest/udp_listener.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "util/loopback.h"

namespace orbwatch::ingest {
namespace {

// Collects payloads (first 4 bytes as a sequence number) from every receive thread.
class Collector : public DatagramConsumer {
 public:
  void on_datagrams(size_t socket_index, std::span<const Datagram> batch) override {
    std::lock_guard lock(mu_);
    for (const Datagram& d : batch) {
      uint32_t seq = 0;
      if (d.data.size() >= 4) std::memcpy(&seq, d.data.data(), 4);
      seqs_.insert(seq);
      ++count_;
      last_ = d;
      last_.data = {};
      sockets_.insert(socket_index);
    }
  }
  void on_idle(size_t, bool final) override {
    if (final) finals_.fetch_add(1);
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::set<uint32_t> seqs() {
    std::lock_guard lock(mu_);
    return seqs_;
  }
  Datagram last() {
    std::lock_guard lock(mu_);
    return last_;
  }
  std::atomic<int> finals_{0};

 private:
  std::mutex mu_;
  size_t count_ = 0;
  std::set<uint32_t> seqs_;
  std::set<size_t> sockets_;
  Datagram last_;
};

ListenAddress parse(const char* url) {
  ListenAddress a;
  std::string err;
  EXPECT_TRUE(parse_listen_url(url, a, err)) << err;
  return a;
}

// Sends `n` datagrams of `size` bytes (sequence number first) to the port, from a fresh socket.
void send_datagrams(bool v6, uint16_t port, uint32_t first, uint32_t n, size_t size = 100) {
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_storage ss;
  const socklen_t len = orbwatch::test::loopback(v6, port, ss);
  std::vector<uint8_t> buf(size, 0xab);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t seq = first + i;
    std::memcpy(buf.data(), &seq, 4);
    ASSERT_EQ(::sendto(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), len),
              static_cast<ssize_t>(buf.size()));
  }
  ::close(fd);
}

bool wait_for(const std::function<bool()>& cond) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

TEST(ListenUrl, ParsesV4AndV6) {
  ListenAddress a = parse("udp://127.0.0.1:2055");
  EXPECT_FALSE(a.v6);
  EXPECT_EQ(a.port, 2055);
  EXPECT_EQ(a.addr, *IpAddr::parse("127.0.0.1"));
  EXPECT_EQ(a.to_string(), "udp://127.0.0.1:2055");

  ListenAddress b = parse("udp://[::1]:4739");
  EXPECT_TRUE(b.v6);
  EXPECT_EQ(b.port, 4739);
  EXPECT_EQ(b.to_string(), "udp://[::1]:4739");

  ListenAddress c = parse("udp://0.0.0.0:6343");
  EXPECT_FALSE(c.v6);
  ListenAddress d = parse("udp://[::]:0");
  EXPECT_TRUE(d.v6);
  EXPECT_TRUE(d.addr.is_zero());
}

TEST(ListenUrl, RejectsBadInput) {
  for (const char* bad : {"", "127.0.0.1:2055", "tcp://127.0.0.1:2055", "udp://127.0.0.1",
                          "udp://127.0.0.1:", "udp://127.0.0.1:65536", "udp://127.0.0.1:20x",
                          "udp://localhost:2055", "udp://::1:2055", "udp://[::1]",
                          "udp://[::1:2055", "udp://[zz]:1", "udp://:2055", "udp://1.2.3:4"}) {
    ListenAddress a;
    std::string err;
    EXPECT_FALSE(parse_listen_url(bad, a, err)) << bad;
    EXPECT_NE(err.find("invalid listen URL"), std::string::npos) << bad << ": " << err;
  }
}

class UdpListenerTest : public ::testing::TestWithParam<bool> {};

TEST_P(UdpListenerTest, ReceivesEveryDatagramAndDrainsOnStop) {
  const bool v6 = GetParam();
  UdpListenerOptions opt;
  opt.listen.push_back(parse(v6 ? "udp://[::1]:0" : "udp://127.0.0.1:0"));
  opt.sockets_per_listen = 2;
  opt.rcvbuf_bytes = 1 << 20;
  UdpListener l(opt);
  std::string err;
  ASSERT_TRUE(l.open(err)) << err;
  ASSERT_EQ(l.sockets(), 2u);
  ASSERT_NE(l.port(0), 0);
  EXPECT_GT(l.granted_rcvbuf(0), 0);

  Collector c;
  l.start(c);
  send_datagrams(v6, l.port(0), 0, 500);
  ASSERT_TRUE(wait_for([&] { return c.count() == 500; })) << c.count();

  Datagram d = c.last();
  EXPECT_EQ(d.local_port, l.port(0));
  EXPECT_NE(d.exporter_port, 0);
  EXPECT_EQ(d.exporter, *IpAddr::parse(v6 ? "::1" : "127.0.0.1"));
  EXPECT_GT(d.recv_ms, 0);

  // Datagrams queued right before stop() are still handed on by the final drain.
  send_datagrams(v6, l.port(0), 500, 300);
  l.stop();
  EXPECT_EQ(c.count(), 800u);
  EXPECT_EQ(c.seqs().size(), 800u);
  EXPECT_EQ(c.finals_.load(), 2);
  UdpStats st = l.stats();
  EXPECT_EQ(st.datagrams, 800u);
  EXPECT_EQ(st.bytes, 800u * 100);
  EXPECT_EQ(st.total_drops(), 0u);
  EXPECT_EQ(st.kernel_drops, 0u);
}

INSTANTIATE_TEST_SUITE_P(Family, UdpListenerTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "ipv6" : "ipv4"; });

TEST(UdpListener, DrainBeforeStartLosesNothing) {
  UdpListenerOptions opt;
  opt.listen.push_back(parse("udp://127.0.0.1:0"));
  UdpListener l(opt);
  std::string err;
  ASSERT_TRUE(l.open(err)) << err;
  send_datagrams(false, l.port(0), 0, 200);
  Collector c;
  l.start(c);
  l.stop();  // immediately: everything already queued must come through
  EXPECT_EQ(c.count(), 200u);
}

TEST(UdpListener, AllowListDeniesOthers) {
  UdpListenerOptions opt;
  opt.listen.push_back(parse("udp://127.0.0.1:0"));
  opt.exporter_allow.push_back(*Prefix::parse("192.0.2.0/24"));
  UdpListener l(opt);
  std::string err;
  ASSERT_TRUE(l.open(err)) << err;
  Collector c;
  l.start(c);
  send_datagrams(false, l.port(0), 0, 50);
  ASSERT_TRUE(wait_for([&] { return l.stats().datagrams == 50; }));
  l.stop();
  EXPECT_EQ(c.count(), 0u);
  EXPECT_EQ(l.stats().drop(UdpDrop::kNotAllowed), 50u);

  UdpListenerOptions opt2;
  opt2.listen.push_back(parse("udp://127.0.0.1:0"));
  opt2.exporter_allow.push_back(*Prefix::parse("192.0.2.0/24"));
  opt2.exporter_allow.push_back(*Prefix::parse("127.0.0.0/8"));
  UdpListener l2(opt2);
  ASSERT_TRUE(l2.open(err)) << err;
  Collector c2;
  l2.start(c2);
  send_datagrams(false, l2.port(0), 0, 50);
  ASSERT_TRUE(wait_for([&] { return c2.count() == 50; }));
  l2.stop();
  EXPECT_EQ(l2.stats().total_drops(), 0u);
}

TEST(UdpListener, CountsTruncated) {
  UdpListenerOptions opt;
  opt.listen.push_back(parse("udp://127.0.0.1:0"));
  opt.max_datagram_bytes = 512;
  UdpListener l(opt);
  std::string err;
  ASSERT_TRUE(l.open(err)) << err;
  Collector c;
  l.start(c);
  send_datagrams(false, l.port(0), 0, 3, 1000);
  send_datagrams(false, l.port(0), 3, 2, 512);
  ASSERT_TRUE(wait_for([&] { return l.stats().datagrams == 5; }));
  l.stop();
  EXPECT_EQ(l.stats().drop(UdpDrop::kTruncated), 3u);
  EXPECT_EQ(c.count(), 2u);
}

TEST(UdpListener, DualStackAnyTakesIpv4) {
  UdpListenerOptions opt;
  opt.listen.push_back(parse("udp://[::]:0"));
  UdpListener l(opt);
  std::string err;
  ASSERT_TRUE(l.open(err)) << err;
  Collector c;
  l.start(c);
  send_datagrams(false, l.port(0), 0, 10);
  send_datagrams(true, l.port(0), 10, 10);
  ASSERT_TRUE(wait_for([&] { return c.count() == 20; }));
  l.stop();
}

TEST(UdpListener, BindErrorNamesAddress) {
  UdpListenerOptions opt;
  opt.listen.push_back(parse("udp://192.0.2.1:0"));  // not a local address
  UdpListener l(opt);
  std::string err;
  EXPECT_FALSE(l.open(err));
  EXPECT_NE(err.find("udp://192.0.2.1:0"), std::string::npos) << err;
}

}  // namespace
}  // namespace orbwatch::ingest
