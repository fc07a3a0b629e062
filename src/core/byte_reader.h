// Bounds-checked big-endian reads for wire formats. Reads past the end return false and never
// touch memory outside the span: decoders check once per structure, then read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace orbwatch {

inline uint16_t load_be16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t load_be64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
// Unsigned big-endian integer of 1..8 bytes (IPFIX reduced-size encoding, RFC 7011 6.2).
inline uint64_t load_be_n(const uint8_t* p, size_t n) {
  switch (n) {
    case 1:
      return p[0];
    case 2:
      return load_be16(p);
    case 4:
      return load_be32(p);
    case 8:
      return load_be64(p);
    default: {
      uint64_t v = 0;
      for (size_t i = 0; i < n && i < 8; ++i) v = (v << 8) | p[i];
      return v;
    }
  }
}

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), end_(data + size), begin_(data) {}
  explicit ByteReader(std::span<const uint8_t> s) : ByteReader(s.data(), s.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  const uint8_t* data() const { return p_; }
  bool has(size_t n) const { return remaining() >= n; }

  bool u8(uint8_t& v) {
    return take(1, [&](const uint8_t* p) { v = p[0]; });
  }
  bool u16(uint16_t& v) {
    return take(2, [&](const uint8_t* p) { v = load_be16(p); });
  }
  bool u32(uint32_t& v) {
    return take(4, [&](const uint8_t* p) { v = load_be32(p); });
  }
  bool u64(uint64_t& v) {
    return take(8, [&](const uint8_t* p) { v = load_be64(p); });
  }
  bool skip(size_t n) {
    return take(n, [](const uint8_t*) {});
  }
  // A sub-reader over the next n bytes, consumed from this one.
  bool sub(size_t n, ByteReader& out) {
    return take(n, [&](const uint8_t* p) { out = ByteReader(p, n); });
  }
  bool bytes(size_t n, const uint8_t*& out) {
    return take(n, [&](const uint8_t* p) { out = p; });
  }

 private:
  template <class F>
  bool take(size_t n, F&& f) {
    if (remaining() < n) return false;
    f(p_);
    p_ += n;
    return true;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
};

}  // namespace orbwatch
