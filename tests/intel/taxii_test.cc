// poll_taxii against a small TAXII 2.1 server that the test starts on 127.0.0.1.
#include "intel/taxii.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "util/http_ready.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace orbwatch::intel {
namespace {

// A STIX indicator for `ip` as one JSON object.
std::string indicator(const std::string& ip, int n) {
  return R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-)" +
         std::string(12 - std::to_string(n).size(), '0') + std::to_string(n) +
         R"(","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z",)"
         R"("pattern":"[ipv4-addr:value = ')" +
         ip + R"(']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
}

std::string envelope(const std::vector<std::string>& objects, bool more, const std::string& next) {
  std::string s = "{\"more\":" + std::string(more ? "true" : "false");
  if (!next.empty()) s += ",\"next\":\"" + next + "\"";
  s += ",\"objects\":[";
  for (size_t i = 0; i < objects.size(); ++i) s += (i ? "," : "") + objects[i];
  return s + "]}";
}

class TaxiiServer : public testing::Test {
 protected:
  void SetUp() override {
    const std::string objects = "/api1/collections/c1/objects/";
    server_.Get(objects, [this](const httplib::Request& r, httplib::Response& res) {
      accept_ = r.get_header_value("Accept");
      added_after_ = r.get_param_value("added_after");
      auth_ = r.get_header_value("Authorization");
      const std::string next = r.get_param_value("next");
      if (next.empty()) {
        res.set_content(
            envelope({indicator("192.0.2.1", 1), indicator("192.0.2.2", 2)}, true, "page2"),
            "application/taxii+json;version=2.1");
        res.set_header("X-TAXII-Date-Added-Last", "2024-01-01T00:00:01.000Z");
      } else if (next == "page2") {
        res.set_content(envelope({indicator("198.51.100.7", 3)}, false, ""),
                        "application/taxii+json;version=2.1");
        res.set_header("X-TAXII-Date-Added-Last", "2024-01-02T00:00:00.000Z");
      } else {
        res.status = 400;
      }
    });
    server_.Get("/api1/collections/error/objects/",
                [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
    server_.Get("/api1/collections/endless/objects/", [](const httplib::Request& r,
                                                         httplib::Response& res) {
      std::string n = r.get_param_value("next");
      int page = n.empty() ? 0 : std::stoi(n);
      res.set_content(envelope({indicator("203.0.113.9", page)}, true, std::to_string(page + 1)),
                      "application/taxii+json;version=2.1");
    });
    server_.Get("/api1/collections/hang/objects/",
                [this](const httplib::Request&, httplib::Response& res) {
                  for (int i = 0; i < 40 && !stopping_; ++i) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                  }
                  res.set_content(envelope({}, false, ""), "application/json");
                });
    server_.Get("/api1/collections/garbage/objects/",
                [](const httplib::Request&, httplib::Response& res) {
                  res.set_content("<html>login</html>", "text/html");
                });
    server_.Get(
        "/api1/collections/big/objects/", [](const httplib::Request&, httplib::Response& res) {
          res.set_content(std::string(2 << 20, ' ') + envelope({}, false, ""), "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    test::wait_until_listening(server_);
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    stopping_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  TaxiiRequest request(const std::string& collection) {
    TaxiiRequest r;
    r.collection_url =
        "http://127.0.0.1:" + std::to_string(port_) + "/api1/collections/" + collection;
    r.timeout_s = 5;
    return r;
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::string accept_, added_after_, auth_;
};

TEST_F(TaxiiServer, FollowsPaginationAndKeepsTheNextAddedAfter) {
  TaxiiRequest r = request("c1/");
  r.added_after = "2023-12-31T00:00:00Z";
  r.bearer_token = "s3cret";
  TaxiiPoll p = poll_taxii(r);
  EXPECT_TRUE(p.error.empty()) << p.error;
  EXPECT_TRUE(p.complete);
  EXPECT_EQ(p.pages, 2u);
  ASSERT_EQ(p.feed.indicators.size(), 3u);
  EXPECT_EQ(p.feed.indicators[2].prefix.to_string(), "198.51.100.7/32");
  EXPECT_EQ(p.added_last, "2024-01-02T00:00:00.000Z");
  EXPECT_EQ(accept_, "application/taxii+json;version=2.1");
  EXPECT_EQ(added_after_, "2023-12-31T00:00:00Z");
  EXPECT_EQ(auth_, "Bearer s3cret");
}

TEST_F(TaxiiServer, ServerErrorsAreReportedWithThePage) {
  TaxiiPoll p = poll_taxii(request("error"));
  EXPECT_FALSE(p.complete);
  EXPECT_NE(p.error.find("page 1"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("HTTP 503"), std::string::npos) << p.error;
}

TEST_F(TaxiiServer, EndlessPaginationStopsAtThePageLimitKeepingWhatCame) {
  TaxiiRequest r = request("endless");
  r.max_pages = 5;
  TaxiiPoll p = poll_taxii(r);
  EXPECT_FALSE(p.complete);
  EXPECT_EQ(p.pages, 5u);
  EXPECT_EQ(p.feed.indicators.size(), 5u);
  EXPECT_NE(p.error.find("max_pages"), std::string::npos) << p.error;
}

TEST_F(TaxiiServer, AHangingServerTimesOut) {
  TaxiiRequest r = request("hang");
  r.timeout_s = 1;
  auto start = std::chrono::steady_clock::now();
  TaxiiPoll p = poll_taxii(r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(p.complete);
  EXPECT_FALSE(p.error.empty());
}

TEST_F(TaxiiServer, NonJsonAndOversizedAnswersAreRefused) {
  TaxiiPoll g = poll_taxii(request("garbage"));
  EXPECT_NE(g.error.find("not JSON"), std::string::npos) << g.error;
  TaxiiRequest r = request("big");
  r.max_bytes = 1 << 20;
  TaxiiPoll b = poll_taxii(r);
  EXPECT_NE(b.error.find("max_bytes"), std::string::npos) << b.error;
}

TEST(Taxii, BadUrlsAreRefusedWithoutANetworkCall) {
  for (const char* u : {"", "ftp://x/", "127.0.0.1/collections/c1", "http:///x"}) {
    TaxiiRequest r;
    r.collection_url = u;
    EXPECT_NE(poll_taxii(r).error.find("invalid TAXII collection URL"), std::string::npos) << u;
  }
}

}  // namespace
}  // namespace orbwatch::intel
