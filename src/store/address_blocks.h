// AddressBlockSelector: for a block of an archive segment, "can it hold any of these addresses
// or prefixes (as src or dst)?" for many indicators at once, from the block summary alone: the
// block test a retro-hunt hands to store::scan (ScanSpec::block_may_match).
//
// Asking SegmentReader::may_contain() once per indicator costs a pass over every indicator per
// block. Instead the indicators are kept sorted (hosts per family, prefixes merged into disjoint
// intervals), so a block costs a few binary searches:
//  1. a prefix interval that overlaps the block's src or dst address bounds: the block may match;
//  2. the hosts inside the bounds are the only candidates: none, and the block is skipped;
//  3. each candidate is probed in the block's bloom filter (hashes computed once, up front) until
//     one may be there. More than `max_probes` candidates and the block is read unprobed: at the
//     filter's ~0.8% false-positive rate, 1,024 candidates leave a 1-in-4,000 chance of a skip,
//     so probing them would only cost time (docs/performance.md, "Retro-hunt").
// No false negatives: a block holding an indicator address is never skipped.
//
// Threading: immutable after construction but for relaxed counters; any number of scan workers
// may call may_match() at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/ip_addr.h"
#include "store/segment_format.h"
#include "store/segment_reader.h"

namespace orbwatch::store {

class AddressBlockSelector {
 public:
  struct Options {
    size_t max_probes = 1024;  // bloom probes per block at most (see above); 0: never probe
  };
  struct Stats {
    uint64_t blocks = 0;            // asked about
    uint64_t prefix_overlap = 0;    // read: a prefix indicator overlaps the address bounds
    uint64_t skipped_by_range = 0;  // no indicator inside the address bounds
    uint64_t skipped_by_bloom = 0;  // candidates inside the bounds, none in the filter
    uint64_t over_cap = 0;          // too many candidates to be worth probing: read
    uint64_t probes = 0;            // bloom probes made
  };

  // Prefixes of length 128 are hosts; any other length is a prefix. Duplicates collapse.
  explicit AddressBlockSelector(std::span<const Prefix> indicators);
  AddressBlockSelector(std::span<const Prefix> indicators, Options options);

  // False only when block i of `reader` certainly holds none of the indicators.
  bool may_match(const SegmentReader& reader, size_t i) const;

  Stats stats() const;
  size_t hosts() const { return hosts4_.size() + hosts6_.size(); }
  size_t intervals() const { return nets4_.size() + nets6_.size(); }  // merged prefixes

 private:
  struct Host6 {
    IpAddr addr;
    segment::BloomHash hash;
  };
  // Whether a prefix interval overlaps [lo, hi] of a family (false when lo > hi: none there).
  bool nets4_overlap(uint32_t lo, uint32_t hi) const;
  bool nets6_overlap(const IpAddr& lo, const IpAddr& hi) const;

  Options o_;
  std::vector<uint32_t> hosts4_;  // sorted, unique
  std::vector<segment::BloomHash> hash4_;
  std::vector<Host6> hosts6_;                         // sorted by address, unique
  std::vector<std::pair<uint32_t, uint32_t>> nets4_;  // disjoint, sorted, inclusive
  std::vector<std::pair<IpAddr, IpAddr>> nets6_;      // disjoint, sorted, inclusive
  mutable std::atomic<uint64_t> blocks_{0}, by_prefix_{0}, by_range_{0}, by_bloom_{0}, over_cap_{0},
      probes_{0};
};

}  // namespace orbwatch::store
