// The ClickHouse output against a real server (Debian's clickhouse-server, started by the test on
// 127.0.0.1): batches of one day, the spool while the server is away, replay in order, no batch
// twice when an answer was lost, the spool's cap and its life across restarts.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sink/clickhouse_output.h"
#include "util/clickhouse_server.h"

namespace orbwatch::sink {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'775'001'600'000;  // 2026-04-01T00:00:00Z, a UTC midnight

// `n` flows from `start_ms`, one a second, each with its own byte count (`first_bytes` up).
FlowBatch flows(size_t n, int64_t start_ms, uint64_t first_bytes) {
  FlowBatch b;
  for (size_t i = 0; i < n; ++i) {
    FlowRecord r;
    r.start_ms = start_ms + static_cast<int64_t>(i) * 1000;
    r.end_ms = r.start_ms + 100;
    r.src = *IpAddr::parse("10.1.0." + std::to_string(i % 250));
    r.dst = *IpAddr::parse("192.0.2.7");
    r.src_port = 40000;
    r.dst_port = 443;
    r.proto = 6;
    r.bytes = first_bytes + i;
    r.packets = 1;
    b.records.push_back(r);
  }
  return b;
}

template <typename F>
bool wait_until(F done, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Forwards a port on 127.0.0.1 to ClickHouse; while swallow() allows, the answer to an insert of
// flows is not passed on: the connection closes once ClickHouse has answered, so the insert landed
// and the client cannot know.
class AnswerLosingProxy {
 public:
  explicit AnswerLosingProxy(uint16_t upstream) : upstream_(upstream) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
    accepter_ = std::thread([this] { accept_loop(); });
  }
  ~AnswerLosingProxy() {
    stop_ = true;
    if (accepter_.joinable()) accepter_.join();
    for (auto& t : conns_) t.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  void swallow(int inserts) { swallow_ = inserts; }
  int swallowed() const { return swallowed_; }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) conns_.emplace_back([this, c] { serve(c); });
    }
  }
  static bool write_all(int fd, const char* p, ssize_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, p, static_cast<size_t>(n));
      if (w <= 0) return false;
      p += w;
      n -= w;
    }
    return true;
  }
  void serve(int client) {
    const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(upstream_);
    bool insert = false;
    if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      char buf[65536];
      while (!stop_) {
        pollfd p[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
        if (::poll(p, 2, 50) <= 0) continue;
        if (p[0].revents != 0) {
          const ssize_t n = ::read(client, buf, sizeof buf);
          if (n <= 0) break;
          const std::string_view chunk(buf, static_cast<size_t>(n));
          if (chunk.starts_with("POST "))
            insert = chunk.find("query=INSERT%20INTO%20ow.flows") != chunk.npos;
          if (!write_all(up, buf, n)) break;
        }
        if (p[1].revents != 0) {
          const ssize_t n = ::read(up, buf, sizeof buf);
          if (n <= 0) break;
          if (insert && swallow_ > 0) {
            --swallow_;
            ++swallowed_;
            break;
          }
          if (!write_all(client, buf, n)) break;
        }
      }
    }
    ::close(up);
    ::close(client);
  }

  uint16_t upstream_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> swallow_{0}, swallowed_{0};
  std::thread accepter_;
  std::vector<std::thread> conns_;  // the accepter's until it is joined
};

class ClickHouseOutputTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!test::ClickHouseServer::available())
      GTEST_SKIP() << "clickhouse-server is not installed (scripts/install-deps.sh installs it)";
    dir_ = fs::path(testing::TempDir()) / ("orbwatch_cho_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    server_ = std::make_unique<test::ClickHouseServer>(dir_ / "server");
    ASSERT_TRUE(server_->start()) << server_->log();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  ClickHouseOutput::Options options(const std::string& url = {}) const {
    ClickHouseOutput::Options o;
    o.server.url = url.empty() ? server_->url() : url;
    o.server.database = "ow";
    o.server.timeout_s = 10;
    o.spool_dir = (dir_ / "spool").string();
    o.batch_rows = 1000;
    o.flush_ms = 50;
    o.backoff_ms = 100;
    o.max_backoff_ms = 400;
    return o;
  }
  std::string ask(const std::string& sql) { return server_->ask(sql); }

  fs::path dir_;
  std::unique_ptr<test::ClickHouseServer> server_;
};

