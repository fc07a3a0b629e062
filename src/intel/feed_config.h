// How one threat feed is configured: the `[[feeds]]` tables of the config file (parsed by the
// feed manager) or a `--feed FILE` on the command line (defaults for everything but the source).
// The schema is documented in docs/configuration.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/alert.h"
#include "intel/indicator.h"

namespace orbwatch::intel {

struct FeedConfig {
  std::string name;    // unique; the `indicator.feed` of alerts
  std::string source;  // a file path, or an http:// / https:// URL
  FeedFormat format = FeedFormat::kAuto;
  int64_t refresh_ms = 3'600'000;       // how often the source is read again
  int64_t ttl_ms = 30LL * 86'400'000;   // indicator lifetime when the feed gives none
  Severity severity = Severity::kHigh;  // base severity of this feed's alerts
  bool enabled = true;
  double max_bad_share = 0.10;  // reject an update with more bad lines than this
  uint32_t config_line = 0;     // where it was declared (0: not from a file)
  // `format = "taxii"`: source is a TAXII 2.1 collection URL, polled incrementally (added_after);
  // format is then kStix and indicators accumulate, each aging out TTL after it arrived.
  bool taxii = false;
  // HTTP(S) and TAXII sources only.
  std::string bearer_token;                                  // "Authorization: Bearer ..."
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers (HTTP)
  int64_t timeout_ms = 30'000;     // connect and each read; a whole download gets 10 times this
  uint64_t max_bytes = 64u << 20;  // a bigger download (or file) is aborted and fails
};

// The format as written in the config: feed_format_name, or "taxii".
const char* config_format_name(const FeedConfig& feed);

// True when `source` is an http:// or https:// URL (else it is a file path).
bool is_url(std::string_view source);

// The intel part of the config file: the `[intel]` table and every `[[feeds]]` table.
struct IntelConfig {
  std::string path;       // the config file it was read from
  std::string cache_dir;  // last good copies and status of feeds; empty: no cache
  std::vector<FeedConfig> feeds;
};

// Reads the `[[feeds]]` and `[intel]` tables of an orbwatch TOML config file; other top-level
// tables belong to other modules and are not looked at (except `[store] path`, the default
// parent of the cache directory). Relative paths resolve against the file's directory.
// nullopt when anything is wrong: `errors` then names each problem with file, line and key:
//   orbwatch.toml:12: feeds[2].refresh: expected a duration like "15m", got "soon"
// (feeds[N] counts the [[feeds]] tables from 1).
std::optional<IntelConfig> load_intel_config(const std::string& path,
                                             std::vector<std::string>& errors);
// The same over text; `path` names it in messages and anchors relative paths.
std::optional<IntelConfig> parse_intel_config(std::string_view text, const std::string& path,
                                              std::vector<std::string>& errors);

}  // namespace orbwatch::intel
