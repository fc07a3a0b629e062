#include "intel/prefix_table.h"

#include "core/snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <utility>
#include <vector>

namespace orbwatch::intel {
namespace {

struct Pair {
  Prefix prefix;
  uint32_t id;
};

// The specification, by brute force: ids of every covering prefix, most specific first, ties by
// ascending id, each id once (at its most specific prefix).
std::vector<uint32_t> reference(const std::vector<Pair>& pairs, const IpAddr& a) {
  std::vector<std::pair<int, uint32_t>> hits;  // (-len, id)
  for (const Pair& p : pairs) {
    Prefix norm = Prefix::make(p.prefix.addr, p.prefix.len);
    if (norm.contains(a)) hits.push_back({-int{norm.len}, p.id});
  }
  std::sort(hits.begin(), hits.end());
  std::vector<uint32_t> out;
  for (const auto& h : hits) {
    if (std::find(out.begin(), out.end(), h.second) == out.end()) out.push_back(h.second);
  }
  return out;
}

std::vector<uint32_t> got(const PrefixTable& t, const IpAddr& a) {
  auto s = t.lookup(a);
  return {s.begin(), s.end()};
}

std::shared_ptr<const PrefixTable> build(const std::vector<Pair>& pairs, bool wide = false) {
  PrefixTable::Builder b;
  for (const Pair& p : pairs) b.add(p.prefix, p.id);
  if (wide) b.force_wide_values_for_test();
  return b.build();
}

IpAddr last_of(const Prefix& p) {
  IpAddr a = p.addr;
  for (unsigned i = 0; i < 16; ++i) {
    unsigned bits = p.len > i * 8 ? p.len - i * 8 : 0;
    uint8_t host = bits >= 8 ? 0 : static_cast<uint8_t>(0xff >> bits);
    a.b[i] |= host;
  }
  return a;
}

IpAddr step(IpAddr a, int delta) {  // a + 1 or a - 1, wrapping
  for (int i = 15; i >= 0; --i) {
    uint8_t before = a.b[i];
    a.b[i] = static_cast<uint8_t>(before + delta);
    if ((delta > 0 && a.b[i] != 0) || (delta < 0 && before != 0)) break;
  }
  return a;
}

IpAddr random_v6(std::mt19937_64& rng) {
  // A few clusters, so random prefixes nest and overlap.
  static constexpr uint8_t kTops[][2] = {{0x20, 0x01}, {0x2a, 0x00}, {0x00, 0x00}, {0xff, 0xff}};
  IpAddr a;
  for (auto& byte : a.b) byte = static_cast<uint8_t>(rng());
  const auto* top = kTops[rng() % 4];
  a.b[0] = top[0];
  a.b[1] = top[1];
  if (rng() % 2) a.b[2] = a.b[3] = 0;  // denser
  return a;
}

IpAddr random_v4(std::mt19937_64& rng) {
  auto v = static_cast<uint32_t>(rng());
  if (rng() % 2) v &= 0xC0FF00FF;  // denser, so prefixes nest
  return IpAddr::v4(v);
}

// Random table: fresh prefixes, prefixes nested under earlier ones, exact duplicates, the same
// prefix under another id, and the extremes (/0, full length).
std::vector<Pair> random_table(std::mt19937_64& rng, size_t n, bool v6, bool v4) {
  std::vector<Pair> pairs;
  auto random_len = [&](bool is_v6) -> unsigned {
    if (is_v6) {
      static constexpr unsigned kLens[] = {0, 16, 29, 32, 33, 48, 56, 64, 64, 96, 112, 127, 128};
      return rng() % 3 ? kLens[rng() % std::size(kLens)] : static_cast<unsigned>(rng() % 129);
    }
    static constexpr unsigned kLens[] = {0, 8, 16, 20, 24, 24, 24, 28, 31, 32, 32};
    return 96 + (rng() % 3 ? kLens[rng() % std::size(kLens)] : static_cast<unsigned>(rng() % 33));
  };
  while (pairs.size() < n) {
    uint64_t kind = rng() % 10;
    auto id = static_cast<uint32_t>(rng() % (n + 5));
    if (!pairs.empty() && kind == 0) {  // exact duplicate
      pairs.push_back(pairs[rng() % pairs.size()]);
    } else if (!pairs.empty() && kind == 1) {  // same prefix, other id
      pairs.push_back({pairs[rng() % pairs.size()].prefix, id});
    } else if (!pairs.empty() && kind <= 4) {  // nested under an earlier prefix
      const Prefix& parent = pairs[rng() % pairs.size()].prefix;
      IpAddr a = random_v6(rng);
      if (parent.addr.is_v4() && parent.len >= 96) a = random_v4(rng);
      unsigned len = parent.len + static_cast<unsigned>(rng() % (129 - parent.len));
      Prefix child = Prefix::make(a, len);
      for (unsigned i = 0; i < 16; ++i) {  // copy the parent's bits
        unsigned bits = parent.len > i * 8 ? parent.len - i * 8 : 0;
        uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00 >> bits);
        child.addr.b[i] =
            static_cast<uint8_t>((parent.addr.b[i] & mask) | (child.addr.b[i] & ~mask));
      }
      pairs.push_back({child, id});
    } else {
      bool is_v6 = v6 && (!v4 || rng() % 2);
      IpAddr a = is_v6 ? random_v6(rng) : random_v4(rng);
      Prefix p = Prefix::make(a, random_len(is_v6));
      if (rng() % 3 == 0) p.addr = a;  // host bits set: the builder must mask them
      pairs.push_back({p, id});
    }
  }
  return pairs;
}

std::vector<IpAddr> probes(std::mt19937_64& rng, const std::vector<Pair>& pairs, size_t random) {
  std::vector<IpAddr> out = {
      IpAddr{},
      last_of(Prefix{IpAddr{}, 0}),
      IpAddr::v4(0),
      IpAddr::v4(0xffffffff),
      IpAddr::v4(0x7fffffff),
      IpAddr::v4(0x80000000),
      step(IpAddr::v4(0), -1),          // ::fffe:ffff:ffff, just below the mapped block
      step(IpAddr::v4(0xffffffff), 1),  // ::1:0:0:0, just above it
  };
  for (const Pair& p : pairs) {
    Prefix norm = Prefix::make(p.prefix.addr, p.prefix.len);
    IpAddr last = last_of(norm);
    for (const IpAddr& a : {norm.addr, last, step(norm.addr, -1), step(last, 1)}) out.push_back(a);
  }
  for (size_t i = 0; i < random; ++i) out.push_back(rng() % 2 ? random_v4(rng) : random_v6(rng));
  return out;
}

// Every probe: the table's set equals the brute-force answer, through lookup(), lookup_set(),
// lookup_v4() (IPv4) and lookup_batch() alike, in both line layouts.
void check_pairs(const std::vector<Pair>& pairs, const std::vector<IpAddr>& addrs, uint64_t seed) {
  for (bool wide : {false, true}) {
    auto table = build(pairs, wide);
    ASSERT_EQ(table->wide_values(), wide);
    std::vector<PrefixTable::SetIndex> batch(addrs.size());
    table->lookup_batch(addrs.data(), addrs.size(), batch.data());
    std::vector<PrefixTable::SetIndex> portable(addrs.size());  // without AVX2/BMI2
    PrefixTable::portable_batch_for_test(true);
    table->lookup_batch(addrs.data(), addrs.size(), portable.data());
    PrefixTable::portable_batch_for_test(false);
    ASSERT_EQ(portable, batch);
    for (size_t i = 0; i < addrs.size(); ++i) {
      const IpAddr& a = addrs[i];
      auto want = reference(pairs, a);
      ASSERT_EQ(got(*table, a), want)
          << "seed " << seed << " wide " << wide << " " << a.to_string();
      ASSERT_EQ(batch[i], table->lookup_set(a)) << "seed " << seed << " " << a.to_string();
      if (a.is_v4()) {
        ASSERT_EQ(table->lookup_v4(a.v4_value()), batch[i]) << a.to_string();
      }
      ASSERT_EQ(want.empty(), batch[i] == PrefixTable::kEmptySet);
    }
  }
}

void check_against_reference(uint64_t seed, size_t n, bool v6, bool v4) {
  std::mt19937_64 rng(seed);
  auto pairs = random_table(rng, n, v6, v4);
  check_pairs(pairs, probes(rng, pairs, 2000), seed);
}

TEST(PrefixTable, EmptyTable) {
  auto t = PrefixTable::Builder{}.build();
  for (const IpAddr& a : {IpAddr{}, IpAddr::v4(0), IpAddr::v4(0xffffffff), IpAddr::v4(0x0a000001),
                          *IpAddr::parse("2001:db8::1"), last_of(Prefix{IpAddr{}, 0})}) {
    EXPECT_TRUE(t->lookup(a).empty()) << a.to_string();
    EXPECT_EQ(t->lookup_set(a), PrefixTable::kEmptySet);
  }
  EXPECT_EQ(t->set_count(), 1u);
  EXPECT_EQ(t->prefix_count(), 0u);
}

TEST(PrefixTable, OverlappingFeedsAllMatch) {
  PrefixTable::Builder b;
  b.add(*Prefix::parse("10.0.0.0/8"), 7);     // feed A
  b.add(*Prefix::parse("10.1.2.3/32"), 42);   // feed B
  b.add(*Prefix::parse("10.1.0.0/16"), 7);    // feed A again, more specific
  b.add(*Prefix::parse("10.1.2.3/32"), 42);   // duplicate
  b.add(*Prefix::parse("2001:db8::/32"), 9);  // IPv6
  b.add(*Prefix::parse("2001:db8:1::1"), 10);
  auto t = b.build();
  EXPECT_EQ(got(*t, *IpAddr::parse("10.1.2.3")), (std::vector<uint32_t>{42, 7}));
  EXPECT_EQ(got(*t, *IpAddr::parse("10.1.2.4")), (std::vector<uint32_t>{7}));
  EXPECT_EQ(got(*t, *IpAddr::parse("10.200.0.1")), (std::vector<uint32_t>{7}));
  EXPECT_TRUE(t->lookup(*IpAddr::parse("11.0.0.0")).empty());
  EXPECT_TRUE(t->lookup(*IpAddr::parse("9.255.255.255")).empty());
  EXPECT_EQ(got(*t, *IpAddr::parse("2001:db8:1::1")), (std::vector<uint32_t>{10, 9}));
  EXPECT_EQ(got(*t, *IpAddr::parse("2001:db8:ffff::")), (std::vector<uint32_t>{9}));
  EXPECT_TRUE(t->lookup(*IpAddr::parse("2001:db9::")).empty());
  EXPECT_EQ(t->prefix_count(), 5u);
  // Same set at two places: one index.
  EXPECT_EQ(t->lookup_set(*IpAddr::parse("10.1.2.4")), t->lookup_set(*IpAddr::parse("10.2.0.0")));
}

TEST(PrefixTable, ShortIpv6PrefixCoversIpv4) {
  PrefixTable::Builder b;
  b.add(*Prefix::parse("::/0"), 1);
  b.add(Prefix::make(IpAddr::v4(0), 96), 2);  // the mapped block itself: IPv4 0.0.0.0/0
  b.add(*Prefix::parse("0.0.0.0/0"), 3);
  b.add(*Prefix::parse("255.255.255.255/32"), 4);
  auto t = b.build();
  EXPECT_EQ(got(*t, IpAddr::v4(0)), (std::vector<uint32_t>{2, 3, 1}));
  EXPECT_EQ(got(*t, IpAddr::v4(0xffffffff)), (std::vector<uint32_t>{4, 2, 3, 1}));
  EXPECT_EQ(got(*t, *IpAddr::parse("2001:db8::1")), (std::vector<uint32_t>{1}));
  EXPECT_EQ(got(*t, last_of(Prefix{IpAddr{}, 0})), (std::vector<uint32_t>{1}));
}

TEST(PrefixTable, RandomIpv4AgainstBruteForce) {
  for (uint64_t seed = 1; seed <= 60; ++seed)
    check_against_reference(seed, 5 + seed * 7, false, true);
}

TEST(PrefixTable, RandomIpv6AgainstBruteForce) {
  for (uint64_t seed = 100; seed <= 160; ++seed) {
    check_against_reference(seed, 5 + (seed - 100) * 7, true, false);
  }
}

TEST(PrefixTable, RandomMixedAgainstBruteForce) {
  for (uint64_t seed = 200; seed <= 230; ++seed) check_against_reference(seed, 300, true, true);
}

TEST(PrefixTable, BatchOfAnySize) {
  std::mt19937_64 rng(5);
  auto pairs = random_table(rng, 500, true, true);
  auto t = build(pairs);
  for (size_t n : {0u, 1u, 15u, 16u, 17u, 100u}) {
    std::vector<IpAddr> addrs;
    for (size_t i = 0; i < n; ++i) addrs.push_back(rng() % 3 ? random_v4(rng) : random_v6(rng));
    std::vector<PrefixTable::SetIndex> out(n + 1, 12345);
    t->lookup_batch(addrs.data(), n, out.data());
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], t->lookup_set(addrs[i]));
    EXPECT_EQ(out[n], 12345u);  // wrote nothing past n
  }
}

