#include "intel/feed_text.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/time.h"

namespace orbwatch::intel {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v';
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// 128-bit big-endian helpers over IpAddr bytes for range splitting.
bool bit_set(const IpAddr& a, unsigned bit) {  // bit 0 = most significant
  return (a.b[bit / 8] >> (7 - bit % 8)) & 1;
}
// Adds 2^(127-bit) to a; false on overflow past the top.
bool add_pow2(IpAddr& a, unsigned bit) {
  int i = static_cast<int>(bit / 8);
  unsigned carry = 1u << (7 - bit % 8);
  for (; i >= 0 && carry; --i) {
    unsigned v = a.b[static_cast<size_t>(i)] + carry;
    a.b[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    carry = v >> 8;
  }
  return carry == 0;
}
// The last address of the prefix (a, len): a with every host bit set.
IpAddr last_of(const IpAddr& a, unsigned len) {
  IpAddr r = a;
  for (unsigned bit = len; bit < 128; ++bit)
    r.b[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  return r;
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_comment_line(std::string_view line) {
  line = trim(line);
  return line.starts_with('#') || line.starts_with(';') || line.starts_with("//");
}

std::string_view strip_comment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    bool at_word_start = i == 0 || is_space(line[i - 1]);
    if (!at_word_start) continue;
    if (c == '#' || c == ';' || (c == '/' && i + 1 < line.size() && line[i + 1] == '/')) {
      return trim(line.substr(0, i));
    }
  }
  return trim(line);
}

std::string refang(std::string_view s, bool* repaired_malformed) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  auto at = [&](std::string_view w) {
    return s.size() - i >= w.size() && iequals(s.substr(i, w.size()), w);
  };
  while (i < s.size()) {
    if (at("[.]") || at("(.)") || at("{.}")) {
      out += '.';
      i += 3;
    } else if (at("[dot]") || at("(dot)")) {
      out += '.';
      i += 5;
    } else if (at("[:]")) {
      out += ':';
      i += 3;
    } else if (at("[://]")) {
      out += "://";
      i += 5;
    } else if (at("[@]")) {
      out += '@';
      i += 3;
    } else if ((at("hxxp://") || at("hxxps://")) &&
               (i == 0 || !is_alpha(s[i - 1]))) {  // a scheme, not "...hxxp" inside a word
      bool tls = s[i + 4] == 's' || s[i + 4] == 'S';
      out += tls ? "https://" : "http://";
      i += tls ? 8 : 7;
    } else if ((at("[.") && i + 2 < s.size() && is_digit(s[i + 2]) && i > 0 &&
                is_digit(s[i - 1])) ||
               (at(".]") && i + 2 < s.size() && is_digit(s[i + 2]) && i > 0 &&
                is_digit(s[i - 1]))) {
      // "178.130.47[.10" / "1.2.3.]4": a half-bracketed dot between digits.
      out += '.';
      i += 2;
      if (repaired_malformed) *repaired_malformed = true;
    } else {
      out += s[i++];
    }
  }
  return out;
}

void range_to_prefixes(const IpAddr& lo, const IpAddr& hi, std::vector<Prefix>& out) {
  // Greedy: at each step take the largest block that starts at `cur` (aligned) and ends at or
  // before `hi`. Yields the minimal set, at most 2 * 128 blocks.
  const unsigned min_len = lo.is_v4() ? 96 : 0;  // stay inside ::ffff:0:0/96 for IPv4
  IpAddr cur = lo;
  for (int guard = 0; guard < 300; ++guard) {
    unsigned len = 128;
    while (len > min_len && !bit_set(cur, len - 1) && last_of(cur, len - 1) <= hi) --len;
    out.push_back(Prefix::make(cur, len));
    IpAddr end = last_of(cur, len);
    if (end >= hi) return;
    cur = end;
    if (!add_pow2(cur, 127)) return;  // end + 1
  }
}

bool parse_address(std::string_view token, std::vector<Prefix>& out, std::string& why,
                   bool* host_bits) {
  token = trim(token);
  if (token.empty()) {
    why = "empty value";
    return false;
  }
  if (size_t dash = token.find('-'); dash != std::string_view::npos) {
    auto lo = IpAddr::parse(trim(token.substr(0, dash)));
    auto hi = IpAddr::parse(trim(token.substr(dash + 1)));
    if (!lo || !hi) {
      why = "not an address range (expected first-last)";
      return false;
    }
    if (lo->is_v4() != hi->is_v4()) {
      why = "range mixes IPv4 and IPv6";
      return false;
    }
    if (*hi < *lo) {
      why = "range end before start";
      return false;
    }
    range_to_prefixes(*lo, *hi, out);
    return true;
  }
  size_t slash = token.find('/');
  auto addr = IpAddr::parse(token.substr(0, slash));
  if (!addr) {
    why = "not an IP address";
    return false;
  }
  unsigned max = addr->is_v4() ? 32 : 128;
  unsigned len = max;
  if (slash != std::string_view::npos) {
    std::string_view digits = token.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), is_digit)) {
      why = "prefix length is not a number";
      return false;
    }
    len = 0;
    for (char c : digits) len = len * 10 + static_cast<unsigned>(c - '0');
    if (len > max) {
      why = "prefix length " + std::to_string(len) + " > " + std::to_string(max);
      return false;
    }
  }
  Prefix p = Prefix::make(*addr, addr->is_v4() ? len + 96 : len);
  if (p.addr != *addr && host_bits) *host_bits = true;
  out.push_back(p);
  return true;
}

