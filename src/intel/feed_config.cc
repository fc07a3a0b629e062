// The `[[feeds]]` and `[intel]` tables of the TOML config file. This is the only file that
// includes toml++ (slow to compile); everything else sees FeedConfig / IntelConfig.
#include "intel/feed_config.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>

#include <toml++/toml.h>

#include "core/time.h"
#include "intel/toml_support.h"

namespace orbwatch::intel {

const char* config_format_name(const FeedConfig& feed) {
  return feed.taxii ? "taxii" : feed_format_name(feed.format);
}

bool is_url(std::string_view source) {
  return source.starts_with("http://") || source.starts_with("https://");
}

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxNameBytes = 64;

// The directory relative paths in the file are relative to: the file's own, made absolute so a
// feed's source reads the same whatever directory orbwatch runs in (the cache compares it).
fs::path absolute_dir(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  return ec ? fs::path(path).parent_path() : abs.parent_path();
}

// Each setter reads one key into the FeedConfig, or says what it expected.
using Setter = bool (*)(const toml::node&, FeedConfig&, std::string& expected);

bool valid_name(std::string_view s) {
  // The name is also the cache file's name: no path separators, no leading dot.
  if (s.empty() || s.size() > kMaxNameBytes || s[0] == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool set_name(const toml::node& n, FeedConfig& f, std::string& expected) {
  expected = "a name of letters, digits, '.', '_' and '-' (at most 64, not starting with '.')";
  auto v = n.value<std::string>();
  if (!v || !valid_name(*v)) return false;
  f.name = *v;
  return true;
}

bool set_source(const toml::node& n, FeedConfig& f, std::string& expected) {
  expected = "a file path or an http:// or https:// URL";
  auto v = n.value<std::string>();
  if (!v || v->empty() || (v->find("://") != std::string::npos && !is_url(*v))) return false;
  f.source = *v;
  return true;
}

bool set_format(const toml::node& n, FeedConfig& f, std::string& expected) {
  expected = "one of auto, plain, drop, drop-json, firehol, csv, stix, misp, advisory, taxii";
  auto v = n.value<std::string>();
  if (!v) return false;
  f.taxii = *v == "taxii";
  if (f.taxii) {
    f.format = FeedFormat::kStix;
    return true;
  }
  return parse_feed_format(*v, f.format);
}

bool read_duration(const toml::node& n, int64_t min_ms, const char* example, int64_t& out,
                   std::string& expected) {
  expected = std::string("a duration like \"") + example + "\"";
  auto v = n.value<std::string>();
  if (!v) return false;
  auto ms = parse_duration_ms(*v);
  if (!ms) return false;
  if (*ms < min_ms) {
    expected = "at least " + format_duration_ms(min_ms);
    return false;
  }
  out = *ms;
  return true;
}

bool set_refresh(const toml::node& n, FeedConfig& f, std::string& expected) {
  return read_duration(n, 1000, "15m", f.refresh_ms, expected);
}

bool set_ttl(const toml::node& n, FeedConfig& f, std::string& expected) {
  return read_duration(n, 1000, "30d", f.ttl_ms, expected);
}

bool set_timeout(const toml::node& n, FeedConfig& f, std::string& expected) {
  if (!read_duration(n, 1, "30s", f.timeout_ms, expected)) return false;
  expected = "at most 1h";
  return f.timeout_ms <= 3'600'000;
}

bool set_severity(const toml::node& n, FeedConfig& f, std::string& expected) {
  expected = "one of low, medium, high, critical";
  auto v = n.value<std::string>();
  auto s = v ? parse_severity(*v) : std::nullopt;
  if (!s) return false;
  f.severity = *s;
  return true;
}

bool set_enabled(const toml::node& n, FeedConfig& f, std::string& expected) {
  expected = "true or false";
  auto v = n.value_exact<bool>();
  if (!v) return false;
  f.enabled = *v;
  return true;
}

bool set_max_bad_share(const toml::node& n, FeedConfig& f, std::string& expected) {
  expected = "a number from 0 to 1 like 0.1";
  if (!n.is_number()) return false;
  auto v = n.value<double>();
  if (!v || !(*v >= 0.0 && *v <= 1.0)) return false;
  f.max_bad_share = *v;
  return true;
}

bool set_bearer_token(const toml::node& n, FeedConfig& f, std::string& expected) {
  expected = "a token string";
  auto v = n.value<std::string>();
  if (!v || v->empty() || v->find_first_of("\r\n") != std::string::npos) return false;
  f.bearer_token = *v;
  return true;
}

bool valid_header_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool set_headers(const toml::node& n, FeedConfig& f, std::string& expected) {
  expected = "a table of header names to strings like { \"Auth-Key\" = \"...\" }";
  const toml::table* t = n.as_table();
  if (!t) return false;
  for (const auto& [key, value] : *t) {
    auto v = value.value<std::string>();
    // A line break in a value would let the config inject headers into the request.
    if (!valid_header_name(key.str()) || !v || v->find_first_of("\r\n") != std::string::npos) {
      return false;
    }
    f.headers.emplace_back(key.str(), *v);
  }
  return true;
}

bool set_max_bytes(const toml::node& n, FeedConfig& f, std::string& expected) {
  expected = "a positive number of bytes like 67108864";
  auto v = n.value_exact<int64_t>();
  if (!v || *v <= 0) return false;
  f.max_bytes = static_cast<uint64_t>(*v);
  return true;
}

struct Key {
  std::string_view name;
  Setter set;
};
constexpr std::array<Key, 12> kFeedKeys = {{
    {"name", set_name},
    {"source", set_source},
    {"format", set_format},
    {"refresh", set_refresh},
    {"ttl", set_ttl},
    {"severity", set_severity},
    {"enabled", set_enabled},
    {"max_bad_share", set_max_bad_share},
    {"bearer_token", set_bearer_token},
    {"headers", set_headers},
    {"timeout", set_timeout},
    {"max_bytes", set_max_bytes},
}};

std::string key_list() {
  std::string s;
  for (const auto& k : kFeedKeys) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

// Reads the tables of one document, collecting every problem.
class ConfigReader {
 public:
  ConfigReader(const std::string& path, std::vector<std::string>& errors)
      : path_(path), base_(absolute_dir(path)), problems_(path, errors) {}

  std::optional<IntelConfig> read(const toml::table& doc) {
    IntelConfig config;
    config.path = path_;
    read_intel(doc, config);
    if (const toml::node* feeds = doc.get("feeds")) read_feeds(*feeds, config);
    if (!report()) return std::nullopt;
    return config;
  }

  void error(const toml::source_region& where, const std::string& message) {
    problems_.add(where, message);
  }
  bool report() { return problems_.report(); }

 private:
  std::string resolve(const std::string& p) const {
    return fs::path(p).is_absolute() ? p : (base_ / p).lexically_normal().string();
  }

  void read_intel(const toml::table& doc, IntelConfig& config) {
    // Default: beside the flow store, so one directory holds all of orbwatch's state.
    if (auto store = doc["store"]["path"].value<std::string>(); store && !store->empty()) {
      config.cache_dir = (fs::path(resolve(*store)) / "feeds").string();
    }
    const toml::node* intel = doc.get("intel");
    if (!intel) return;
    const toml::table* t = intel->as_table();
    if (!t) {
      error(intel->source(), "intel: expected a table, got " + describe_toml(*intel));
      return;
    }
    for (const auto& [key, value] : *t) {
      if (key.str() != "cache_dir") {
        error(key.source(),
              "intel." + std::string(key.str()) + ": unknown key (expected cache_dir)");
        continue;
      }
      auto dir = value.value<std::string>();
      if (!dir || dir->empty()) {
        error(value.source(),
              "intel.cache_dir: expected a directory path, got " + describe_toml(value));
        continue;
      }
      config.cache_dir = resolve(*dir);
    }
  }

  void read_feeds(const toml::node& feeds, IntelConfig& config) {
    const toml::array* arr = feeds.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      error(feeds.source(), "feeds: expected [[feeds]] tables, got " + describe_toml(feeds));
      return;
    }
    std::map<std::string, uint32_t> lines;  // name -> line of its [[feeds]]
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table& t = *arr->get(i)->as_table();
      const std::string where = "feeds[" + std::to_string(i + 1) + "]";
      std::optional<FeedConfig> feed = read_feed(t, where);
      // Names are checked for duplicates even in a feed with other problems.
      if (auto name = t["name"].value<std::string>()) {
        auto [first, fresh] = lines.emplace(*name, t.source().begin.line);
        if (!fresh) {
          const toml::node& node = *t["name"].node();
          error(node.source(), where + ".name: " + describe_toml(node) +
                                   " is already the name of the feed on line " +
                                   std::to_string(first->second));
          continue;
        }
      }
      if (feed) config.feeds.push_back(std::move(*feed));
    }
  }

  std::optional<FeedConfig> read_feed(const toml::table& t, const std::string& where) {
    FeedConfig feed;
    feed.config_line = t.source().begin.line;
    bool ok = true;
    for (const auto& [key, value] : t) {
      const std::string name(key.str());
      auto k = std::find_if(kFeedKeys.begin(), kFeedKeys.end(),
                            [&](const Key& x) { return x.name == name; });
      if (k == kFeedKeys.end()) {
        error(key.source(),
              where + "." + name + ": unknown key (expected one of " + key_list() + ")");
        ok = false;
        continue;
      }
      std::string expected;
      if (!k->set(value, feed, expected)) {
        error(value.source(),
              where + "." + name + ": expected " + expected + ", got " + describe_toml(value));
        ok = false;
      }
    }
    for (const char* required : {"name", "source"}) {
      if (!t.contains(required)) {
        error(t.source(), where + "." + required + ": missing (every feed needs one)");
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return check_source(t, where, std::move(feed));
  }

  // What depends on several keys: the kind of source decides which keys make sense.
  std::optional<FeedConfig> check_source(const toml::table& t, const std::string& where,
                                         FeedConfig feed) {
    const bool url = is_url(feed.source);
    if (feed.taxii && !url) {
      error(t["source"].node()->source(),
            where +
                ".source: format \"taxii\" expected an http:// or https:// collection URL, got \"" +
                feed.source + "\"");
      return std::nullopt;
    }
    for (const char* http_only : {"bearer_token", "headers", "timeout"}) {
      if (!url && t.contains(http_only)) {
        error(t[http_only].node()->source(),
              where + "." + http_only + ": only for http:// and https:// sources");
        return std::nullopt;
      }
    }
    if (feed.taxii && t.contains("headers")) {
      error(t["headers"].node()->source(), where + ".headers: not supported for taxii feeds");
      return std::nullopt;
    }
    if (!url) feed.source = resolve(feed.source);
    return feed;
  }

  std::string path_;
  fs::path base_;
  ConfigProblems problems_;
};

}  // namespace

std::optional<IntelConfig> parse_intel_config(std::string_view text, const std::string& path,
                                              std::vector<std::string>& errors) {
  auto doc = parse_toml(text, path, errors);
  if (!doc) return std::nullopt;
  return ConfigReader(path, errors).read(*doc);
}

std::optional<IntelConfig> load_intel_config(const std::string& path,
                                             std::vector<std::string>& errors) {
  auto text = read_config_file(path, errors);
  if (!text) return std::nullopt;
  return parse_intel_config(*text, path, errors);
}

}  // namespace orbwatch::intel
