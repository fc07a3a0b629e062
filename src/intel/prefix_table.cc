#include "intel/prefix_table.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace orbwatch::intel {
namespace {

__extension__ typedef unsigned __int128 U128;

U128 to_u128(const IpAddr& a) {
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
    if (ids.empty()) return PrefixTable::kEmptySet;
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

  size_t size() const { return offsets_.size() - 1; }
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
  out.push_back({0, PrefixTable::kEmptySet});
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
  auto top_set = [&stack] { return stack.empty() ? PrefixTable::kEmptySet : stack.back().set; };
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

// Addresses per lookup_batch() pass: their pipeline state stays on the stack (16 KiB).
constexpr size_t kPass = 1024;

uint64_t hi64(const IpAddr& a) {
  uint64_t v;
  std::memcpy(&v, a.b.data(), 8);
  return __builtin_bswap64(v);
}
uint64_t lo64(const IpAddr& a) {
  uint64_t v;
  std::memcpy(&v, a.b.data() + 8, 8);
  return __builtin_bswap64(v);
}

}  // namespace

// Lays out the IPv4 partition: the direct table and the lines (see the header).
struct PrefixTable::Layout4 {
  struct Start {
    uint32_t off;  // in the /16
    SetIndex set;
  };

  PrefixTable& t;
  unsigned cap;  // starts in a leaf line

  uint32_t append() {
    t.lines4_.emplace_back();
    return static_cast<uint32_t>(t.lines4_.size() - 1);
  }

  // n starts (1 <= n <= cap); the places after them repeat the last.
  void leaf(uint32_t line, const Start* s, size_t n) {
    Line& l = t.lines4_[line];
    std::memset(l.b, 0, sizeof l.b);
    for (size_t j = 0; j < cap; ++j) {
      const Start& e = s[std::min(j, n - 1)];
      auto key = static_cast<uint16_t>(e.off ^ kKeyFlip);
      std::memcpy(l.b + 2 * j, &key, 2);
      if (t.wide_) {
        std::memcpy(l.b + kWideValues + 4 * j, &e.set, 4);
      } else {
        std::memcpy(l.b + kNarrowValues + 3 * j, &e.set, 3);
      }
    }
    l.b[kKindByte] = kLeaf;
    l.b[kCountByte] = static_cast<uint8_t>(n);
  }

  struct Child {
    uint32_t line;
    uint32_t first;  // first offset it covers
  };
  void inner(uint32_t line, const Child* c, size_t n) {
    Line& l = t.lines4_[line];
    std::memset(l.b, 0, sizeof l.b);
    for (size_t i = 1; i < n; ++i) {
      auto key = static_cast<uint16_t>(c[i].first ^ kKeyFlip);
      std::memcpy(l.b + 2 * (i - 1), &key, 2);
    }
    std::memcpy(l.b + kInnerChild, &c[0].line, 4);
    l.b[kKindByte] = kInner;
    l.b[kCountByte] = static_cast<uint8_t>(n - 1);
    ++t.inner_lines4_;
  }

  // More starts than a leaf holds: a B+ tree of lines with its root in `root`. Chunks are cut
  // evenly, so every line is at least half full.
  void tree(uint32_t root, const std::vector<Start>& s) {
    std::vector<Child> level;
    size_t m = (s.size() + cap - 1) / cap;
    for (size_t i = 0; i < m; ++i) {
      size_t b = s.size() * i / m;
      size_t e = s.size() * (i + 1) / m;
      uint32_t line = append();
      leaf(line, s.data() + b, e - b);
      level.push_back({line, s[b].off});
    }
    while (level.size() > kInnerCap + 1) {
      std::vector<Child> up;
      size_t parents = (level.size() + kInnerCap) / (kInnerCap + 1);
      for (size_t i = 0; i < parents; ++i) {
        size_t b = level.size() * i / parents;
        size_t e = level.size() * (i + 1) / parents;
        uint32_t line = append();
        inner(line, level.data() + b, e - b);
        up.push_back({line, level[b].first});
      }
      level = std::move(up);
    }
    inner(root, level.data(), level.size());
  }