bool normalize_domain(std::string_view text, std::string& out, std::string& why) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) {
    why = "empty domain";
    return false;
  }
  if (text.size() > 253) {
    why = "domain longer than 253 characters";
    return false;
  }
  out.clear();
  out.reserve(text.size());
  size_t label_start = 0;
  size_t labels = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      size_t n = i - label_start;
      if (n == 0) {
        why = "empty label";
        return false;
      }
      if (n > 63) {
        why = "label longer than 63 characters";
        return false;
      }
      if (out[label_start] == '-' || out[i - 1] == '-') {
        why = "label starts or ends with '-'";
        return false;
      }
      ++labels;
      label_start = i + 1;
      if (i < text.size()) out += '.';
      continue;
    }
    char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      why = "non-ASCII character (IDNs must be given as punycode xn--)";
      return false;
    }
    c = lower(c);
    if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '_')) {
      why = "invalid character in domain";
      return false;
    }
    out += c;
  }
  if (labels < 2) {
    why = "a domain needs at least two labels";
    return false;
  }
  std::string_view tld = std::string_view(out).substr(out.rfind('.') + 1);
  bool letters = tld.size() >= 2 && std::all_of(tld.begin(), tld.end(), is_alpha);
  bool puny = tld.size() > 4 && tld.starts_with("xn--");
  if (!letters && !puny) {
    why = "top-level label is not 2+ letters or punycode";
    return false;
  }
  return true;
}

std::optional<std::string_view> url_host(std::string_view s) {
  size_t sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  for (size_t i = 0; i < sep; ++i) {
    char c = s[i];
    if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) return std::nullopt;
  }
  std::string_view rest = s.substr(sep + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return rest.substr(1, close - 1);
  }
  return rest.substr(0, rest.find(':'));
}

std::optional<int64_t> parse_feed_date_ms(std::string_view s) {
  s = trim(s);
  if (s.size() < 10) return std::nullopt;
  return parse_rfc3339_ms(s);
}

std::optional<int64_t> parse_worded_date_ms(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  int month = -1, day = -1, year = -1, secs = 0;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (is_space(s[i]) || s[i] == ',')) ++i;
    size_t start = i;
    while (i < s.size() && !is_space(s[i]) && s[i] != ',') ++i;
    std::string_view w = s.substr(start, i - start);
    if (w.empty()) break;
    if (w.size() >= 3 && is_alpha(w[0])) {
      for (size_t m = 0; m < kMonths.size(); ++m) {
        if (iequals(w.substr(0, 3), kMonths[m]) && month < 0) month = static_cast<int>(m) + 1;
      }
    } else if (w.size() == 8 && w[2] == ':' && w[5] == ':') {
      int h = 0, mi = 0, se = 0;
      bool ok = true;
      for (size_t k : {0, 1, 3, 4, 6, 7}) ok = ok && is_digit(w[k]);
      if (ok) {
        h = (w[0] - '0') * 10 + (w[1] - '0');
        mi = (w[3] - '0') * 10 + (w[4] - '0');
        se = (w[6] - '0') * 10 + (w[7] - '0');
        if (h < 24 && mi < 60 && se < 61) secs = h * 3600 + mi * 60 + se;
      }
    } else if (std::all_of(w.begin(), w.end(), is_digit)) {
      int n = 0;
      for (char c : w.substr(0, 4)) n = n * 10 + (c - '0');
      if (w.size() == 4 && year < 0) {
        year = n;
      } else if (w.size() <= 2 && day < 0) {
        day = n;
      }
    }
  }
  if (month < 0 || day < 1 || day > 31 || year < 1970) return std::nullopt;
  return (days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
          secs) *
         int64_t{1000};
}

