// Intel prefix table: lookups/s, build time and bytes per prefix, on random IPv4 tables (10k,
// 100k, 1M prefixes), a dense host-route table (the layout's worst case), a random IPv6 table
// (100k) and, when the environment names them, the real ASN range tables of the npm package
// @ip-location-db/asn (bench/intel/run_prefix_bench.sh fetches it). In the same run: the
// previous layout of the table (BM_Old*, bench/intel/legacy_prefix_table.h) and a plain binary
// trie (one node per bit) that returns only the longest match's id, so it does less work; on
// the IPv4 tables also a Poptrie over the same partition (bench/intel/poptrie.h).
//
// Addresses: half are drawn inside a random table prefix (hits), half uniformly at random (mostly
// misses on random tables); all inside for the dense table. Every benchmark checks its answers
// against the trie and the old table first.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "../intel/legacy_prefix_table.h"
#include "../intel/poptrie.h"
#include "intel/prefix_table.h"

namespace orbwatch::intel {
namespace {

struct Pair {
  Prefix prefix;
  uint32_t id;
};

// Random IPv4 table with a routing-table-like length mix: mostly /24, then /22-/23, /16-/21
// and /25-/32 hosts; random placement makes some of them nest.
std::vector<Pair> random_v4(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  static constexpr uint8_t kLens[] = {24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 23, 23, 22,
                                      22, 22, 21, 20, 19, 18, 17, 16, 32, 32, 32, 28, 25};
  std::vector<Pair> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    unsigned len = kLens[rng() % std::size(kLens)];
    out.push_back({Prefix::make(IpAddr::v4(static_cast<uint32_t>(rng())), 96 + len),
                   static_cast<uint32_t>(i)});
  }
  return out;
}

// Random IPv6 table: /32-/64 allocations under 2000::/4, some /48 and /128 hosts.
std::vector<Pair> random_v6(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  static constexpr uint8_t kLens[] = {32, 32, 36, 40, 44, 48, 48, 48, 48, 56, 64, 64, 128, 128};
  std::vector<Pair> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    IpAddr a;
    for (auto& byte : a.b) byte = static_cast<uint8_t>(rng());
    a.b[0] = static_cast<uint8_t>(0x20 | (a.b[0] & 0x0f));
    out.push_back({Prefix::make(a, kLens[rng() % std::size(kLens)]), static_cast<uint32_t>(i)});
  }
  return out;
}

// The worst case for the line layout: host routes packed densely (random /32s in 10.0.0.0/12,
// about 2/3 of its addresses), so that every bucket is a B+ tree of lines and a lookup reads
// three lines after the direct slot. Looked up with addresses inside the /12 only.
std::vector<Pair> dense_hosts_v4(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Pair> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto a = static_cast<uint32_t>(0x0a000000 + rng() % (uint32_t{1} << 20));
    out.push_back({Prefix::make(IpAddr::v4(a), 128), static_cast<uint32_t>(i)});
  }
  return out;
}

// all_hits: every address inside a table prefix.
std::vector<IpAddr> addresses(const std::vector<Pair>& pairs, size_t n, uint64_t seed,
                              bool all_hits) {
  std::mt19937_64 rng(seed);
  bool v6 = !pairs.empty() && !pairs[0].prefix.addr.is_v4();
  std::vector<IpAddr> out(n);
  for (size_t i = 0; i < n; ++i) {
    IpAddr a;
    if (v6) {
      for (auto& byte : a.b) byte = static_cast<uint8_t>(rng());
      a.b[0] = static_cast<uint8_t>(0x20 | (a.b[0] & 0x0f));
    } else {
      a = IpAddr::v4(static_cast<uint32_t>(rng()));
    }
    if ((all_hits || i % 2 == 0) && !pairs.empty()) {  // inside a table prefix: keep its bits
      const Prefix& p = pairs[rng() % pairs.size()].prefix;
      for (unsigned b = 0; b < 16; ++b) {
        unsigned bits = p.len > b * 8 ? p.len - b * 8 : 0;
        uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00 >> bits);
        a.b[b] = static_cast<uint8_t>((p.addr.b[b] & mask) | (a.b[b] & ~mask));
      }
    }
    out[i] = a;
  }
  return out;
}

