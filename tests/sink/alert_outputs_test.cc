#include "sink/alert_outputs.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "util/http_ready.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sink/webhook_output.h"

namespace orbwatch::sink {
namespace {

namespace fs = std::filesystem;

Alert alert(Severity s, const std::string& id = "0123456789abcdef") {
  Alert a;
  a.ts_ms = 1'776'643'200'000;
  a.id = id;
  a.detector = "beacon";
  a.severity = s;
  a.summary = "cam-1 beacons to 31.0.1.1";
  a.src = *IpAddr::parse("10.20.5.10");
  a.dst = *IpAddr::parse("31.0.1.1");
  a.dst_port = 443;
  a.proto = 6;
  a.count = 12;
  return a;
}

size_t lines(const fs::path& p) {
  std::ifstream in(p);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

class Outputs : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("orbwatch_outputs_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Outputs, JsonLinesRotateBySizeAndAgeKeepingTheNewestFiles) {
  int64_t now = 0;
  RotatingJsonl::Options o;
  o.path = (dir_ / "alerts.jsonl").string();
  o.max_bytes = 2000;  // a few alerts a file
  o.max_age_ms = 60'000;
  o.keep = 2;
  o.now_ms = [&] { return now; };
  RotatingJsonl out(o);
  for (int i = 0; i < 20; ++i) out.emit(alert(Severity::kHigh));
  EXPECT_EQ(out.stats().written, 20u);
  EXPECT_GT(out.stats().rotations, 2u);
  EXPECT_TRUE(fs::exists(o.path + ".1"));
  EXPECT_TRUE(fs::exists(o.path + ".2"));
  EXPECT_FALSE(fs::exists(o.path + ".3"));  // only `keep` rotated files
  EXPECT_LE(fs::file_size(o.path), 2000u);
  const uint64_t before = out.stats().rotations;
  out.emit(alert(Severity::kLow));
  EXPECT_EQ(out.stats().rotations, before);
  now += 61'000;  // the file is older than max_age: the next alert starts a new one
  out.emit(alert(Severity::kLow));
  EXPECT_EQ(out.stats().rotations, before + 1);
  EXPECT_EQ(lines(o.path), 1u);
  // Each line is a whole alert.
  std::ifstream in(o.path + ".1");
  std::string l;
  while (std::getline(in, l)) EXPECT_EQ(l.front(), '{');
}

TEST_F(Outputs, AFileThatCannotBeOpenedIsCountedNotFatal) {
  RotatingJsonl::Options o;
  o.path = (dir_ / "missing-dir" / "alerts.jsonl").string();
  RotatingJsonl out(o);
  out.emit(alert(Severity::kHigh));
  EXPECT_EQ(out.stats().dropped, 1u);
  EXPECT_NE(out.stats().last_error.find("missing-dir"), std::string::npos);
}

TEST(Syslog, MessagesFollowRfc5424WithTheAlertJsonAsMessage) {
  EXPECT_EQ(syslog_severity(Severity::kCritical), 2);
  EXPECT_EQ(syslog_severity(Severity::kLow), 5);
  EXPECT_EQ(syslog_facility("local0"), 16);
  EXPECT_EQ(syslog_facility("auth"), 4);
  EXPECT_EQ(syslog_facility("nope"), -1);
  const std::string m = syslog_message(alert(Severity::kHigh), 16, "sensor 1");
  // <16*8+3>1 TIMESTAMP HOSTNAME APP PROCID MSGID SD BOM MSG
  EXPECT_EQ(m.rfind("<131>1 2026-04-20T00:00:00.000Z sensor1 orbwatch ", 0), 0u) << m;
  EXPECT_NE(m.find(" beacon [orbwatch@32473 id=\"0123456789abcdef\" severity=\"high\"] "
                   "\xEF\xBB\xBF{\"ts\":"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.back(), '}');
  const std::string ecs = syslog_message(alert(Severity::kHigh), 16, "h", /*ecs=*/true);
  EXPECT_NE(ecs.find("\xEF\xBB\xBF{\"@timestamp\":"), std::string::npos) << ecs;
  bool tcp = false;
  std::string host, error;
  uint16_t port = 0;
  EXPECT_TRUE(SyslogOutput::parse_url("tcp://[::1]:6514", tcp, host, port, error));
  EXPECT_TRUE(tcp);
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 6514);
  EXPECT_FALSE(SyslogOutput::parse_url("syslog://x:1", tcp, host, port, error));
  EXPECT_FALSE(SyslogOutput::parse_url("udp://x:0", tcp, host, port, error));
}

uint16_t bound_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

int local_socket(int type) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  return fd;
}

TEST(Syslog, SendsOneDatagramPerAlertOverUdp) {
  const int rx = local_socket(SOCK_DGRAM);
  SyslogOutput::Options o;
  o.url = "udp://127.0.0.1:" + std::to_string(bound_port(rx));
  o.hostname = "h";
  SyslogOutput out(o);
  ASSERT_TRUE(out.valid());
  out.emit(alert(Severity::kCritical));
  char buf[4096];
  const ssize_t n = recv(rx, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, 7), "<130>1 ");
  EXPECT_EQ(out.stats().written, 1u);
  close(rx);
}

TEST(Syslog, TcpFramesByOctetCountingAndKeepsAlertsWhileTheReceiverIsAway) {
  const int lst = local_socket(SOCK_STREAM);
  const uint16_t port = bound_port(lst);
  close(lst);  // nobody listens yet
  int64_t now = 0;
  SyslogOutput::Options o;
  o.url = "tcp://127.0.0.1:" + std::to_string(port);
  o.hostname = "h";
  o.max_queued = 3;
  o.now_ms = [&] { return now; };
  SyslogOutput out(o);
  for (int i = 0; i < 5; ++i) out.emit(alert(Severity::kMedium, "id" + std::to_string(i)));
  EXPECT_EQ(out.stats().written, 0u);
  EXPECT_EQ(out.stats().dropped, 2u);  // the queue holds the newest three
  EXPECT_GT(out.stats().errors, 0u);
  // The receiver comes up; after the retry delay the queue goes out in order.
  const int srv = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  listen(srv, 1);
  now += 2000;
  out.flush();
  EXPECT_EQ(out.stats().written, 3u);
  const int c = accept(srv, nullptr, nullptr);
  ASSERT_GE(c, 0);
  std::string got;
  char buf[8192];
  while (got.size() < 3 * 300) {
    const ssize_t n = recv(c, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  // "LEN SP MSG" three times: id2, id3, id4.
  size_t at = 0;
  for (int i = 2; i < 5; ++i) {
    const size_t sp = got.find(' ', at);
    ASSERT_NE(sp, std::string::npos);
    const size_t len = std::stoul(got.substr(at, sp - at));
    const std::string msg = got.substr(sp + 1, len);
    EXPECT_NE(msg.find("id=\"id" + std::to_string(i) + "\""), std::string::npos) << msg;
    at = sp + 1 + len;
  }
  close(c);
  close(srv);
}

TEST(MinSeverity, PassesOnlyAlertsAtOrAboveItsSeverity) {
  struct Count final : AlertSink {
    int n = 0;
    void emit(const Alert&) override { ++n; }
  } count;
  MinSeverity f(count, Severity::kHigh);
  f.emit(alert(Severity::kLow));
  f.emit(alert(Severity::kMedium));
  f.emit(alert(Severity::kHigh));
  f.emit(alert(Severity::kCritical));
  EXPECT_EQ(count.n, 2);
}

}  // namespace
}  // namespace orbwatch::sink

// --- webhook -------------------------------------------------------------------------------

namespace orbwatch::sink {
namespace {

// A receiver on 127.0.0.1 that answers `status` and keeps the bodies it took.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (req.get_header_value("Authorization") != "Bearer s3cret") {
        res.status = 401;
        return;
      }
      res.status = status_;
      if (status_ == 200) bodies_.push_back(req.body);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    test::wait_until_listening(server_);
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  void answer(int status) {
    std::lock_guard lock(mu_);
    status_ = status;
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  std::mutex mu_;
  int status_ = 200;
  int port_ = 0;
  std::vector<std::string> bodies_;
};

TEST_F(Outputs, WebhookSpoolsThroughAnOutageAndDeliversInOrder) {
  Receiver rx;
  int64_t now = 0;
  WebhookOutput::Options o;
  o.url = "http://127.0.0.1:" + std::to_string(rx.port()) + "/hook";
  o.bearer_token = "s3cret";
  o.spool_dir = (dir_ / "spool").string();
  o.now_ms = [&] { return now; };
  {
    WebhookOutput out(o);
    ASSERT_TRUE(out.valid()) << out.stats().last_error;
    out.emit(alert(Severity::kHigh, "a1"));
    rx.answer(503);  // an outage
    out.emit(alert(Severity::kHigh, "a2"));
    out.emit(alert(Severity::kHigh, "a3"));
    EXPECT_EQ(out.stats().written, 1u);
    EXPECT_GT(out.spooled_bytes(), 0u);
    EXPECT_NE(out.stats().last_error.find("HTTP 503"), std::string::npos);
  }
  // Restarted while the receiver is still down: the spool is on disk.
  rx.answer(200);
  now += 10'000;
  WebhookOutput again(o);
  again.emit(alert(Severity::kCritical, "a4"));
  EXPECT_EQ(again.stats().written, 3u);
  EXPECT_EQ(again.spooled_bytes(), 0u);
  const auto got = rx.bodies();
  ASSERT_EQ(got.size(), 4u);
  for (int i = 0; i < 4; ++i)
    EXPECT_NE(got[static_cast<size_t>(i)].find("\"id\":\"a" + std::to_string(i + 1) + "\""),
              std::string::npos)
        << got[static_cast<size_t>(i)];
  EXPECT_EQ(got[0].back(), '}');  // one JSON object, no newline
}

TEST_F(Outputs, WebhookSpoolIsBoundedAndRejectedAlertsAreDropped) {
  int64_t now = 0;
  WebhookOutput::Options o;
  o.url = "http://127.0.0.1:9/hook";  // discard port: nothing answers
  o.spool_dir = (dir_ / "spool").string();
  o.max_spool_bytes = 3000;
  o.spool_file_bytes = 1000;
  o.timeout_ms = 200;
  o.now_ms = [&] { return now; };
  WebhookOutput out(o);
  for (int i = 0; i < 30; ++i) out.emit(alert(Severity::kLow, "b" + std::to_string(i)));
  EXPECT_LE(out.spooled_bytes(), 3000u + 1000u);
  EXPECT_GT(out.stats().dropped, 0u);
  EXPECT_EQ(out.stats().written, 0u);

  Receiver rx;
  rx.answer(422);
  WebhookOutput::Options r = o;
  r.url = "http://127.0.0.1:" + std::to_string(rx.port()) + "/hook";
  r.bearer_token = "s3cret";
  r.spool_dir = (dir_ / "spool2").string();
  WebhookOutput rejecting(r);
  rejecting.emit(alert(Severity::kLow));
  EXPECT_EQ(rejecting.stats().dropped, 1u);
  EXPECT_EQ(rejecting.spooled_bytes(), 0u);
}

}  // namespace
}  // namespace orbwatch::sink
