// A Poptrie (Asai and Ohara, "Poptrie: A Compressed Trie with Population Count for Fast and
// Scalable Software IP Routing Table Lookup", SIGCOMM 2015) over the same IPv4 partition as the
// prefix table, for the benchmark's comparison only: 16-bit direct pointing, then nodes of a
// 6-bit stride, each with a 64-bit vector of which children are nodes and a 64-bit leafvec
// marking where runs of equal leaves start; the children that are nodes lie together from base1
// and the leaves (run starts only) from base0, found with popcount. Leaves are set indices.
// Built from the partition in one pass (no incremental update). Written for this comparison
// from the paper's description.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/ip_addr.h"

namespace orbwatch::intel::bench {

class Poptrie {
 public:
  // ranges: (start, set) ascending, the first starting at 0.
  explicit Poptrie(std::vector<std::pair<uint32_t, uint32_t>> ranges) : ranges_(std::move(ranges)) {
    dir_.resize(size_t{1} << 16);
    for (uint32_t c = 0; c < (1u << 16); ++c) {
      const uint64_t lo = uint64_t{c} << 16;
      if (!start_inside(lo, lo + (1u << 16))) {
        dir_[c] = kLeaf | value_at(lo);
      } else {
        dir_[c] = static_cast<uint32_t>(nodes_.size());
        nodes_.emplace_back();
        build(dir_[c], lo, 16);
      }
    }
    ranges_.clear();
    ranges_.shrink_to_fit();
    nodes_.shrink_to_fit();
    leaves_.shrink_to_fit();
  }

  __attribute__((target("popcnt"))) uint32_t lookup(uint32_t a) const {
    const uint32_t d = dir_[a >> 16];
    if (d & kLeaf) return d & ~kLeaf;
    uint32_t node = d;
    for (unsigned offset = 16;;) {
      const Node& n = nodes_[node];
      const unsigned w = 32 - offset;
      const unsigned k = std::min(w, 6u);
      const unsigned v = (a >> (w - k)) & ((1u << k) - 1);
      const uint64_t upto = ~uint64_t{0} >> (63 - v);
      if (n.vector >> v & 1) {
        node = n.base1 + static_cast<uint32_t>(__builtin_popcountll(n.vector & upto)) - 1;
        offset += k;
      } else {
        return leaves_[n.base0 + static_cast<uint32_t>(__builtin_popcountll(n.leafvec & upto)) - 1];
      }
    }
  }

  // Groups of 32 IPv4 addresses walk down together, one level a round, each step prefetching
  // the next node or leaf (the same overlap of misses as the prefix table's batch).
  __attribute__((target("popcnt"))) void lookup_batch(const IpAddr* addrs, size_t n,
                                                      uint32_t* out) const {
    constexpr size_t kGroup = 32;
    uint32_t key[kGroup];
    uint32_t at[kGroup];     // node or leaf index
    uint8_t state[kGroup];   // 0 done, 1 node, 2 leaf
    uint8_t offset[kGroup];  // bits consumed before the node
    for (size_t g = 0; g < n; g += kGroup) {
      const size_t m = std::min(kGroup, n - g);
      for (size_t i = 0; i < m; ++i) {
        key[i] = addrs[g + i].v4_value();
        __builtin_prefetch(&dir_[key[i] >> 16]);
      }
      size_t active = 0;
      for (size_t i = 0; i < m; ++i) {
        const uint32_t d = dir_[key[i] >> 16];
        if (d & kLeaf) {
          out[g + i] = d & ~kLeaf;
          state[i] = 0;
        } else {
          at[i] = d;
          state[i] = 1;
          offset[i] = 16;
          __builtin_prefetch(&nodes_[d]);
          ++active;
        }
      }
      while (active != 0) {
        for (size_t i = 0; i < m; ++i) {
          if (state[i] == 2) {
            out[g + i] = leaves_[at[i]];
            state[i] = 0;
            --active;
          } else if (state[i] == 1) {
            const Node& nd = nodes_[at[i]];
            const unsigned w = 32u - offset[i];
            const unsigned k = std::min(w, 6u);
            const unsigned v = (key[i] >> (w - k)) & ((1u << k) - 1);
            const uint64_t upto = ~uint64_t{0} >> (63 - v);
            if (nd.vector >> v & 1) {
              at[i] = nd.base1 + static_cast<uint32_t>(__builtin_popcountll(nd.vector & upto)) - 1;
              offset[i] = static_cast<uint8_t>(offset[i] + k);
              __builtin_prefetch(&nodes_[at[i]]);
            } else {
              at[i] = nd.base0 + static_cast<uint32_t>(__builtin_popcountll(nd.leafvec & upto)) - 1;
              state[i] = 2;
              __builtin_prefetch(&leaves_[at[i]]);
            }
          }
        }
      }
    }
  }

  size_t bytes() const {
    return dir_.size() * sizeof(uint32_t) + nodes_.size() * sizeof(Node) +
           leaves_.size() * sizeof(uint32_t);
  }
  size_t node_count() const { return nodes_.size(); }

 private:
  static constexpr uint32_t kLeaf = 0x80000000u;
  struct Node {
    uint64_t vector;
    uint64_t leafvec;
    uint32_t base0;  // first leaf
    uint32_t base1;  // first child node
  };

  // The set at address x.
  uint32_t value_at(uint64_t x) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), x,
                               [](uint64_t v, const auto& r) { return v < r.first; });
    return std::prev(it)->second;
  }
  // Whether a range starts in (lo, end).
  bool start_inside(uint64_t lo, uint64_t end) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), lo,
                               [](uint64_t v, const auto& r) { return v < r.first; });
    return it != ranges_.end() && it->first < end;
  }

  // Fills node `index`, which covers [lo, lo + 2^(32 - offset)).
  void build(uint32_t index, uint64_t lo, unsigned offset) {
    const unsigned w = 32 - offset;
    const unsigned k = std::min(w, 6u);
    const uint64_t child = uint64_t{1} << (w - k);
    Node n{0, 0, static_cast<uint32_t>(leaves_.size()), 0};
    std::vector<unsigned> inner;
    bool after_leaf = false;
    uint32_t last = 0;
    for (unsigned i = 0; i < (1u << k); ++i) {
      const uint64_t c = lo + i * child;
      if (start_inside(c, c + child)) {
        n.vector |= uint64_t{1} << i;
        inner.push_back(i);
        after_leaf = false;
        continue;
      }
      const uint32_t v = value_at(c);
      if (!after_leaf || v != last) {
        n.leafvec |= uint64_t{1} << i;
        leaves_.push_back(v);
      }
      after_leaf = true;
      last = v;
    }
    n.base1 = static_cast<uint32_t>(nodes_.size());
    nodes_.resize(nodes_.size() + inner.size());
    nodes_[index] = n;
    for (size_t j = 0; j < inner.size(); ++j) {
      build(n.base1 + static_cast<uint32_t>(j), lo + inner[j] * child, offset + k);
    }
  }

  std::vector<std::pair<uint32_t, uint32_t>> ranges_;  // during the build only
  std::vector<uint32_t> dir_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> leaves_;
};

}  // namespace orbwatch::intel::bench