TEST(PrefixTable, BatchAcrossPasses) {
  // lookup_batch() works in passes of 1,024 addresses with a pipeline several dozen deep: sizes
  // around both, all IPv4, all IPv6 and mixed.
  std::mt19937_64 rng(6);
  auto pairs = random_table(rng, 3000, true, true);
  auto t = build(pairs);
  for (int mix : {0, 1, 2}) {
    for (size_t n : {2u, 47u, 48u, 49u, 1023u, 1024u, 1025u, 2048u, 3001u}) {
      std::vector<IpAddr> addrs;
      for (size_t i = 0; i < n; ++i) {
        bool v6 = mix == 1 || (mix == 2 && rng() % 4 == 0);
        addrs.push_back(v6 ? random_v6(rng) : random_v4(rng));
      }
      std::vector<PrefixTable::SetIndex> out(n + 1, 12345);
      t->lookup_batch(addrs.data(), n, out.data());
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], t->lookup_set(addrs[i])) << n << " " << i;
      EXPECT_EQ(out[n], 12345u);
    }
  }
}

// Host routes packed tighter than a line holds: the bucket becomes a B+ tree of lines (two
// inner levels here), and every boundary is probed.
TEST(PrefixTable, DenseIpv4BucketsAgainstBruteForce) {
  std::mt19937_64 rng(7);
  std::vector<Pair> pairs;
  pairs.push_back({*Prefix::parse("10.0.0.0/8"), 1});
  for (uint32_t i = 0; i < 1500; ++i) {  // 10.1.0.0 to 10.1.35.39
    uint32_t a = 0x0a010000 + static_cast<uint32_t>(rng() % 9000);
    pairs.push_back({Prefix::make(IpAddr::v4(a), 128), 100 + i % 50});
  }
  for (uint32_t i = 0; i < 40; ++i) {  // short runs and nested prefixes in the same /16
    uint32_t a = 0x0a010000 + static_cast<uint32_t>(rng() % 65536);
    pairs.push_back({Prefix::make(IpAddr::v4(a), 96 + 20 + rng() % 12), 200 + i});
  }
  pairs.push_back({*Prefix::parse("10.1.255.255/32"), 2});
  pairs.push_back({*Prefix::parse("255.255.255.255/32"), 3});
  pairs.push_back({*Prefix::parse("0.0.0.0/32"), 4});
  auto t = build(pairs);
  EXPECT_GT(t->inner_line_count_v4(), 2u);
  check_pairs(pairs, probes(rng, pairs, 500), 7);
}

