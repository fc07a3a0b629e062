// The prefix table as it was before the line-based layout (commit 6434893): a DXR-like range
// table (16-bit direct index, branch-free binary search over 16-bit range keys, set indices in a
// parallel array; IPv6: 128-bit binary search). Kept verbatim, renamed, for the benchmark's
// old-vs-new comparison in one run (bench/micro/prefix_table_bench.cc); nothing else uses it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "core/ip_addr.h"

namespace orbwatch::intel::legacy {

class LegacyPrefixTable {
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
    std::shared_ptr<const LegacyPrefixTable> build() const;

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
  LegacyPrefixTable() = default;
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

namespace detail {

__extension__ typedef unsigned __int128 U128;

inline U128 to_u128(const IpAddr& a) {
  U128 v = 0;
  for (uint8_t byte : a.b) v = v << 8 | byte;
  return v;
}

// Interns id sets: equal sequences get one index. Set 0 is the empty set.
class SetInterner {
 public:
  SetInterner() {
    offsets_.push_back(0);
    offsets_.push_back(0);  // set 0: empty
    slots_.assign(1024, 0);
    insert_slot(0);
  }

  uint32_t intern(std::span<const uint32_t> ids) {
    if (ids.empty()) return LegacyPrefixTable::kEmptySet;
    uint64_t h = hash(ids);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      uint32_t s = slots_[i];
      if (s == 0) break;
      if (equal(s - 1, ids)) return s - 1;
    }
    auto index = static_cast<uint32_t>(offsets_.size() - 1);
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    offsets_.push_back(static_cast<uint32_t>(ids_.size()));
    if ((offsets_.size() - 1) * 2 > slots_.size()) {
      slots_.assign(slots_.size() * 2, 0);
      for (uint32_t s = 0; s + 1 < offsets_.size(); ++s) insert_slot(s);
    } else {
      insert_slot(index);
    }
    return index;
  }

  std::span<const uint32_t> get(uint32_t s) const {
    return {ids_.data() + offsets_[s], ids_.data() + offsets_[s + 1]};
  }
  std::vector<uint32_t> take_offsets() { return std::move(offsets_); }
  std::vector<uint32_t> take_ids() { return std::move(ids_); }

 private:
  static uint64_t hash(std::span<const uint32_t> ids) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ids.size();
    for (uint32_t id : ids) {
      h = (h ^ id) * 0xBF58476D1CE4E5B9ull;
      h ^= h >> 29;
    }
    return h;
  }
  bool equal(uint32_t s, std::span<const uint32_t> ids) const {
    auto have = get(s);
    return std::equal(have.begin(), have.end(), ids.begin(), ids.end());
  }
  void insert_slot(uint32_t s) {
    size_t mask = slots_.size() - 1;
    size_t i = hash(get(s)) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = s + 1;
  }

