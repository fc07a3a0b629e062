#include "ingest/app_names.h"

#include <algorithm>

#include "core/byte_reader.h"

namespace orbwatch::ingest {
namespace {

inline bool printable(uint8_t c) {
  return c >= 0x21 && c <= 0x7e;
}
inline char lower(uint8_t c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

// --- DNS names (RFC 1035 4.1.4) -------------------------------------------------------------

// Legitimate names need a handful of pointers; the limit plus the 255-octet bound ends loops.
constexpr int kMaxPointerHops = 32;
constexpr size_t kMaxWireName = 255;

// Decodes the name at `pos`. `next` receives the offset after the name as it sits at `pos`
// (after the first pointer when there is one).
bool read_name(const uint8_t* msg, size_t size, size_t pos, HostName& out, size_t& next) {
  out.len = 0;
  size_t p = pos;
  size_t wire = 0;
  int hops = 0;
  bool jumped = false;
  for (;;) {
    if (p >= size) return false;
    uint8_t l = msg[p];
    if ((l & 0xC0) == 0xC0) {
      if (p + 1 >= size || ++hops > kMaxPointerHops) return false;
      if (!jumped) next = p + 2;
      jumped = true;
      p = (size_t{l & 0x3Fu} << 8) | msg[p + 1];
      continue;
    }
    if (l & 0xC0) return false;  // 01/10: extended label types, obsolete (RFC 6891 5)
    if (l == 0) {
      if (!jumped) next = p + 1;
      return true;
    }
    if (p + 1 + l > size) return false;
    wire += size_t{l} + 1;
    if (wire + 1 > kMaxWireName) return false;  // + the root label
    if (out.len != 0) out.text[out.len++] = '.';
    for (size_t i = 0; i < l; ++i) {
      uint8_t c = msg[p + 1 + i];
      if (!printable(c)) return false;
      out.text[out.len++] = lower(c);
    }
    p += 1 + size_t{l};
  }
}

// Offset after the name at `pos` without decoding it; false when it runs off the message.
bool skip_name(const uint8_t* msg, size_t size, size_t pos, size_t& next) {
  size_t p = pos;
  for (size_t wire = 0; wire <= kMaxWireName;) {
    if (p >= size) return false;
    uint8_t l = msg[p];
    if ((l & 0xC0) == 0xC0) {
      if (p + 1 >= size) return false;
      next = p + 2;
      return true;
    }
    if (l & 0xC0) return false;
    if (l == 0) {
      next = p + 1;
      return true;
    }
    wire += size_t{l} + 1;
    p += 1 + size_t{l};
  }
  return false;
}

bool ieq_prefix(std::string_view s, std::string_view prefix_lower) {
  if (s.size() < prefix_lower.size()) return false;
  for (size_t i = 0; i < prefix_lower.size(); ++i) {
    if (lower(static_cast<uint8_t>(s[i])) != prefix_lower[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Next line of `text` starting at `pos` without its CR LF; false when no complete line remains.
bool next_line(std::string_view text, size_t& pos, std::string_view& line) {
  size_t nl = text.find('\n', pos);
  if (nl == std::string_view::npos) return false;
  line = text.substr(pos, nl - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos = nl + 1;
  return true;
}

bool is_request_line(std::string_view line) {
  size_t sp = line.find(' ');
  if (sp == 0 || sp == std::string_view::npos || sp > 20) return false;
  for (size_t i = 0; i < sp; ++i) {
    char c = line[i];
    if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_')) return false;
  }
  if (line.size() < sp + 10) return false;  // " x HTTP/1.y"
  std::string_view version = line.substr(line.size() - 8);
  return version.substr(0, 7) == "HTTP/1." && line[line.size() - 9] == ' ';
}

}  // namespace

bool make_host_name(std::string_view s, HostName& out) {
  if (s.empty() || s.size() > HostName::kMax) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<uint8_t>(s[i]);
    if (!printable(c)) return false;
    out.text[i] = lower(c);
  }
  out.len = static_cast<uint16_t>(s.size());
  return true;
}

std::optional<HostName> tls_client_hello_sni(std::span<const uint8_t> payload) {
  ByteReader rec(payload);
  uint8_t content_type = 0;
  uint16_t version = 0, rec_len = 0;
  if (!rec.u8(content_type) || content_type != 22 || !rec.u16(version) || (version >> 8) != 3 ||
      !rec.u16(rec_len)) {
    return std::nullopt;
  }
  // The record may continue in the next segment: read what this one holds.
  ByteReader hs(rec.data(), std::min<size_t>(rec_len, rec.remaining()));
  uint8_t hs_type = 0;
  if (!hs.u8(hs_type) || hs_type != 1 || !hs.skip(3)) return std::nullopt;  // 24-bit length
  uint8_t sid_len = 0, comp_len = 0;
  uint16_t suites_len = 0, ext_len = 0;
  if (!hs.skip(2 + 32) || !hs.u8(sid_len) || sid_len > 32 || !hs.skip(sid_len) ||
      !hs.u16(suites_len) || !hs.skip(suites_len) || !hs.u8(comp_len) || !hs.skip(comp_len) ||
      !hs.u16(ext_len)) {
    return std::nullopt;
  }
  ByteReader exts(hs.data(), std::min<size_t>(ext_len, hs.remaining()));
  uint16_t type = 0, len = 0;
  while (exts.u16(type) && exts.u16(len)) {
    ByteReader ext(nullptr, 0);
    if (!exts.sub(len, ext)) return std::nullopt;
    if (type != 0) continue;
    uint16_t list_len = 0;
    ByteReader list(nullptr, 0);
    if (!ext.u16(list_len) || !ext.sub(list_len, list)) return std::nullopt;
    uint8_t name_type = 0;
    uint16_t name_len = 0;
    const uint8_t* name = nullptr;
    while (list.u8(name_type) && list.u16(name_len) && list.bytes(name_len, name)) {
      if (name_type != 0) continue;
      HostName out;
      if (!make_host_name({reinterpret_cast<const char*>(name), name_len}, out)) {
        return std::nullopt;
      }
      return out;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<HostName> http_request_host(std::span<const uint8_t> payload) {
  std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
  size_t pos = 0;
  std::string_view line;
  if (!next_line(text, pos, line) || !is_request_line(line)) return std::nullopt;
  while (next_line(text, pos, line) && !line.empty()) {
    if (!ieq_prefix(line, "host:")) continue;
    std::string_view value = trim(line.substr(5));
    if (!value.empty() && value.front() == '[') {
      size_t close = value.find(']');
      if (close == std::string_view::npos) return std::nullopt;
      value = value.substr(1, close - 1);
    } else if (size_t colon = value.find(':');
               colon != std::string_view::npos && value.find(':', colon + 1) == value.npos) {
      value = value.substr(0, colon);
    }
    HostName out;
    if (!make_host_name(value, out)) return std::nullopt;
    return out;
  }
  return std::nullopt;
}

std::optional<DnsInfo> parse_dns(std::span<const uint8_t> payload, bool tcp) {
  const uint8_t* msg = payload.data();
  size_t size = payload.size();
  if (tcp) {
    if (size < 2) return std::nullopt;
    size_t len = load_be16(msg);
    msg += 2;
    size = std::min(size - 2, len);
  }
  if (size < 12) return std::nullopt;
  uint16_t flags = load_be16(msg + 2);
  uint16_t qdcount = load_be16(msg + 4);
  uint16_t ancount = load_be16(msg + 6);
  if (qdcount == 0) return std::nullopt;

  DnsInfo info;
  info.id = load_be16(msg);
  info.response = (flags & 0x8000) != 0;
  info.rcode = static_cast<uint8_t>(flags & 0x0F);
  size_t pos = 12;
  if (!read_name(msg, size, pos, info.query, pos)) return std::nullopt;
  info.has_query = !info.query.empty();
  if (pos + 4 > size) return info;
  info.qtype = load_be16(msg + pos);
  pos += 4;
  for (uint16_t q = 1; q < qdcount; ++q) {
    if (!skip_name(msg, size, pos, pos) || pos + 4 > size) return info;
    pos += 4;
  }
  if (!info.response) return info;
  for (uint16_t a = 0; a < ancount && info.answer_count < DnsInfo::kMaxAnswers; ++a) {
    size_t owner = pos;
    if (!skip_name(msg, size, pos, pos) || pos + 10 > size) break;
    uint16_t type = load_be16(msg + pos);
    uint16_t klass = load_be16(msg + pos + 2) & 0x7FFF;  // top bit: mDNS cache flush
    uint32_t ttl = load_be32(msg + pos + 4);
    uint16_t rdlen = load_be16(msg + pos + 8);
    pos += 10;
    if (pos + rdlen > size) break;
    const uint8_t* rdata = msg + pos;
    pos += rdlen;
    bool v4 = type == 1 && rdlen == 4;
    bool v6 = type == 28 && rdlen == 16;
    if (klass != 1 || (!v4 && !v6)) continue;
    DnsAnswerName& ans = info.answers[info.answer_count];
    size_t ignored = 0;
    if (!read_name(msg, size, owner, ans.name, ignored) || ans.name.empty()) continue;
    ans.addr = v4 ? IpAddr::v4_bytes(rdata) : IpAddr::v6_bytes(rdata);
    ans.ttl = ttl;
    ++info.answer_count;
  }
  return info;
}

}  // namespace orbwatch::ingest