std::string clean_text(std::string_view s, size_t max) {
  s = trim(s);
  std::string out;
  out.reserve(std::min(s.size(), max));
  size_t i = 0;
  while (i < s.size() && out.size() < max) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c);
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence is kept whole; anything else (Latin-1 bytes) becomes '?'.
    size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = n != 0 && c != 0xC0 && c != 0xC1 && c < 0xF5 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok && out.size() + n <= max) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out = "'" + clean_text(s.substr(0, kMax), kMax);
  if (s.size() > kMax) out += "...";
  return out + "'";
}

size_t IndicatorSink::add(Indicator ind) {
  std::string key;
  if (ind.kind == IndicatorKind::kPrefix) {
    key.assign(reinterpret_cast<const char*>(ind.prefix.addr.b.data()), 16);
    key += static_cast<char>(ind.prefix.len);
  } else {
    key = "d:" + ind.domain;
  }
  auto [it, fresh] = seen_.emplace(std::move(key), feed_.indicators.size());
  if (fresh) {
    feed_.indicators.push_back(std::move(ind));
    return it->second;
  }
  Indicator& first = feed_.indicators[it->second];
  for (auto& t : ind.tags) {
    if (std::find(first.tags.begin(), first.tags.end(), t) == first.tags.end() &&
        first.tags.size() < 16) {
      first.tags.push_back(std::move(t));
    }
  }
  if (ind.first_seen_ms && (!first.first_seen_ms || ind.first_seen_ms < first.first_seen_ms)) {
    first.first_seen_ms = ind.first_seen_ms;
  }
  if (ind.last_seen_ms > first.last_seen_ms) first.last_seen_ms = ind.last_seen_ms;
  std::string value = ind.kind == IndicatorKind::kPrefix ? ind.prefix.to_string() : ind.domain;
  feed_.warn(ind.line, "line " + std::to_string(ind.line) + ": " + quote(value) +
                           ": duplicate of line " + std::to_string(first.line) + ", merged");
  return it->second;
}

void IndicatorSink::add_prefixes(const std::vector<Prefix>& prefixes, const Indicator& proto) {
  for (const Prefix& p : prefixes) {
    Indicator ind = proto;
    ind.kind = IndicatorKind::kPrefix;
    ind.prefix = p;
    add(std::move(ind));
  }
}

std::string at_line(uint32_t line) {
  return "line " + std::to_string(line) + ": ";
}

bool add_value(std::string_view raw, const Indicator& proto, IndicatorSink& sink, ParsedFeed& feed,
               bool domains) {
  bool malformed = false;
  std::string text = refang(trim(raw), &malformed);
  std::string_view v = text;
  if (malformed) {
    feed.warn(proto.line, at_line(proto.line) + quote(raw) +
                              ": malformed defanging (half bracket around a dot) repaired");
  }
  if (auto host = url_host(v)) v = *host;
  if (v.empty()) {
    feed.error(proto.line, at_line(proto.line) + quote(raw) + ": no host in URL");
    return false;
  }
  std::vector<Prefix> prefixes;
  std::string why;
  bool host_bits = false;
  bool looks_numeric = std::all_of(v.begin(), v.end(), [](char c) {
    return is_digit(c) || c == '.' || c == '/' || c == '-' || c == ' ';
  });
  if (v.find(':') != std::string_view::npos || looks_numeric) {
    if (!parse_address(v, prefixes, why, &host_bits)) {
      feed.error(proto.line, at_line(proto.line) + quote(raw) + ": " + why);
      return false;
    }
    if (host_bits) {
      feed.warn(proto.line, at_line(proto.line) + quote(raw) + ": host bits set, normalised to " +
                                prefixes.front().to_string());
    }
    sink.add_prefixes(prefixes, proto);
    return true;
  }
  if (!domains) {
    feed.error(proto.line, at_line(proto.line) + quote(raw) + ": not an IP address or CIDR");
    return false;
  }
  Indicator ind = proto;
  ind.kind = IndicatorKind::kDomain;
  if (!normalize_domain(v, ind.domain, why)) {
    feed.error(proto.line, at_line(proto.line) + quote(raw) + ": not an address or domain: " + why);
    return false;
  }
  sink.add(std::move(ind));
  return true;
}

}  // namespace orbwatch::intel
