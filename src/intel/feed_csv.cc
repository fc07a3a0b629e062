// CSV feeds with a header row (RFC 4180 quoting: fields in double quotes may hold commas,
// newlines and doubled quotes). Columns are mapped by header name, case-insensitively:
//   value:        value indicator ioc ip ip_address dst_ip src_ip address cidr network domain
//                 hostname host url observable
//   pattern:      pattern (a STIX pattern, preferred over the value when present)
//   type:         type ioc_type indicator_type (hash/file/email types are skipped)
//   confidence:   confidence score (0..100)
//   tags:         tags tag labels category malware threat
//   valid_from / valid_until, first_seen (first_seen_utc firstseen date_added),
//   last_seen (last_online lastseen), ref: id uuid sblid
// "#" lines before the header and between records are comments; "# END n entries" (abuse.ch)
// sets FeedMeta::declared_entries and a count mismatch is a warning.
#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "intel/feed_parser.h"
#include "intel/feed_text.h"

namespace orbwatch::intel {

namespace {

enum class Col : uint8_t {
  kIgnore,
  kValue,
  kPattern,
  kPatternType,
  kType,
  kConfidence,
  kTags,
  kValidFrom,
  kValidUntil,
  kFirstSeen,
  kLastSeen,
  kRef
};

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == ' ' || c == '-') c = '_';
  }
  return out;
}

Col map_column(std::string_view header) {
  struct Name {
    std::string_view name;
    Col col;
  };
  static constexpr std::array kNames = {
      Name{"value", Col::kValue},
      Name{"indicator", Col::kValue},
      Name{"ioc", Col::kValue},
      Name{"ip", Col::kValue},
      Name{"ip_address", Col::kValue},
      Name{"dst_ip", Col::kValue},
      Name{"src_ip", Col::kValue},
      Name{"address", Col::kValue},
      Name{"cidr", Col::kValue},
      Name{"network", Col::kValue},
      Name{"domain", Col::kValue},
      Name{"hostname", Col::kValue},
      Name{"host", Col::kValue},
      Name{"url", Col::kValue},
      Name{"observable", Col::kValue},
      Name{"pattern", Col::kPattern},
      Name{"pattern_type", Col::kPatternType},
      Name{"type", Col::kType},
      Name{"ioc_type", Col::kType},
      Name{"indicator_type", Col::kType},
      Name{"confidence", Col::kConfidence},
      Name{"score", Col::kConfidence},
      Name{"tags", Col::kTags},
      Name{"tag", Col::kTags},
      Name{"labels", Col::kTags},
      Name{"category", Col::kTags},
      Name{"malware", Col::kTags},
      Name{"threat", Col::kTags},
      Name{"valid_from", Col::kValidFrom},
      Name{"valid_until", Col::kValidUntil},
      Name{"first_seen", Col::kFirstSeen},
      Name{"first_seen_utc", Col::kFirstSeen},
      Name{"firstseen", Col::kFirstSeen},
      Name{"date_added", Col::kFirstSeen},
      Name{"last_seen", Col::kLastSeen},
      Name{"last_online", Col::kLastSeen},
      Name{"lastseen", Col::kLastSeen},
      Name{"id", Col::kRef},
      Name{"uuid", Col::kRef},
      Name{"sblid", Col::kRef},
  };
  std::string h = lower_ascii(trim(header));
  for (const auto& n : kNames) {
    if (h == n.name) return n.col;
  }
  return Col::kIgnore;
}

// Reads one CSV record starting at `pos`; advances pos and the line counter. A record that runs
// past kMaxLineBytes is cut off (the caller reports it).
struct CsvReader {
  std::string_view text;
  size_t pos = 0;
  uint32_t line = 1;

  bool done() const { return pos >= text.size(); }