// The baseline: a plain binary trie, one node per bit, each node the smallest id of its prefix.
class BinaryTrie {
 public:
  static constexpr uint32_t kNone = ~uint32_t{0};
  // An all-IPv4 table starts at bit 96 (below the IPv4-mapped prefix).
  explicit BinaryTrie(const std::vector<Pair>& pairs)
      : skip_(!pairs.empty() && pairs[0].prefix.addr.is_v4() ? 96 : 0) {
    nodes_.push_back({{0, 0}, kNone});
    for (const Pair& p : pairs) {
      uint32_t n = 0;
      for (unsigned bit = skip_; bit < p.prefix.len; ++bit) {
        unsigned dir = p.prefix.addr.b[bit / 8] >> (7 - bit % 8) & 1;
        if (nodes_[n].child[dir] == 0) {
          nodes_[n].child[dir] = static_cast<uint32_t>(nodes_.size());
          nodes_.push_back({{0, 0}, kNone});
        }
        n = nodes_[n].child[dir];
      }
      nodes_[n].id = std::min(nodes_[n].id, p.id);
    }
  }
  uint32_t lookup(const IpAddr& a) const {
    uint32_t best = nodes_[0].id;
    uint32_t n = 0;
    for (unsigned bit = skip_; bit < 128; ++bit) {
      n = nodes_[n].child[a.b[bit / 8] >> (7 - bit % 8) & 1];
      if (n == 0) break;
      if (nodes_[n].id != kNone) best = nodes_[n].id;
    }
    return best;
  }
  size_t bytes() const { return nodes_.size() * sizeof(Node); }

 private:
  struct Node {
    uint32_t child[2];
    uint32_t id;
  };
  unsigned skip_;
  std::vector<Node> nodes_;
};

template <typename Table = PrefixTable>
std::shared_ptr<const Table> build(const std::vector<Pair>& pairs) {
  typename Table::Builder b;
  b.reserve(pairs.size());
  for (const Pair& p : pairs) b.add(p.prefix, p.id);
  return b.build();
}
using legacy::LegacyPrefixTable;

struct Workload {
  std::vector<Pair> pairs;
  std::shared_ptr<const PrefixTable> table;
  std::shared_ptr<const LegacyPrefixTable> old;  // the previous layout, same partition
  std::unique_ptr<BinaryTrie> trie;
  std::unique_ptr<bench::Poptrie> poptrie;  // IPv4 tables only
  std::vector<IpAddr> addrs;
  double hit_rate = 0;
  bool ok = true;
};

// A Poptrie over the IPv4 partition of an all-IPv4 table (set numbers as in the tables: the same
// partition code interns them in the same order); null for other tables.
std::unique_ptr<bench::Poptrie> make_poptrie(const std::vector<Pair>& pairs) {
  using namespace legacy::detail;
  std::vector<Item<uint32_t>> items;
  for (const Pair& p : pairs) {
    Prefix norm = Prefix::make(p.prefix.addr, p.prefix.len);
    if (norm.len < 96 || !norm.addr.is_v4()) return nullptr;
    uint32_t lo = norm.addr.v4_value();
    items.push_back({lo, last_address<uint32_t, 32>(lo, norm.len - 96u), p.id, norm.len});
  }
  SetInterner sets;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  for (const auto& r : partition(items, sets)) ranges.emplace_back(r.start, r.set);
  return std::make_unique<bench::Poptrie>(std::move(ranges));
}

// Built once per table (the benchmarks share it) and checked against the trie: the most
// specific id the table reports must be the trie's longest match.
Workload& workload(const std::string& name, std::vector<Pair> (*make)(), bool all_hits = false) {
  static std::vector<std::pair<std::string, std::unique_ptr<Workload>>> cache;
  for (auto& [n, w] : cache) {
    if (n == name) return *w;
  }
  auto w = std::make_unique<Workload>();
  w->pairs = make();
  w->table = build(w->pairs);
  w->old = build<LegacyPrefixTable>(w->pairs);
  w->trie = std::make_unique<BinaryTrie>(w->pairs);
  w->poptrie = make_poptrie(w->pairs);
  w->addrs = addresses(w->pairs, size_t{1} << 20, 99, all_hits);
  size_t hits = 0;
  for (size_t i = 0; i < w->addrs.size(); i += 7) {
    auto s = w->table->lookup(w->addrs[i]);
    uint32_t want = w->trie->lookup(w->addrs[i]);
    if ((s.empty() ? BinaryTrie::kNone : s[0]) != want) w->ok = false;
    auto o = w->old->lookup(w->addrs[i]);
    if (!std::equal(s.begin(), s.end(), o.begin(), o.end())) w->ok = false;
    if (w->poptrie &&
        w->poptrie->lookup(w->addrs[i].v4_value()) != w->table->lookup_set(w->addrs[i])) {
      w->ok = false;
    }
    hits += !s.empty();
  }
  w->hit_rate = static_cast<double>(hits) / static_cast<double>((w->addrs.size() + 6) / 7);
  cache.emplace_back(name, std::move(w));
  return *cache.back().second;
}

