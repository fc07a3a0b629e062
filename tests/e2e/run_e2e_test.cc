// End-to-end: the real `orbwatch run` daemon on loopback, fed by the real `orbwatch simulate`
// (NetFlow v9 over UDP), softflowd and nfreplay; its alerts checked in every output (a JSON
// lines file, a syslog receiver and a webhook receiver this test starts), the API, /metrics
// against what was sent, SIGHUP reload under traffic, kill -9 and restart, and a webhook
// outage (receiver down, then up: nothing lost).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "util/http_ready.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "util/child_process.h"
#include "util/clickhouse_server.h"
#include "util/kafka_mock.h"
#include "util/pcap_writer.h"
#include "util/peer_tools.h"
#include "util/run_command.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

namespace fs = std::filesystem;
using orbwatch::test::Child;
using orbwatch::test::run_command;
using namespace std::chrono_literals;

const std::string kBin = ORBWATCH_BINARY;

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

// The "id" of an alert's JSON (orbwatch's form) or of a syslog message carrying it.
std::string alert_id(const std::string& text) {
  static const std::regex id(R"re("id":"([0-9a-f]{16})")re");
  std::smatch m;
  return std::regex_search(text, m, id) ? m[1].str() : std::string();
}

// A metric's value from /metrics text (the first sample whose name and labels start so).
double metric(const std::string& text, const std::string& prefix) {
  for (const auto& line : lines_of(text)) {
    if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size() &&
        (line[prefix.size()] == ' ' || line[prefix.size()] == '{' || prefix.back() == '}'))
      return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

// Receives RFC 5424 messages over UDP on 127.0.0.1 (port 0) on its own thread.
class SyslogReceiver {
 public:
  SyslogReceiver() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    int buf = 8 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{0, 100'000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] {
      std::vector<char> data(65536);
      while (!stop_) {
        ssize_t n = recv(fd_, data.data(), data.size(), 0);
        if (n <= 0) continue;
        std::lock_guard lock(mu_);
        messages_.emplace_back(data.data(), static_cast<size_t>(n));
      }
    });
  }
  ~SyslogReceiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> messages_;
};

// Takes webhook POSTs on 127.0.0.1 (a given port, or any) and keeps their bodies.
class WebhookReceiver {
 public:
  explicit WebhookReceiver(int port = 0) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (req.get_header_value("Authorization") == "Bearer hook-token") {
        bodies_.push_back(req.body);
        res.status = 200;
      } else {
        res.status = 401;
      }
    });
    port_ = port == 0 ? server_.bind_to_any_port("127.0.0.1")
                      : (server_.bind_to_port("127.0.0.1", port) ? port : -1);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    orbwatch::test::wait_until_listening(server_);
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> bodies_;
};

using orbwatch::test::free_tcp_port;

class RunE2e : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("orbwatch_run_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // The simulated organisation's model and feed (the same seed sends the same traffic).
    auto r = run_command(kBin + " simulate --seed 7 --hosts 40 --days 2 --out " +
                         (dir_ / "sim").string());
    ASSERT_EQ(r.rc, 0) << r.out;
  }
  void TearDown() override {
    daemon_.reset();
    fs::remove_all(dir_);
  }

  // orbwatch.toml: loopback ports, the store in the test's directory, state saved every
  // second, the simulated feed, `outputs` as given, then the simulated network model.
  void write_config(const std::string& outputs, const std::string& feeds = {}) {
    std::ofstream c(dir_ / "orbwatch.toml");
    c << "[collect]\nlisten = [\"udp://127.0.0.1:0\"]\n\n"
      << "[store]\npath = \"data\"\nstate_interval = \"1s\"\n\n"
      << "[http]\nlisten = \"127.0.0.1:0\"\n\n"
      << (feeds.empty() ? "[[feeds]]\nname = \"covert\"\nsource = \"sim/feed.txt\"\n\n" : feeds)
      << outputs << "\n"
      << read_file(dir_ / "sim" / "model.toml");
  }

  void start() {
    daemon_ = std::make_unique<Child>(std::vector<std::string>{kBin, "run", "--config",
                                                               (dir_ / "orbwatch.toml").string(),
                                                               "--param", "beacon.learning=0"});
    std::smatch m;
    ASSERT_TRUE(daemon_->wait_for(std::regex(R"(listening on udp://127\.0\.0\.1:(\d+))"), m, 20s))
        << daemon_->err();
    udp_port_ = static_cast<uint16_t>(std::stoi(m[1]));
    ASSERT_TRUE(daemon_->wait_for(std::regex(R"(http on 127\.0\.0\.1:(\d+))"), m, 20s))
        << daemon_->err();
    http_port_ = std::stoi(m[1]);
    ASSERT_TRUE(daemon_->wait_for(std::regex("running:"), m, 20s)) << daemon_->err();
    // Traffic only once the feed is live, so the intel scenario meets its indicators.
    wait_until([&] { return get("/api/v1/feeds").find("\"entries\":0") == std::string::npos; },
               20s);
  }

  // Sends the simulated traffic; returns the flows and datagrams sent.
  std::pair<uint64_t, uint64_t> send(const std::string& extra = {}, int rate = 100'000) {
    auto r =
        run_command(kBin + " simulate --seed 7 --hosts 40 --days 2 --rate " + std::to_string(rate) +
                    " --export udp://127.0.0.1:" + std::to_string(udp_port_) + " " + extra);
    EXPECT_EQ(r.rc, 0) << r.out;
    std::smatch m;
    static const std::regex sent(R"((\d+) flows over .* (\d+) v9 datagrams)");
    if (!std::regex_search(r.out, m, sent)) {
      ADD_FAILURE() << r.out;
      return {0, 0};
    }
    return {std::stoull(m[1]), std::stoull(m[2])};
  }

  std::string get(const std::string& path, int* status = nullptr) {
    httplib::Client c("127.0.0.1", http_port_);
    c.set_read_timeout(10, 0);
    auto res = c.Get(path);
    if (status) *status = res ? res->status : -1;
    return res ? res->body : std::string();
  }
  int post(const std::string& path) {
    httplib::Client c("127.0.0.1", http_port_);
    auto res = c.Post(path);
    return res ? res->status : -1;
  }

  template <typename F>
  bool wait_until(F done, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(100ms);
    }
    return true;
  }
  bool wait_records(uint64_t n) {
    return wait_until([&] { return metric(get("/metrics"), "orbwatch_records_total") >= n; }, 60s);
  }
  // Alerts leave the detectors as flows arrive; this waits until their count stops moving.
  void wait_quiet() {
    double last = -1;
    for (int i = 0; i < 100; ++i) {
      const double now = metric(get("/metrics"), "orbwatch_detect_flows_total{shard=\"0\"}");
      if (now == last) return;
      last = now;
      std::this_thread::sleep_for(300ms);
    }
  }

  std::set<std::string> api_alert_ids() {
    std::set<std::string> ids;
    static const std::regex id(R"re("alert":\{"ts":"[^"]*","id":"([0-9a-f]{16})")re");
    const std::string body = get("/api/v1/alerts?limit=10000");
    for (auto it = std::sregex_iterator(body.begin(), body.end(), id); it != std::sregex_iterator();
         ++it)
      ids.insert((*it)[1]);
    return ids;
  }

  fs::path dir_;
  std::unique_ptr<Child> daemon_;
  uint16_t udp_port_ = 0;
  int http_port_ = 0;
};

