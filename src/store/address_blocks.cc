#include "store/address_blocks.h"

#include <algorithm>

namespace orbwatch::store {

namespace {

// The first and last address of a prefix.
std::pair<IpAddr, IpAddr> bounds(const Prefix& p) {
  IpAddr lo = p.addr;
  IpAddr hi = p.addr;
  for (unsigned bit = p.len; bit < 128; ++bit) {
    lo.b[bit / 8] = static_cast<uint8_t>(lo.b[bit / 8] & ~(0x80u >> (bit % 8)));
    hi.b[bit / 8] = static_cast<uint8_t>(hi.b[bit / 8] | (0x80u >> (bit % 8)));
  }
  return {lo, hi};
}

template <typename T>
void merge_intervals(std::vector<std::pair<T, T>>& v) {
  std::sort(v.begin(), v.end());
  size_t out = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (out != 0 && v[i].first <= v[out - 1].second) {
      v[out - 1].second = std::max(v[out - 1].second, v[i].second);
    } else {
      v[out++] = v[i];
    }
  }
  v.resize(out);
}

// The union of two inclusive ranges (an empty one has lo > hi) as at most two ranges.
template <typename T>
size_t union_ranges(T lo1, T hi1, T lo2, T hi2, std::pair<T, T> out[2]) {
  size_t n = 0;
  const bool a = lo1 <= hi1, b = lo2 <= hi2;
  if (a && b && lo2 <= hi1 && lo1 <= hi2) {
    out[n++] = {std::min(lo1, lo2), std::max(hi1, hi2)};
    return n;
  }
  if (a) out[n++] = {lo1, hi1};
  if (b) out[n++] = {lo2, hi2};
  return n;
}

}  // namespace

AddressBlockSelector::AddressBlockSelector(std::span<const Prefix> indicators)
    : AddressBlockSelector(indicators, Options{}) {}

AddressBlockSelector::AddressBlockSelector(std::span<const Prefix> indicators, Options options)
    : o_(options) {
  static const IpAddr kV4Lo = IpAddr::v4(0);
  static const IpAddr kV4Hi = IpAddr::v4(UINT32_MAX);
  std::vector<IpAddr> v6;
  for (const Prefix& p : indicators) {
    if (p.len >= 128) {
      if (p.addr.is_v4()) {
        hosts4_.push_back(p.addr.v4_value());
      } else {
        v6.push_back(p.addr);
      }
      continue;
    }
    const auto [lo, hi] = bounds(p);
    // The part inside the IPv4-mapped space is compared with the blocks' IPv4 bounds.
    const IpAddr a = std::max(lo, kV4Lo);
    const IpAddr b = std::min(hi, kV4Hi);
    if (a <= b) nets4_.emplace_back(a.v4_value(), b.v4_value());
    // Anything outside it with the IPv6 bounds, whole: a block's IPv6 bounds hold no mapped
    // address, so the overlap test stays conservative.
    if (lo < kV4Lo || hi > kV4Hi) nets6_.emplace_back(lo, hi);
  }
  std::sort(hosts4_.begin(), hosts4_.end());
  hosts4_.erase(std::unique(hosts4_.begin(), hosts4_.end()), hosts4_.end());
  hash4_.reserve(hosts4_.size());
  for (uint32_t h : hosts4_) hash4_.push_back(segment::BloomHash::of(IpAddr::v4(h)));
  std::sort(v6.begin(), v6.end());
  v6.erase(std::unique(v6.begin(), v6.end()), v6.end());
  hosts6_.reserve(v6.size());
  for (const IpAddr& a : v6) hosts6_.push_back({a, segment::BloomHash::of(a)});
  merge_intervals(nets4_);
  merge_intervals(nets6_);
}

bool AddressBlockSelector::nets4_overlap(uint32_t lo, uint32_t hi) const {
  if (lo > hi) return false;
  auto it = std::lower_bound(nets4_.begin(), nets4_.end(), lo,
                             [](const auto& n, uint32_t v) { return n.second < v; });
  return it != nets4_.end() && it->first <= hi;
}

