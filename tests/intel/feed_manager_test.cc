// FeedManager and IntelUpdater: file feeds, HTTP feeds against a cpp-httplib server the test
// starts on 127.0.0.1 (ephemeral port), TAXII accumulation, the cache, and publication while
// readers hold snapshots. Wall-clock times are passed in (kT0...), never slept for; the only
// real waits are short HTTP timeouts and the updater thread's publication (generous deadlines).
#include "intel/feed_manager.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <unistd.h>
#include "util/http_ready.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/snapshot.h"
#include "intel/intel_updater.h"

namespace orbwatch::intel {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr int64_t kT0 = 1'800'000'000'000;  // 2027-01-15, the tests' wall clock
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 3'600'000;

// A directory of the test's own, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("orbwatch_fm_" + std::to_string(getpid()) + "_" +
                                         info->test_suite_name() + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name), std::ios::binary | std::ios::trunc) << text;
  }

 private:
  fs::path path_;
};

// `n` distinct addresses, one per line (10.0.x.y).
std::string addresses(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + "\n";
  }
  return s;
}

FeedConfig feed(const std::string& name, const std::string& source) {
  FeedConfig f;
  f.name = name;
  f.source = source;
  f.format = FeedFormat::kPlain;
  f.refresh_ms = kHour;
  f.ttl_ms = 30 * 24 * kHour;
  return f;
}

size_t entries(const FeedManager& m) {
  auto feeds = m.feeds();
  return feeds.empty() ? 0 : feeds[0]->parsed.indicators.size();
}

