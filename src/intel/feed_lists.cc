// Line-list feeds: plain lists, Spamhaus DROP text and JSON lines, FireHOL ipset/netset.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "intel/feed_parser.h"
#include "intel/feed_text.h"

namespace orbwatch::intel {

namespace {

// False (and an error) when the line is too long to look at.
bool line_ok(ParsedFeed& feed, uint32_t no, std::string_view line) {
  ++feed.lines;
  if (line.size() <= kMaxLineBytes) return true;
  feed.error(no, at_line(no) + "line of " + std::to_string(line.size()) + " bytes exceeds " +
                     std::to_string(kMaxLineBytes) + ", skipped");
  return false;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// One flat JSON object per line: keys to raw values (strings unescaped, numbers/literals as
// written). Nested objects/arrays are rejected; Spamhaus records have none.
bool parse_flat_json(std::string_view s, std::vector<std::pair<std::string, std::string>>& kv,
                     std::string& why) {
  size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  };
  auto str = [&](std::string& out) -> bool {
    if (i >= s.size() || s[i] != '"') return false;
    ++i;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size()) return false;
      char e = s[i++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u':
          if (s.size() - i < 4) return false;
          i += 4;
          out += '?';  // non-ASCII in a Spamhaus record is only ever free text
          break;
        default:
          out += e;
      }
    }
    if (i >= s.size()) return false;
    ++i;
    return true;
  };
  ws();
  if (i >= s.size() || s[i] != '{') {
    why = "expected a JSON object";
    return false;
  }
  ++i;
  ws();
  if (i < s.size() && s[i] == '}') {
    ++i;
  } else {
    while (true) {
      ws();
      std::string key, value;
      if (!str(key)) {
        why = "expected a string key";
        return false;
      }
      ws();
      if (i >= s.size() || s[i] != ':') {
        why = "expected ':' after key";
        return false;
      }
      ++i;
      ws();
      if (i < s.size() && s[i] == '"') {
        if (!str(value)) {
          why = "unterminated string";
          return false;
        }
      } else {
        size_t start = i;
        while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ' ') {
          if (s[i] == '{' || s[i] == '[') {
            why = "nested value in key \"" + key.substr(0, 40) + "\" not supported";
            return false;
          }
          ++i;
        }
        value.assign(s.substr(start, i - start));
        if (value.empty()) {
          why = "missing value";
          return false;
        }
      }
      kv.emplace_back(std::move(key), std::move(value));
      ws();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == '}') {
        ++i;
        break;
      }
      why = "expected ',' or '}'";
      return false;
    }
  }
  ws();
  if (i != s.size()) {
    why = "trailing data after the object";
    return false;
  }
  return true;
}

const std::string* find_key(const std::vector<std::pair<std::string, std::string>>& kv,
                            std::string_view key) {
  for (const auto& [k, v] : kv) {
    if (k == key) return &v;
  }
  return nullptr;
}