bool AddressBlockSelector::nets6_overlap(const IpAddr& lo, const IpAddr& hi) const {
  if (hi < lo) return false;
  auto it = std::lower_bound(nets6_.begin(), nets6_.end(), lo,
                             [](const auto& n, const IpAddr& v) { return n.second < v; });
  return it != nets6_.end() && it->first <= hi;
}

bool AddressBlockSelector::may_match(const SegmentReader& reader, size_t i) const {
  blocks_.fetch_add(1, std::memory_order_relaxed);
  if (i >= reader.blocks().size()) return false;
  const SegmentBlock& blk = reader.blocks()[i];
  const segment::BlockHeader& h = blk.header;
  if (nets4_overlap(h.src.v4_min, h.src.v4_max) || nets4_overlap(h.dst.v4_min, h.dst.v4_max) ||
      nets6_overlap(h.src.v6_min, h.src.v6_max) || nets6_overlap(h.dst.v6_min, h.dst.v6_max)) {
    by_prefix_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  // Candidates: the hosts inside the union of the src and dst bounds, per family.
  std::pair<uint32_t, uint32_t> r4[2];
  std::pair<IpAddr, IpAddr> r6[2];
  const size_t n4 = union_ranges(h.src.v4_min, h.src.v4_max, h.dst.v4_min, h.dst.v4_max, r4);
  const size_t n6 = union_ranges(h.src.v6_min, h.src.v6_max, h.dst.v6_min, h.dst.v6_max, r6);
  using It4 = std::vector<uint32_t>::const_iterator;
  using It6 = std::vector<Host6>::const_iterator;
  std::pair<It4, It4> c4[2];
  std::pair<It6, It6> c6[2];
  size_t candidates = 0;
  for (size_t k = 0; k < n4; ++k) {
    c4[k] = {std::lower_bound(hosts4_.begin(), hosts4_.end(), r4[k].first),
             std::upper_bound(hosts4_.begin(), hosts4_.end(), r4[k].second)};
    candidates += static_cast<size_t>(c4[k].second - c4[k].first);
  }
  auto by_addr = [](const Host6& x, const IpAddr& a) { return x.addr < a; };
  auto addr_by = [](const IpAddr& a, const Host6& x) { return a < x.addr; };
  for (size_t k = 0; k < n6; ++k) {
    c6[k] = {std::lower_bound(hosts6_.begin(), hosts6_.end(), r6[k].first, by_addr),
             std::upper_bound(hosts6_.begin(), hosts6_.end(), r6[k].second, addr_by)};
    candidates += static_cast<size_t>(c6[k].second - c6[k].first);
  }
  if (candidates == 0) {
    by_range_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (candidates > o_.max_probes) {
    over_cap_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  const uint8_t* bits = blk.bloom.data();
  uint64_t probes = 0;
  auto probe = [&](const segment::BloomHash& hash) {
    ++probes;
    return segment::bloom_test(bits, h.bloom_bytes, h.bloom_hashes, hash);
  };
  bool hit = false;
  for (size_t k = 0; k < n4 && !hit; ++k) {
    const size_t first = static_cast<size_t>(c4[k].first - hosts4_.begin());
    const size_t last = static_cast<size_t>(c4[k].second - hosts4_.begin());
    for (size_t j = first; j < last && !hit; ++j) hit = probe(hash4_[j]);
  }
  for (size_t k = 0; k < n6 && !hit; ++k) {
    for (auto it = c6[k].first; it != c6[k].second && !hit; ++it) hit = probe(it->hash);
  }
  probes_.fetch_add(probes, std::memory_order_relaxed);
  if (!hit) by_bloom_.fetch_add(1, std::memory_order_relaxed);
  return hit;
}

AddressBlockSelector::Stats AddressBlockSelector::stats() const {
  Stats s;
  s.blocks = blocks_.load(std::memory_order_relaxed);
  s.prefix_overlap = by_prefix_.load(std::memory_order_relaxed);
  s.skipped_by_range = by_range_.load(std::memory_order_relaxed);
  s.skipped_by_bloom = by_bloom_.load(std::memory_order_relaxed);
  s.over_cap = over_cap_.load(std::memory_order_relaxed);
  s.probes = probes_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace orbwatch::store