// Polls `done` every few milliseconds for up to 30 s (a loaded machine is slow, never that slow).
bool eventually(const std::function<bool()>& done) {
  const auto deadline = steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(FeedManagerFile, ReadsTheFileAgainOnlyWhenItChanged) {
  TempDir dir;
  dir.write("list.txt", addresses(3));
  FeedManager m({feed("list", dir.file("list.txt"))}, "");
  EXPECT_EQ(m.refresh("list", kT0), RefreshOutcome::kUpdated);
  EXPECT_EQ(entries(m), 3u);
  const LoadedFeed* first = m.feeds()[0].get();
  const uint64_t generation = m.generation();

  EXPECT_EQ(m.refresh("list", kT0 + kMinute), RefreshOutcome::kUnchanged);
  EXPECT_EQ(m.feeds()[0].get(), first);  // not parsed again
  EXPECT_EQ(m.generation(), generation);

  dir.write("list.txt", addresses(12));  // another size: a new version whatever the mtime
  EXPECT_EQ(m.refresh("list", kT0 + 2 * kMinute), RefreshOutcome::kUpdated);
  EXPECT_EQ(entries(m), 12u);
  EXPECT_NE(m.generation(), generation);
  const FeedStatus s = m.status()[0];
  EXPECT_EQ(s.entries, 12u);
  EXPECT_EQ(s.format, "plain");
  EXPECT_EQ(s.bytes, addresses(12).size());
  EXPECT_EQ(s.last_success_ms, kT0 + 2 * kMinute);
  EXPECT_EQ(s.next_attempt_ms, kT0 + 2 * kMinute + kHour);
  EXPECT_TRUE(s.last_error.empty());
}

TEST(FeedManagerFile, RejectsAnUpdateWithTooManyBadLinesAndKeepsTheOldVersion) {
  TempDir dir;
  dir.write("list.txt", addresses(20));
  FeedManager m({feed("list", dir.file("list.txt"))}, "");
  ASSERT_EQ(m.refresh("list", kT0), RefreshOutcome::kUpdated);

  // 2 bad lines of 20: 10 % is not more than max_bad_share 0.1, accepted.
  dir.write("list.txt", addresses(18) + "10.0.0.1/33\nnot an address!\n");
  EXPECT_EQ(m.refresh("list", kT0 + kMinute), RefreshOutcome::kUpdated);
  EXPECT_EQ(entries(m), 18u);

  // 3 bad lines of 20: rejected, the 18 stay live.
  dir.write("list.txt", addresses(17) + "10.0.0.1/33\nnot an address!\n300.1.1.1\n");
  EXPECT_EQ(m.refresh("list", kT0 + 2 * kMinute), RefreshOutcome::kRejected);
  EXPECT_EQ(entries(m), 18u);
  const FeedStatus s = m.status()[0];
  EXPECT_EQ(s.rejected_updates, 1u);
  EXPECT_EQ(s.consecutive_failures, 1u);
  EXPECT_EQ(s.entries, 18u);
  EXPECT_NE(s.last_error.find("update rejected: 3 of 20 lines are bad (more than max_bad_share "
                              "10%); first: line 18"),
            std::string::npos)
      << s.last_error;
}

TEST(FeedManagerFile, RejectsAnEmptyUpdateWhenTheCurrentVersionHasIndicators) {
  TempDir dir;
  dir.write("list.txt", addresses(4));
  FeedManager m({feed("list", dir.file("list.txt"))}, "");
  ASSERT_EQ(m.refresh("list", kT0), RefreshOutcome::kUpdated);
  dir.write("list.txt", "# the list is empty today\n");
  EXPECT_EQ(m.refresh("list", kT0 + kMinute), RefreshOutcome::kRejected);
  EXPECT_EQ(entries(m), 4u);
  EXPECT_EQ(m.status()[0].last_error, "update rejected: no indicators, the current version has 4");
}

TEST(FeedManagerFile, IndicatorsExpireTtlAfterTheSourceLastConfirmedThem) {
  TempDir dir;
  dir.write("list.txt", addresses(2));
  FeedConfig f = feed("list", dir.file("list.txt"));
  f.ttl_ms = 10 * kHour;
  FeedManager m({f}, "");
  ASSERT_EQ(m.refresh("list", kT0), RefreshOutcome::kUpdated);
  auto set = IntelSet::build(m.feeds(), kT0 + kHour);
  EXPECT_EQ(set->size(), 2u);
  EXPECT_EQ(set->next_change_ms(), kT0 + 10 * kHour);
  EXPECT_EQ(IntelSet::build(m.feeds(), kT0 + 10 * kHour)->size(), 0u);

  // The unchanged file confirms the version: its TTL now counts from the confirmation.
  EXPECT_EQ(m.refresh("list", kT0 + 2 * kHour), RefreshOutcome::kUnchanged);
  EXPECT_EQ(m.feeds()[0]->loaded_ms, kT0 + 2 * kHour);
  EXPECT_EQ(IntelSet::build(m.feeds(), kT0 + 11 * kHour)->size(), 2u);

  // Unreadable from then on: the indicators leave TTL after the last confirmation.
  fs::remove(dir.file("list.txt"));
  EXPECT_EQ(m.refresh("list", kT0 + 3 * kHour), RefreshOutcome::kFailed);
  EXPECT_EQ(IntelSet::build(m.feeds(), kT0 + 12 * kHour - 1)->size(), 2u);
  EXPECT_EQ(IntelSet::build(m.feeds(), kT0 + 12 * kHour)->size(), 0u);
}

TEST(FeedManagerFile, StartsFromTheCachedCopyWithItsOriginalReadTime) {
  TempDir dir;
  dir.write("list.txt", addresses(5));
  const FeedConfig f = feed("list", dir.file("list.txt"));
  {
    FeedManager first({f}, dir.file("cache"));
    ASSERT_EQ(first.refresh("list", kT0), RefreshOutcome::kUpdated);
  }
  EXPECT_TRUE(fs::exists(dir.file("cache/list.feed")));
  EXPECT_TRUE(fs::exists(dir.file("cache/list.status.json")));
  fs::remove(dir.file("list.txt"));

  FeedManager restarted({f}, dir.file("cache"));
  ASSERT_EQ(restarted.feeds().size(), 1u);  // live before any refresh
  EXPECT_EQ(restarted.feeds()[0]->loaded_ms, kT0);
  EXPECT_EQ(entries(restarted), 5u);
  EXPECT_TRUE(restarted.status()[0].from_cache);

  EXPECT_EQ(restarted.refresh_due(kT0 + 5 * kHour), 0u);  // due at once, and fails
  const FeedStatus s = restarted.status()[0];
  EXPECT_NE(s.last_error.find("list.txt: No such file or directory"), std::string::npos)
      << s.last_error;
  EXPECT_EQ(restarted.feeds()[0]->loaded_ms, kT0);  // the TTL keeps counting from the real read
  EXPECT_EQ(s.last_success_ms, kT0);

  // The failure was written to the status file too (`orbwatch feeds list` shows it).
  auto cached = FeedCache(dir.file("cache")).read_status(f);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->consecutive_failures, 1u);
  EXPECT_EQ(cached->last_error, s.last_error);
}

