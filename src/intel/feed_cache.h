// FeedCache: the last good copy of each feed and its status, in one directory, so that a restart
// (or a broken source) still has the feed, and so that `orbwatch feeds list` can show the state
// without a running daemon.
//
// Files per feed: `<dir>/<name>.feed` (the raw text as fetched; for TAXII feeds the accumulated
// indicators as STIX JSON lines) and `<dir>/<name>.status.json` (FeedStatus). Both are written
// to a temporary file that is renamed over the old one, so a reader sees either the old or the
// new file, never half of one. Writers in several processes do not corrupt each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "intel/feed_config.h"

namespace orbwatch::intel {

// What is known about one feed: its current version and the history of reading it.
struct FeedStatus {
  std::string name;
  std::string source;             // as configured when written (status of another source is stale)
  std::string config_format;      // the configured format ("auto", "taxii", ...)
  std::string format;             // the format of the current version as parsed (detected)
  uint64_t entries = 0;           // indicators in the current version
  uint64_t bytes = 0;             // size of the current version's text
  std::string etag;               // source version: the HTTP ETag, or a file's "mtime_ns-size"
  std::string last_modified;      // the HTTP Last-Modified
  std::string taxii_added_after;  // TAXII: added_after of the next poll
  int64_t fetched_ms = 0;         // when the current version's content was read
  int64_t last_attempt_ms = 0;
  // When the source last gave or confirmed the current version (200, 304, unchanged file): the
  // TTL of its indicators counts from here.
  int64_t last_success_ms = 0;
  std::string last_error;  // of the last attempt; empty when it succeeded
  uint32_t consecutive_failures = 0;
  uint64_t rejected_updates = 0;  // updates refused by the bad-line or empty-feed rule
  // In memory only (not written):
  bool from_cache = false;      // the current version was loaded from the cache at start-up
  int64_t next_attempt_ms = 0;  // when the manager reads the source again
};

class FeedCache {
 public:
  // An empty `dir` disables the cache: writes do nothing and succeed, reads find nothing.
  explicit FeedCache(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }

  // Creates the directory when needed. False with `error` naming the file.
  bool write_text(std::string_view name, std::string_view text, std::string& error) const;
  bool write_status(std::string_view name, const FeedStatus& status, std::string& error) const;

  // nullopt when absent, unreadable, malformed, or written for another source or format (the
  // cache is then ignored, not an error).
  std::optional<FeedStatus> read_status(const FeedConfig& feed) const;
  std::optional<std::string> read_text(std::string_view name, uint64_t max_bytes) const;

 private:
  std::string path(std::string_view name, const char* suffix) const;
  std::string dir_;
};

}  // namespace orbwatch::intel