// Dense random tables in a small space: many buckets overflow, some just fit.
TEST(PrefixTable, DenseRandomIpv4AgainstBruteForce) {
  for (uint64_t seed = 300; seed < 310; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<Pair> pairs;
    uint32_t span = 1u << (10 + seed % 8);
    for (size_t i = 0; i < 400; ++i) {
      uint32_t a = 0xc0a80000 + static_cast<uint32_t>(rng() % span);
      unsigned len = rng() % 4 == 0 ? 96 + 16 + rng() % 17 : 128;
      pairs.push_back({Prefix::make(IpAddr::v4(a), len), static_cast<uint32_t>(rng() % 300)});
    }
    check_pairs(pairs, probes(rng, pairs, 200), seed);
  }
}

// IPv6: /64s split by longer prefixes (many hosts in one /64), runs of /64s, the last /64 of
// the space and an address above every key of the tree.
TEST(PrefixTable, SplitIpv6AgainstBruteForce) {
  std::mt19937_64 rng(8);
  std::vector<Pair> pairs;
  auto v6 = [](const char* text, unsigned len) { return Prefix::make(*IpAddr::parse(text), len); };
  pairs.push_back({v6("2001:db8::", 32), 1});
  pairs.push_back({v6("2001:db8:0:1::", 64), 2});
  pairs.push_back({v6("2001:db8:0:2::", 63), 3});  // a run of two /64s
  pairs.push_back({v6("ffff:ffff:ffff:ffff::", 64), 4});
  pairs.push_back({v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128), 5});
  pairs.push_back({v6("ffff:ffff:ffff:fffe:8000::", 65), 6});
  pairs.push_back({v6("::", 128), 7});
  for (uint32_t i = 0; i < 300; ++i) {  // hosts and short runs inside 2001:db8:0:1::/64
    IpAddr a = *IpAddr::parse("2001:db8:0:1::");
    for (int b = 12 + static_cast<int>(rng() % 2) * 2; b < 16; ++b) {
      a.b[b] = static_cast<uint8_t>(rng());
    }
    pairs.push_back({Prefix::make(a, 112 + rng() % 17), 10 + i % 20});
  }
  for (uint32_t i = 0; i < 200; ++i) {  // scattered /48-/128 under 2001:db8::/32
    IpAddr a = *IpAddr::parse("2001:db8::");
    for (int b = 4; b < 16; ++b) a.b[b] = rng() % 3 == 0 ? static_cast<uint8_t>(rng()) : 0;
    static constexpr unsigned kLens[] = {48, 56, 64, 64, 80, 127, 128};
    pairs.push_back({Prefix::make(a, kLens[rng() % std::size(kLens)]), 40 + i});
  }
  auto t = build(pairs);
  EXPECT_GT(t->split_count_v6(), 10u);
  check_pairs(pairs, probes(rng, pairs, 500), 8);
}

