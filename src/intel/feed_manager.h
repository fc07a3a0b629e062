// FeedManager: keeps every configured feed's current good version, reads sources again when
// their refresh time comes, refuses bad updates, and keeps the last good copy of each feed (and
// its status) in the cache directory. docs/intel.md, "Feed manager", describes the rules.
//
// - Start-up: the constructor loads each feed's cached copy (when its status names the same
//   source and format) with its original read time, so the TTL keeps counting from the last
//   time the source confirmed it; the first refresh replaces it.
// - Refresh: a file is read again only when its mtime or size changed; HTTP(S) asks with the
//   current version's ETag / Last-Modified (304: kept); TAXII polls what was added since the
//   last poll and accumulates (taxii_accumulate.h).
// - An update with a larger share of bad lines than the feed's max_bad_share, or with no
//   indicators when the current version has some, is rejected: the current version stays live.
// - After a failure a feed is tried again after 1 minute, doubling per further failure, never
//   later than its refresh interval (nor sooner than a Retry-After the server sent).
//
// Threading: refresh_due() and refresh() run one at a time (an internal mutex serialises them;
// they block for the duration of the downloads). feeds(), generation(), status(),
// next_due_ms() and cancel() may be called from any thread at any time and do not wait for
// downloads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intel/feed_cache.h"
#include "intel/feed_config.h"
#include "intel/feed_fetch.h"
#include "intel/intel_set.h"

namespace orbwatch::intel {

enum class RefreshOutcome : uint8_t {
  kUpdated,    // a new version is live (for TAXII: new indicators arrived)
  kUnchanged,  // the source confirmed the current version (304, same file, nothing added)
  kFailed,     // unreachable, HTTP error, too big, ...: the current version stays live
  kRejected,   // read but refused (bad-line share, empty, unknown format): likewise
  kDisabled,   // enabled = false: not read
  kUnknown,    // no feed of that name
};
const char* refresh_outcome_name(RefreshOutcome o);

class FeedManager {
 public:
  // `cache_dir` empty: no cache (nothing loaded at start, nothing written).
  FeedManager(std::vector<FeedConfig> feeds, std::string cache_dir);

  // Reads every enabled feed whose next attempt time has come. Returns how many changed.
  size_t refresh_due(int64_t now_ms);
  // Reads one feed now, whatever its schedule (`orbwatch feeds update`).
  RefreshOutcome refresh(std::string_view name, int64_t now_ms);

  // The current good version of every enabled feed that has one, in configuration order.
  std::vector<std::shared_ptr<const LoadedFeed>> feeds() const;
  // Changes whenever feeds() would return something different.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // One per configured feed, in configuration order.
  std::vector<FeedStatus> status() const;
  const std::vector<FeedConfig>& configs() const { return configs_; }
  // The earliest next attempt of an enabled feed; INT64_MAX when there is none.
  int64_t next_due_ms() const;
  // Aborts downloads in flight and makes later refreshes do nothing (shutdown).
  void cancel() { cancel_.cancel(); }

 private:
  struct State {
    FeedStatus status;
    std::shared_ptr<const LoadedFeed> current;
  };
  struct Update;

  void load_cached(size_t i);
  RefreshOutcome refresh_index(size_t i, int64_t now_ms);
  Update read_document(const FeedConfig& config, const State& state, int64_t now_ms);
  Update read_taxii(const FeedConfig& config, const State& state, int64_t now_ms);
  RefreshOutcome apply(size_t i, State state, Update update, int64_t now_ms);

  const std::vector<FeedConfig> configs_;
  const FeedCache cache_;
  FetchCancel cancel_;
  std::mutex refresh_mutex_;  // one refresh at a time
  mutable std::mutex mutex_;  // guards states_ (entries are replaced whole)
  std::vector<State> states_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace orbwatch::intel