  // One /16: starts[0].off == 0.
  void slot(uint32_t c, const std::vector<Start>& s) {
    if (s.size() == 1) {
      t.dir4_[c] = {s[0].set, kOneRange};
      return;
    }
    struct Run {
      size_t begin;  // starts [begin, end) of s
      size_t end;
      uint32_t first;  // first offset of the line
    };
    std::vector<Run> runs;
    uint32_t map = 0;
    auto bucket_end = [&s](size_t from, unsigned bucket) {
      while (from < s.size() && s[from].off >> kBucketShift <= bucket) ++from;
      return from;
    };
    size_t e = 0;
    for (unsigned j = 0; j < kBuckets;) {
      uint32_t first = j << kBucketShift;
      bool carried = e == s.size() || s[e].off != first;  // e > 0 then, as s[0].off == 0
      size_t end = bucket_end(e, j);
      size_t count = carried + (end - e);
      unsigned next = j + 1;
      while (count <= cap && next < kBuckets) {
        size_t more = bucket_end(end, next);
        if (count + (more - end) > cap) break;
        count += more - end;
        end = more;
        ++next;
      }
      map |= 1u << j;
      runs.push_back({e, end, first});
      j = next;
      e = end;
    }
    auto base = static_cast<uint32_t>(t.lines4_.size());
    t.lines4_.resize(t.lines4_.size() + runs.size());
    t.dir4_[c] = {base, map};
    std::vector<Start> line;
    for (size_t r = 0; r < runs.size(); ++r) {
      const Run& run = runs[r];
      line.clear();
      if (run.begin == run.end || s[run.begin].off != run.first) {
        line.push_back({run.first, s[run.begin - 1].set});
      }
      line.insert(line.end(), s.begin() + static_cast<ptrdiff_t>(run.begin),
                  s.begin() + static_cast<ptrdiff_t>(run.end));
      if (line.size() <= cap) {
        leaf(base + static_cast<uint32_t>(r), line.data(), line.size());
      } else {
        tree(base + static_cast<uint32_t>(r), line);
      }
    }
  }

  template <typename R>
  void run(const std::vector<R>& ranges) {
    t.dir4_.assign(size_t{1} << 16, {});
    t.lines4_.clear();
    t.lines4_.reserve(ranges.size() / (cap - 2) + 16);
    append();
    const Start zero{0, kEmptySet};
    leaf(0, &zero, 1);
    std::vector<Start> s;
    SetIndex carried = kEmptySet;
    size_t r = 0;
    for (uint32_t c = 0; c < (1u << 16); ++c) {
      s.clear();
      if (r == ranges.size() || ranges[r].start != c << 16) s.push_back({0, carried});
      for (; r < ranges.size() && ranges[r].start >> 16 == c; ++r) {
        s.push_back({ranges[r].start & 0xFFFF, ranges[r].set});
      }
      slot(c, s);
      carried = s.back().set;
    }
    t.lines4_.shrink_to_fit();
  }
};

// Lays out the IPv6 partition: /64 runs and split /64s, and the B+ tree over them.
struct PrefixTable::Layout6 {
  PrefixTable& t;
  std::vector<uint64_t> keys;
  std::vector<SetIndex> values;

  void entry(uint64_t key, SetIndex value) {
    if (!values.empty() && values.back() == value) return;  // (split values are all distinct)
    keys.push_back(key);
    values.push_back(value);
  }

