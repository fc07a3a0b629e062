// Text helpers shared by the line-oriented feed parsers (plain, DROP, FireHOL, CSV, advisory):
// line splitting, comment stripping, re-fanging of defanged indicators, address / CIDR / range
// parsing and domain validation. Pure functions; no exceptions, no allocation beyond the results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ip_addr.h"
#include "intel/indicator.h"

namespace orbwatch::intel {

// Lines longer than this are reported and skipped unread, so a hostile 100 MB line costs one scan.
inline constexpr size_t kMaxLineBytes = 64 * 1024;

// Calls f(line_no, line) for every line (1-based), without the "\n" / "\r\n" terminator. A UTF-8
// byte order mark at the start of the text is dropped. A final line without a newline is included;
// an empty text has no lines.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  uint32_t no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(++no, line);
  }
}

std::string_view trim(std::string_view s);

// True for a whole-line comment: first non-blank characters are "#", ";" or "//".
bool is_comment_line(std::string_view line);
// Drops a trailing comment: "#", ";" or "//" that starts the line or follows whitespace (so the
// "//" of "http://" and a "#" inside a URL fragment stay). Returns the trimmed rest.
std::string_view strip_comment(std::string_view line);

// Undoes the usual defanging: "[.]" "(.)" "{.}" "[dot]" "(dot)" -> ".", "[:]" -> ":",
// "[://]" -> "://", "hxxp"/"hxxps"/"hXXp" at a scheme -> "http"/"https", "[@]" -> "@".
// Malformed half-brackets around a dot ("178.130.47[.10", "1.2.3.]4") are repaired too, because
// the intent is unambiguous; `repaired_malformed` is set so callers can warn about it.
std::string refang(std::string_view s, bool* repaired_malformed = nullptr);

// An address, CIDR ("10.0.0.0/8") or range ("10.0.0.1-10.0.0.9", both ends full addresses of one
// family) as the minimal set of prefixes. A CIDR with host bits set is masked and
// `host_bits` set (callers warn). On failure returns false with `why` naming the problem
// ("prefix length 33 > 32", "range end before start", "not an IP address").
bool parse_address(std::string_view token, std::vector<Prefix>& out, std::string& why,
                   bool* host_bits = nullptr);

// Splits [lo, hi] (same family) into the minimal CIDR set (at most 2 * 128 prefixes).
void range_to_prefixes(const IpAddr& lo, const IpAddr& hi, std::vector<Prefix>& out);

// Validates and normalises a domain name: lower case, no trailing dot, 2+ labels of 1..63
// characters [a-z0-9-] (no leading/trailing hyphen, "_" allowed for service labels), total <= 253,
// a top-level label of 2+ letters or ASCII punycode ("xn--..."). Non-ASCII (raw IDN, Latin-1)
// is rejected: feeds must give IDNs as punycode. False with `why` on failure.
bool normalize_domain(std::string_view text, std::string& out, std::string& why);

// The host of a URL ("hxxp://evil.com:8080/x" after refang -> "evil.com", "http://[::1]/" ->
// "::1"); nullopt when `s` has no "scheme://".
std::optional<std::string_view> url_host(std::string_view s);

// Dates as feeds write them: RFC 3339 ("2021-01-01T00:00:00Z"), "YYYY-MM-DD HH:MM:SS" (UTC), or a
// bare "YYYY-MM-DD". nullopt otherwise.
std::optional<int64_t> parse_feed_date_ms(std::string_view s);

// Dates written out in words, as in "Sun, 19 Feb 2023 22:03:03 GMT" (HTTP) or
// "Tue Dec 11 07:20:07 UTC 2018" (date(1)): a month name, a day, a 4-digit year and an optional
// hh:mm:ss, in any order, taken as UTC. nullopt when one of month, day or year is missing.
std::optional<int64_t> parse_worded_date_ms(std::string_view s);

// Text that goes into tags/meta: trimmed, invalid UTF-8 bytes (e.g. Latin-1) replaced by '?',
// control characters by ' ', at most `max` bytes.
std::string clean_text(std::string_view s, size_t max = 256);

// A short, printable quote of input for messages: "'10.0.0.1/33'" (cut at 80 bytes).
std::string quote(std::string_view s);

// Collects indicators for one feed and drops duplicates: a value already seen (same prefix or
// domain) is not added again; its tags are merged into the first, its first/last seen widened,
// and a warning names both lines.
class IndicatorSink {
 public:
  explicit IndicatorSink(ParsedFeed& feed) : feed_(feed) {}
  // Adds `ind` (or merges it into an earlier duplicate). Returns the index in feed.indicators.
  size_t add(Indicator ind);
  void add_prefixes(const std::vector<Prefix>& prefixes, const Indicator& proto);

 private:
  ParsedFeed& feed_;
  std::unordered_map<std::string, size_t> seen_;
};

// Parses one feed value (after refang): an address / CIDR / range, a URL (its host), or a domain
// (when `domains` is set), and adds it through `sink` with `proto`'s tags, dates and ref. Reports
// errors and warnings (host bits, malformed defanging) on proto.line. False when nothing was added.
bool add_value(std::string_view raw, const Indicator& proto, IndicatorSink& sink, ParsedFeed& feed,
               bool domains = true);

// "line N: " prefix for messages.
std::string at_line(uint32_t line);

}  // namespace orbwatch::intel