TEST(FeedManagerFile, IgnoresACacheOfAnotherSourceOrOfTheWrongSize) {
  TempDir dir;
  dir.write("a.txt", addresses(5));
  {
    FeedManager first({feed("list", dir.file("a.txt"))}, dir.file("cache"));
    ASSERT_EQ(first.refresh("list", kT0), RefreshOutcome::kUpdated);
  }
  FeedManager other({feed("list", dir.file("b.txt"))}, dir.file("cache"));
  EXPECT_TRUE(other.feeds().empty());
  EXPECT_EQ(other.status()[0].last_success_ms, 0);

  // A copy that does not have the size its status says (a crash between the two writes).
  dir.write("cache/list.feed", addresses(2));
  FeedManager torn({feed("list", dir.file("a.txt"))}, dir.file("cache"));
  EXPECT_TRUE(torn.feeds().empty());
  EXPECT_EQ(torn.status()[0].entries, 0u);
}

TEST(FeedManagerFile, FailuresBackOffUpToTheRefreshInterval) {
  TempDir dir;
  FeedConfig f = feed("gone", dir.file("missing.txt"));
  f.refresh_ms = 5 * kMinute;
  FeedManager m({f}, "");
  EXPECT_EQ(m.next_due_ms(), 0);
  m.refresh_due(kT0);
  EXPECT_EQ(m.next_due_ms(), kT0 + kMinute);
  EXPECT_EQ(m.refresh_due(kT0 + kMinute - 1), 0u);  // not due: not attempted
  EXPECT_EQ(m.status()[0].last_attempt_ms, kT0);
  m.refresh_due(kT0 + kMinute);
  EXPECT_EQ(m.next_due_ms(), kT0 + 3 * kMinute);  // 2 minutes after the second failure
  m.refresh_due(kT0 + 3 * kMinute);
  EXPECT_EQ(m.next_due_ms(), kT0 + 7 * kMinute);  // 4 minutes
  m.refresh_due(kT0 + 7 * kMinute);
  EXPECT_EQ(m.next_due_ms(), kT0 + 12 * kMinute);  // capped at refresh (5 minutes)
  EXPECT_EQ(m.status()[0].consecutive_failures, 4u);
}

TEST(FeedManagerFile, DisabledAndUnknownFeedsAreNotRead) {
  TempDir dir;
  dir.write("list.txt", addresses(2));
  FeedConfig f = feed("off", dir.file("list.txt"));
  f.enabled = false;
  FeedManager m({f}, "");
  EXPECT_EQ(m.refresh("off", kT0), RefreshOutcome::kDisabled);
  EXPECT_EQ(m.refresh("nope", kT0), RefreshOutcome::kUnknown);
  EXPECT_EQ(m.refresh_due(kT0), 0u);
  EXPECT_TRUE(m.feeds().empty());
  EXPECT_EQ(m.next_due_ms(), INT64_MAX);
}