  template <typename R>
  void entries(const std::vector<R>& r) {
    t.v6_lo_offsets_.assign(1, 0);
    t.v6_lo_keys_.clear();
    t.v6_lo_sets_.clear();
    SetIndex before = kEmptySet;  // the set just below the current /64
    for (size_t i = 0; i < r.size();) {
      auto hi = static_cast<uint64_t>(r[i].start >> 64);
      size_t j = i;
      while (j < r.size() && static_cast<uint64_t>(r[j].start >> 64) == hi) ++j;
      auto lo = static_cast<uint64_t>(r[i].start);
      if (j - i == 1 && lo == 0) {
        entry(hi, r[i].set);
      } else {
        auto split = static_cast<SetIndex>(t.v6_lo_offsets_.size() - 1);
        if (split >= kSplit) throw std::length_error("prefix table: too many split IPv6 /64s");
        if (lo != 0) {
          t.v6_lo_keys_.push_back(0);
          t.v6_lo_sets_.push_back(before);
        }
        for (size_t k = i; k < j; ++k) {
          t.v6_lo_keys_.push_back(static_cast<uint64_t>(r[k].start));
          t.v6_lo_sets_.push_back(r[k].set);
        }
        t.v6_lo_offsets_.push_back(static_cast<uint32_t>(t.v6_lo_keys_.size()));
        entry(hi, kSplit | split);
        // The next /64 continues with the block's last set unless a range starts there.
        if (hi != ~uint64_t{0} &&
            (j == r.size() || static_cast<uint64_t>(r[j].start >> 64) != hi + 1)) {
          entry(hi + 1, r[j - 1].set);
        }
      }
      before = r[j - 1].set;
      i = j;
    }
  }

  void tree() {
    const size_t n = keys.size();
    // Levels bottom-up: the leaves, then inner levels until one node remains.
    std::vector<std::vector<Node6>> levels;
    std::vector<uint32_t> last;
    std::vector<uint64_t> firsts;
    {
      std::vector<Node6> leaves((n + kLeaf6 - 1) / kLeaf6);
      for (size_t i = 0; i < leaves.size() * kLeaf6; ++i) {
        Node6& node = leaves[i / kLeaf6];
        bool real = i < n;
        node.k[i % kLeaf6] = real ? keys[i] : ~uint64_t{0};
        // Past the last key an address keeps the last set.
        SetIndex v = values[real ? i : n - 1];
        std::memcpy(reinterpret_cast<uint8_t*>(node.k) + 40 + 4 * (i % kLeaf6), &v, 4);
        if (i % kLeaf6 == 0) firsts.push_back(keys[i]);
      }
      last.push_back(static_cast<uint32_t>(n - 1));
      levels.push_back(std::move(leaves));
    }
    while (firsts.size() > 1) {
      std::vector<Node6> up((firsts.size() + kInner6 - 1) / kInner6);
      std::vector<uint64_t> up_firsts;
      for (size_t i = 0; i < up.size() * kInner6; ++i) {
        up[i / kInner6].k[i % kInner6] = i < firsts.size() ? firsts[i] : ~uint64_t{0};
        if (i % kInner6 == 0) up_firsts.push_back(firsts[i]);
      }
      last.push_back(static_cast<uint32_t>(firsts.size() - 1));
      levels.push_back(std::move(up));
      firsts = std::move(up_firsts);
    }
    t.v6_nodes_.clear();
    t.v6_levels_.clear();
    for (size_t l = levels.size(); l-- > 0;) {
      t.v6_levels_.push_back({static_cast<uint32_t>(t.v6_nodes_.size()), last[l]});
      t.v6_nodes_.insert(t.v6_nodes_.end(), levels[l].begin(), levels[l].end());
    }
    t.v6_entries_ = n;
  }
};

namespace {

constexpr size_t kHugePage = size_t{1} << 21;

// Whether n bytes go to huge pages: large, and rounding up to whole pages wastes at most 1/8.
bool huge_pages_for(size_t bytes) {
#if defined(__linux__)
  const size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  return bytes >= kHugePage && rounded - bytes <= bytes / 8;
#else
  (void)bytes;
  return false;
#endif
}

}  // namespace

template <typename T>
size_t PrefixTable::LineAllocator<T>::footprint(size_t n) {
  const size_t bytes = n * sizeof(T);
  return huge_pages_for(bytes) ? (bytes + kHugePage - 1) & ~(kHugePage - 1) : bytes;
}

template <typename T>
T* PrefixTable::LineAllocator<T>::allocate(size_t n) {
  const size_t bytes = n * sizeof(T);
  if (huge_pages_for(bytes)) {
    void* p = std::aligned_alloc(kHugePage, footprint(n));
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__)
    madvise(p, footprint(n), MADV_HUGEPAGE);  // a hint: without it the pages are just small
#endif
    return static_cast<T*>(p);
  }
  return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T)}));
}