  std::vector<uint32_t> offsets_;
  std::vector<uint32_t> ids_;
  std::vector<uint32_t> slots_;  // set index + 1; 0 = free
};

template <typename K>
struct Item {
  K lo;
  K hi;  // last address covered
  uint32_t id;
  uint8_t len;  // in the 128-bit space (orders an IPv6 ::/0 before an IPv4 /0)
};

// The last address of a prefix of `len` bits in a kWidth-bit space.
template <typename K, unsigned kWidth>
K last_address(K lo, unsigned len) {
  return lo | (len >= kWidth ? K{0} : static_cast<K>(~K{0}) >> len);
}

template <typename K>
struct Range {
  K start;
  uint32_t set;
};

// Turns one family's prefixes into the partition of its address space: ascending range starts
// (the first is 0), each with the set of ids covering it; neighbours have different sets.
// Prefixes are nested or disjoint, so one sweep in (start, length) order with a stack of the
// open prefixes sees, at every point, exactly the prefixes covering it.
template <typename K>
std::vector<Range<K>> partition(std::vector<Item<K>>& items, SetInterner& sets) {
  std::sort(items.begin(), items.end(), [](const Item<K>& x, const Item<K>& y) {
    if (x.lo != y.lo) return x.lo < y.lo;
    if (x.len != y.len) return x.len < y.len;
    return x.id < y.id;
  });
  std::vector<Range<K>> out;
  out.push_back({0, LegacyPrefixTable::kEmptySet});
  auto emit = [&out](K start, uint32_t set) {
    if (out.back().start == start) {
      out.back().set = set;
      if (out.size() >= 2 && out[out.size() - 2].set == set) out.pop_back();
    } else if (out.back().set != set) {
      out.push_back({start, set});
    }
  };
  struct Open {
    K hi;
    uint32_t set;
  };
  std::vector<Open> stack;
  auto top_set = [&stack] {
    return stack.empty() ? LegacyPrefixTable::kEmptySet : stack.back().set;
  };
  std::vector<uint32_t> scratch;
  for (size_t i = 0; i < items.size();) {
    K lo = items[i].lo;
    uint8_t len = items[i].len;
    K hi = items[i].hi;
    while (!stack.empty() && stack.back().hi < lo) {
      K end = stack.back().hi;
      stack.pop_back();
      emit(end + 1, top_set());
    }
    // This prefix's ids (ascending, deduplicated), then the enclosing set minus those ids.
    scratch.clear();
    for (; i < items.size() && items[i].lo == lo && items[i].len == len; ++i) {
      if (scratch.empty() || scratch.back() != items[i].id) scratch.push_back(items[i].id);
    }
    size_t own = scratch.size();
    for (uint32_t id : sets.get(top_set())) {
      if (!std::binary_search(scratch.begin(), scratch.begin() + own, id)) scratch.push_back(id);
    }
    uint32_t set = sets.intern(scratch);
    stack.push_back({hi, set});
    emit(lo, set);
  }
  while (!stack.empty()) {
    K end = stack.back().hi;
    stack.pop_back();
    if (end == static_cast<K>(~K{0})) break;  // everything below reaches the end too
    emit(end + 1, top_set());
  }
  return out;
}

// Direct table over the top bits of each range start: ranges starting in slot c are
// [index[c], index[c+1]).
template <typename K, unsigned kWidth, unsigned kBits>
std::vector<uint32_t> direct_index(const std::vector<Range<K>>& ranges) {
  std::vector<uint32_t> index((size_t{1} << kBits) + 1);
  size_t r = 0;
  for (size_t c = 0; c < index.size(); ++c) {
    while (r < ranges.size() && static_cast<size_t>(ranges[r].start >> (kWidth - kBits)) < c) ++r;
    index[c] = static_cast<uint32_t>(r);
  }
  return index;
}

}  // namespace detail
using namespace detail;  // NOLINT: one translation unit includes this

inline void LegacyPrefixTable::Builder::add(const Prefix& prefix, uint32_t indicator_id) {
  entries_.push_back({Prefix::make(prefix.addr, prefix.len), indicator_id});
}

inline std::shared_ptr<const LegacyPrefixTable> LegacyPrefixTable::Builder::build() const {
  std::vector<Item<uint32_t>> v4;
  std::vector<Item<U128>> v6;
  v4.reserve(entries_.size());
  for (const Entry& e : entries_) {
    const Prefix& p = e.prefix;
    if (p.len >= 96 && p.addr.is_v4()) {
      uint32_t lo = p.addr.v4_value();
      v4.push_back({lo, last_address<uint32_t, 32>(lo, p.len - 96u), e.id, p.len});
      continue;
    }
    U128 lo = to_u128(p.addr);
    v6.push_back({lo, last_address<U128, 128>(lo, p.len), e.id, p.len});
    // A short IPv6 prefix covering ::ffff:0:0/96 covers every IPv4-mapped address.
    if (p.len <= 96 && p.contains(IpAddr::v4(0))) v4.push_back({0, ~uint32_t{0}, e.id, p.len});
  }
  std::shared_ptr<LegacyPrefixTable> t(new LegacyPrefixTable());
  SetInterner sets;
  auto r4 = partition(v4, sets);
  auto r6 = partition(v6, sets);
  // Distinct (prefix, id) pairs: both vectors are sorted now.
  auto distinct = [](const auto& items) {
    size_t n = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      n += i == 0 || items[i].lo != items[i - 1].lo || items[i].len != items[i - 1].len ||
           items[i].id != items[i - 1].id;
    }
    return n;
  };
  t->prefix_count_ = distinct(v4) + distinct(v6);
  t->v4_index_ = direct_index<uint32_t, 32, kDirectBits>(r4);
  t->v4_keys_.reserve(r4.size());
  t->v4_values_.reserve(r4.size());
  for (const auto& r : r4) {
    t->v4_keys_.push_back(static_cast<uint16_t>(r.start));
    t->v4_values_.push_back(r.set);
  }
  t->v6_index_ = direct_index<U128, 128, kDirectBits>(r6);
  t->v6_keys_.reserve(r6.size());
  t->v6_values_.reserve(r6.size());
  for (const auto& r : r6) {
    t->v6_keys_.push_back(r.start);
    t->v6_values_.push_back(r.set);
  }
  t->set_offsets_ = sets.take_offsets();
  t->set_ids_ = sets.take_ids();
  t->set_offsets_.shrink_to_fit();
  t->set_ids_.shrink_to_fit();
  return t;
}