TEST_F(ClickHouseOutputTest, SendsFlowsAndAlertsInInsertsOfOneDay) {
  ClickHouseOutput out(options());
  std::string error;
  ASSERT_TRUE(out.start(error)) << error;
  // 2,500 flows across a UTC midnight, in three hand-overs, and two alerts.
  out.add_flows(flows(1000, kT0 - 700'000, 0));
  out.add_flows(flows(1000, kT0 + 300'000, 1000));
  out.add_flows(flows(500, kT0 + 1'300'000, 2000));
  Alert a;
  a.id = "0123456789abcdef";
  a.detector = "intel";
  a.ts_ms = a.first_seen_ms = a.last_seen_ms = kT0;
  out.emit(a);
  a.id = "fedcba9876543210";
  out.emit(a);
  out.stop();
  const auto s = out.stats();
  EXPECT_EQ(s.flows_sent, 2500u);
  EXPECT_EQ(s.alerts_sent, 2u);
  EXPECT_EQ(s.spool_batches, 0u);
  EXPECT_EQ(s.errors, 0u) << s.last_error;
  EXPECT_EQ(ask("SELECT count(), sum(bytes), uniqExact(bytes) FROM ow.flows"),
            "2500\t3123750\t2500\n");
  EXPECT_EQ(ask("SELECT count() FROM ow.alerts FINAL"), "2\n");
  // Every insert stays within one UTC day (one partition, one part), at most batch_size flows.
  EXPECT_EQ(ask("SELECT count() FROM (SELECT batch, uniqExact(intDiv(ts_start, 86400000)) AS d, "
                "count() AS n FROM ow.flows GROUP BY batch HAVING d > 1 OR n > 1000)"),
            "0\n");
  EXPECT_EQ(ask("SELECT uniqExact(intDiv(ts_start, 86400000)) FROM ow.flows"), "2\n");
}

TEST_F(ClickHouseOutputTest, SpoolsWhileClickHouseIsAwayAndReplaysInOrder) {
  ClickHouseOutput out(options());
  std::string error;
  ASSERT_TRUE(out.start(error)) << error;
  out.add_flows(flows(1000, kT0, 0));
  ASSERT_TRUE(wait_until([&] { return out.stats().flows_sent == 1000; }, 20s))
      << out.stats().last_error;
  server_->kill();
  for (int i = 1; i <= 6; ++i) {
    out.add_flows(flows(1000, kT0 + i * 1'000'000, static_cast<uint64_t>(i) * 1000));
    std::this_thread::sleep_for(60ms);  // a flush each
  }
  ASSERT_TRUE(wait_until([&] { return out.stats().spool_batches >= 6; }, 20s))
      << out.stats().spool_batches;
  EXPECT_GT(out.stats().errors, 0u);
  EXPECT_NE(out.stats().last_error.find(server_->url()), std::string::npos)
      << out.stats().last_error;
  EXPECT_GT(out.stats().spool_bytes, 0u);

  ASSERT_TRUE(server_->start()) << server_->log();
  ask("SYSTEM STOP MERGES");  // each insert stays its own part, numbered in arrival order
  ASSERT_TRUE(wait_until([&] { return out.stats().spool_batches == 0; }, 30s))
      << out.stats().last_error;
  out.stop();
  const auto s = out.stats();
  EXPECT_EQ(s.flows_sent, 7000u);
  EXPECT_GE(s.replayed_batches, 6u);
  EXPECT_EQ(s.dropped_flows, 0u);
  EXPECT_EQ(ask("SELECT count(), uniqExact(bytes) FROM ow.flows"), "7000\t7000\n");
  // Parts in block order hold flows in time order: the spool went out oldest first.
  const std::string parts =
      ask("SELECT toUInt64(splitByChar('_', _part)[2]) AS block, min(ts_start), max(ts_start) "
          "FROM ow.flows GROUP BY block ORDER BY block");
  int64_t last = 0;
  size_t n = 0;
  std::istringstream in(parts);
  for (std::string line; std::getline(in, line); ++n) {
    int64_t block = 0, lo = 0, hi = 0;
    std::istringstream(line) >> block >> lo >> hi;
    EXPECT_GE(lo, last) << parts;
    last = hi;
  }
  EXPECT_GE(n, 7u) << parts;
  EXPECT_TRUE(fs::is_empty(dir_ / "spool"));
}

TEST_F(ClickHouseOutputTest, DoesNotSendABatchTwiceWhenItsAnswerWasLost) {
  AnswerLosingProxy proxy(server_->http_port());
  ASSERT_NE(proxy.port(), 0);
  ClickHouseOutput out(options("http://127.0.0.1:" + std::to_string(proxy.port())));
  std::string error;
  ASSERT_TRUE(out.start(error)) << error;
  proxy.swallow(2);
  out.add_flows(flows(1000, kT0, 0));
  std::this_thread::sleep_for(60ms);
  out.add_flows(flows(1000, kT0 + 2'000'000, 1000));
  ASSERT_TRUE(wait_until([&] { return out.stats().flows_sent == 2000; }, 30s))
      << out.stats().last_error;
  out.stop();
  EXPECT_EQ(proxy.swallowed(), 2);
  const auto s = out.stats();
  EXPECT_EQ(s.duplicate_batches, 2u);  // both had landed: looked up, not sent again
  EXPECT_GE(s.errors, 2u);
  EXPECT_EQ(ask("SELECT count(), uniqExact(bytes) FROM ow.flows"), "2000\t2000\n");
}

TEST_F(ClickHouseOutputTest, KeepsItsSpoolAcrossRestartsWithinItsCap) {
  server_->kill();
  uint64_t dropped = 0;
  {
    auto o = options();
    o.max_spool_bytes = 20'000;  // room for a few batches of 1,000 flows (~5 kB each)
    ClickHouseOutput out(o);
    std::string error;
    ASSERT_TRUE(out.start(error)) << error;
    for (int i = 0; i < 10; ++i) {
      out.add_flows(flows(1000, kT0 + i * 1'000'000, static_cast<uint64_t>(i) * 1000));
      std::this_thread::sleep_for(60ms);
    }
    out.stop();
    const auto s = out.stats();
    EXPECT_LE(s.spool_bytes, 20'000u);
    EXPECT_GT(s.dropped_flows, 0u);
    EXPECT_EQ(s.dropped_flows + s.spool_batches * 1000, 10'000u);  // every flow accounted for
    EXPECT_NE(s.last_error.find("spool is full"), std::string::npos) << s.last_error;
    dropped = s.dropped_flows;
  }
  ASSERT_TRUE(server_->start()) << server_->log();
  ClickHouseOutput out(options());
  std::string error;
  ASSERT_TRUE(out.start(error)) << error;
  EXPECT_GT(out.stats().spool_batches, 0u);  // the previous run's, sent first
  ASSERT_TRUE(wait_until([&] { return out.stats().spool_batches == 0; }, 30s))
      << out.stats().last_error;
  out.stop();
  EXPECT_EQ(out.stats().flows_sent, 10'000 - dropped);
  // The oldest were dropped: what arrived is the newest, whole.
  EXPECT_EQ(ask("SELECT count(), min(bytes), max(bytes) FROM ow.flows"),
            std::to_string(10'000 - dropped) + "\t" + std::to_string(dropped) + "\t9999\n");
}

// compression = "none": the rows as they are, directly and through the spool.
TEST_F(ClickHouseOutputTest, SendsUncompressedRowsWhenAsked) {
  auto o = options();
  o.gzip = false;
  ClickHouseOutput out(o);
  std::string error;
  ASSERT_TRUE(out.start(error)) << error;
  out.add_flows(flows(1000, kT0, 0));
  ASSERT_TRUE(wait_until([&] { return out.stats().flows_sent == 1000; }, 20s))
      << out.stats().last_error;
  server_->kill();
  out.add_flows(flows(1000, kT0 + 2'000'000, 1000));
  ASSERT_TRUE(wait_until([&] { return out.stats().spool_batches == 1; }, 20s));
  EXPECT_GT(out.stats().spool_bytes, 1000u * 100);  // about 137 bytes a flow, uncompressed
  ASSERT_TRUE(server_->start()) << server_->log();
  ASSERT_TRUE(wait_until([&] { return out.stats().spool_batches == 0; }, 30s))
      << out.stats().last_error;
  out.stop();
  EXPECT_EQ(ask("SELECT count(), uniqExact(bytes) FROM ow.flows"), "2000\t2000\n");
}

TEST_F(ClickHouseOutputTest, RefusesAnUnusableSpool) {
  auto o = options();
  o.spool_dir.clear();
  ClickHouseOutput a(o);
  std::string error;
  EXPECT_FALSE(a.start(error));
  EXPECT_NE(error.find("spool"), std::string::npos) << error;
  std::ofstream(dir_ / "file") << "x";
  o.spool_dir = (dir_ / "file" / "spool").string();
  ClickHouseOutput b(o);
  EXPECT_FALSE(b.start(error));
  EXPECT_NE(error.find((dir_ / "file").string()), std::string::npos) << error;
}

}  // namespace
}  // namespace orbwatch::sink