template <typename T>
void PrefixTable::LineAllocator<T>::deallocate(T* p, size_t n) {
  if (huge_pages_for(n * sizeof(T))) {
    std::free(p);  // from aligned_alloc
  } else {
    ::operator delete (p, std::align_val_t{alignof(T)});
  }
}

template struct PrefixTable::LineAllocator<PrefixTable::Line>;

void PrefixTable::Builder::add(const Prefix& prefix, uint32_t indicator_id) {
  entries_.push_back({Prefix::make(prefix.addr, prefix.len), indicator_id});
}

std::shared_ptr<const PrefixTable> PrefixTable::Builder::build() const {
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
  std::shared_ptr<PrefixTable> t(new PrefixTable());
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
  t->range_count_v4_ = r4.size();
  t->range_count_v6_ = r6.size();
  if (sets.size() > kSplit) throw std::length_error("prefix table: more than 2^31 id sets");
  t->wide_ = force_wide_ || sets.size() > (size_t{1} << 24);
  Layout4{*t, t->wide_ ? kWideCap : kNarrowCap}.run(r4);
  Layout6 l6{*t, {}, {}};
  l6.entries(r6);
  l6.tree();
  t->set_offsets_ = sets.take_offsets();
  t->set_ids_ = sets.take_ids();
  t->set_offsets_.shrink_to_fit();
  t->set_ids_.shrink_to_fit();
  return t;
}

PrefixTable::SetIndex PrefixTable::lookup_lo6(SetIndex split, uint64_t lo) const {
  split &= ~kSplit;
  const uint64_t* keys = v6_lo_keys_.data() + v6_lo_offsets_[split];
  uint32_t n = v6_lo_offsets_[split + 1] - v6_lo_offsets_[split];
  // Branch-free binary search for the last key <= lo (keys[0] == 0).
  const uint64_t* at = keys;
  while (n > 1) {
    uint32_t half = n / 2;
    at = at[half] <= lo ? at + half : at;
    n -= half;
  }
  return v6_lo_sets_[static_cast<size_t>(at - v6_lo_keys_.data())];
}

PrefixTable::SetIndex PrefixTable::lookup_v6(const IpAddr& a) const {
  const uint64_t hi = hi64(a);
  uint32_t node = 0;
  const size_t inner_levels = v6_levels_.size() - 1;
  for (size_t l = 0; l < inner_levels; ++l) {
    const Node6& n = v6_nodes_[v6_levels_[l].first + node];
    node = std::min(node * kInner6 + count_le6(n.k, kInner6, hi) - 1, v6_levels_[l].last);
  }
  const Node6& leaf = v6_nodes_[v6_levels_[inner_levels].first + node];
  SetIndex v = leaf6_value(leaf, count_le6(leaf.k, kLeaf6, hi) - 1);
  return v & kSplit ? lookup_lo6(v, lo64(a)) : v;
}

PrefixTable::SetIndex PrefixTable::lookup_set(const IpAddr& a) const {
  return a.is_v4() ? lookup_v4(a.v4_value()) : lookup_v6(a);
}