inline LegacyPrefixTable::SetIndex LegacyPrefixTable::lookup_v6(const IpAddr& a) const {
  U128 k = to_u128(a);
  auto c = static_cast<uint32_t>(k >> (128 - kDirectBits));
  uint32_t base = v6_index_[c];
  uint32_t n = v6_index_[c + 1] - base;
  return v6_values_[base + count_le(&v6_keys_[base], n, k) - 1];
}

inline LegacyPrefixTable::SetIndex LegacyPrefixTable::lookup_set(const IpAddr& a) const {
  return a.is_v4() ? lookup_v4(a.v4_value()) : lookup_v6(a);
}

inline void LegacyPrefixTable::lookup_batch(const IpAddr* addrs, size_t n, SetIndex* out) const {
  // Passes over groups of kGroup addresses, each pass prefetching what the next one reads, so
  // the cache misses of a group overlap instead of queueing one after another.
  constexpr size_t kGroup = 32;
  constexpr uint32_t kV6 = ~uint32_t{0};
  uint32_t key[kGroup];
  uint32_t base[kGroup];
  uint32_t count[kGroup];
  for (size_t start = 0; start < n; start += kGroup) {
    size_t g = std::min(kGroup, n - start);
    const IpAddr* a = addrs + start;
    SetIndex* o = out + start;
    for (size_t j = 0; j < g; ++j) {
      if (a[j].is_v4()) {
        key[j] = a[j].v4_value();
        __builtin_prefetch(&v4_index_[key[j] >> 16]);
        count[j] = 0;
      } else {
        o[j] = lookup_v6(a[j]);
        count[j] = kV6;
      }
    }
    for (size_t j = 0; j < g; ++j) {
      if (count[j] == kV6) continue;
      uint32_t c = key[j] >> 16;
      base[j] = v4_index_[c];
      count[j] = v4_index_[c + 1] - base[j];
      // The keys and the set indices of a typical /16 span a line or two each: fetch both
      // ends of both now, so the search and the final read find them in cache.
      uint32_t first = base[j] - (count[j] == 0);
      uint32_t last = base[j] + count[j] - (count[j] != 0);
      __builtin_prefetch(&v4_keys_[first]);
      __builtin_prefetch(&v4_keys_[last]);
      __builtin_prefetch(&v4_values_[first]);
      __builtin_prefetch(&v4_values_[last]);
    }
    for (size_t j = 0; j < g; ++j) {
      if (count[j] == kV6) continue;
      base[j] += count_le(&v4_keys_[base[j]], count[j], static_cast<uint16_t>(key[j])) - 1;
    }
    for (size_t j = 0; j < g; ++j) {
      if (count[j] != kV6) o[j] = v4_values_[base[j]];
    }
  }
}

inline size_t LegacyPrefixTable::structure_bytes() const {
  return v4_index_.size() * sizeof(uint32_t) + v4_keys_.size() * sizeof(uint16_t) +
         v4_values_.size() * sizeof(SetIndex) + v6_index_.size() * sizeof(uint32_t) +
         v6_keys_.size() * sizeof(U128) + v6_values_.size() * sizeof(SetIndex);
}

inline size_t LegacyPrefixTable::set_bytes() const {
  return (set_offsets_.size() + set_ids_.size()) * sizeof(uint32_t);
}

}  // namespace orbwatch::intel::legacy
