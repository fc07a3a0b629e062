// IP addresses and prefixes. Every address is 16 bytes (IPv6); IPv4 is stored IPv4-mapped
// (::ffff:a.b.c.d, RFC 4291 2.5.5.2) so one type and one comparison serve both families.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace orbwatch {

struct IpAddr {
  std::array<uint8_t, 16> b{};

  static IpAddr v4(uint32_t host_order) {
    IpAddr a;
    a.b[10] = 0xff;
    a.b[11] = 0xff;
    a.b[12] = static_cast<uint8_t>(host_order >> 24);
    a.b[13] = static_cast<uint8_t>(host_order >> 16);
    a.b[14] = static_cast<uint8_t>(host_order >> 8);
    a.b[15] = static_cast<uint8_t>(host_order);
    return a;
  }
  // From 4 network-order bytes.
  static IpAddr v4_bytes(const uint8_t* p) {
    IpAddr a;
    a.b[10] = 0xff;
    a.b[11] = 0xff;
    std::memcpy(&a.b[12], p, 4);
    return a;
  }
  // From 16 network-order bytes.
  static IpAddr v6_bytes(const uint8_t* p) {
    IpAddr a;
    std::memcpy(a.b.data(), p, 16);
    return a;
  }
  static std::optional<IpAddr> parse(std::string_view text);

  // In-place writes as two 8-byte stores: hot decoders read the record back as a whole soon
  // after, and narrow stores followed by a wide load stall store forwarding.
  void assign_v4(const uint8_t* p) {
    uint32_t a;
    std::memcpy(&a, p, 4);
    uint64_t hi = uint64_t{a} << 32 | 0xffff0000u;  // bytes 8..15: 00 00 ff ff a b c d (LE)
    uint64_t lo = 0;
    static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "assign_v4 assumes little endian");
    std::memcpy(b.data(), &lo, 8);
    std::memcpy(b.data() + 8, &hi, 8);
  }
  void assign_v6(const uint8_t* p) { std::memcpy(b.data(), p, 16); }

  bool is_v4() const {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(b.data(), kMapped, 12) == 0;
  }
  uint32_t v4_value() const {
    return (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
  }
  bool is_zero() const {
    uint64_t w[2];
    std::memcpy(w, b.data(), 16);
    return (w[0] | w[1]) == 0;
  }
  // Writes the text form ("192.0.2.1" or "2001:db8::1") into buf; returns its length.
  // buf must hold at least kMaxText bytes.
  static constexpr size_t kMaxText = 46;
  size_t format(char* buf) const;
  std::string to_string() const;

  friend bool operator==(const IpAddr&, const IpAddr&) = default;
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};

struct IpAddrHash {
  size_t operator()(const IpAddr& a) const noexcept {
    uint64_t w[2];
    std::memcpy(w, a.b.data(), 16);
    uint64_t h = w[0] * 0x9E3779B97F4A7C15ull ^ (w[1] + 0x632BE59BD9B4E019ull);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

// An address prefix. For IPv4 prefixes `len` counts in the 128-bit mapped space (96 + v4 len),
// so containment is one masked comparison for both families.
struct Prefix {
  IpAddr addr;      // host bits are zero
  uint8_t len = 0;  // 0..128

  static std::optional<Prefix> parse(
      std::string_view text);                         // "10.0.0.0/8", "2001:db8::/32", "1.2.3.4"
  static Prefix make(const IpAddr& a, unsigned len);  // masks host bits
  bool contains(const IpAddr& a) const;
  // Length as the user writes it (IPv4: 0..32).
  unsigned display_len() const { return addr.is_v4() && len >= 96 ? len - 96 : len; }
  std::string to_string() const;

  friend bool operator==(const Prefix&, const Prefix&) = default;
  friend auto operator<=>(const Prefix&, const Prefix&) = default;  // by address, then length
};

}  // namespace orbwatch