  // The raw rest of the current line (for comment detection), without consuming it.
  std::string_view peek_line() const {
    std::string_view rest = text.substr(pos);
    std::string_view l = rest.substr(0, rest.find('\n'));
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  }
  void skip_line() {
    size_t nl = text.find('\n', pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line;
  }
  // False when the record was too long (skipped to the end of its line).
  bool record(std::vector<std::string>& fields) {
    fields.clear();
    fields.emplace_back();
    size_t start = pos;
    bool quoted = false;
    while (pos < text.size()) {
      if (pos - start > kMaxLineBytes) {
        while (pos < text.size() && text[pos] != '\n') ++pos;
        if (pos < text.size()) ++pos;
        ++line;
        return false;
      }
      char c = text[pos++];
      if (quoted) {
        if (c == '"') {
          if (pos < text.size() && text[pos] == '"') {
            fields.back() += '"';
            ++pos;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n') ++line;
          fields.back() += c;
        }
      } else if (c == '"' && fields.back().empty()) {
        quoted = true;
      } else if (c == ',') {
        if (fields.size() >= 256) continue;  // absurd column counts: the rest is ignored
        fields.emplace_back();
      } else if (c == '\n') {
        ++line;
        break;
      } else if (c == '\r' && (pos >= text.size() || text[pos] == '\n')) {
        // CRLF: the '\n' ends the record next round
      } else {
        fields.back() += c;
      }
    }
    return true;
  }
};

// A simple STIX pattern: "[ipv4-addr:value = 'x']", "[ipv6-addr:value = 'x']",
// "[domain-name:value = 'x']" (also "url:value" -> host). Anything else (OR/AND, other object
// types, other operators) is not represented here: false with `why`.
bool simple_stix_pattern(std::string_view p, std::string& value, bool& is_url, std::string& why) {
  p = trim(p);
  if (p.size() < 2 || p.front() != '[' || p.back() != ']') {
    why = "pattern is not a single [comparison]";
    return false;
  }
  p = trim(p.substr(1, p.size() - 2));
  size_t eq = p.find('=');
  if (eq == std::string_view::npos) {
    why = "pattern has no '=' comparison";
    return false;
  }
  std::string_view path = trim(p.substr(0, eq));
  std::string_view lit = trim(p.substr(eq + 1));
  if (path.ends_with('!') || path.ends_with('<') || path.ends_with('>')) {
    why = "pattern operator is not '='";
    return false;
  }
  if (lit.size() < 2 || lit.front() != '\'' || lit.back() != '\'' ||
      lit.substr(1, lit.size() - 2).find('\'') != std::string_view::npos) {
    why = "pattern is not one comparison with a quoted literal";
    return false;
  }
  if (path != "ipv4-addr:value" && path != "ipv6-addr:value" && path != "domain-name:value" &&
      path != "url:value") {
    why = "pattern over " + clean_text(path.substr(0, path.find(':')), 40) +
          " is not an address or domain";
    return false;
  }
  is_url = path == "url:value";
  value.assign(lit.substr(1, lit.size() - 2));
  return true;
}

bool skipped_type(std::string_view type) {
  std::string t = lower_ascii(type);
  for (std::string_view bad : {"md5", "sha1", "sha256", "sha512", "hash", "file", "filename",
                               "email", "email_addr", "yara", "mutex", "ja3"}) {
    if (t.find(bad) != std::string::npos) return true;
  }
  return false;
}

void split_tags(std::string_view s, std::vector<std::string>& out) {
  size_t i = 0;
  while (i <= s.size() && out.size() < 16) {
    size_t j = s.find_first_of(",;|", i);
    if (j == std::string_view::npos) j = s.size();
    std::string t = clean_text(s.substr(i, j - i), 64);
    if (!t.empty() && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    i = j + 1;
  }
}

}  // namespace

ParsedFeed parse_csv(std::string_view text) {
  ParsedFeed feed;
  feed.format = FeedFormat::kCsv;
  IndicatorSink sink(feed);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvReader r{text};
  std::vector<Col> cols;
  std::vector<std::string> fields;
  uint64_t records = 0;
  uint32_t end_line = 0;
  while (!r.done()) {
    std::string_view raw = trim(r.peek_line());
    uint32_t no = r.line;
    if (raw.empty() || raw.front() == '#') {
      if (raw.starts_with("# END") || raw.starts_with("#END")) {
        std::string_view rest = trim(raw.substr(raw.find("END") + 3));
        int64_t n = 0;
        size_t k = 0;
        while (k < rest.size() && k < 18 && rest[k] >= '0' && rest[k] <= '9') {
          n = n * 10 + (rest[k++] - '0');
        }
        if (k > 0) {
          feed.meta.declared_entries = n;
          end_line = no;
        }
      } else if (cols.empty() && feed.meta.description.empty() && raw.size() > 1) {
        size_t text_at = raw.find_first_not_of('#');
        std::string_view d =
            text_at == std::string_view::npos ? std::string_view() : trim(raw.substr(text_at));
        while (!d.empty() && d.back() == '#') d.remove_suffix(1);
        if (!trim(d).empty()) feed.meta.description = clean_text(trim(d));
      }
      r.skip_line();
      ++feed.lines;
      continue;
    }
    bool ok = r.record(fields);
    ++feed.lines;
    if (!ok) {
      feed.error(no, at_line(no) + "record longer than " + std::to_string(kMaxLineBytes) +
                         " bytes, skipped");
      continue;
    }
    if (cols.empty()) {
      for (const auto& f : fields) cols.push_back(map_column(f));
      if (std::none_of(cols.begin(), cols.end(),
                       [](Col c) { return c == Col::kValue || c == Col::kPattern; })) {
        feed.error(no, at_line(no) +
                           "header names no value column (value, ip, domain, url, "
                           "indicator, pattern, ...): " +
                           quote(raw));
        return feed;
      }
      continue;
    }
    ++records;
    if (fields.size() != cols.size()) {
      feed.warn(no, at_line(no) + std::to_string(fields.size()) + " fields, header has " +
                        std::to_string(cols.size()));
    }
    Indicator proto;
    proto.line = no;
    std::string value, pattern, pattern_type, type;
    for (size_t i = 0; i < fields.size() && i < cols.size(); ++i) {
      std::string_view f = trim(fields[i]);
      switch (cols[i]) {
        case Col::kValue:
          if (value.empty()) value.assign(f);
          break;
        case Col::kPattern:
          pattern.assign(f);
          break;
        case Col::kPatternType:
          pattern_type = lower_ascii(f);
          break;
        case Col::kType:
          type.assign(f);
          break;
        case Col::kConfidence:
          if (!f.empty()) {
            int v = 0;
            bool digits = f.size() <= 3 && std::all_of(f.begin(), f.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
            for (char c : f) v = v * 10 + (c - '0');
            if (digits && v <= 100) {
              proto.confidence = static_cast<uint8_t>(v);
            } else {
              feed.warn(no, at_line(no) + "confidence " + quote(f) + " is not 0..100, ignored");
            }
          }
          break;
        case Col::kTags:
          split_tags(f, proto.tags);
          break;
        case Col::kRef:
          proto.ref = clean_text(f, 128);
          break;
        case Col::kValidFrom:
        case Col::kValidUntil:
        case Col::kFirstSeen:
        case Col::kLastSeen: {
          if (f.empty()) break;
          auto ms = parse_feed_date_ms(f);
          if (!ms) {
            feed.warn(no, at_line(no) + "date " + quote(f) + " not understood, ignored");
            break;
          }
          int64_t& dst = cols[i] == Col::kValidFrom    ? proto.valid_from_ms
                         : cols[i] == Col::kValidUntil ? proto.valid_until_ms
                         : cols[i] == Col::kFirstSeen  ? proto.first_seen_ms
                                                       : proto.last_seen_ms;
          dst = *ms;
          break;
        }
        case Col::kIgnore:
          break;
      }
    }
    if (!pattern.empty() && (pattern_type.empty() || pattern_type == "stix")) {
      std::string v, why;
      bool is_url = false;
      if (!simple_stix_pattern(pattern, v, is_url, why)) {
        ++feed.skipped;
        feed.warn(no, at_line(no) + quote(pattern) + ": " + why + "; skipped");
        continue;
      }
      add_value(v, proto, sink, feed);
      continue;
    }
    if (!pattern.empty() && value.empty()) {
      ++feed.skipped;
      feed.warn(no,
                at_line(no) + "pattern type " + quote(pattern_type) + " not supported; skipped");
      continue;
    }
    if (!type.empty() && skipped_type(type)) {
      ++feed.skipped;
      feed.warn(no, at_line(no) + "type " + quote(type) + " is not an address or domain; skipped");
      continue;
    }
    if (value.empty()) {
      feed.error(no, at_line(no) + "empty value");
      continue;
    }
    add_value(value, proto, sink, feed);
  }
  if (cols.empty() && records == 0 && feed.lines > 0 && feed.bad == 0) {
    feed.warn(0, "no header row found");
  }
  if (feed.meta.declared_entries >= 0 &&
      static_cast<uint64_t>(feed.meta.declared_entries) != records) {
    feed.warn(end_line, at_line(end_line) + "trailer declares " +
                            std::to_string(feed.meta.declared_entries) + " entries, read " +
                            std::to_string(records));
  }
  return feed;
}

}  // namespace orbwatch::intel
