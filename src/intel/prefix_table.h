// The intel prefix table: longest-prefix match for IPv4 and IPv6 that answers "which indicators
// cover this address?" with the SET of ids of every matching prefix (overlapping prefixes from
// several feeds all count), as an index into a table of sets that the build precomputed.
//
// build() turns the (prefix, id) pairs of each family into a partition of its address space into
// disjoint ranges, each labelled with the set of ids covering it (most specific prefix first).
// Equal sets are interned once; set 0 is the empty set. Adjacent ranges with the same set are
// merged. An IPv6 prefix shorter than /96 that covers ::ffff:0:0/96 also covers every IPv4
// address (addresses are IPv4-mapped, see core/ip_addr.h), so it is put into the IPv4 table as a
// /0. The partitions are then laid out for lookups that read as few cache lines as possible:
//
// IPv4 (one 64-byte line per lookup after an L2-resident direct table):
//  - a direct table over the top 16 bits, 8 bytes a slot. A /16 that holds one range stores
//    its set there (no further read). Otherwise the /16 is cut into 32 buckets of 2,048
//    addresses and its ranges are packed, whole buckets at a time, into consecutive lines; the
//    slot holds the first line and a 32-bit map with a bit set at each bucket that starts a
//    line, so the line of an address is first + (set bits of the map up to its bucket) - 1.
//  - a leaf line holds up to 12 range starts (16-bit offsets in the /16, stored with the top
//    bit flipped so that SSE2's signed compare orders them) and their sets in 24 bits each
//    (10 starts and 32-bit sets once a table has 2^24 sets or more); unused places repeat the
//    last start. One SSE2 compare of 16 keys finds the range. The first key of a line is its
//    first address, so a line also carries the range that began before it.
//  - a bucket with more ranges than a line holds (dense host lists) becomes a small B+ tree of
//    lines instead: inner lines hold up to 28 separators and the index of their first child.
//    A bucket has at most 2,049 ranges, so a lookup reads its slot and at most three lines.
//  - line arrays of 2 MiB or more are allocated in transparent huge pages (Linux), when
//    rounding up to whole pages wastes at most an eighth: fewer TLB misses at a million prefixes.
//  lookup_batch() runs the addresses of a batch through a software pipeline: read the address
//  and prefetch its direct slot; 16 addresses later read the slot and prefetch the line; 32
//  later search the line. An address whose line is inner is set aside with its child
//  prefetched and finished, a level a round, after the batch. The selects are masks, not
//  branches. Where the CPU has AVX2, BMI1/2 and popcnt (x86-64-v3), a copy of the pipeline
//  compiled for them runs (one popcnt instead of a bit-counting sequence).
//
// IPv6 (top 64 bits, then the bottom 64 bits only where a /64 is split):
//  - every /64 is either covered by one range or split (some range starts inside it). Runs of
//    /64s with the same set, and each split /64, become entries keyed by their first 64-bit
//    half, searched in a static B+ tree of 64-byte lines (8 keys an inner line, 5 keys and
//    their values a leaf line; no pointers, children are found by index arithmetic).
//  - a split /64 has a sorted list of 64-bit low-half starts and their sets.
//  lookup_batch() walks the tree for groups of 32 IPv6 addresses a level at a time, prefetching
//  the next level's node of each.
//
// Threading: a PrefixTable is immutable after build(); any number of threads may look up in it
// concurrently. Tables are published through SnapshotHolder (core/snapshot.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
    // Tests only: lay IPv4 lines out with 32-bit sets even when 24 bits would do.
    void force_wide_values_for_test() { force_wide_ = true; }

   private:
    struct Entry {
      Prefix prefix;
      uint32_t id;
    };
    std::vector<Entry> entries_;
    bool force_wide_ = false;
  };

  // The ids of every prefix covering `a`, deduplicated, most specific prefix first (ties by
  // ascending id); empty when none. The span lives as long as the table.
  std::span<const uint32_t> lookup(const IpAddr& a) const { return set(lookup_set(a)); }
  SetIndex lookup_set(const IpAddr& a) const;
  // out[i] = lookup_set(addrs[i]) for n addresses; much faster than a loop of lookup_set()
  // because the memory reads of many addresses overlap.
  void lookup_batch(const IpAddr* addrs, size_t n, SetIndex* out) const;

  std::span<const uint32_t> set(SetIndex s) const {
    return {set_ids_.data() + set_offsets_[s], set_ids_.data() + set_offsets_[s + 1]};
  }
  size_t set_count() const { return set_offsets_.size() - 1; }
  // Distinct (prefix, id) pairs per family (an IPv6 prefix covering all of IPv4 counts twice).
  size_t prefix_count() const { return prefix_count_; }
  // Ranges of each family's partition.
  size_t range_count_v4() const { return range_count_v4_; }
  size_t range_count_v6() const { return range_count_v6_; }
  // Layout: IPv4 lines (leaf and inner; line 0 is a constant), of which inner; IPv6 /64 runs
  // and split /64s; whether IPv4 leaves hold 32-bit sets.
  size_t line_count_v4() const { return lines4_.size(); }
  size_t inner_line_count_v4() const { return inner_lines4_; }
  size_t entry_count_v6() const { return v6_entries_; }
  size_t split_count_v6() const { return v6_lo_offsets_.size() - 1; }
  bool wide_values() const { return wide_; }
  // Tests only: lookup_batch() takes its portable path even where the CPU has AVX2 and BMI2.
  static void portable_batch_for_test(bool on);
  // Heap bytes of the lookup structure (direct table, lines, IPv6 tree and low halves) and of
  // the id sets (offsets and ids).
  size_t structure_bytes() const;
  size_t set_bytes() const;

  // IPv4 lookup on a host-order address (the flow path's fast case).
  SetIndex lookup_v4(uint32_t a) const {
    const Dir4 d = dir4_[a >> 16];
    if (d.map == kOneRange) return d.base;
    const Line* l = descend4(&lines4_[d.base + bucket_line(d.map, a)], a);
    return wide_ ? leaf_value<true>(*l, a) : leaf_value<false>(*l, a);
  }

 private:
  PrefixTable() = default;
  friend class Builder;
  struct Layout4;  // build() helpers, in prefix_table.cc
  struct Layout6;

  // IPv4 direct slot: map == kOneRange: the whole /16 has set `base`; else its lines start at
  // line `base` and bit j of map is set where bucket j starts a line (bit 0 always).
  struct Dir4 {
    uint32_t base;
    uint32_t map;
  };
  static constexpr uint32_t kOneRange = 0;
  struct alignas(64) Line {
    uint8_t b[64];
  };
  static constexpr unsigned kBucketShift = 11;  // 32 buckets of 2,048 addresses in a /16
  static constexpr unsigned kBuckets = 32;
  static constexpr uint16_t kKeyFlip = 0x8000;  // keys are stored as offset ^ kKeyFlip
  static constexpr unsigned kKindByte = 62;     // kLeaf or kInner
  static constexpr unsigned kCountByte = 63;    // keys in the line
  static constexpr uint8_t kLeaf = 0;
  static constexpr uint8_t kInner = 1;
  // Leaves: keys past the count repeat the last one, so a search needs no count: it stops at
  // the first key above the address or at the capacity.
  static constexpr unsigned kNarrowCap = 12;  // leaf: 12 keys, 24-bit sets from byte 24
  static constexpr unsigned kNarrowValues = 24;
  static constexpr unsigned kWideCap = 10;  // leaf: 10 keys, 32-bit sets from byte 20
  static constexpr unsigned kWideValues = 20;
  static constexpr unsigned kInnerCap = 28;  // inner: 28 separators, first child at byte 56
  static constexpr unsigned kInnerChild = 56;
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "line values are little endian");

  // Which line of its /16 holds address a (map != kOneRange): the set bits of the map up to
  // a's bucket, less one. kPopcnt: the caller is compiled for the popcnt instruction.
  template <bool kPopcnt = false>
  static uint32_t bucket_line(uint32_t map, uint32_t a) {
    uint32_t upto = map & (0xFFFFFFFFu >> (31 - ((a >> kBucketShift) & 31)));
    if constexpr (kPopcnt) {
      return static_cast<uint32_t>(__builtin_popcount(upto)) - 1;
    } else {
      upto = upto - ((upto >> 1) & 0x55555555u);
      upto = (upto & 0x33333333u) + ((upto >> 2) & 0x33333333u);
      return ((((upto + (upto >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24) - 1;
    }
  }
  // How many of the first n keys of a line are <= the low 16 bits of a (n <= 16 here, n < 32
  // in count_le32). The keys ascend, so this is the position of the first key above it; lanes
  // past n hold other bytes of the line, which the bit at n hides.
#if defined(__SSE2__)
  static uint32_t gt_mask(const Line& l, unsigned half, uint32_t a) {
    const __m128i x = _mm_set1_epi16(static_cast<int16_t>((a & 0xFFFF) ^ kKeyFlip));
    const auto* v = reinterpret_cast<const __m128i*>(l.b) + 2 * half;
    const __m128i gt = _mm_packs_epi16(_mm_cmpgt_epi16(_mm_load_si128(v), x),
                                       _mm_cmpgt_epi16(_mm_load_si128(v + 1), x));
    return static_cast<uint32_t>(_mm_movemask_epi8(gt));
  }
  static unsigned count_le16(const Line& l, uint32_t a, unsigned n) {
    return static_cast<unsigned>(__builtin_ctz(gt_mask(l, 0, a) | (1u << n)));
  }
  static unsigned count_le32(const Line& l, uint32_t a, unsigned n) {
    const uint32_t mask = gt_mask(l, 0, a) | gt_mask(l, 1, a) << 16;
    return static_cast<unsigned>(__builtin_ctz(mask | (1u << n)));
  }
#else
  static unsigned count_le32(const Line& l, uint32_t a, unsigned n) {
    unsigned c = 0;
    for (unsigned i = 0; i < n; ++i) {
      uint16_t k;
      std::memcpy(&k, l.b + 2 * i, 2);
      c += static_cast<uint32_t>(k ^ kKeyFlip) <= (a & 0xFFFF);
    }
    return c;
  }
  static unsigned count_le16(const Line& l, uint32_t a, unsigned n) {
    return count_le32(l, a, n);
  }
#endif
  // The leaf under line l for address a (l is a leaf unless its bucket was too dense).
  const Line* descend4(const Line* l, uint32_t a) const {
    while (l->b[kKindByte] != kLeaf) {
      uint32_t child;
      std::memcpy(&child, l->b + kInnerChild, 4);
      l = &lines4_[child + count_le32(*l, a, l->b[kCountByte])];
    }
    return l;
  }
  template <bool kWide>
  static SetIndex leaf_value(const Line& l, uint32_t a) {
    unsigned i = count_le16(l, a, kWide ? kWideCap : kNarrowCap) - 1;
    uint32_t v;
    if constexpr (kWide) {
      std::memcpy(&v, l.b + kWideValues + 4 * i, 4);
      return v;
    } else {
      std::memcpy(&v, l.b + kNarrowValues + 3 * i, 4);
      return v & 0xFFFFFF;
    }
  }
  // The IPv4 pipeline of lookup_batch(): looks up n addresses (IPv6 ones as garbage), writes
  // the positions of the IPv6 ones to v6 and returns their count.
  template <bool kWide, bool kPopcnt>
  size_t batch_v4(const IpAddr* addrs, size_t n, SetIndex* out, uint32_t* v6) const;
  // batch_v4() compiled for x86-64-v3 (AVX2, BMI1/2, popcnt), chosen where the CPU has it.
  template <bool kWide>
  size_t batch_v4_fast(const IpAddr* addrs, size_t n, SetIndex* out, uint32_t* v6) const;

  // IPv6 B+ tree over the top 64 bits: levels from the root; entry e of an inner level is the
  // first key of node e of the level below. Values with kSplit set name a split /64.
  struct alignas(64) Node6 {
    uint64_t k[8];  // inner: 8 keys; leaf: 5 keys, then 5 values in k[5..7] (as uint32)
  };
  static constexpr unsigned kInner6 = 8;
  static constexpr unsigned kLeaf6 = 5;
  static constexpr SetIndex kSplit = 0x80000000u;
  struct Level6 {
    uint32_t first;  // first node
    uint32_t last;   // last entry (clamps the search of an address above every key)
  };
  static SetIndex leaf6_value(const Node6& n, unsigned i) {
    uint32_t v;
    std::memcpy(&v, reinterpret_cast<const uint8_t*>(n.k) + 40 + 4 * i, 4);
    return v;
  }
  static unsigned count_le6(const uint64_t* k, unsigned n, uint64_t x) {
    unsigned c = 0;
    for (unsigned i = 0; i < n; ++i) c += k[i] <= x;
    return c;
  }
  SetIndex lookup_v6(const IpAddr& a) const;
  SetIndex lookup_lo6(SetIndex split, uint64_t lo) const;
  void batch_v6(const IpAddr* addrs, const uint32_t* pos, size_t n, SetIndex* out) const;

  // Allocates large line arrays in 2 MiB pages where the system offers them (Linux transparent
  // huge pages), so that random lookups into many megabytes of lines miss the TLB less.
  template <typename T>
  struct LineAllocator {
    using value_type = T;
    LineAllocator() = default;
    template <typename U>
    explicit LineAllocator(const LineAllocator<U>&) {}
    T* allocate(size_t n);
    void deallocate(T* p, size_t n);
    // Bytes an allocation of n elements takes.
    static size_t footprint(size_t n);
    template <typename U>
    bool operator==(const LineAllocator<U>&) const {
      return true;
    }
  };

  std::vector<Dir4> dir4_;  // 2^16
  // Line 0: one key at 0 with set 0 (the batch path's no-op).
  std::vector<Line, LineAllocator<Line>> lines4_;
  bool wide_ = false;
  size_t inner_lines4_ = 0;
  std::vector<Node6> v6_nodes_;
  std::vector<Level6> v6_levels_;        // root first
  std::vector<uint32_t> v6_lo_offsets_;  // split s: low halves [offsets[s], offsets[s+1])
  std::vector<uint64_t> v6_lo_keys_;
  std::vector<SetIndex> v6_lo_sets_;
  size_t v6_entries_ = 0;
  std::vector<uint32_t> set_offsets_;  // set s is ids [offsets[s], offsets[s+1])
  std::vector<uint32_t> set_ids_;
  size_t prefix_count_ = 0;
  size_t range_count_v4_ = 0;
  size_t range_count_v6_ = 0;
};

}  // namespace orbwatch::intel