int64_t to_int(std::string_view s, int64_t fallback) {
  if (s.empty() || s.size() > 18) return fallback;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return fallback;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

ParsedFeed parse_plain(std::string_view text) {
  ParsedFeed feed;
  feed.format = FeedFormat::kPlain;
  IndicatorSink sink(feed);
  for_each_line(text, [&](uint32_t no, std::string_view line) {
    if (!line_ok(feed, no, line)) return;
    if (is_comment_line(line)) return;
    std::string_view body = strip_comment(line);
    if (body.empty()) return;
    auto words = split_ws(body);
    // "a - b" is a range written with spaces.
    std::string joined;
    if (words.size() == 3 && words[1] == "-") {
      joined = std::string(words[0]) + "-" + std::string(words[2]);
      words = {joined};
    }
    std::string_view value = words.front();
    // hosts-file lines ("0.0.0.0 evil.example") name the blocked host second.
    if (words.size() == 2 && (words[0] == "0.0.0.0" || words[0] == "127.0.0.1")) {
      value = words[1];
    } else if (words.size() > 1) {
      feed.warn(no, at_line(no) + "text after the value ignored: " + quote(body));
    }
    Indicator proto;
    proto.line = no;
    add_value(value, proto, sink, feed);
  });
  return feed;
}

ParsedFeed parse_drop(std::string_view text) {
  ParsedFeed feed;
  feed.format = FeedFormat::kDrop;
  IndicatorSink sink(feed);
  for_each_line(text, [&](uint32_t no, std::string_view line) {
    if (!line_ok(feed, no, line)) return;
    std::string_view t = trim(line);
    if (t.empty()) return;
    if (t.front() == ';' || t.front() == '#') {
      t = trim(t.substr(1));
      if (feed.meta.name.empty() && t.starts_with("Spamhaus")) {
        feed.meta.name = clean_text(t.substr(0, t.find(" - ")));
      } else if (t.starts_with("Last-Modified:")) {
        if (auto ms = parse_worded_date_ms(t.substr(14))) feed.meta.generated_ms = *ms;
      }
      return;
    }
    size_t semi = t.find(';');
    std::string_view value = trim(t.substr(0, semi));
    Indicator proto;
    proto.line = no;
    if (semi != std::string_view::npos) {
      std::string_view ref = trim(t.substr(semi + 1));
      if (!ref.empty()) proto.ref = clean_text(ref, 64);
    }
    add_value(value, proto, sink, feed, /*domains=*/false);
  });
  return feed;
}

ParsedFeed parse_drop_json(std::string_view text) {
  ParsedFeed feed;
  feed.format = FeedFormat::kDropJson;
  IndicatorSink sink(feed);
  uint64_t records = 0;
  uint32_t meta_line = 0;
  for_each_line(text, [&](uint32_t no, std::string_view line) {
    if (!line_ok(feed, no, line)) return;
    std::string_view t = trim(line);
    if (t.empty()) return;
    std::vector<std::pair<std::string, std::string>> kv;
    std::string why;
    if (!parse_flat_json(t, kv, why)) {
      ++records;  // a data record, even if unreadable
      feed.error(no, at_line(no) + why);
      return;
    }
    if (const auto* type = find_key(kv, "type"); type && *type == "metadata") {
      meta_line = no;
      if (const auto* ts = find_key(kv, "timestamp")) {
        int64_t secs = to_int(*ts, -1);
        if (secs >= 0) feed.meta.generated_ms = secs * 1000;
      }
      if (const auto* n = find_key(kv, "records")) feed.meta.declared_entries = to_int(*n, -1);
      if (const auto* c = find_key(kv, "copyright")) feed.meta.description = clean_text(*c);
      return;
    }
    if (meta_line != 0) {
      feed.warn(no, at_line(no) + "record after the metadata record (line " +
                        std::to_string(meta_line) + ")");
    }
    ++records;
    if (const auto* asn = find_key(kv, "asn")) {
      const auto* name = find_key(kv, "asname");
      ++feed.skipped;
      feed.warn(no, at_line(no) + "AS" + clean_text(*asn, 16) +
                        (name ? " (" + clean_text(*name, 64) + ")" : std::string()) +
                        ": an ASN-DROP autonomous system, not an address prefix; skipped");
      return;
    }
    const auto* cidr = find_key(kv, "cidr");
    if (!cidr) {
      feed.error(no, at_line(no) + "record has neither \"cidr\" nor \"asn\"");
      return;
    }
    Indicator proto;
    proto.line = no;
    if (const auto* sbl = find_key(kv, "sblid")) proto.ref = clean_text(*sbl, 64);
    if (const auto* rir = find_key(kv, "rir")) proto.tags.push_back("rir:" + clean_text(*rir, 32));
    add_value(*cidr, proto, sink, feed, /*domains=*/false);
  });
  if (meta_line == 0 && records > 0) {
    feed.warn(0, "no trailing metadata record (the feed may be truncated)");
  } else if (feed.meta.declared_entries >= 0 &&
             static_cast<uint64_t>(feed.meta.declared_entries) != records) {
    feed.warn(meta_line, at_line(meta_line) + "metadata declares " +
                             std::to_string(feed.meta.declared_entries) + " records, read " +
                             std::to_string(records));
  }
  return feed;
}

ParsedFeed parse_firehol(std::string_view text) {
  ParsedFeed feed;
  feed.format = FeedFormat::kFirehol;
  IndicatorSink sink(feed);
  bool header = true;  // the leading "#" block
  bool in_description = false;
  std::string source_date, file_date, maintainer;
  uint64_t values = 0;
  uint32_t entries_line = 0;
  for_each_line(text, [&](uint32_t no, std::string_view line) {
    if (!line_ok(feed, no, line)) return;
    std::string_view t = trim(line);
    if (t.empty()) return;
    if (t.front() == '#') {
      if (!header) return;
      t = trim(t.substr(1));
      if (t.empty()) {
        in_description = false;
        return;
      }
      size_t colon = t.find(':');
      std::string_view key = colon == std::string_view::npos ? "" : trim(t.substr(0, colon));
      std::string_view val = colon == std::string_view::npos ? "" : trim(t.substr(colon + 1));
      if (feed.meta.name.empty() && colon == std::string_view::npos &&
          t.find(' ') == std::string_view::npos) {
        feed.meta.name = clean_text(t, 64);
      } else if (t.starts_with('[') || in_description) {
        in_description = true;
        if (feed.meta.description.size() < 512) {
          if (!feed.meta.description.empty()) feed.meta.description += ' ';
          feed.meta.description += clean_text(t, 512);
        }
      } else if (key == "Category") {
        feed.meta.category = clean_text(val, 64);
      } else if (key == "Maintainer") {
        maintainer = clean_text(val, 128);
      } else if (key == "Source File Date") {
        source_date = val;
      } else if (key == "This File Date") {
        file_date = val;
      } else if (key == "Entries") {
        entries_line = no;
        feed.meta.declared_entries = to_int(val.substr(0, val.find(' ')), -1);
      }
      return;
    }
    header = false;
    std::string_view body = strip_comment(t);
    if (body.empty()) return;
    ++values;
    Indicator proto;
    proto.line = no;
    if (!feed.meta.category.empty()) proto.tags.push_back(feed.meta.category);
    add_value(body, proto, sink, feed, /*domains=*/false);
  });
  if (!maintainer.empty()) {
    if (!feed.meta.description.empty()) feed.meta.description += ' ';
    feed.meta.description += "(maintainer: " + maintainer + ")";
  }
  for (const std::string& d : {source_date, file_date}) {
    if (feed.meta.generated_ms != 0 || d.empty()) continue;
    if (auto ms = parse_worded_date_ms(d)) feed.meta.generated_ms = *ms;
  }
  // "Entries: 18 subnets, 5120 unique IPs" counts the lines of the list.
  if (feed.meta.declared_entries >= 0 &&
      static_cast<uint64_t>(feed.meta.declared_entries) != values) {
    feed.warn(entries_line, at_line(entries_line) + "header declares " +
                                std::to_string(feed.meta.declared_entries) + " entries, read " +
                                std::to_string(values) + " (truncated or excerpted list?)");
  }
  return feed;
}

}  // namespace orbwatch::intel