template <bool kWide, bool kPopcnt>
[[gnu::always_inline]] inline size_t PrefixTable::batch_v4(const IpAddr* addrs, size_t n,
                                                           SetIndex* out, uint32_t* v6) const {
  // Three stages, each some addresses behind the one before: read the address and prefetch its
  // direct slot; read the slot and prefetch the line; search the line. An IPv6 address goes
  // through as its last 32 bits (batch_v6 overwrites its answer); line 0 stands in for slots
  // that hold their set.
  constexpr size_t kSlotAhead = 16;
  constexpr size_t kLineAhead = 32;
  constexpr size_t kLag = kSlotAhead + kLineAhead;
  uint32_t key[kPass];
  uint32_t line[kPass];
  SetIndex direct[kPass];
  const Dir4* dir = dir4_.data();
  const Line* lines = lines4_.data();
  // Selects below are masks, not branches: which way they go depends on the data.
  uint64_t not_v4 = 0;  // nonzero once an address is outside ::ffff:0:0/96
  auto address = [&](size_t i) __attribute__((always_inline)) {
    uint64_t w[2];
    std::memcpy(w, addrs[i].b.data(), 16);
    // IPv4-mapped: bytes 0-9 zero, 10-11 0xff (little-endian words).
    not_v4 |= w[0] | (static_cast<uint32_t>(w[1]) ^ 0xFFFF0000u);
    key[i] = __builtin_bswap32(static_cast<uint32_t>(w[1] >> 32));
    __builtin_prefetch(dir + (key[i] >> 16));
  };
  auto slot = [&](size_t i) __attribute__((always_inline)) {
    const Dir4 d = dir[key[i] >> 16];
    const uint32_t lines_of_slot = -static_cast<uint32_t>(d.map != kOneRange);
    line[i] = (d.base + bucket_line<kPopcnt>(d.map, key[i])) & lines_of_slot;
    direct[i] = d.base;
    __builtin_prefetch(lines + line[i]);
  };
  size_t deferred = 0;  // addresses whose line was inner: line[] now names the child
  auto search = [&](size_t i) __attribute__((always_inline)) {
    const Line* l = lines + line[i];
    if (l->b[kKindByte] != kLeaf) [[unlikely]] {
      uint32_t child;
      std::memcpy(&child, l->b + kInnerChild, 4);
      line[i] = child + count_le32(*l, key[i], l->b[kCountByte]);
      __builtin_prefetch(lines + line[i]);
      line[deferred] = line[i];  // deferred <= i: the slot is free
      direct[deferred++] = static_cast<SetIndex>(i);
      return;
    }
    const SetIndex v = leaf_value<kWide>(*l, key[i]);
    const uint32_t from_slot = -static_cast<uint32_t>(line[i] == 0);
    out[i] = v ^ ((v ^ direct[i]) & from_slot);
  };
  size_t i = 0;
  if (n > kLag) {  // prologue, steady state, epilogue
    for (; i < kSlotAhead; ++i) address(i);
    for (; i < kLag; ++i) {
      address(i);
      slot(i - kSlotAhead);
    }
    for (; i < n; ++i) {
      address(i);
      slot(i - kSlotAhead);
      search(i - kLag);
    }
    for (; i < n + kSlotAhead; ++i) {
      slot(i - kSlotAhead);
      search(i - kLag);
    }
    for (; i < n + kLag; ++i) search(i - kLag);
  } else {
    for (; i < n; ++i) address(i);
    for (i = 0; i < n; ++i) slot(i);
    for (i = 0; i < n; ++i) search(i);
  }
  // The children of inner lines, prefetched during the pass: each round reads one level of
  // every deferred address and prefetches the next.
  while (deferred != 0) {
    size_t kept = 0;
    for (size_t d = 0; d < deferred; ++d) {
      const size_t at = direct[d];
      const Line* l = lines + line[d];
      if (l->b[kKindByte] != kLeaf) {
        uint32_t child;
        std::memcpy(&child, l->b + kInnerChild, 4);
        line[kept] = child + count_le32(*l, key[at], l->b[kCountByte]);
        __builtin_prefetch(lines + line[kept]);
        direct[kept++] = static_cast<SetIndex>(at);
      } else {
        out[at] = leaf_value<kWide>(*l, key[at]);
      }
    }
    deferred = kept;
  }
  size_t n6 = 0;
  if (not_v4 != 0) {
    for (i = 0; i < n; ++i) {
      if (!addrs[i].is_v4()) v6[n6++] = static_cast<uint32_t>(i);
    }
  }
  return n6;
}