// A feed server on 127.0.0.1 with an ephemeral port: /feed.txt answers conditional GETs (ETag
// and Last-Modified); /error, /hang, /big, /moved and /away misbehave in one way each.
class FeedManagerHttp : public testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/feed.txt", [this](const httplib::Request& r, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      requests_.push_back(r.headers);
      if (!token_.empty() && r.get_header_value("Authorization") != "Bearer " + token_) {
        res.status = 401;
      } else if (r.get_header_value("If-None-Match") == etag_) {
        res.status = 304;
      } else {
        res.set_header("ETag", etag_);
        res.set_header("Last-Modified", last_modified_);
        res.set_content(body_, "text/plain");
      }
    });
    server_.Get("/error", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_header("Retry-After", "600");
    });
    auto hang = [this](const httplib::Request&, httplib::Response& res) {
      hanging_ = true;
      for (int i = 0; i < 1000 && !release_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      res.set_content(addresses(1), "text/plain");
    };
    server_.Get("/hang", hang);
    server_.Get("/hang/objects/", hang);  // a TAXII collection that never answers
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(addresses(1) + std::string(2u << 20, '#'), "text/plain");
    });
    server_.Get("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/feed.txt");
    });
    server_.Get("/away", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("http://127.0.0.1:" + std::to_string(other_port_) + "/feed.txt");
    });
    other_.Get("/feed.txt", [this](const httplib::Request& r, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      other_auth_ = r.get_header_value("Authorization");
      res.set_content(addresses(7), "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    other_port_ = other_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    ASSERT_GT(other_port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    other_thread_ = std::thread([this] { other_.listen_after_bind(); });
    test::wait_until_listening(server_);
    test::wait_until_listening(other_);
  }
  void TearDown() override {
    stop_server();
    other_.stop();
    other_thread_.join();
  }
  void stop_server() {
    release_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  FeedConfig http_feed(const std::string& path) const {
    FeedConfig f = feed("web", url(path));
    f.timeout_ms = 300;  // short: the hanging server's test stays fast
    return f;
  }
  void serve(std::string body, std::string etag) {
    std::lock_guard lock(mutex_);
    body_ = std::move(body);
    etag_ = std::move(etag);
    last_modified_ = "Fri, 15 Jan 2027 08:00:00 GMT";
  }
  httplib::Headers last_request() {
    std::lock_guard lock(mutex_);
    return requests_.empty() ? httplib::Headers{} : requests_.back();
  }
  static std::string header(const httplib::Headers& h, const std::string& name) {
    auto it = h.find(name);
    return it == h.end() ? std::string("(none)") : it->second;
  }

  httplib::Server server_, other_;
  std::thread thread_, other_thread_;
  int port_ = 0, other_port_ = 0;
  std::atomic<bool> hanging_{false}, release_{false};
  std::mutex mutex_;
  std::string body_, etag_, last_modified_, token_, other_auth_ = "(none)";
  std::vector<httplib::Headers> requests_;
};

TEST_F(FeedManagerHttp, ConditionalGetAnswered304KeepsTheVersionWithoutParsing) {
  serve(addresses(6), "\"v1\"");
  FeedManager m({http_feed("/feed.txt")}, "");
  ASSERT_EQ(m.refresh("web", kT0), RefreshOutcome::kUpdated) << m.status()[0].last_error;
  EXPECT_EQ(entries(m), 6u);
  httplib::Headers first = last_request();
  EXPECT_EQ(header(first, "If-None-Match"), "(none)");
  EXPECT_EQ(header(first, "User-Agent").rfind("orbwatch/", 0), 0u);
  EXPECT_EQ(m.status()[0].etag, "\"v1\"");
  const LoadedFeed* version = m.feeds()[0].get();
  const uint64_t generation = m.generation();

  EXPECT_EQ(m.refresh("web", kT0 + kMinute), RefreshOutcome::kUnchanged);
  httplib::Headers second = last_request();
  EXPECT_EQ(header(second, "If-None-Match"), "\"v1\"");
  EXPECT_EQ(header(second, "If-Modified-Since"), "Fri, 15 Jan 2027 08:00:00 GMT");
  EXPECT_EQ(m.feeds()[0].get(), version);  // the 304 was not parsed into a new version
  EXPECT_EQ(m.generation(), generation);
  EXPECT_EQ(m.status()[0].last_success_ms, kT0 + kMinute);

  serve(addresses(9), "\"v2\"");
  EXPECT_EQ(m.refresh("web", kT0 + 2 * kMinute), RefreshOutcome::kUpdated);
  EXPECT_EQ(entries(m), 9u);
  EXPECT_EQ(m.status()[0].etag, "\"v2\"");
}

TEST_F(FeedManagerHttp, ServerErrorKeepsTheVersionAndHonoursRetryAfter) {
  serve(addresses(3), "\"v1\"");
  FeedConfig f = http_feed("/feed.txt");
  FeedManager m({f}, "");
  ASSERT_EQ(m.refresh("web", kT0), RefreshOutcome::kUpdated);
  FeedManager failing({http_feed("/error")}, "");
  EXPECT_EQ(failing.refresh("web", kT0), RefreshOutcome::kFailed);
  const FeedStatus s = failing.status()[0];
  EXPECT_EQ(s.last_error, url("/error") + ": HTTP 503");
  EXPECT_EQ(s.next_attempt_ms, kT0 + 600'000);  // Retry-After, longer than the first backoff
  EXPECT_TRUE(failing.feeds().empty());
  EXPECT_EQ(entries(m), 3u);
}

TEST_F(FeedManagerHttp, HangingServerTimesOut) {
  FeedManager m({http_feed("/hang")}, "");
  const auto start = steady_clock::now();
  EXPECT_EQ(m.refresh("web", kT0), RefreshOutcome::kFailed);
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(8));  // 300 ms, not 10 s
  EXPECT_NE(m.status()[0].last_error.find("no answer within 300 ms"), std::string::npos)
      << m.status()[0].last_error;
}

TEST_F(FeedManagerHttp, OversizedBodyIsCappedAndFails) {
  FeedConfig f = http_feed("/big");
  f.max_bytes = 1u << 20;
  FeedManager m({f}, "");
  EXPECT_EQ(m.refresh("web", kT0), RefreshOutcome::kFailed);
  EXPECT_EQ(m.status()[0].last_error, url("/big") + ": larger than 1048576 bytes (max_bytes)");
}

TEST_F(FeedManagerHttp, FollowsRedirectsAndSendsTheTokenOnlyToTheSource) {
  serve(addresses(4), "\"v1\"");
  token_ = "t0k";
  FeedConfig moved = http_feed("/moved");
  moved.bearer_token = "t0k";
  FeedManager m({moved}, "");
  EXPECT_EQ(m.refresh("web", kT0), RefreshOutcome::kUpdated) << m.status()[0].last_error;
  EXPECT_EQ(entries(m), 4u);

  FeedConfig away = http_feed("/away");
  away.bearer_token = "t0k";
  FeedManager elsewhere({away}, "");
  EXPECT_EQ(elsewhere.refresh("web", kT0), RefreshOutcome::kUpdated);
  EXPECT_EQ(entries(elsewhere), 7u);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(other_auth_, "");  // another server: the token was not handed over
}

TEST_F(FeedManagerHttp, ServerDownAtStartUpUsesTheCachedCopyWithItsReadTime) {
  TempDir dir;
  serve(addresses(8), "\"v1\"");
  const FeedConfig f = http_feed("/feed.txt");
  {
    FeedManager first({f}, dir.file("cache"));
    ASSERT_EQ(first.refresh("web", kT0), RefreshOutcome::kUpdated);
  }
  stop_server();
  FeedManager restarted({f}, dir.file("cache"));
  EXPECT_EQ(restarted.refresh("web", kT0 + 6 * kHour), RefreshOutcome::kFailed);
  ASSERT_EQ(restarted.feeds().size(), 1u);
  EXPECT_EQ(entries(restarted), 8u);
  EXPECT_EQ(restarted.feeds()[0]->loaded_ms, kT0);
  EXPECT_NE(restarted.status()[0].last_error.find("cannot connect"), std::string::npos)
      << restarted.status()[0].last_error;
  // The TTL counts from the fetch at kT0, not from the restart.
  EXPECT_EQ(IntelSet::build(restarted.feeds(), kT0 + f.ttl_ms)->size(), 0u);
}

TEST_F(FeedManagerHttp, UpdaterStopAbortsAHangingDownloadOrTaxiiPoll) {
  for (bool taxii : {false, true}) {
    hanging_ = false;
    FeedConfig f = http_feed(taxii ? "/hang/" : "/hang");
    f.taxii = taxii;
    f.timeout_ms = 60'000;
    FeedManager m({f}, "");
    SnapshotHolder<IntelSet> holder(IntelSet::empty());
    IntelUpdater updater(m, holder);
    updater.start();
    ASSERT_TRUE(eventually([&] { return hanging_.load(); }));
    const auto start = steady_clock::now();
    updater.stop();
    EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5)) << taxii;  // not 60 s
    EXPECT_EQ(m.status()[0].consecutive_failures, 1u) << taxii;
  }
}

