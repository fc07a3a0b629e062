// WireBuilder: builds wire-format test inputs byte by byte (packets, export datagrams).
// Big-endian by default, as every network protocol here is; little-endian helpers for the few
// host-order fields (BSD NULL loopback, pcap headers). Length fields that are known only later are
// written as placeholders and patched with `patch_be16/32` or the Mark helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "core/ip_addr.h"

namespace orbwatch::test {

class WireBuilder {
 public:
  WireBuilder() = default;
  WireBuilder(std::initializer_list<uint8_t> bytes) : buf_(bytes) {}

  WireBuilder& u8(uint8_t v) {
    buf_.push_back(v);
    return *this;
  }
  WireBuilder& be16(uint16_t v) {
    return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v));
  }
  WireBuilder& be32(uint32_t v) {
    return be16(static_cast<uint16_t>(v >> 16)).be16(static_cast<uint16_t>(v));
  }
  WireBuilder& be64(uint64_t v) {
    return be32(static_cast<uint32_t>(v >> 32)).be32(static_cast<uint32_t>(v));
  }
  WireBuilder& le16(uint16_t v) {
    return u8(static_cast<uint8_t>(v)).u8(static_cast<uint8_t>(v >> 8));
  }
  WireBuilder& le32(uint32_t v) {
    return le16(static_cast<uint16_t>(v)).le16(static_cast<uint16_t>(v >> 16));
  }
  WireBuilder& bytes(std::initializer_list<uint8_t> b) {
    buf_.insert(buf_.end(), b.begin(), b.end());
    return *this;
  }
  WireBuilder& bytes(std::span<const uint8_t> b) {
    buf_.insert(buf_.end(), b.begin(), b.end());
    return *this;
  }
  WireBuilder& append(const WireBuilder& other) { return bytes(other.view()); }
  WireBuilder& str(std::string_view s) {
    buf_.insert(buf_.end(), s.begin(), s.end());
    return *this;
  }
  WireBuilder& zeros(size_t n) {
    buf_.insert(buf_.end(), n, 0);
    return *this;
  }
  // Zero bytes up to the next multiple of `align` (XDR opaque padding: 4).
  WireBuilder& pad_to(size_t align) {
    while (buf_.size() % align != 0) buf_.push_back(0);
    return *this;
  }
  WireBuilder& mac(std::initializer_list<uint8_t> six) { return bytes(six); }

  // Addresses in network order. Text that does not parse writes zeros (tests stay readable).
  WireBuilder& ipv4(std::string_view text) {
    auto a = IpAddr::parse(text);
    return a ? bytes(std::span<const uint8_t>(a->b.data() + 12, 4)) : zeros(4);
  }
  WireBuilder& ipv6(std::string_view text) {
    auto a = IpAddr::parse(text);
    return a ? bytes(std::span<const uint8_t>(a->b.data(), 16)) : zeros(16);
  }

  // Length placeholders: `mark()` remembers the offset, `patch_be32(at, v)` fills it in.
  size_t mark() const { return buf_.size(); }
  WireBuilder& patch_be16(size_t at, uint16_t v) {
    buf_.at(at) = static_cast<uint8_t>(v >> 8);
    buf_.at(at + 1) = static_cast<uint8_t>(v);
    return *this;
  }
  WireBuilder& patch_be32(size_t at, uint32_t v) {
    patch_be16(at, static_cast<uint16_t>(v >> 16));
    return patch_be16(at + 2, static_cast<uint16_t>(v));
  }
  // Writes a 32-bit placeholder and returns its offset; `end_len32(at)` later stores the number
  // of bytes written after it (the XDR/sFlow "length then opaque" pattern).
  size_t begin_len32() {
    size_t at = buf_.size();
    be32(0);
    return at;
  }
  WireBuilder& end_len32(size_t at) {
    return patch_be32(at, static_cast<uint32_t>(buf_.size() - at - 4));
  }

  size_t size() const { return buf_.size(); }
  const uint8_t* data() const { return buf_.data(); }
  std::span<const uint8_t> view() const { return buf_; }
  const std::vector<uint8_t>& vec() const { return buf_; }
  std::vector<uint8_t>& vec() { return buf_; }

 private:
  std::vector<uint8_t> buf_;
};

// Internet checksum is not verified by orbwatch's parsers, so builders leave it zero.

}  // namespace orbwatch::test
