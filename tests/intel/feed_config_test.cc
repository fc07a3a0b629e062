// The [[feeds]] / [intel] tables of the TOML config: values, defaults, and errors that name the
// file, line and key.
#include "intel/feed_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orbwatch::intel {
namespace {

struct Loaded {
  std::optional<IntelConfig> config;
  std::vector<std::string> errors;
};

Loaded parse(const std::string& text, const std::string& path = "/etc/orbwatch/orbwatch.toml") {
  Loaded l;
  l.config = parse_intel_config(text, path, l.errors);
  return l;
}

// The errors of a config that must fail, as one string for the failure message.
std::string errors_of(const std::string& text) {
  Loaded l = parse(text, "orbwatch.toml");
  EXPECT_FALSE(l.config.has_value());
  std::string all;
  for (const auto& e : l.errors) all += e + "\n";
  return all;
}

TEST(FeedConfig, ReadsEveryKeyAndResolvesPathsAgainstTheConfigDirectory) {
  Loaded l = parse(R"(
[network]
internal = ["10.0.0.0/8"]     # other modules' tables are not looked at

[[outputs]]
kind = "jsonl"

[[feeds]]
name = "drop"
source = "https://www.spamhaus.org/drop/drop.txt"
format = "drop"
refresh = "1h30m"
ttl = "7d"
severity = "critical"
enabled = false
max_bad_share = 0.25
bearer_token = "t0k"
headers = { "Auth-Key" = "k3y" }
timeout = "5s"
max_bytes = 1048576

[[feeds]]
name = "local.list"
source = "feeds/covert.txt"

[[feeds]]
name = "collection"
source = "http://taxii.example/api1/collections/c1/"
format = "taxii"
max_bad_share = 0
)");
  ASSERT_TRUE(l.config) << l.errors[0];
  const auto& feeds = l.config->feeds;
  ASSERT_EQ(feeds.size(), 3u);
  const FeedConfig& d = feeds[0];
  EXPECT_EQ(d.name, "drop");
  EXPECT_EQ(d.source, "https://www.spamhaus.org/drop/drop.txt");
  EXPECT_EQ(d.format, FeedFormat::kDrop);
  EXPECT_EQ(d.refresh_ms, 5'400'000);
  EXPECT_EQ(d.ttl_ms, 7 * 86'400'000LL);
  EXPECT_EQ(d.severity, Severity::kCritical);
  EXPECT_FALSE(d.enabled);
  EXPECT_DOUBLE_EQ(d.max_bad_share, 0.25);
  EXPECT_EQ(d.bearer_token, "t0k");
  ASSERT_EQ(d.headers.size(), 1u);
  EXPECT_EQ(d.headers[0].first, "Auth-Key");
  EXPECT_EQ(d.headers[0].second, "k3y");
  EXPECT_EQ(d.timeout_ms, 5000);
  EXPECT_EQ(d.max_bytes, 1048576u);
  EXPECT_EQ(d.config_line, 8u);

  const FeedConfig& local = feeds[1];  // defaults
  EXPECT_EQ(local.source, "/etc/orbwatch/feeds/covert.txt");
  EXPECT_EQ(local.format, FeedFormat::kAuto);
  EXPECT_EQ(local.refresh_ms, 3'600'000);
  EXPECT_EQ(local.ttl_ms, 30 * 86'400'000LL);
  EXPECT_EQ(local.severity, Severity::kHigh);
  EXPECT_TRUE(local.enabled);
  EXPECT_DOUBLE_EQ(local.max_bad_share, 0.1);
  EXPECT_FALSE(local.taxii);

  EXPECT_TRUE(feeds[2].taxii);
  EXPECT_EQ(feeds[2].format, FeedFormat::kStix);
  EXPECT_STREQ(config_format_name(feeds[2]), "taxii");
  EXPECT_DOUBLE_EQ(feeds[2].max_bad_share, 0.0);
  EXPECT_TRUE(l.config->cache_dir.empty());  // neither [intel] cache_dir nor [store] path
}

TEST(FeedConfig, CacheDirDefaultsBesideTheStoreAndCanBeSet) {
  Loaded store = parse("[store]\npath = \"/var/lib/orbwatch\"\n");
  ASSERT_TRUE(store.config);
  EXPECT_EQ(store.config->cache_dir, "/var/lib/orbwatch/feeds");
  EXPECT_TRUE(store.config->feeds.empty());

  Loaded relative = parse("[store]\npath = \"state\"\n[intel]\ncache_dir = \"cache/feeds\"\n");
  ASSERT_TRUE(relative.config);
  EXPECT_EQ(relative.config->cache_dir, "/etc/orbwatch/cache/feeds");
}

TEST(FeedConfig, ErrorNamesFileLineKeyExpectationAndValue) {
  EXPECT_EQ(errors_of(R"([[feeds]]
name = "a"
source = "a.txt"

[[feeds]]
name = "b"
source = "b.txt"
refresh = "soon"
)"),
            "orbwatch.toml:8: feeds[2].refresh: expected a duration like \"15m\", got \"soon\"\n");
}

TEST(FeedConfig, EveryBadValueIsReported) {
  std::string e = errors_of(R"([[feeds]]
name = "../etc"
source = "ftp://example.com/x"
format = "xml"
ttl = "0s"
severity = "urgent"
enabled = "yes"
max_bad_share = 2
timeout = 30
max_bytes = -1
headers = { "Bad Header" = "x" }
)");
  EXPECT_NE(e.find("orbwatch.toml:2: feeds[1].name: expected a name of letters"), std::string::npos)
      << e;
  EXPECT_NE(e.find(":3: feeds[1].source: expected a file path or an http:// or https:// URL, "
                   "got \"ftp://example.com/x\""),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":4: feeds[1].format: expected one of auto, plain,"), std::string::npos) << e;
  EXPECT_NE(e.find(":5: feeds[1].ttl: expected at least 1s, got \"0s\""), std::string::npos) << e;
  EXPECT_NE(e.find(":6: feeds[1].severity: expected one of low, medium, high, critical"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":7: feeds[1].enabled: expected true or false, got \"yes\""), std::string::npos)
      << e;
  EXPECT_NE(e.find(":8: feeds[1].max_bad_share: expected a number from 0 to 1 like 0.1, got 2"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":9: feeds[1].timeout: expected a duration like \"30s\", got 30"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":10: feeds[1].max_bytes: expected a positive number of bytes"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":11: feeds[1].headers: expected a table of header names"), std::string::npos)
      << e;
}