// A STIX indicator object for `ip`.
std::string stix_indicator(const std::string& ip, int n) {
  return R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000)" +
         std::to_string(10 + n) + R"(","pattern":"[ipv4-addr:value = ')" + ip +
         R"(']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
}

TEST_F(FeedManagerHttp, TaxiiPollsAccumulateAndEachIndicatorAgesOnItsOwn) {
  std::atomic<int> polls{0};
  std::string added_after;
  server_.Get("/taxii/c1/objects/", [&](const httplib::Request& r, httplib::Response& res) {
    {
      std::lock_guard lock(mutex_);
      added_after = r.get_param_value("added_after");
    }
    std::string objects;
    const int poll = polls++;
    if (poll == 0) objects = stix_indicator("192.0.2.1", 1) + "," + stix_indicator("192.0.2.2", 2);
    if (poll == 1) objects = stix_indicator("192.0.2.3", 3);
    res.set_header("X-TAXII-Date-Added-Last", "2027-01-15T08:0" + std::to_string(poll) + ":00Z");
    res.set_content("{\"more\":false,\"objects\":[" + objects + "]}",
                    "application/taxii+json;version=2.1");
  });
  TempDir dir;
  FeedConfig f = http_feed("/taxii/c1/");
  f.taxii = true;
  f.format = FeedFormat::kStix;
  f.timeout_ms = 5000;
  f.ttl_ms = kHour;
  FeedManager m({f}, dir.file("cache"));
  ASSERT_EQ(m.refresh("web", kT0), RefreshOutcome::kUpdated) << m.status()[0].last_error;
  EXPECT_EQ(entries(m), 2u);
  ASSERT_EQ(m.refresh("web", kT0 + 30 * kMinute), RefreshOutcome::kUpdated);
  EXPECT_EQ(entries(m), 3u);
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(added_after, "2027-01-15T08:00:00Z");
  }
  EXPECT_EQ(m.refresh("web", kT0 + 40 * kMinute), RefreshOutcome::kUnchanged);
  EXPECT_EQ(m.status()[0].taxii_added_after, "2027-01-15T08:02:00Z");

  // The first two arrived at kT0, the third 30 minutes later: each lives its TTL from arrival.
  EXPECT_EQ(IntelSet::build(m.feeds(), kT0 + kHour - 1)->size(), 3u);
  auto later = IntelSet::build(m.feeds(), kT0 + kHour);
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ(later->indicator(0).prefix.to_string(), "192.0.2.3/32");

  // The accumulated set survives a restart through the cache (STIX JSON lines).
  stop_server();
  FeedManager restarted({f}, dir.file("cache"));
  ASSERT_EQ(entries(restarted), 3u);
  EXPECT_EQ(IntelSet::build(restarted.feeds(), kT0 + kHour)->size(), 1u);
  EXPECT_EQ(restarted.feeds()[0]->parsed.indicators[0].ref,
            "indicator--00000000-0000-4000-8000-000000000013");
}

