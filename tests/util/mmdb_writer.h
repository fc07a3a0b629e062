// A minimal MaxMind DB writer for tests and fuzz seeds (format: maxmind.github.io/MaxMind-DB):
// 32-bit records, a data section of maps of strings and unsigned integers, the metadata map.
// Networks are (bits, depth) paths; alias() points a path at another path's node, as real
// IPv6 databases alias the IPv4 subtree at ::ffff:0:0/96.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace orbwatch::test {

class MmdbWriter {
 public:
  explicit MmdbWriter(int ip_version) : ip_version_(ip_version) { nodes_.emplace_back(); }

  // The network of `depth` leading bits of `key` (bit 0 first) carries `data` (an encoded map).
  void insert(const std::vector<bool>& key, size_t depth, std::vector<uint8_t> data) {
    const uint32_t n = walk(key, depth - 1);
    const uint32_t off = data_offset(std::move(data));
    slot(n, key[depth - 1]) = {kData, off};
  }
  // The path `from` (depth bits) leads to the node at the end of `to` (to_depth bits).
  void alias(const std::vector<bool>& from, size_t depth, const std::vector<bool>& to,
             size_t to_depth) {
    const uint32_t target = walk(to, to_depth);
    const uint32_t n = walk(from, depth - 1);
    slot(n, from[depth - 1]) = {kNode, target};
  }

  static std::vector<bool> v4_key(uint32_t a, bool under_v6) {
    std::vector<bool> k(under_v6 ? 96 : 0, false);
    for (int i = 31; i >= 0; --i) k.push_back((a >> i) & 1);
    return k;
  }

  // Encoders for the data section.
  static void string(std::vector<uint8_t>& o, const std::string& s) {
    ctrl(o, 2, s.size());
    o.insert(o.end(), s.begin(), s.end());
  }
  static void uint(std::vector<uint8_t>& o, uint32_t v, int type = 6) {
    std::vector<uint8_t> b;
    for (; v; v >>= 8) b.insert(b.begin(), static_cast<uint8_t>(v));
    ctrl(o, type, b.size());
    o.insert(o.end(), b.begin(), b.end());
  }
  static void map(std::vector<uint8_t>& o, size_t pairs) { ctrl(o, 7, pairs); }

  std::vector<uint8_t> bytes() const {
    const auto count = static_cast<uint32_t>(nodes_.size());
    std::vector<uint8_t> out;
    auto be32 = [&](uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
    };
    for (const Node& n : nodes_) {
      for (const Slot& s : n.side) {
        if (s.kind == kNode)
          be32(s.value);
        else if (s.kind == kData)
          be32(count + 16 + s.value);
        else
          be32(count);  // empty
      }
    }
    out.insert(out.end(), 16, 0);
    out.insert(out.end(), data_.begin(), data_.end());
    const std::string marker = "\xAB\xCD\xEFMaxMind.com";
    out.insert(out.end(), marker.begin(), marker.end());
    map(out, 9);
    string(out, "node_count");
    uint(out, count);
    string(out, "record_size");
    uint(out, 32, 5);
    string(out, "ip_version");
    uint(out, static_cast<uint32_t>(ip_version_), 5);
    string(out, "database_type");
    string(out, "orbwatch-test");
    string(out, "languages");
    out.push_back(0);  // extended type: array (11 - 7 = 4), size 0
    out.push_back(4);
    string(out, "binary_format_major_version");
    uint(out, 2, 5);
    string(out, "binary_format_minor_version");
    uint(out, 0, 5);
    string(out, "build_epoch");
    out.push_back(1);  // extended type: uint64 (9 - 7 = 2), 1 byte
    out.push_back(2);
    out.push_back(1);
    string(out, "description");
    map(out, 0);
    return out;
  }

 private:
  enum Kind : uint8_t { kEmpty, kNode, kData };
  struct Slot {
    Kind kind = kEmpty;
    uint32_t value = 0;
  };
  struct Node {
    Slot side[2];
  };
  static void ctrl(std::vector<uint8_t>& o, int type, size_t size) {
    if (size < 29) {
      o.push_back(static_cast<uint8_t>(type << 5 | size));
    } else {
      o.push_back(static_cast<uint8_t>(type << 5 | 29));
      o.push_back(static_cast<uint8_t>(size - 29));
    }
  }
  Slot& slot(uint32_t n, bool right) { return nodes_[n].side[right ? 1 : 0]; }
  // The node reached after `depth` bits of `key`, creating nodes on the way.
  uint32_t walk(const std::vector<bool>& key, size_t depth) {
    uint32_t n = 0;
    for (size_t i = 0; i < depth; ++i) {
      Slot s = slot(n, key[i]);
      if (s.kind != kNode) {
        nodes_.emplace_back();
        s = {kNode, static_cast<uint32_t>(nodes_.size() - 1)};
        slot(n, key[i]) = s;
      }
      n = s.value;
    }
    return n;
  }
  uint32_t data_offset(std::vector<uint8_t> d) {
    auto it = offsets_.find(d);
    if (it != offsets_.end()) return it->second;
    const auto off = static_cast<uint32_t>(data_.size());
    data_.insert(data_.end(), d.begin(), d.end());
    offsets_.emplace(std::move(d), off);
    return off;
  }

  int ip_version_;
  std::vector<Node> nodes_;
  std::vector<uint8_t> data_;
  std::map<std::vector<uint8_t>, uint32_t> offsets_;
};

}  // namespace orbwatch::test