TEST(FeedConfig, UnknownMissingAndDuplicateKeysAreErrors) {
  std::string e = errors_of(R"([[feeds]]
name = "a"
source = "a.txt"
refesh = "1h"

[[feeds]]
source = "b.txt"

[[feeds]]
name = "a"
source = "c.txt"
)");
  EXPECT_NE(e.find("orbwatch.toml:4: feeds[1].refesh: unknown key (expected one of name, source, "
                   "format, refresh,"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("orbwatch.toml:6: feeds[2].name: missing"), std::string::npos) << e;
  EXPECT_NE(
      e.find("orbwatch.toml:10: feeds[3].name: \"a\" is already the name of the feed on line 1"),
      std::string::npos)
      << e;
}

TEST(FeedConfig, SourceKindDecidesWhichKeysMakeSense) {
  std::string e = errors_of(R"([[feeds]]
name = "t"
source = "feeds/bundle.json"
format = "taxii"

[[feeds]]
name = "f"
source = "list.txt"
bearer_token = "x"

[[feeds]]
name = "h"
source = "https://taxii.example/c/"
format = "taxii"
headers = { "X-Key" = "v" }
)");
  EXPECT_NE(e.find(":3: feeds[1].source: format \"taxii\" expected an http:// or https:// "
                   "collection URL"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":9: feeds[2].bearer_token: only for http:// and https:// sources"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(":15: feeds[3].headers: not supported for taxii feeds"), std::string::npos) << e;
}

TEST(FeedConfig, TomlSyntaxAndShapeErrors) {
  std::string syntax = errors_of("[[feeds]]\nname = \"a\"\nsource = \n");
  EXPECT_EQ(syntax.rfind("orbwatch.toml:3: ", 0), 0u) << syntax;

  EXPECT_NE(
      errors_of("feeds = \"all\"\n").find("orbwatch.toml:1: feeds: expected [[feeds]] tables"),
      std::string::npos);
  EXPECT_NE(errors_of("[intel]\ncache = \"x\"\n")
                .find("orbwatch.toml:2: intel.cache: unknown key (expected cache_dir)"),
            std::string::npos);
  EXPECT_NE(errors_of("intel = 3\n").find("orbwatch.toml:1: intel: expected a table, got 3"),
            std::string::npos);
}

TEST(FeedConfig, MissingFileIsAnError) {
  std::vector<std::string> errors;
  EXPECT_FALSE(load_intel_config("/nonexistent/orbwatch.toml", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "/nonexistent/orbwatch.toml: cannot open the config file");
}

}  // namespace
}  // namespace orbwatch::intel