TEST(IntelUpdater, PublishesNewSetsWhileReadersLoadSnapshots) {
  TempDir dir;
  dir.write("list.txt", addresses(3));
  FeedManager m({feed("list", dir.file("list.txt"))}, "");
  SnapshotHolder<IntelSet> holder(IntelSet::empty());
  std::atomic<int64_t> clock{kT0};
  IntelUpdater updater(m, holder, [&] { return clock.load(); });

  std::atomic<bool> done{false};
  std::atomic<uint64_t> loads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        auto set = holder.load();
        // A snapshot is whole: one version or the other, every indicator found by its table.
        const size_t n = set->size();
        EXPECT_TRUE(n == 0 || n == 3 || n == 250) << n;
        for (uint32_t id = 0; id < n; ++id) {
          EXPECT_FALSE(set->prefixes().lookup(set->indicator(id).prefix.addr).empty());
        }
        ++loads;
      }
    });
  }
  updater.start();
  EXPECT_TRUE(eventually([&] { return holder.load()->size() == 3; }));
  dir.write("list.txt", addresses(250));
  clock += kHour;  // the feed is due again
  updater.wake();
  EXPECT_TRUE(eventually([&] { return holder.load()->size() == 250; }));
  EXPECT_TRUE(eventually([&] { return loads.load() > 10; }));
  done = true;
  for (auto& t : readers) t.join();

  const auto start = steady_clock::now();
  updater.stop();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_GE(updater.published(), 2u);
}

TEST(IntelUpdater, RebuildsWhenIndicatorsExpire) {
  TempDir dir;
  dir.write("list.txt", addresses(2));
  FeedConfig f = feed("list", dir.file("list.txt"));
  f.ttl_ms = 2 * kHour;
  f.refresh_ms = 24 * kHour;
  FeedManager m({f}, "");
  SnapshotHolder<IntelSet> holder(IntelSet::empty());
  int64_t now = kT0;
  IntelUpdater updater(m, holder, [&] { return now; });
  EXPECT_TRUE(updater.step());
  EXPECT_EQ(holder.load()->size(), 2u);
  now = kT0 + kHour;
  EXPECT_FALSE(updater.step());  // nothing due, nothing expired
  fs::remove(dir.file("list.txt"));
  now = kT0 + 2 * kHour;
  EXPECT_TRUE(updater.step());  // expired: a new, empty set
  EXPECT_EQ(holder.load()->size(), 0u);
}

}  // namespace
}  // namespace orbwatch::intel