template <bool kWide>
#if defined(__x86_64__)
__attribute__((target("avx2,bmi,bmi2,popcnt")))
#endif
size_t
PrefixTable::batch_v4_fast(const IpAddr* addrs, size_t n, SetIndex* out, uint32_t* v6) const {
  return batch_v4<kWide, true>(addrs, n, out, v6);
}

namespace {

std::atomic<bool> portable_for_test{false};

// Whether this CPU runs batch_v4_fast().
bool fast_cpu() {
  if (portable_for_test.load(std::memory_order_relaxed)) return false;
#if defined(__x86_64__)
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
                          __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
  return yes;
#else
  return true;  // elsewhere __builtin_popcount needs no special target
#endif
}

}  // namespace

void PrefixTable::portable_batch_for_test(bool on) {
  portable_for_test.store(on, std::memory_order_relaxed);
}

void PrefixTable::batch_v6(const IpAddr* addrs, const uint32_t* pos, size_t n,
                           SetIndex* out) const {
  // Groups of addresses walk the tree level by level; each step prefetches the next level's
  // node of every address in the group, so their misses overlap.
  constexpr size_t kGroup = 32;
  const size_t inner_levels = v6_levels_.size() - 1;
  uint64_t hi[kGroup];
  uint32_t node[kGroup];
  for (size_t g = 0; g < n; g += kGroup) {
    const size_t m = std::min(kGroup, n - g);
    for (size_t k = 0; k < m; ++k) {
      hi[k] = hi64(addrs[pos[g + k]]);
      node[k] = 0;
    }
    for (size_t l = 0; l < inner_levels; ++l) {
      const Node6* level = v6_nodes_.data() + v6_levels_[l].first;
      const Node6* below = v6_nodes_.data() + v6_levels_[l + 1].first;
      for (size_t k = 0; k < m; ++k) {
        const unsigned c = count_le6(level[node[k]].k, kInner6, hi[k]);
        node[k] = std::min(node[k] * kInner6 + c - 1, v6_levels_[l].last);
        __builtin_prefetch(below + node[k]);
      }
    }
    const Node6* leaves = v6_nodes_.data() + v6_levels_[inner_levels].first;
    for (size_t k = 0; k < m; ++k) {
      const Node6& leaf = leaves[node[k]];
      const SetIndex v = leaf6_value(leaf, count_le6(leaf.k, kLeaf6, hi[k]) - 1);
      out[pos[g + k]] = v & kSplit ? lookup_lo6(v, lo64(addrs[pos[g + k]])) : v;
    }
  }
}

void PrefixTable::lookup_batch(const IpAddr* addrs, size_t n, SetIndex* out) const {
  const bool fast = fast_cpu();
  uint32_t v6[kPass];
  for (size_t start = 0; start < n; start += kPass) {
    const size_t g = std::min(kPass, n - start);
    size_t n6;
    if (fast) {
      n6 = wide_ ? batch_v4_fast<true>(addrs + start, g, out + start, v6)
                 : batch_v4_fast<false>(addrs + start, g, out + start, v6);
    } else {
      n6 = wide_ ? batch_v4<true, false>(addrs + start, g, out + start, v6)
                 : batch_v4<false, false>(addrs + start, g, out + start, v6);
    }
    if (n6 != 0) batch_v6(addrs + start, v6, n6, out + start);
  }
}

size_t PrefixTable::structure_bytes() const {
  return dir4_.size() * sizeof(Dir4) + LineAllocator<Line>::footprint(lines4_.capacity()) +
         v6_nodes_.size() * sizeof(Node6) + v6_levels_.size() * sizeof(Level6) +
         v6_lo_offsets_.size() * sizeof(uint32_t) + v6_lo_keys_.size() * sizeof(uint64_t) +
         v6_lo_sets_.size() * sizeof(SetIndex);
}

size_t PrefixTable::set_bytes() const {
  return (set_offsets_.size() + set_ids_.size()) * sizeof(uint32_t);
}

}  // namespace orbwatch::intel