template <typename Table>
void memory_counters(benchmark::State& state, const Workload& w, const Table& t) {
  auto n = static_cast<double>(t.prefix_count());
  state.counters["prefixes"] = n;
  state.counters["B/prefix"] = static_cast<double>(t.structure_bytes()) / n;
  state.counters["B/prefix+sets"] = static_cast<double>(t.structure_bytes() + t.set_bytes()) / n;
  state.counters["hit_rate"] = w.hit_rate;
  if constexpr (std::is_same_v<Table, PrefixTable>) {
    state.counters["v4_lines"] = static_cast<double>(t.line_count_v4());
    state.counters["v4_inner"] = static_cast<double>(t.inner_line_count_v4());
    state.counters["v6_entries"] = static_cast<double>(t.entry_count_v6());
    state.counters["v6_split"] = static_cast<double>(t.split_count_v6());
  }
}

template <typename Table>
const Table& table_of(const Workload& w) {
  if constexpr (std::is_same_v<Table, PrefixTable>) {
    return *w.table;
  } else {
    return *w.old;
  }
}

constexpr size_t kBatch = 4096;  // a flow batch

template <typename Table>
void lookup_batch(benchmark::State& state, Workload& w) {
  if (!w.ok) return state.SkipWithError("table disagrees with the binary trie or the old table");
  const Table& t = table_of<Table>(w);
  std::vector<PrefixTable::SetIndex> out(kBatch);
  size_t pos = 0;
  for (auto _ : state) {
    t.lookup_batch(&w.addrs[pos], kBatch, out.data());
    benchmark::DoNotOptimize(out.data());
    pos = (pos + kBatch) & (w.addrs.size() - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  memory_counters(state, w, t);
}

template <typename Table>
void lookup_scalar(benchmark::State& state, Workload& w) {
  if (!w.ok) return state.SkipWithError("table disagrees with the binary trie or the old table");
  const Table& t = table_of<Table>(w);
  size_t pos = 0;
  for (auto _ : state) {
    uint32_t acc = 0;
    for (size_t i = 0; i < kBatch; ++i) acc += t.lookup_set(w.addrs[pos + i]);
    benchmark::DoNotOptimize(acc);
    pos = (pos + kBatch) & (w.addrs.size() - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}

void lookup_poptrie_batch(benchmark::State& state, Workload& w) {
  if (!w.poptrie) return state.SkipWithError("not an IPv4 table");
  if (!w.ok) return state.SkipWithError("tables disagree");
  std::vector<uint32_t> out(kBatch);
  size_t pos = 0;
  for (auto _ : state) {
    w.poptrie->lookup_batch(&w.addrs[pos], kBatch, out.data());
    benchmark::DoNotOptimize(out.data());
    pos = (pos + kBatch) & (w.addrs.size() - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["B/prefix"] =
      static_cast<double>(w.poptrie->bytes()) / static_cast<double>(w.table->prefix_count());
  state.counters["nodes"] = static_cast<double>(w.poptrie->node_count());
}

void lookup_poptrie_scalar(benchmark::State& state, Workload& w) {
  if (!w.poptrie) return state.SkipWithError("not an IPv4 table");
  size_t pos = 0;
  for (auto _ : state) {
    uint32_t acc = 0;
    for (size_t i = 0; i < kBatch; ++i) acc += w.poptrie->lookup(w.addrs[pos + i].v4_value());
    benchmark::DoNotOptimize(acc);
    pos = (pos + kBatch) & (w.addrs.size() - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}

void lookup_trie(benchmark::State& state, Workload& w) {
  size_t pos = 0;
  for (auto _ : state) {
    uint32_t acc = 0;
    for (size_t i = 0; i < kBatch; ++i) acc += w.trie->lookup(w.addrs[pos + i]);
    benchmark::DoNotOptimize(acc);
    pos = (pos + kBatch) & (w.addrs.size() - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["B/prefix"] =
      static_cast<double>(w.trie->bytes()) / static_cast<double>(w.pairs.size());
}

template <typename Table>
void build_time(benchmark::State& state, Workload& w) {
  for (auto _ : state) benchmark::DoNotOptimize(build<Table>(w.pairs));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * w.pairs.size()));
  memory_counters(state, w, table_of<Table>(w));
}

// @ip-location-db/asn: "first,last,asn,name" with numeric IPv4 bounds (asn-ipv4-num.csv) or
// textual addresses (asn-ipv6.csv). Ranges are split into CIDR blocks; the ASN is the id.
std::vector<Pair> read_asn_csv(const char* path, bool v6) {
  std::vector<Pair> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t c1 = line.find(',');
    size_t c2 = line.find(',', c1 + 1);
    size_t c3 = line.find(',', c2 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    auto id =
        static_cast<uint32_t>(std::strtoul(line.substr(c2 + 1, c3 - c2 - 1).c_str(), nullptr, 10));
    if (!v6) {
      uint64_t lo = std::strtoull(line.substr(0, c1).c_str(), nullptr, 10);
      uint64_t hi = std::strtoull(line.substr(c1 + 1, c2 - c1 - 1).c_str(), nullptr, 10);
      while (lo <= hi && hi <= 0xffffffff) {
        unsigned size_bits = lo == 0 ? 32 : static_cast<unsigned>(__builtin_ctzll(lo));
        while (size_bits > 0 && lo + (uint64_t{1} << size_bits) - 1 > hi) --size_bits;
        out.push_back({Prefix::make(IpAddr::v4(static_cast<uint32_t>(lo)), 128 - size_bits), id});
        lo += uint64_t{1} << size_bits;
      }
      continue;
    }
    auto lo = IpAddr::parse(line.substr(0, c1));
    auto hi = IpAddr::parse(line.substr(c1 + 1, c2 - c1 - 1));
    if (!lo || !hi) continue;
    // Split [lo, hi] into CIDRs on 128-bit integers.
    __extension__ typedef unsigned __int128 U128;
    auto to = [](const IpAddr& a) {
      U128 v = 0;
      for (uint8_t byte : a.b) v = v << 8 | byte;
      return v;
    };
    U128 l = to(*lo);
    U128 h = to(*hi);
    while (l <= h) {
      unsigned size_bits = 0;
      while (size_bits < 128 && ((l >> size_bits) & 1) == 0) ++size_bits;
      while (size_bits > 0 && (size_bits == 128 || l + ((U128{1} << size_bits) - 1) > h)) {
        --size_bits;
      }
      IpAddr a;
      for (int b = 15; b >= 0; --b) a.b[b] = static_cast<uint8_t>(l >> (8 * (15 - b)));
      out.push_back({Prefix::make(a, 128 - size_bits), id});
      U128 next = l + (U128{1} << size_bits);
      if (next == 0) break;  // wrapped past the end
      l = next;
    }
  }
  return out;
}

template <size_t kN>
std::vector<Pair> random_v4_n() {
  return random_v4(kN, kN);
}
std::vector<Pair> dense_hosts_v4_1M() {
  return dense_hosts_v4(1000000, 12);
}
std::vector<Pair> random_v6_100k() {
  return random_v6(100000, 6);
}
std::vector<Pair> asn_v4() {
  return read_asn_csv(std::getenv("ORBWATCH_ASN_V4_CSV"), false);
}
std::vector<Pair> asn_v6() {
  return read_asn_csv(std::getenv("ORBWATCH_ASN_V6_CSV"), true);
}

void register_table(const std::string& name, std::vector<Pair> (*make)(), bool all_hits = false) {
  auto reg = [&](const char* what, void (*fn)(benchmark::State&, Workload&)) {
    benchmark::RegisterBenchmark(
        (what + name).c_str(),
        [name, make, fn, all_hits](benchmark::State& s) { fn(s, workload(name, make, all_hits)); });
  };
  reg("BM_PrefixTableBatch/", lookup_batch<PrefixTable>);
  reg("BM_OldTableBatch/", lookup_batch<LegacyPrefixTable>);
  reg("BM_PrefixTableScalar/", lookup_scalar<PrefixTable>);
  reg("BM_OldTableScalar/", lookup_scalar<LegacyPrefixTable>);
  if (name.rfind("v4_", 0) == 0) {
    reg("BM_PoptrieBatch/", lookup_poptrie_batch);
    reg("BM_PoptrieScalar/", lookup_poptrie_scalar);
  }
  reg("BM_BinaryTrie/", lookup_trie);
}

void register_build(const std::string& name, std::vector<Pair> (*make)()) {
  auto reg = [&](const char* what, void (*fn)(benchmark::State&, Workload&)) {
    benchmark::RegisterBenchmark((what + name).c_str(), [name, make, fn](benchmark::State& s) {
      fn(s, workload(name, make));
    })->Unit(benchmark::kMillisecond);
  };
  reg("BM_PrefixTableBuild/", build_time<PrefixTable>);
  reg("BM_OldTableBuild/", build_time<LegacyPrefixTable>);
}

}  // namespace
}  // namespace orbwatch::intel

int main(int argc, char** argv) {
  using namespace orbwatch::intel;
  register_table("v4_random_10k", random_v4_n<10000>);
  register_table("v4_random_100k", random_v4_n<100000>);
  register_table("v4_random_1M", random_v4_n<1000000>);
  register_table("v4_dense_hosts_1M", dense_hosts_v4_1M, true);
  register_table("v6_random_100k", random_v6_100k);
  register_build("v4_random_1M", random_v4_n<1000000>);
  if (std::getenv("ORBWATCH_ASN_V4_CSV")) {
    register_table("v4_asn", asn_v4);
    register_build("v4_asn", asn_v4);
  }
  if (std::getenv("ORBWATCH_ASN_V6_CSV")) register_table("v6_asn", asn_v6);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
