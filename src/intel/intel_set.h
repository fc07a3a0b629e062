// IntelSet: one immutable snapshot of every live indicator of every feed, with the prefix table
// and the domain table that find them. The feed manager (or `analyze --feed`) builds a new set
// off the hot path whenever a feed changes or an indicator expires, and publishes it with
// SnapshotHolder; the matcher loads it once per batch.
//
// Indicator ids are positions in the set (0..size()-1); the tables return them.
//
// Validity is judged when the set is built, against the wall clock `now_ms` given to build():
// an indicator is live from its valid_from (0: always) until it expires, which is its
// valid_until when the feed gave one, else the time this version of its feed was read plus the
// feed's TTL. So an indicator stays live as long as its feed keeps listing it, and leaves TTL
// after the feed stopped being readable. Flow time is not compared: a capture from last year is
// checked against today's indicators (that is what a retro-hunt wants).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "intel/domain_table.h"
#include "intel/feed_config.h"
#include "intel/indicator.h"
#include "intel/prefix_table.h"

namespace orbwatch::intel {

// One version of a feed as read successfully.
struct LoadedFeed {
  FeedConfig config;
  ParsedFeed parsed;
  int64_t loaded_ms = 0;  // wall clock when this version was read
};

class IntelSet {
 public:
  struct BuildStats {
    uint64_t live = 0;
    uint64_t expired = 0;        // past valid_until or TTL
    uint64_t not_yet_valid = 0;  // valid_from in the future
  };

  // Feeds that are disabled are left out. Never fails; an empty span gives an empty set.
  static std::shared_ptr<const IntelSet> build(
      std::span<const std::shared_ptr<const LoadedFeed>> feeds, int64_t now_ms);
  static std::shared_ptr<const IntelSet> empty();

  const PrefixTable& prefixes() const { return *prefixes_; }
  const DomainTable& domains() const { return *domains_; }

  size_t size() const { return entries_.size(); }
  const Indicator& indicator(uint32_t id) const {
    const Entry& e = entries_[id];
    return feeds_[e.feed]->parsed.indicators[e.index];
  }
  const FeedConfig& feed_of(uint32_t id) const { return feeds_[entries_[id].feed]->config; }
  int64_t expires_ms(uint32_t id) const { return entries_[id].expires_ms; }

  std::span<const std::shared_ptr<const LoadedFeed>> feeds() const { return feeds_; }
  const BuildStats& stats() const { return stats_; }
  int64_t built_ms() const { return built_ms_; }
  // The earliest time at which the set changes by itself (an indicator expires or becomes
  // valid): rebuild then. INT64_MAX when never.
  int64_t next_change_ms() const { return next_change_ms_; }

 private:
  IntelSet() = default;
  struct Entry {
    uint32_t feed;
    uint32_t index;
    int64_t expires_ms;
  };
  std::vector<std::shared_ptr<const LoadedFeed>> feeds_;  // keeps the indicators alive
  std::vector<Entry> entries_;
  std::shared_ptr<const PrefixTable> prefixes_;
  std::shared_ptr<const DomainTable> domains_;
  BuildStats stats_;
  int64_t built_ms_ = 0;
  int64_t next_change_ms_ = INT64_MAX;
};

}  // namespace orbwatch::intel