// A table of more than 2 MiB of lines (the line array then goes to huge pages where Linux offers
// them): 1.2M host routes, one every 8 addresses, each its own id.
TEST(PrefixTable, LargeTable) {
  constexpr uint32_t kHosts = 1200000;
  constexpr uint32_t kBase = 0x20000000;
  PrefixTable::Builder b;
  b.reserve(kHosts + 1);
  for (uint32_t i = 0; i < kHosts; ++i) b.add(Prefix::make(IpAddr::v4(kBase + i * 8), 128), i);
  b.add(*Prefix::parse("32.0.0.0/4"), kHosts);
  auto t = b.build();
  EXPECT_GT(t->line_count_v4() * 64, size_t{8} << 20);
  std::mt19937_64 rng(9);
  std::vector<IpAddr> addrs;
  for (int i = 0; i < 20000; ++i) {
    addrs.push_back(IpAddr::v4(kBase + static_cast<uint32_t>(rng() % (kHosts * 8 + 100))));
  }
  std::vector<PrefixTable::SetIndex> out(addrs.size());
  t->lookup_batch(addrs.data(), addrs.size(), out.data());
  for (size_t i = 0; i < addrs.size(); ++i) {
    const uint32_t off = addrs[i].v4_value() - kBase;
    std::vector<uint32_t> want = {kHosts};
    if (off % 8 == 0 && off / 8 < kHosts) want.insert(want.begin(), off / 8);
    ASSERT_EQ(got(*t, addrs[i]), want) << addrs[i].to_string();
    ASSERT_EQ(out[i], t->lookup_set(addrs[i]));
  }
}

