#include "core/ip_addr.h"

#include <arpa/inet.h>

namespace orbwatch {

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t raw[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, raw) != 1) return std::nullopt;
    return v4_bytes(raw);
  }
  if (inet_pton(AF_INET6, buf, raw) != 1) return std::nullopt;
  return v6_bytes(raw);
}

size_t IpAddr::format(char* buf) const {
  if (is_v4()) {
    // Hand-rolled: inet_ntop is measurably slow on the JSON output path.
    char* p = buf;
    for (int i = 12; i < 16; ++i) {
      unsigned v = b[i];
      if (v >= 100) {
        *p++ = static_cast<char>('0' + v / 100);
        *p++ = static_cast<char>('0' + v / 10 % 10);
      } else if (v >= 10) {
        *p++ = static_cast<char>('0' + v / 10);
      }
      *p++ = static_cast<char>('0' + v % 10);
      if (i != 15) *p++ = '.';
    }
    return static_cast<size_t>(p - buf);
  }
  if (inet_ntop(AF_INET6, b.data(), buf, kMaxText) == nullptr) return 0;
  return std::strlen(buf);
}

std::string IpAddr::to_string() const {
  char buf[kMaxText];
  return std::string(buf, format(buf));
}

Prefix Prefix::make(const IpAddr& a, unsigned len) {
  if (len > 128) len = 128;
  Prefix p;
  p.len = static_cast<uint8_t>(len);
  for (unsigned i = 0; i < 16; ++i) {
    unsigned bits = len > i * 8 ? len - i * 8 : 0;
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff00 >> bits);
    p.addr.b[i] = a.b[i] & mask;
  }
  return p;
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  unsigned max = addr->is_v4() ? 32 : 128;
  unsigned len = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    len = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      len = len * 10 + static_cast<unsigned>(c - '0');
    }
    if (len > max) return std::nullopt;
  }
  return make(*addr, addr->is_v4() ? len + 96 : len);
}

bool Prefix::contains(const IpAddr& a) const {
  return make(a, len).addr == addr;
}

std::string Prefix::to_string() const {
  return addr.to_string() + "/" + std::to_string(display_len());
}

}  // namespace orbwatch
