// Fuzzes the intel prefix table: the input is a list of (prefix, id) pairs, built both with 24-bit
// and with 32-bit sets, and every lookup path (lookup, lookup_v4, lookup_batch with and without
// the CPU-specific path) must return the brute-force answer at the edges of every prefix and at
// the extra addresses the input carries. A mismatch traps.
//
// Input: 7 bytes a pair: kind, 4 address bytes, length, id. kind bit 0: IPv4 (length 0-32) or
// IPv6 (0-128); IPv6 bit 1: the 4 bytes are bytes 0, 1, 7 and 15 of the address (sparse)
// rather than bytes 0-3; bit 2: the id's high bits. After 0xff as kind, the rest is addresses,
// 16 bytes each.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/ip_addr.h"
#include "intel/prefix_table.h"

namespace {

using orbwatch::IpAddr;
using orbwatch::Prefix;
using orbwatch::intel::PrefixTable;

struct Pair {
  Prefix prefix;
  uint32_t id;
};

std::vector<uint32_t> reference(const std::vector<Pair>& pairs, const IpAddr& a) {
  std::vector<std::pair<int, uint32_t>> hits;  // (-len, id)
  for (const Pair& p : pairs) {
    if (p.prefix.contains(a)) hits.emplace_back(-int{p.prefix.len}, p.id);
  }
  std::sort(hits.begin(), hits.end());
  std::vector<uint32_t> out;
  for (const auto& h : hits) {
    if (std::find(out.begin(), out.end(), h.second) == out.end()) out.push_back(h.second);
  }
  return out;
}

IpAddr step(IpAddr a, int delta) {  // a + 1 or a - 1, wrapping
  for (int i = 15; i >= 0; --i) {
    uint8_t before = a.b[i];
    a.b[i] = static_cast<uint8_t>(before + delta);
    if ((delta > 0 && a.b[i] != 0) || (delta < 0 && before != 0)) break;
  }
  return a;
}

IpAddr last_of(const Prefix& p) {
  IpAddr a = p.addr;
  for (unsigned i = 0; i < 16; ++i) {
    unsigned bits = p.len > i * 8 ? p.len - i * 8 : 0;
    a.b[i] |= bits >= 8 ? 0 : static_cast<uint8_t>(0xff >> bits);
  }
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<Pair> pairs;
  std::vector<IpAddr> addrs;
  size_t at = 0;
  for (; at + 7 <= size && pairs.size() < 256; at += 7) {
    const uint8_t* e = data + at;
    if (e[0] == 0xff) {
      ++at;
      break;
    }
    IpAddr a;
    unsigned len;
    if (e[0] & 1) {
      a = IpAddr::v4(uint32_t{e[1]} << 24 | uint32_t{e[2]} << 16 | uint32_t{e[3]} << 8 | e[4]);
      len = 96 + e[5] % 33;
    } else {
      const int at_bytes[2][4] = {{0, 1, 2, 3}, {0, 1, 7, 15}};
      for (int i = 0; i < 4; ++i) a.b[at_bytes[(e[0] >> 1) & 1][i]] = e[1 + i];
      len = e[5] % 129;
    }
    pairs.push_back({Prefix::make(a, len), uint32_t{e[6]} | (e[0] & 4u) << 6});
  }
  for (; at + 16 <= size && addrs.size() < 256; at += 16)
    addrs.push_back(IpAddr::v6_bytes(data + at));
  for (const Pair& p : pairs) {
    IpAddr last = last_of(p.prefix);
    for (const IpAddr& a : {p.prefix.addr, last, step(p.prefix.addr, -1), step(last, 1)}) {
      addrs.push_back(a);
    }
  }
  addrs.push_back(IpAddr::v4(0));
  addrs.push_back(IpAddr::v4(0xffffffff));

  for (bool wide : {false, true}) {
    PrefixTable::Builder b;
    for (const Pair& p : pairs) b.add(p.prefix, p.id);
    if (wide) b.force_wide_values_for_test();
    auto t = b.build();
    std::vector<PrefixTable::SetIndex> batch(addrs.size());
    std::vector<PrefixTable::SetIndex> portable(addrs.size());
    t->lookup_batch(addrs.data(), addrs.size(), batch.data());
    PrefixTable::portable_batch_for_test(true);
    t->lookup_batch(addrs.data(), addrs.size(), portable.data());
    PrefixTable::portable_batch_for_test(false);
    for (size_t i = 0; i < addrs.size(); ++i) {
      const IpAddr& a = addrs[i];
      auto want = reference(pairs, a);
      auto got = t->lookup(a);
      if (!std::equal(got.begin(), got.end(), want.begin(), want.end())) __builtin_trap();
      if (batch[i] != t->lookup_set(a) || portable[i] != batch[i]) __builtin_trap();
      if (a.is_v4() && t->lookup_v4(a.v4_value()) != batch[i]) __builtin_trap();
    }
  }
  return 0;
}