TEST_F(RunE2e, AlertsReachEveryOutputTheApiAndMetrics) {
  SyslogReceiver syslog;
  WebhookReceiver hook;
  ASSERT_GT(hook.port(), 0);
  write_config(
      "[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n\n"
      "[[outputs]]\ntype = \"jsonl\"\npath = \"ecs.jsonl\"\nformat = \"ecs\"\n"
      "min_severity = \"high\"\n\n"
      "[[outputs]]\ntype = \"syslog\"\nurl = \"udp://127.0.0.1:" +
      std::to_string(syslog.port()) +
      "\"\n\n[[outputs]]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:" +
      std::to_string(hook.port()) + "/hook\"\ntoken = \"hook-token\"\n");
  start();
  const auto [flows, datagrams] = send();
  ASSERT_GT(flows, 100'000u);
  ASSERT_TRUE(wait_records(flows)) << daemon_->err();
  wait_quiet();

  // /metrics against what was sent.
  const std::string m = get("/metrics");
  EXPECT_EQ(metric(m, "orbwatch_records_total"), static_cast<double>(flows));
  EXPECT_EQ(metric(m, "orbwatch_udp_datagrams_total"), static_cast<double>(datagrams));
  EXPECT_EQ(metric(m, "orbwatch_datagrams_total{version=\"netflow9\"}"),
            static_cast<double>(datagrams));
  EXPECT_EQ(
      metric(m, "orbwatch_exporter_records_total{exporter=\"127.0.0.1\",version=\"netflow9\"}"),
      static_cast<double>(flows));
  EXPECT_EQ(metric(m, "orbwatch_drops_total{place=\"kernel\",reason=\"socket_buffer\"}"), 0);
  EXPECT_EQ(metric(m, "orbwatch_drops_total{place=\"detect_queue\",reason=\"full\"}"), 0);
  const auto feed = lines_of(read_file(dir_ / "sim" / "feed.txt"));
  const auto indicators =
      std::count_if(feed.begin(), feed.end(), [](const std::string& l) { return l[0] != '#'; });
  EXPECT_EQ(metric(m, "orbwatch_feed_entries{feed=\"covert\"}"), static_cast<double>(indicators));
  EXPECT_GT(metric(m, "orbwatch_alerts_total{detector=\"intel\",severity=\"critical\"}"), 0);
  EXPECT_GE(metric(m, "orbwatch_archive_write_lag_flows"), 0);

  // The health and API answers.
  int status = 0;
  const std::string health = get("/api/v1/health", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(health.find("\"status\":\"ok\""), std::string::npos) << health;
  const std::string inventory = get("/api/v1/inventory");
  EXPECT_NE(inventory.find("\"ip\":\"10.20.1.1\""), std::string::npos) << inventory;  // vpn-gw
  get("/api/v1/alerts?severity=urgent", &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(post("/api/v1/alerts/00000000deadbeef/ack"), 404);

  // SIGTERM: drains, exit 0.
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
  EXPECT_NE(daemon_->err().find("stopped:"), std::string::npos);

  const auto jsonl = lines_of(read_file(dir_ / "alerts.jsonl"));
  ASSERT_GT(jsonl.size(), 20u);
  std::set<std::string> ids;
  for (const auto& l : jsonl) ids.insert(alert_id(l));
  const double written = metric(m, "orbwatch_output_alerts_total{output=\"outputs[1] (jsonl)\"}");
  EXPECT_GT(written, 0);
  EXPECT_LE(written, static_cast<double>(jsonl.size()));  // the rest came with the drain
  // Every version of every alert reached the syslog receiver and the webhook.
  const auto messages = syslog.messages();
  EXPECT_EQ(messages.size(), jsonl.size());
  std::set<std::string> syslog_ids;
  for (const auto& msg : messages) {
    // local0 (16): PRI 130..133 for critical..low, then the version.
    EXPECT_TRUE(std::regex_search(msg, std::regex("^<13[0-3]>1 "))) << msg;
    syslog_ids.insert(alert_id(msg));
  }
  EXPECT_EQ(syslog_ids, ids);
  ASSERT_TRUE(wait_until([&] { return hook.bodies().size() >= jsonl.size(); }, 30s));
  std::set<std::string> hook_ids;
  for (const auto& b : hook.bodies()) hook_ids.insert(alert_id(b));
  EXPECT_EQ(hook_ids, ids);
  // The ECS output: only high and critical, ECS field names.
  const auto ecs = lines_of(read_file(dir_ / "ecs.jsonl"));
  ASSERT_FALSE(ecs.empty());
  for (const auto& l : ecs) {
    EXPECT_NE(l.find("\"event\":{\"kind\":\"alert\""), std::string::npos) << l;
    EXPECT_TRUE(l.find("\"high\"") != std::string::npos ||
                l.find("\"critical\"") != std::string::npos)
        << l;
  }

  // The detections: what the simulation injected was found.
  auto e = run_command(kBin + " eval --labels " + (dir_ / "sim" / "labels.jsonl").string() +
                       " --alerts " + (dir_ / "alerts.jsonl").string() + " --hosts 40 --days 2");
  for (const char* scenario :
       {"raptor_train_tier1", "intel_hit", "kv_relay", "segmentation", "allowlist_breach"}) {
    EXPECT_TRUE(std::regex_search(e.out, std::regex(std::string(scenario) + R"(\s+\(any\)\s+1/1)")))
        << scenario << "\n"
        << e.out;
  }
}

TEST_F(RunE2e, ApiListsPagesAndAcknowledgesAlerts) {
  write_config("[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n");
  start();
  const auto [flows, datagrams] = send();
  ASSERT_TRUE(wait_records(flows)) << daemon_->err();
  wait_quiet();
  // The last alerts may still be on their way to the store: page once the list holds still
  // (newest first, so an alert arriving while paging would shift the pages).
  std::set<std::string> all = api_alert_ids();
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(300ms);
    std::set<std::string> again = api_alert_ids();
    if (again == all) break;
    all = std::move(again);
  }
  ASSERT_GT(all.size(), 10u);
  // Pages of 5 cover the same alerts.
  std::set<std::string> paged;
  static const std::regex id(R"re("alert":\{"ts":"[^"]*","id":"([0-9a-f]{16})")re");
  for (size_t offset = 0; offset < all.size() + 5; offset += 5) {
    const std::string body = get("/api/v1/alerts?limit=5&offset=" + std::to_string(offset));
    for (auto it = std::sregex_iterator(body.begin(), body.end(), id); it != std::sregex_iterator();
         ++it)
      paged.insert((*it)[1]);
  }
  EXPECT_EQ(paged, all);
  // The archive through the API: top-N totals are every flow sent; a page of flows; a host.
  const std::string top = get("/api/v1/flows/top?by=proto&order=bytes&n=5");
  EXPECT_NE(top.find("\"total\":{\"flows\":" + std::to_string(flows) + ","), std::string::npos)
      << top.substr(0, 300);
  EXPECT_NE(top.find("{\"proto\":6,"), std::string::npos);
  const std::string page = get("/api/v1/flows?limit=5&filter=proto%20udp%20and%20dst%20port%2053");
  EXPECT_EQ(std::count(page.begin(), page.end(), '{') - 2, 5)
      << page.substr(0, 400);  // + root, scan
  EXPECT_NE(page.find("\"truncated\":true"), std::string::npos);
  int status = 0;
  get("/api/v1/flows?filter=port%20ssh", &status);
  EXPECT_EQ(status, 400);
  const std::string host = get("/api/v1/hosts/10.20.1.1");  // the VPN gateway
  EXPECT_NE(host.find("\"timeline\":[{\"hour\":"), std::string::npos) << host.substr(0, 300);
  EXPECT_NE(host.find("{\"proto\":17,\"port\":4500,"), std::string::npos) << host;
  EXPECT_NE(host.find("\"baseline_vs_now\":[{\"hour_of_day\":0,"), std::string::npos);
  // Filters.
  const std::string intel = get("/api/v1/alerts?detector=intel&severity=high&limit=1000");
  EXPECT_NE(intel.find("\"detector\":\"intel\""), std::string::npos);
  EXPECT_EQ(intel.find("\"detector\":\"scan\""), std::string::npos);
  // Acknowledge one with a note; it is the only one acknowledged.
  const std::string first = *all.begin();
  EXPECT_EQ(post("/api/v1/alerts/" + first + "/ack?note=seen"), 200);
  const std::string acked = get("/api/v1/alerts?status=ack");
  EXPECT_NE(acked.find(first), std::string::npos);
  EXPECT_NE(acked.find("\"note\":\"seen\""), std::string::npos);
  size_t acks = 0;
  for (size_t at = acked.find("\"status\":\"ack\""); at != std::string::npos;
       at = acked.find("\"status\":\"ack\"", at + 1))
    ++acks;
  EXPECT_EQ(acks, 1u) << acked;
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
}

// The dashboard's views agree with the archive and the alert list; a POST from another site is
// refused; the dashboard's page is served.
TEST_F(RunE2e, DashboardViewsAgreeWithTheArchiveAndAlerts) {
  write_config("[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n");
  start();
  const auto [flows, datagrams] = send();
  ASSERT_TRUE(wait_records(flows)) << daemon_->err();
  wait_quiet();
  auto sum = [](const std::string& body, const std::string& key) {
    const std::regex re("\"" + key + "\":(\\d+)");
    uint64_t n = 0;
    for (auto it = std::sregex_iterator(body.begin(), body.end(), re); it != std::sregex_iterator();
         ++it)
      n += std::stoull((*it)[1]);
    return n;
  };
  const std::string all_time = "since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z";
  // Flows per bucket add up to every flow sent (once the archive writer has flushed its last
  // block: [store] flush_interval).
  std::string series;
  EXPECT_TRUE(wait_until(
      [&] {
        series = get("/api/v1/series?" + all_time);
        return sum(series, "flows") == flows;
      },
      30s))
      << sum(series, "flows") << " of " << flows << ": " << series.substr(0, 300);
  int status = 0;
  get("/api/v1/series?step=0", &status);
  EXPECT_EQ(status, 400);
  // The alert summary counts the alerts the list gives, by severity and per bucket alike.
  const auto ids = api_alert_ids();
  ASSERT_GT(ids.size(), 10u);
  const std::string summary = get("/api/v1/alerts/summary?step=31622400&" + all_time);
  EXPECT_NE(summary.find("\"total\":" + std::to_string(ids.size()) + ","), std::string::npos)
      << summary.substr(0, 300);
  const size_t buckets_at = summary.find("\"buckets\"");
  ASSERT_NE(buckets_at, std::string::npos);
  const std::string buckets = summary.substr(buckets_at);
  EXPECT_EQ(sum(buckets, "low") + sum(buckets, "medium") + sum(buckets, "high") +
                sum(buckets, "critical"),
            ids.size());
  // One alert by id; none by an unknown one.
  const std::string one = get("/api/v1/alerts/" + *ids.begin());
  EXPECT_NE(one.find("\"id\":\"" + *ids.begin() + "\""), std::string::npos) << one;
  get("/api/v1/alerts/00000000000000ff", &status);
  EXPECT_EQ(status, 404);
  // Exporter health: every record from the one exporter.
  const std::string exporters = get("/api/v1/exporters");
  EXPECT_NE(exporters.find("\"exporters_total\":1,"), std::string::npos) << exporters;
  EXPECT_EQ(sum(exporters, "records"), flows) << exporters;
  // What the model says of addresses, by GET and by POST.
  const std::string look = get("/api/v1/lookup?ip=10.20.1.1&ip=192.0.2.7");
  EXPECT_NE(look.find("{\"ip\":\"10.20.1.1\",\"internal\":true"), std::string::npos) << look;
  EXPECT_NE(look.find("{\"ip\":\"192.0.2.7\",\"internal\":false"), std::string::npos) << look;
  get("/api/v1/lookup?ip=not-an-address", &status);
  EXPECT_EQ(status, 400);
  httplib::Client c("127.0.0.1", http_port_);
  auto posted = c.Post("/api/v1/lookup", "ip=10.20.1.1", "application/x-www-form-urlencoded");
  ASSERT_TRUE(posted);
  EXPECT_NE(posted->body.find("\"internal\":true"), std::string::npos) << posted->body;
  EXPECT_EQ(get("/api/v1/assets", &status).rfind("{\"assets\":[", 0), 0u);
  EXPECT_EQ(status, 200);
  // Another site's page cannot acknowledge through the analyst's browser; the dashboard can.
  const std::string ack = "/api/v1/alerts/" + *ids.begin() + "/ack";
  auto foreign = c.Post(ack, {{"Origin", "http://attacker.example"}}, "", "text/plain");
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 403);
  EXPECT_EQ(get(ack.substr(0, ack.size() - 4)).find("\"status\":\"ack\""), std::string::npos);
  const std::string self = "http://127.0.0.1:" + std::to_string(http_port_);
  auto own = c.Post(ack, {{"Origin", self}}, "note=mine", "application/x-www-form-urlencoded");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200);
  // The dashboard (or, built without npm, a page that says so).
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  if (page->body.find("/app.js") != std::string::npos) {
    EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"),
              std::string::npos);
    auto js = c.Get("/app.js", {{"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(js);
    EXPECT_EQ(js->status, 200);
    EXPECT_GT(js->body.size(), 1000u);  // decompressed by the client
  } else {
    EXPECT_NE(page->body.find("without the web dashboard"), std::string::npos) << page->body;
  }
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
}

// The receiver is down while alerts fire: they wait in the spool (visible in /metrics); once it
// is up they all arrive, in order, none twice.
TEST_F(RunE2e, WebhookOutageSpoolsThenDeliversEverything) {
  const uint16_t port = free_tcp_port();
  write_config(
      "[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n\n"
      "[[outputs]]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:" +
      std::to_string(port) + "/hook\"\ntoken = \"hook-token\"\n");
  start();
  const auto [flows, datagrams] = send();
  ASSERT_TRUE(wait_records(flows)) << daemon_->err();
  wait_quiet();
  const std::string m = get("/metrics");
  EXPECT_GT(metric(m, "orbwatch_output_spool_bytes{output=\"outputs[2] (webhook)\"}"), 0) << m;
  EXPECT_GT(metric(m, "orbwatch_output_errors_total{output=\"outputs[2] (webhook)\"}"), 0);
  const std::string health = get("/api/v1/health");
  EXPECT_NE(health.find("\"status\":\"degraded\""), std::string::npos) << health;

  WebhookReceiver hook(port);
  ASSERT_EQ(hook.port(), port);
  const size_t alerts = lines_of(read_file(dir_ / "alerts.jsonl")).size();
  ASSERT_GT(alerts, 10u);
  // Back-off doubles from 1 s while the receiver is away: the next try comes within a minute.
  ASSERT_TRUE(wait_until([&] { return hook.bodies().size() >= alerts; }, 90s))
      << hook.bodies().size() << " of " << alerts;
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
  const auto jsonl = lines_of(read_file(dir_ / "alerts.jsonl"));
  const auto bodies = hook.bodies();
  ASSERT_EQ(bodies.size(), jsonl.size());
  for (size_t i = 0; i < jsonl.size(); ++i) EXPECT_EQ(alert_id(bodies[i]), alert_id(jsonl[i])) << i;
  EXPECT_EQ(metric(get("/metrics"), "orbwatch_output_spool_bytes"), -1);  // the daemon is gone
}

// ClickHouse as an output of flows and alerts, killed mid-stream and started again on the same
// data: every flow the embedded archive holds is in ClickHouse once, and every alert.
TEST_F(RunE2e, ClickHouseKilledMidStreamLosesNothingAndAnswersLikeTheArchive) {
  if (!orbwatch::test::ClickHouseServer::available())
    GTEST_SKIP() << "clickhouse-server is not installed (scripts/install-deps.sh installs it)";
  orbwatch::test::ClickHouseServer ch(dir_ / "clickhouse");
  ASSERT_TRUE(ch.start()) << ch.log();
  write_config(
      "[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n\n"
      "[[outputs]]\ntype = \"clickhouse\"\nurl = \"" +
      ch.url() + "\"\ndatabase = \"ow\"\nbatch_size = 5000\nflush_interval = \"100ms\"\n");
  start();
  const std::string out = "{output=\"outputs[2] (clickhouse)\"}";
  std::pair<uint64_t, uint64_t> sent;
  std::thread sender([&] { sent = send({}, 40'000); });  // ~6 s of traffic
  const bool flowing = wait_until(
      [&] { return metric(get("/metrics"), "orbwatch_output_flows_total" + out) > 0; }, 30s);
  ch.kill();
  // Inserts fail while it is away: batches wait on disk.
  const bool spooled = wait_until(
      [&] { return metric(get("/metrics"), "orbwatch_output_spool_batches" + out) >= 3; }, 30s);
  const bool restarted = ch.start();
  sender.join();
  ASSERT_TRUE(flowing && spooled && restarted) << get("/metrics") << ch.log();
  ASSERT_TRUE(wait_records(sent.first)) << daemon_->err();
  wait_quiet();
  // Back-off doubles from 1 s: the spool goes out within a minute of the server's return.
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string m = get("/metrics");
        return metric(m, "orbwatch_output_spool_batches" + out) == 0 &&
               metric(m, "orbwatch_output_flows_staged" + out) == 0;
      },
      90s))
      << get("/metrics");
  const std::string m = get("/metrics");
  EXPECT_GT(metric(m, "orbwatch_output_errors_total" + out), 0);
  EXPECT_EQ(metric(m, "orbwatch_output_flows_dropped_total" + out), 0);
  // The API over the archive, to compare with the API over ClickHouse below, once its scans
  // see every flow (under load the archive's blocks may be written a flush interval later).
  const std::string every_flow = "\"total\":{\"flows\":" + std::to_string(sent.first) + ",";
  ASSERT_TRUE(wait_until(
      [&] { return get("/api/v1/flows/top?by=proto").find(every_flow) != std::string::npos; }, 60s))
      << get("/api/v1/flows/top?by=proto");
  std::smatch busiest;
  const std::string top_host = get("/api/v1/flows/top?by=src_ip&n=1");
  ASSERT_TRUE(std::regex_search(top_host, busiest, std::regex(R"re("src_ip":"([^"]+)")re")))
      << top_host;
  const std::vector<std::string> api = {
      "/api/v1/hosts/" + busiest[1].str(),
      "/api/v1/flows/top?by=src_ip&n=20",
      "/api/v1/flows/top?by=dst_port&order=bytes&filter=proto%20udp",
      "/api/v1/flows/top?by=ip&n=0&since=1d",
      "/api/v1/series?since=2d&step=3600",
      "/api/v1/series?since=12h&filter=dst%20port%20443",
      "/api/v1/flows?limit=100000&filter=dst%20port%2053",
      "/api/v1/flows?limit=100000&since=2h",
  };
  std::vector<std::string> over_archive;
  for (const auto& path : api) over_archive.push_back(get(path));
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();

  // The same flows as the archive: per protocol and port, flows, packets and bytes.
  auto q = run_command(kBin + " query --store " + (dir_ / "data").string() +
                       " --group-by proto,dst_port --format csv -q");
  ASSERT_EQ(q.rc, 0) << q.out;
  std::set<std::string> archive, clickhouse;
  uint64_t archived = 0;
  for (const auto& line : lines_of(q.out)) {
    if (line.starts_with("proto,")) continue;
    std::vector<std::string> f;
    std::stringstream in(line);
    for (std::string x; std::getline(in, x, ',');) f.push_back(x);
    ASSERT_GE(f.size(), 5u) << line;
    archive.insert(f[0] + "," + f[1] + "," + f[2] + "," + f[3] + "," + f[4]);
    archived += std::stoull(f[2]);
  }
  EXPECT_EQ(archived, sent.first);
  for (const auto& line :
       lines_of(ch.ask("SELECT proto, dst_port, count(), sum(packets), sum(bytes) FROM ow.flows "
                       "GROUP BY proto, dst_port FORMAT CSV")))
    clickhouse.insert(line);
  EXPECT_EQ(clickhouse, archive);
  // Every alert the daemon raised, each once (the latest version).
  std::set<std::string> ids;
  for (const auto& line : lines_of(read_file(dir_ / "alerts.jsonl"))) ids.insert(alert_id(line));
  ASSERT_GT(ids.size(), 10u);
  std::set<std::string> stored;
  for (const auto& line : lines_of(ch.ask("SELECT id FROM ow.alerts FINAL"))) {
    EXPECT_TRUE(stored.insert(line).second) << line;
  }
  EXPECT_EQ(stored, ids);

  // The query backend: the same answers from ClickHouse as from the archive, printed alike.
  const std::string archive_q = kBin + " query -q --store " + (dir_ / "data").string() + " ";
  const std::string ch_q =
      kBin + " query -q --backend clickhouse --clickhouse " + ch.url() + " --database ow ";
  const char* grouped[] = {
      "--top src_ip -n 20",
      "--top ip --order bytes -n 15 --format csv",
      "--top port --order packets -n 12",
      "--top as --format jsonl -n 0",
      "--group-by proto,dst_port --format jsonl",
      "--group-by src_ip,dst_ip,dst_port --order bytes -n 25 --format csv",
      "--top exporter --format csv",
      "--since 6h --top dst_ip -n 10 'proto tcp and not dst port 443'",
      "--since 2d --until 1d --group-by src_port --format csv 'src net 10.0.0.0/8'",
  };
  for (const char* args : grouped) {
    const auto a = run_command(archive_q + args);
    const auto c = run_command(ch_q + args);
    ASSERT_EQ(a.rc, 0) << args << "\n" << a.out;
    ASSERT_EQ(c.rc, 0) << args << "\n" << c.out;
    EXPECT_GT(lines_of(a.out).size(), 1u) << args;
    EXPECT_EQ(c.out, a.out) << args;
  }
  // Listings: the same flows (ClickHouse lists in start order, the archive in arrival order).
  const char* listed[] = {
      "--format jsonl 'proto udp and dst port 53'",
      "--format csv --since 1h",
      "--format jsonl 'net 2001:db8::/32 or bytes > 100k'",
  };
  for (const char* args : listed) {
    const auto a = run_command(archive_q + args);
    const auto c = run_command(ch_q + args);
    ASSERT_EQ(a.rc, 0) << args << "\n" << a.out;
    ASSERT_EQ(c.rc, 0) << args << "\n" << c.out;
    auto sorted = [](const std::string& text) {
      auto lines = lines_of(text);
      std::sort(lines.begin(), lines.end());
      return lines;
    };
    EXPECT_GT(lines_of(a.out).size(), 1u) << args;
    EXPECT_EQ(sorted(c.out), sorted(a.out)) << args;
  }
  // Hunts: the same rows; the ClickHouse to read named by the daemon's own config.
  const std::string feed = (dir_ / "sim" / "feed.txt").string();
  const std::string cfg = (dir_ / "orbwatch.toml").string();
  const char* hunts[] = {"--format csv", "--order bytes --format jsonl --since 1d",
                         "--no-domains --config "};
  for (const char* args : hunts) {
    const std::string extra =
        std::string(args) + (std::string(args).ends_with("--config ") ? cfg : "");
    const auto a = run_command(kBin + " hunt -q --store " + (dir_ / "data").string() + " --feed " +
                               feed + " " + extra);
    const auto c = run_command(kBin + " hunt -q --backend clickhouse --clickhouse-config " + cfg +
                               " --feed " + feed + " " + extra);
    ASSERT_EQ(a.rc, 0) << extra << "\n" << a.out;
    ASSERT_EQ(c.rc, 0) << extra << "\n" << c.out;
    EXPECT_GT(lines_of(a.out).size(), 1u) << extra;
    EXPECT_EQ(c.out, a.out) << extra;
  }
  // The daemon reading flows from ClickHouse ([store] query_backend) over an empty archive of
  // its own: the same answers as the first over its archive (but for the scan statistics).
  {
    std::string config = read_file(dir_ / "orbwatch.toml");
    const size_t at = config.find("path = \"data\"");
    ASSERT_NE(at, std::string::npos);
    config.replace(at, 13, "path = \"data2\"\nquery_backend = \"clickhouse\"");
    std::ofstream(dir_ / "orbwatch.toml") << config;
  }
  start();
  // Scan statistics differ by backend, and a host's alerts are each daemon's own.
  auto without_scan = [](std::string body) {
    size_t at = body.find("\"scan\":{");
    if (at != std::string::npos) body.erase(at, body.find('}', at) + 1 - at);
    at = body.find(",\"alerts\":[");
    if (at != std::string::npos) body.erase(at);
    return body;
  };
  auto flows_of = [](const std::string& body) {
    std::vector<std::string> f;
    for (size_t at = body.find("{\"ts_start\""); at != std::string::npos;
         at = body.find("{\"ts_start\"", at + 1))
      f.push_back(body.substr(at, body.find('}', at) - at));
    std::sort(f.begin(), f.end());
    return f;
  };
  for (size_t i = 0; i < api.size(); ++i) {
    const std::string over_clickhouse = get(api[i]);
    if (!api[i].starts_with("/api/v1/hosts/")) {
      EXPECT_NE(over_clickhouse.find("\"problems\":[]"), std::string::npos) << over_clickhouse;
    }
    if (api[i].starts_with("/api/v1/flows?")) {
      EXPECT_GT(flows_of(over_archive[i]).size(), 1u) << api[i];
      EXPECT_EQ(flows_of(over_clickhouse), flows_of(over_archive[i])) << api[i];
    } else {
      EXPECT_EQ(without_scan(over_clickhouse), without_scan(over_archive[i])) << api[i];
    }
  }
  EXPECT_EQ(without_scan(get("/api/v1/flows/top?by=src_ip&n=1")), without_scan(top_host));
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();

  const auto bad = run_command(kBin + " query --backend clickhouse --clickhouse " + ch.url() +
                               " --database 'x; DROP' --top ip");
  EXPECT_EQ(bad.rc, 2) << bad.out;
  EXPECT_NE(bad.out.find("letters, digits and _ only"), std::string::npos) << bad.out;
}

// Several collectors (one orbwatch run per site) writing to ClickHouse: two sites into one
// server at once, a third into another; a Distributed table over both servers answers for all
// three sites what their three archives hold together.
TEST_F(RunE2e, SitesShareOneClickHouseAndADistributedTableSpansServers) {
  if (!orbwatch::test::ClickHouseServer::available())
    GTEST_SKIP() << "clickhouse-server is not installed (scripts/install-deps.sh installs it)";
  orbwatch::test::ClickHouseServer a(dir_ / "ch-a"), b(dir_ / "ch-b");
  a.add_cluster("sites", {a.tcp_port(), b.tcp_port()});
  ASSERT_TRUE(a.start()) << a.log();
  ASSERT_TRUE(b.start()) << b.log();
  write_config("");
  const std::string base = read_file(dir_ / "orbwatch.toml");
  struct Site {
    std::string name;
    const orbwatch::test::ClickHouseServer* server;
    std::unique_ptr<Child> daemon;
    uint16_t udp = 0;
    int http = 0;
    uint64_t sent = 0;
  };
  std::vector<Site> sites;
  sites.push_back({"site1", &a, nullptr, 0, 0, 0});
  sites.push_back({"site2", &a, nullptr, 0, 0, 0});
  sites.push_back({"site3", &b, nullptr, 0, 0, 0});
  for (Site& site : sites) {
    std::string config = base;
    const size_t at = config.find("path = \"data\"");
    ASSERT_NE(at, std::string::npos);
    config.replace(at, 13, "path = \"" + site.name + "\"");
    config += "\n[[outputs]]\ntype = \"clickhouse\"\nurl = \"" + site.server->url() +
              "\"\nflush_interval = \"100ms\"\n";
    const fs::path file = dir_ / (site.name + ".toml");
    std::ofstream(file) << config;
    site.daemon =
        std::make_unique<Child>(std::vector<std::string>{kBin, "run", "--config", file.string()});
    std::smatch m;
    ASSERT_TRUE(
        site.daemon->wait_for(std::regex(R"(listening on udp://127\.0\.0\.1:(\d+))"), m, 20s))
        << site.daemon->err();
    site.udp = static_cast<uint16_t>(std::stoi(m[1]));
    ASSERT_TRUE(site.daemon->wait_for(std::regex(R"(http on 127\.0\.0\.1:(\d+))"), m, 20s))
        << site.daemon->err();
    site.http = std::stoi(m[1]);
  }
  // Each site's own traffic (another seed each), all at once.
  std::vector<std::thread> senders;
  for (size_t i = 0; i < sites.size(); ++i) {
    senders.emplace_back([&, i] {
      auto r = run_command(kBin + " simulate --hosts 30 --days 1 --rate 50000 --seed " +
                           std::to_string(11 + i) +
                           " --export udp://127.0.0.1:" + std::to_string(sites[i].udp));
      std::smatch m;
      if (r.rc == 0 && std::regex_search(r.out, m, std::regex(R"((\d+) flows over)")))
        sites[i].sent = std::stoull(m[1]);
    });
  }
  for (auto& t : senders) t.join();
  for (Site& site : sites) {
    ASSERT_GT(site.sent, 0u);
    httplib::Client c("127.0.0.1", site.http);
    ASSERT_TRUE(wait_until(
        [&] {
          auto r = c.Get("/metrics");
          return r && metric(r->body, "orbwatch_records_total") >= static_cast<double>(site.sent);
        },
        60s))
        << site.name;
    EXPECT_EQ(site.daemon->stop(SIGTERM, 60s), 0) << site.daemon->err();  // sends what it holds
  }

  // What the archives hold, per protocol and destination port, summed over the given sites.
  using Totals = std::map<std::string, std::array<uint64_t, 3>>;
  auto add_csv = [](Totals& into, const std::string& csv) {
    for (const auto& line : lines_of(csv)) {
      if (line.starts_with("proto,")) continue;
      std::vector<std::string> f;
      std::stringstream in(line);
      for (std::string x; std::getline(in, x, ',');) f.push_back(x);
      if (f.size() < 5) continue;
      auto& t = into[f[0] + "," + f[1]];
      for (size_t k = 0; k < 3; ++k) t[k] += std::stoull(f[2 + k]);
    }
  };
  auto archives = [&](std::initializer_list<size_t> which) {
    Totals t;
    for (size_t i : which) {
      auto q = run_command(kBin + " query -q --store " + (dir_ / sites[i].name).string() +
                           " --group-by proto,dst_port --format csv");
      EXPECT_EQ(q.rc, 0) << q.out;
      add_csv(t, q.out);
    }
    return t;
  };
  auto clickhouse = [&](const orbwatch::test::ClickHouseServer& server, const char* database) {
    auto q = run_command(kBin + " query -q --backend clickhouse --clickhouse " + server.url() +
                         " --database " + database + " --group-by proto,dst_port --format csv");
    EXPECT_EQ(q.rc, 0) << q.out;
    Totals t;
    add_csv(t, q.out);
    return t;
  };
  const Totals one_and_two = archives({0, 1});
  ASSERT_GT(one_and_two.size(), 3u);
  EXPECT_EQ(clickhouse(a, "orbwatch"), one_and_two);
  EXPECT_EQ(clickhouse(b, "orbwatch"), archives({2}));
  // Both servers through one Distributed table (docs/scale.md).
  ASSERT_EQ(a.ask("CREATE DATABASE everywhere"), "");
  ASSERT_EQ(a.ask("CREATE TABLE everywhere.flows AS orbwatch.flows "
                  "ENGINE = Distributed(sites, orbwatch, flows)"),
            "");
  EXPECT_EQ(clickhouse(a, "everywhere"), archives({0, 1, 2}));
  // A collector's config that reads the Distributed table: query_database.
  std::ofstream(dir_ / "reader.toml") << "[[outputs]]\ntype = \"clickhouse\"\nurl = \"" << a.url()
                                      << "\"\nquery_database = \"everywhere\"\n";
  const auto reader =
      run_command(kBin + " query -q --backend clickhouse --clickhouse-config " +
                  (dir_ / "reader.toml").string() + " --group-by proto,dst_port --format csv");
  ASSERT_EQ(reader.rc, 0) << reader.out;
  Totals through_config;
  add_csv(through_config, reader.out);
  EXPECT_EQ(through_config, archives({0, 1, 2}));
  const auto top = run_command(kBin + " query -q --backend clickhouse --clickhouse " + a.url() +
                               " --database everywhere --top src_ip --since 6h");
  EXPECT_EQ(top.rc, 0) << top.out;
  EXPECT_EQ(lines_of(top.out).size(), 11u) << top.out;
}

// Kafka between instances (docs/scale.md): a collector produces every flow keyed by its
// internal host and every alert; two detector instances of one consumer group share the
// partitions, and so the hosts: together they hold each flow once, no host on both.
TEST_F(RunE2e, KafkaSpreadsHostsOverDetectorInstancesOfOneGroup) {
  Child mock({ORBWATCH_KAFKA_MOCK, "3", "orbwatch-flows:6", "orbwatch-alerts:2"});
  std::smatch m;
  ASSERT_TRUE(mock.wait_for(std::regex(R"(brokers (\S+))"), m, 20s)) << mock.err();
  const std::string brokers = m[1];
  write_config("[[outputs]]\ntype = \"jsonl\"\npath = \"ALERTS.jsonl\"\n");
  const std::string base = read_file(dir_ / "orbwatch.toml");
  write_config("[[outputs]]\ntype = \"kafka\"\nbrokers = \"" + brokers +
               "\"\n\n[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n");

  // The detector instances: no sockets, flows from the group "detect".
  struct Detector {
    std::string name;
    std::unique_ptr<Child> daemon;
    int http = 0;
    std::string get(const std::string& path) const {
      httplib::Client c("127.0.0.1", http);
      c.set_read_timeout(10, 0);
      auto r = c.Get(path);
      return r ? r->body : std::string();
    }
  };
  std::vector<Detector> detectors(2);
  for (size_t i = 0; i < detectors.size(); ++i) {
    Detector& d = detectors[i];
    d.name = "detect" + std::to_string(i + 1);
    std::string config = base;
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"listen = [\"udp://127.0.0.1:0\"]", "listen = []"},
             {"path = \"data\"", "path = \"" + d.name + "\""},
             {"ALERTS", d.name}}) {
      const size_t at = config.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      config.replace(at, from.size(), to);
    }
    // Small fetches: each instance reads its partitions a few dozen flows at a time, so they
    // stay closer in event time (the simulator packs two days into seconds). A short session:
    // the mock's coordinator notices a member that left only when its session times out.
    config += "\n[collect.kafka]\nbrokers = \"" + brokers +
              "\"\ngroup = \"detect\"\nproperties = { \"max.partition.fetch.bytes\" = 16384, "
              "\"session.timeout.ms\" = 6000 }\n";
    const fs::path file = dir_ / (d.name + ".toml");
    std::ofstream(file) << config;
    d.daemon = std::make_unique<Child>(std::vector<std::string>{
        kBin, "run", "--config", file.string(), "--param", "beacon.learning=0"});
    ASSERT_TRUE(d.daemon->wait_for(std::regex(R"(http on 127\.0\.0\.1:(\d+))"), m, 20s))
        << d.daemon->err();
    d.http = std::stoi(m[1]);
  }
  // Both in the group (three partitions each) before anything is produced.
  auto partitions = [](const Detector& d) {
    return metric(d.get("/metrics"), "orbwatch_kafka_partitions");
  };
  ASSERT_TRUE(wait_until(
      [&] { return partitions(detectors[0]) == 3 && partitions(detectors[1]) == 3; }, 60s))
      << detectors[0].daemon->err() << detectors[1].daemon->err();

  start();
  const auto sent = send({}, 40'000);
  ASSERT_GT(sent.first, 0u);
  ASSERT_TRUE(wait_records(sent.first)) << daemon_->err();
  const std::string out = "{output=\"outputs[1] (kafka)\"}";
  ASSERT_TRUE(wait_until(
      [&] {
        return metric(get("/metrics"), "orbwatch_output_flows_total" + out) ==
               static_cast<double>(sent.first);
      },
      60s))
      << get("/metrics");
  ASSERT_TRUE(wait_until(
      [&] {
        return metric(detectors[0].get("/metrics"), "orbwatch_kafka_flows_total") +
                   metric(detectors[1].get("/metrics"), "orbwatch_kafka_flows_total") ==
               static_cast<double>(sent.first);
      },
      60s));
  wait_quiet();
  for (const Detector& d : detectors) {
    EXPECT_GT(metric(d.get("/metrics"), "orbwatch_kafka_flows_total"), 0) << d.name;
    EXPECT_NE(d.get("/api/v1/health").find("\"kafka_lag\":0"), std::string::npos) << d.name;
  }

  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
  for (Detector& d : detectors) EXPECT_EQ(d.daemon->stop(SIGTERM, 60s), 0) << d.daemon->err();

  // Every flow once: the detectors' archives together hold what the collector's holds.
  auto archive = [&](const std::string& store, const std::string& by,
                     const std::string& filter = {}) {
    auto q = run_command(kBin + " query -q --store " + (dir_ / store).string() + " --group-by " +
                         by + " --format csv" + (filter.empty() ? "" : " '" + filter + "'"));
    EXPECT_EQ(q.rc, 0) << q.out;
    std::map<std::string, std::array<uint64_t, 3>> t;
    for (const auto& line : lines_of(q.out)) {
      std::vector<std::string> f;
      std::stringstream in(line);
      for (std::string x; std::getline(in, x, ',');) f.push_back(x);
      const bool one = by.find(',') == std::string::npos;
      if (f.size() < 4 || f[0] == "proto" || f[0] == by) continue;
      auto& v = t[f[0] + (one ? "" : "," + f[1])];
      const size_t at = one ? 1 : 2;
      for (size_t k = 0; k < 3; ++k) v[k] += std::stoull(f[at + k]);
    }
    return t;
  };
  auto both = archive("detect1", "proto,dst_port");
  for (const auto& [k, v] : archive("detect2", "proto,dst_port"))
    for (size_t i = 0; i < 3; ++i) both[k][i] += v[i];
  const auto collected = archive("data", "proto,dst_port");
  ASSERT_GT(collected.size(), 3u);
  EXPECT_EQ(both, collected);
  // Each internal host's flows to and from the outside on one instance only (between two
  // internal hosts, the initiator's instance has the flow).
  auto hosts = [&](const std::string& store) {
    std::set<std::string> h;
    for (const auto& [ip, v] :
         archive(store, "src_ip", "src net 10.0.0.0/8 and not dst net 10.0.0.0/8"))
      h.insert(ip);
    for (const auto& [ip, v] :
         archive(store, "dst_ip", "dst net 10.0.0.0/8 and not src net 10.0.0.0/8"))
      h.insert(ip);
    return h;
  };
  const std::set<std::string> hosts1 = hosts("detect1"), hosts2 = hosts("detect2");
  EXPECT_GT(hosts1.size(), 5u);
  EXPECT_GT(hosts2.size(), 5u);
  std::vector<std::string> shared;
  std::set_intersection(hosts1.begin(), hosts1.end(), hosts2.begin(), hosts2.end(),
                        std::back_inserter(shared));
  EXPECT_TRUE(shared.empty()) << shared.front();

  // Alerts: each version the collector raised (its jsonl output, complete after the stop) is
  // on the alerts topic, keyed by its id.
  const std::vector<std::string> versions = lines_of(read_file(dir_ / "alerts.jsonl"));
  ASSERT_FALSE(versions.empty());
  std::set<std::string> collector_alerts, on_topic;
  for (const auto& line : versions) collector_alerts.insert(alert_id(line));
  const auto messages =
      orbwatch::test::read_topic(brokers, "orbwatch-alerts", 2, versions.size() + 1, 20s);
  EXPECT_EQ(messages.size(), versions.size());  // every version once
  for (const auto& msg : messages) on_topic.insert(msg.key);
  EXPECT_EQ(on_topic, collector_alerts);
  // The detector instances detect: per detector, they alert on the internal hosts the collector
  // alerts on, and raise the same intel alerts (one per matching flow). Windowed detectors may
  // cut their windows elsewhere (other alert ids): an instance reads its partitions at its own
  // pace, and the simulator packs two days into seconds, so a partition read a moment later is
  // far behind in event time. beacon, which needs every check-in of a series, may then miss a
  // series whose flows came in behind the watermark: it finds a subset (docs/scale.md).
  auto alerted = [](const std::vector<std::string>& files) {
    std::map<std::string, std::set<std::string>> found, intel_ids;
    static const std::regex re(
        R"re("id":"([0-9a-f]{16})","detector":"([a-z_]+)".*?"src_ip":"([^"]*)","dst_ip":"([^"]*)")re");
    for (const auto& file : files) {
      const std::string text = read_file(file);
      for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
           it != std::sregex_iterator(); ++it) {
        const std::string src = (*it)[3], dst = (*it)[4];
        const bool si = src.starts_with("10."), di = dst.starts_with("10.");
        found[(*it)[2]].insert(si == di ? src : si ? src : dst);
        if ((*it)[2] == "intel") intel_ids["intel"].insert((*it)[1]);
      }
    }
    return std::make_pair(found, intel_ids);
  };
  const auto collector = alerted({(dir_ / "alerts.jsonl").string()});
  const auto split =
      alerted({(dir_ / "detect1.jsonl").string(), (dir_ / "detect2.jsonl").string()});
  EXPECT_GE(collector.first.size(), 6u);
  auto without_beacon = [](std::map<std::string, std::set<std::string>> by) {
    by.erase("beacon");
    return by;
  };
  EXPECT_EQ(without_beacon(split.first), without_beacon(collector.first));
  const auto beacon_split = split.first.find("beacon");
  const auto beacon_collector = collector.first.find("beacon");
  ASSERT_NE(beacon_split, split.first.end());
  ASSERT_NE(beacon_collector, collector.first.end());
  EXPECT_TRUE(std::includes(beacon_collector->second.begin(), beacon_collector->second.end(),
                            beacon_split->second.begin(), beacon_split->second.end()));
  ASSERT_FALSE(collector.second.empty());
  EXPECT_EQ(split.second, collector.second);
}

// kill -9 under load, then a restart: the archive recovers its open segments, alerts,
// inventory and baselines are as they were last saved, and the daemon goes on counting.
TEST_F(RunE2e, KillNineThenRestartResumesWithStateIntact) {
  write_config("[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n");
  start();
  const auto [flows, datagrams] = send();
  ASSERT_TRUE(wait_records(flows)) << daemon_->err();
  wait_quiet();
  // The state written every second includes everything above; the archive is flushed.
  std::this_thread::sleep_for(2500ms);
  const std::string before_metrics = get("/metrics");
  const std::set<std::string> alerts_before = api_alert_ids();
  const std::string inventory_before = get("/api/v1/inventory");
  EXPECT_EQ(metric(before_metrics, "orbwatch_archive_flows_stored_total"),
            static_cast<double>(flows));
  ASSERT_GT(alerts_before.size(), 10u);

  // More traffic, and kill -9 while it is still arriving (a few flush intervals in).
  Child sender({kBin, "simulate", "--seed", "8", "--hosts", "40", "--days", "2", "--rate", "40000",
                "--export", "udp://127.0.0.1:" + std::to_string(udp_port_)});
  ASSERT_TRUE(wait_until(
      [&] {
        return metric(get("/metrics"), "orbwatch_records_total") >
               static_cast<double>(flows) + 120'000;
      },
      30s));
  daemon_->stop(SIGKILL, 10s);
  sender.stop(SIGKILL, 10s);

  start();
  EXPECT_NE(daemon_->err().find("recovered"), std::string::npos) << daemon_->err();
  // Alerts: every one committed before the kill is there.
  const std::set<std::string> alerts_after = api_alert_ids();
  for (const auto& id : alerts_before) EXPECT_TRUE(alerts_after.contains(id)) << id;
  // Inventory: what was saved (at most a second before the kill) is back before any new flow.
  const std::string inventory_after = get("/api/v1/inventory");
  static const std::regex service(R"re("proto":\d+,"port":\d+)re");
  auto services = [](const std::string& body) {
    return std::distance(std::sregex_iterator(body.begin(), body.end(), service),
                         std::sregex_iterator());
  };
  EXPECT_GE(services(inventory_after), services(inventory_before)) << inventory_after;
  EXPECT_NE(inventory_after.find("\"ip\":\"10.20.1.1\""), std::string::npos);
  // The archive: everything of the first run, and no more than was sent in all.
  auto q =
      run_command(kBin + " query --store " + (dir_ / "data").string() + " --format jsonl | wc -l");
  const uint64_t archived = std::stoull(q.out);
  // All of the first run; of the second what was flushed (1 s) before the kill, not more than
  // was sent.
  EXPECT_GT(archived, flows + 40'000);
  EXPECT_LE(archived, flows + 300'000);
  auto check = run_command(kBin + " store check --store " + (dir_ / "data").string());
  EXPECT_EQ(check.rc, 0) << check.out;
  // And it goes on: the same traffic again is counted from zero by the new process.
  const auto again = send();
  ASSERT_TRUE(wait_records(again.first)) << daemon_->err();
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
}

// SIGHUP while traffic flows: a new feed and a new output take effect, no flow is lost.
TEST_F(RunE2e, SighupReloadsFeedsAndOutputsWithoutLosingFlows) {
  std::ofstream(dir_ / "empty-feed.txt") << "192.0.2.250\n";
  write_config("[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n",
               "[[feeds]]\nname = \"placeholder\"\nsource = \"empty-feed.txt\"\n\n");
  start();
  Child sender({kBin, "simulate", "--seed", "7", "--hosts", "40", "--days", "2", "--rate", "40000",
                "--export", "udp://127.0.0.1:" + std::to_string(udp_port_)});
  // A fifth of the way in (before the scenarios begin), the config gains the covert feed and a
  // second output.
  ASSERT_TRUE(
      wait_until([&] { return metric(get("/metrics"), "orbwatch_records_total") > 20'000; }, 30s));
  write_config(
      "[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n\n"
      "[[outputs]]\ntype = \"jsonl\"\npath = \"intel.jsonl\"\nmin_severity = \"critical\"\n",
      "[[feeds]]\nname = \"covert\"\nsource = \"sim/feed.txt\"\n\n");
  kill(daemon_->pid(), SIGHUP);
  std::smatch m;
  ASSERT_TRUE(daemon_->wait_for(std::regex("reloaded .*: 1 feeds, 2 outputs"), m, 20s))
      << daemon_->err();
  EXPECT_EQ(sender.stop(0, 120s), 0) << sender.err();
  static const std::regex sent(R"((\d+) flows over)");
  ASSERT_TRUE(std::regex_search(sender.err(), m, sent)) << sender.err();
  const uint64_t flows = std::stoull(m[1]);
  ASSERT_TRUE(wait_records(flows)) << daemon_->err();
  wait_quiet();
  const std::string metrics = get("/metrics");
  EXPECT_EQ(metric(metrics, "orbwatch_records_total"), static_cast<double>(flows));
  EXPECT_EQ(metric(metrics, "orbwatch_drops_total{place=\"kernel\",reason=\"socket_buffer\"}"), 0);
  EXPECT_GT(metric(metrics, "orbwatch_feed_entries{feed=\"covert\"}"), 0);
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
  // The new feed matched and the new output got the critical alerts, from the new feed.
  const auto intel = lines_of(read_file(dir_ / "intel.jsonl"));
  ASSERT_FALSE(intel.empty());
  bool covert = false;
  for (const auto& l : intel) {
    EXPECT_NE(l.find("\"severity\":\"critical\""), std::string::npos) << l;
    covert |= l.find("\"feed\":\"covert\"") != std::string::npos;
  }
  EXPECT_TRUE(covert);
}

// Real exporters: softflowd metering a capture, and nfreplay replaying nfcapd's files.
TEST_F(RunE2e, SoftflowdAndNfreplayFeedTheDaemon) {
  for (const char* tool : {"softflowd", "nfcapd", "nfreplay"})
    if (!orbwatch::test::have_tool(tool)) GTEST_SKIP() << tool << " not installed";
  // A host that talks to a listed C2 address on tcp/443, through softflowd.
  std::ofstream(dir_ / "c2.txt") << "203.0.113.66\n";
  write_config("[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n",
               "[[feeds]]\nname = \"c2\"\nsource = \"c2.txt\"\n\n");
  start();
  const std::string pcap = (dir_ / "c2.pcap").string();
  {
    orbwatch::test::PcapWriter w(pcap);
    ASSERT_TRUE(w.ok());
    const auto host = orbwatch::test::ipv4_bytes("10.21.0.9");
    const auto c2 = orbwatch::test::ipv4_bytes("203.0.113.66");
    for (int i = 0; i < 5; ++i) {
      const int64_t t = i * 60'000;
      const auto port = static_cast<uint16_t>(50000 + i);
      w.packet(t, false, host.data(), c2.data(), 6, port, 443, 0x02, 0);
      w.packet(t + 20, false, c2.data(), host.data(), 6, 443, port, 0x12, 0);
      w.packet(t + 40, false, host.data(), c2.data(), 6, port, 443, 0x18, 300);
      w.packet(t + 60, false, c2.data(), host.data(), 6, 443, port, 0x18, 900);
      w.packet(t + 80, false, host.data(), c2.data(), 6, port, 443, 0x11, 0);
      w.packet(t + 90, false, c2.data(), host.data(), 6, 443, port, 0x11, 0);
    }
  }
  Child sf({"softflowd", "-r", pcap, "-n", "127.0.0.1:" + std::to_string(udp_port_), "-v", "9",
            "-c", "none", "-a", "-d", "-p", (dir_ / "softflowd.pid").string()});
  ASSERT_EQ(sf.stop(0, 30s), 0) << sf.err();
  ASSERT_TRUE(wait_until(
      [&] { return read_file(dir_ / "alerts.jsonl").find("203.0.113.66") != std::string::npos; },
      30s))
      << daemon_->err();

  // nfcapd files of the simulated traffic, replayed by nfreplay into the daemon.
  const uint16_t nf_port = orbwatch::test::free_udp_port();
  fs::create_directories(dir_ / "nfcapd");
  Child nfcapd({"nfcapd", "-w", (dir_ / "nfcapd").string(), "-p", std::to_string(nf_port), "-b",
                "127.0.0.1"});
  std::smatch m;
  ASSERT_TRUE(nfcapd.wait_for(std::regex("Startup"), m, 10s)) << nfcapd.err();
  std::this_thread::sleep_for(300ms);
  auto r = run_command(kBin +
                       " simulate --seed 7 --hosts 40 --days 0.25 --format v5 --rate 50000 "
                       "--export udp://127.0.0.1:" +
                       std::to_string(nf_port));
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"((\d+) flows over)"))) << r.out;
  const uint64_t sent = std::stoull(m[1]);
  EXPECT_EQ(nfcapd.stop(SIGTERM, 20s), 0) << nfcapd.err();
  const double before = metric(get("/metrics"), "orbwatch_records_total");
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "nfcapd")) {
    if (!e.is_regular_file() || e.path().filename().string().rfind("nfcapd.2", 0) != 0) continue;
    auto replay = run_command("nfreplay -r " + e.path().string() + " -H 127.0.0.1 -p " +
                              std::to_string(udp_port_) + " -v 9 -d 100");
    ASSERT_EQ(replay.rc, 0) << replay.out;
    ++files;
  }
  ASSERT_GT(files, 0u);
  ASSERT_TRUE(wait_until(
      [&] {
        return metric(get("/metrics"), "orbwatch_records_total") >=
               before + static_cast<double>(sent);
      },
      60s))
      << metric(get("/metrics"), "orbwatch_records_total") - before << " of " << sent;
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
}

// What the daemon confirmed, shared: firewall lists (EDL, nftables), a STIX bundle and a MISP
// event that orbwatch's own feed parser reads back, and the TAXII collection its own TAXII
// client polls.
TEST_F(RunE2e, SharesWhatItConfirmedAsListsStixMispAndTaxii) {
  write_config("[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n");
  start();
  // Recent traffic (the last two days), so that what it confirms has not expired yet.
  const auto now = std::chrono::system_clock::now() - std::chrono::hours(49);
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  char start_text[32];
  std::strftime(start_text, sizeof start_text, "%Y-%m-%dT%H:00:00Z", std::gmtime(&t));
  const auto [flows, datagrams] = send(std::string("--start ") + start_text);
  ASSERT_TRUE(wait_records(flows)) << daemon_->err();
  wait_quiet();
  const std::string config = (dir_ / "orbwatch.toml").string();

  // STIX and MISP exports round-trip through orbwatch's feed parser.
  const std::string stix = (dir_ / "confirmed.stix.json").string();
  const std::string misp = (dir_ / "confirmed.misp.json").string();
  auto e = run_command(kBin + " export stix --config " + config + " --out " + stix);
  ASSERT_EQ(e.rc, 0) << e.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(e.out, m, std::regex(R"((\d+) confirmed addresses)"))) << e.out;
  const size_t confirmed = std::stoul(m[1]);
  ASSERT_GT(confirmed, 5u);
  EXPECT_EQ(run_command(kBin + " export misp --config " + config + " --out " + misp).rc, 0);
  for (const auto& [file, format] : {std::pair{stix, "stix"}, std::pair{misp, "misp"}}) {
    auto lint = run_command(kBin + " feeds lint " + file);
    EXPECT_NE(lint.out.find(std::string(format) + " ("), std::string::npos) << lint.out;
    EXPECT_NE(
        lint.out.find(std::to_string(confirmed) + " indicators (" + std::to_string(confirmed) +
                      " addresses/prefixes, 0 domains), 0 errors"),
        std::string::npos)
        << lint.out;
  }
  // Every confirmed address is on the block list, next to the feed's indicators.
  const std::string block = get("/edl/block.txt");
  const std::string bundle = read_file(stix);
  static const std::regex pattern(R"(value = '([0-9.]+)')");
  size_t listed = 0;
  for (auto it = std::sregex_iterator(bundle.begin(), bundle.end(), pattern);
       it != std::sregex_iterator(); ++it, ++listed)
    EXPECT_NE(block.find((*it)[1].str() + "\n"), std::string::npos) << (*it)[1];
  EXPECT_EQ(listed, confirmed);
  for (const auto& line : lines_of(read_file(dir_ / "sim" / "feed.txt"))) {
    if (line[0] != '#') {
      EXPECT_NE(block.find(line), std::string::npos) << line;
    }
  }
  // The firewall's allow-list (the simulated model lets the admins reach it).
  EXPECT_EQ(get("/edl/allow/firewall.txt"), "10.21.0.1\n10.21.0.2\n10.21.0.3\n");
  int status = 0;
  get("/edl/allow/no-such-asset.txt", &status);
  EXPECT_EQ(status, 404);
  // nftables accepts the set file (when nft is installed and may check here).
  const std::string nft = (dir_ / "orbwatch.nft").string();
  ASSERT_EQ(run_command(kBin + " export nft --config " + config + " --out " + nft).rc, 0);
  if (orbwatch::test::have_tool("nft") && run_command("nft -c -f /dev/null").rc == 0) {
    auto check = run_command("nft -c -f " + nft);
    EXPECT_EQ(check.rc, 0) << check.out << read_file(nft).substr(0, 2000);
  }
  // TAXII: orbwatch's own client polls the collection, in pages, and gets every address.
  const std::string get_collections = get("/taxii2/api/collections/");
  ASSERT_TRUE(std::regex_search(get_collections, m, std::regex(R"re("id":"([0-9a-f-]{36})")re")));
  std::ofstream(dir_ / "partner.toml")
      << "[store]\npath = \"partner\"\n[[feeds]]\nname = \"orbwatch-peer\"\nsource = "
         "\"http://127.0.0.1:"
      << http_port_ << "/taxii2/api/collections/" << m[1] << "/\"\nformat = \"taxii\"\n";
  // Paging: one address a page, `next` leads on, the last page says no more.
  const std::string objects = "/taxii2/api/collections/" + m[1].str() + "/objects/";
  const std::string first_page = get(objects + "?limit=1");
  EXPECT_NE(first_page.find("\"more\":true,\"next\":\"1\""), std::string::npos) << first_page;
  const std::string last_page = get(objects + "?limit=1&next=" + std::to_string(confirmed - 1));
  EXPECT_NE(last_page.find("\"more\":false"), std::string::npos) << last_page;
  EXPECT_EQ(std::count(last_page.begin(), last_page.end(), '{'), 4) << last_page;  // + identity
  auto poll = run_command(kBin + " feeds update --config " + (dir_ / "partner.toml").string());
  EXPECT_NE(poll.out.find("updated (" + std::to_string(confirmed) + " indicators"),
            std::string::npos)
      << poll.out;
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
}

// The README's main command: `orbwatch demo` starts the daemon, feeds it the simulator, shows
// alerts as they fire, scores them, and stops cleanly.
TEST(DemoE2e, ShowsDetectionsAndStopsCleanly) {
  auto r = run_command(kBin + " demo --hosts 40 --days 3 --http 127.0.0.1:0 --duration 25");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("the daemon runs on"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(http://127\.0\.0\.1:\d+/api/v1/alerts)")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(  \S+  critical +intel +)"))) << r.out;
  for (const char* scenario : {"intel_hit", "raptor_train_tier1", "segmentation"}) {
    EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string(scenario) + R"( +\(any\) +1/1)")))
        << scenario << "\n"
        << r.out;
  }
  EXPECT_NE(r.out.find("the daemon drained cleanly"), std::string::npos) << r.out;
}

// HTTPS with a bearer token: the API answers only over TLS and only with the token.
TEST_F(RunE2e, HttpsWithTokenRefusesWhatLacksIt) {
  if (!orbwatch::test::have_tool("openssl")) GTEST_SKIP() << "openssl not installed";
  auto cert = run_command(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-keyout " +
      (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string());
  ASSERT_EQ(cert.rc, 0) << cert.out;
  write_config("[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n");
  std::string config = read_file(dir_ / "orbwatch.toml");
  config.replace(config.find("[http]\nlisten = \"127.0.0.1:0\"\n"), 30,
                 "[http]\nlisten = \"127.0.0.1:0\"\ntoken = \"t0ken\"\ntls_cert = \"cert.pem\"\n"
                 "tls_key = \"key.pem\"\n");
  std::ofstream(dir_ / "orbwatch.toml") << config;
  daemon_ = std::make_unique<Child>(
      std::vector<std::string>{kBin, "run", "--config", (dir_ / "orbwatch.toml").string()});
  std::smatch m;
  ASSERT_TRUE(daemon_->wait_for(std::regex(R"(https on 127\.0\.0\.1:(\d+))"), m, 20s))
      << daemon_->err();
  const int port = std::stoi(m[1]);
  httplib::SSLClient tls("127.0.0.1", port);
  tls.enable_server_certificate_verification(false);
  auto no_token = tls.Get("/api/v1/health");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  EXPECT_EQ(no_token->get_header_value("WWW-Authenticate"), "Bearer realm=\"orbwatch\"");
  auto wrong = tls.Get("/metrics", {{"Authorization", "Bearer t0kem"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto ok = tls.Get("/api/v1/health", {{"Authorization", "Bearer t0ken"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("\"status\":\"ok\""), std::string::npos) << ok->body;
  // Plain HTTP gets no answer from a TLS server.
  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(2, 0);
  auto refused = plain.Get("/api/v1/health", {{"Authorization", "Bearer t0ken"}});
  EXPECT_TRUE(!refused || refused->status != 200);
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
}

// Live capture as a source: the daemon meters the TCP connections of its own API on the loopback
// interface into flows, archives them and counts the packets.
TEST_F(RunE2e, LiveCaptureIsMeteredIntoFlows) {
  write_config("[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n");
  std::string config = read_file(dir_ / "orbwatch.toml");
  config.replace(0, config.find("\n\n"),
                 "[collect]\nlisten = [\"udp://127.0.0.1:0\"]\ncapture = [\"lo\"]\n"
                 "capture_filter = \"tcp\"");
  std::ofstream(dir_ / "orbwatch.toml") << config;
  daemon_ = std::make_unique<Child>(
      std::vector<std::string>{kBin, "run", "--config", (dir_ / "orbwatch.toml").string()});
  std::smatch m;
  if (!daemon_->wait_for(std::regex(R"(http on 127\.0\.0\.1:(\d+))"), m, 20s)) {
    if (daemon_->err().find("capture lo:") != std::string::npos)
      GTEST_SKIP() << "no permission to capture here: " << daemon_->err();
    FAIL() << daemon_->err();
  }
  http_port_ = std::stoi(m[1]);
  // Ten API calls, each its own TCP connection.
  for (int i = 0; i < 10; ++i) {
    httplib::Client c("127.0.0.1", http_port_);
    c.set_keep_alive(false);
    ASSERT_TRUE(c.Get("/api/v1/health"));
  }
  ASSERT_TRUE(wait_until(
      [&] { return metric(get("/metrics"), "orbwatch_capture_packets_total") >= 60; }, 20s))
      << get("/metrics");
  // Present and counted; not necessarily 0: the kernel drops loopback packets while the
  // capture thread starts, and other tests share lo.
  EXPECT_GE(metric(get("/metrics"), "orbwatch_drops_total{place=\"capture\",reason=\"kernel\"}"),
            0);
  EXPECT_EQ(daemon_->stop(SIGTERM, 60s), 0) << daemon_->err();
  // At the stop the meter hands on every open flow: the connections are in the archive.
  auto q = run_command(kBin + " query --store " + (dir_ / "data").string() +
                       " --format jsonl 'proto tcp and port " + std::to_string(http_port_) +
                       "' | wc -l");
  EXPECT_GE(std::stoul(q.out), 10u) << q.out;
}

}  // namespace
