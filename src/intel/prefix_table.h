// The intel prefix table: longest-prefix match for IPv4 and IPv6 that answers "which indicators
// cover this address?" with the SET of ids of every matching prefix (overlapping prefixes from
// several feeds all count), as an index into a table of sets that the build precomputed.
//
// How it works (DXR-like range table, chosen over Poptrie because a lookup is then at most
// three dependent memory reads and the build is a sort plus one sweep):
//  - build() turns the (prefix, id) pairs of each family into a partition of its address space
//    into disjoint ranges, each labelled with the set of ids covering it (most specific prefix
//    first). Equal sets are interned once; set 0 is the empty set. Adjacent ranges with the
//    same set are merged.
//  - IPv4: the top 16 bits index a direct table of range positions (65,537 x 4 bytes); the
//    ranges that start inside that /16 are found by a branch-free binary search over their
//    16-bit low halves (2 bytes each), and the set index beside them (4 bytes). A /16 in which
//    no range starts takes the value of the range before it, so it costs no search at all.
//  - IPv6: the same scheme with 128-bit range starts under a 16-bit direct table.
//  An IPv6 prefix shorter than /96 that covers ::ffff:0:0/96 also covers every IPv4 address
//  (addresses are IPv4-mapped, see core/ip_addr.h), so it is put into the IPv4 table as a /0.
//
// Threading: a PrefixTable is immutable after build(); any number of threads may look up in it
// concurrently. Tables are published through SnapshotHolder (core/snapshot.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/ip_addr.h"

namespace orbwatch::intel {

class PrefixTable {
 public:
  // Index of an id set in set(); kEmptySet (0) means no prefix covers the address.
  using SetIndex = uint32_t;
  static constexpr SetIndex kEmptySet = 0;

  class Builder {
   public:
    // Any prefix (host bits are ignored), any id; duplicates are allowed and collapse.
    void add(const Prefix& prefix, uint32_t indicator_id);
    void reserve(size_t n) { entries_.reserve(n); }
    size_t size() const { return entries_.size(); }
    // Builds the table (O(n log n)); the builder keeps its entries and may build again.
    std::shared_ptr<const PrefixTable> build() const;

   private:
    struct Entry {
      Prefix prefix;
      uint32_t id;
    };
    std::vector<Entry> entries_;
  };

  // The ids of every prefix covering `a`, deduplicated, most specific prefix first (ties by
  // ascending id); empty when none. The span lives as long as the table.
  std::span<const uint32_t> lookup(const IpAddr& a) const { return set(lookup_set(a)); }
  SetIndex lookup_set(const IpAddr& a) const;
  // out[i] = lookup_set(addrs[i]) for n addresses; faster than a loop of lookup_set() because
  // the memory reads of 16 addresses at a time overlap.
  void lookup_batch(const IpAddr* addrs, size_t n, SetIndex* out) const;

  std::span<const uint32_t> set(SetIndex s) const {
    return {set_ids_.data() + set_offsets_[s], set_ids_.data() + set_offsets_[s + 1]};
  }
  size_t set_count() const { return set_offsets_.size() - 1; }
  // Distinct (prefix, id) pairs per family (an IPv6 prefix covering all of IPv4 counts twice).
  size_t prefix_count() const { return prefix_count_; }
  size_t range_count_v4() const { return v4_keys_.size(); }
  size_t range_count_v6() const { return v6_keys_.size(); }
  // Heap bytes of the lookup structure (direct tables, range keys and set indices) and of the
  // id sets (offsets and ids).
  size_t structure_bytes() const;
  size_t set_bytes() const;

  // IPv4 lookup on a host-order address (the flow path's fast case).
  SetIndex lookup_v4(uint32_t a) const {
    uint32_t c = a >> 16;
    uint32_t base = v4_index_[c];
    uint32_t n = v4_index_[c + 1] - base;
    return v4_values_[base + count_le(&v4_keys_[base], n, static_cast<uint16_t>(a)) - 1];
  }

 private:
  PrefixTable() = default;
  __extension__ typedef unsigned __int128 U128;

  // How many of the n ascending keys are <= k (branch-free binary search).
  template <typename K>
  static uint32_t count_le(const K* keys, uint32_t n, K k) {
    if (n == 0) return 0;
    const K* lo = keys;
    while (n > 1) {
      uint32_t half = n / 2;
      lo = lo[half] <= k ? lo + half : lo;
      n -= half;
    }
    return static_cast<uint32_t>(lo - keys) + (*lo <= k);
  }
  SetIndex lookup_v6(const IpAddr& a) const;
  friend class Builder;

  static constexpr unsigned kDirectBits = 16;
  // Ranges starting in direct slot c are [index[c], index[c+1]); every table has a range
  // starting at 0, so base + count - 1 >= 0 always.
  std::vector<uint32_t> v4_index_;   // 2^16 + 1
  std::vector<uint16_t> v4_keys_;    // low 16 bits of each range start
  std::vector<SetIndex> v4_values_;  // set of each range
  std::vector<uint32_t> v6_index_;
  std::vector<U128> v6_keys_;  // full range starts
  std::vector<SetIndex> v6_values_;
  std::vector<uint32_t> set_offsets_;  // set s is ids [offsets[s], offsets[s+1])
  std::vector<uint32_t> set_ids_;
  size_t prefix_count_ = 0;
};

}  // namespace orbwatch::intel