// Readers look up in a loop while a writer builds and swaps tables. Generation g maps
// 10.0.0.0/8 to {g} and 10.1.0.0/16 to {g + 1000000, g}: a reader must always see both
// answers from the same generation in one snapshot, and generations never go backwards.
TEST(PrefixTable, SwapUnderConcurrentLookups) {
  constexpr uint32_t kGenerations = 60;
  auto make = [](uint32_t g) {
    PrefixTable::Builder b;
    b.add(*Prefix::parse("10.0.0.0/8"), g);
    b.add(*Prefix::parse("10.1.0.0/16"), g + 1000000);
    for (uint32_t i = 0; i < 200; ++i)
      b.add(Prefix::make(IpAddr::v4(0xC0000000 + i * 256), 120), i);
    return b.build();
  };
  SnapshotHolder<PrefixTable> holder(make(1));
  std::atomic<bool> done{false};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> lookups{0};
  auto reader = [&] {
    uint32_t last = 0;
    IpAddr batch[4] = {IpAddr::v4(0x0a000001), IpAddr::v4(0x0a010001), IpAddr::v4(0x0b000000),
                       *IpAddr::parse("2001:db8::1")};
    PrefixTable::SetIndex out[4];
    while (!done.load(std::memory_order_relaxed)) {
      auto snap = holder.load();
      auto a = snap->lookup(batch[0]);
      auto b = snap->lookup(batch[1]);
      if (a.size() != 1 || b.size() != 2 || b[1] != a[0] || b[0] != a[0] + 1000000 || a[0] < last) {
        failures.fetch_add(1);
        continue;
      }
      last = a[0];
      snap->lookup_batch(batch, 4, out);
      if (snap->set(out[0])[0] != last || out[2] != PrefixTable::kEmptySet ||
          out[3] != PrefixTable::kEmptySet) {
        failures.fetch_add(1);
      }
      lookups.fetch_add(6, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) readers.emplace_back(reader);
  auto kept = holder.load();  // an old snapshot stays valid across swaps
  for (uint32_t g = 2; g <= kGenerations; ++g) {
    holder.store(make(g));
    std::this_thread::yield();
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_EQ(got(*kept, IpAddr::v4(0x0a000001)), (std::vector<uint32_t>{1}));
  EXPECT_EQ(got(*holder.load(), IpAddr::v4(0x0a000001)), (std::vector<uint32_t>{kGenerations}));
}

}  // namespace
}  // namespace orbwatch::intel
