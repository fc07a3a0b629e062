// "Advisory text": indicators pulled out of free text such as the IOC lists that research teams
// publish next to a report (tables with a header row, defanged addresses, "First Seen: ...;
// Description: C2" lines under an address, hashes and YARA rules in between).
//
// What counts as an indicator (everything else is ignored silently: this is extraction, not
// validation):
// - a dotted-quad IPv4 address, optionally /len or :port; a dotted quad that does not parse
//   (octet > 255, /33) is an error naming the line;
// - an IPv6 address (2+ colons, hex digits only), optionally /len;
// - a URL's host ("hxxp://evil.example/x" -> evil.example);
// - a domain: 2+ labels of [a-z0-9-_], a top-level label of 2+ letters (or punycode), and that
//   top-level label not a common file extension (exe, dll, php, sh, js, py, txt, zip, ...), so
//   "Kv-all.sh", "x.php" and "wp-content/x.php" are not taken; "1.2.3" and version numbers have
//   a numeric last label and are not domains; hex hashes and base64 have no dots; tokens with
//   '@' (e-mail addresses) are not taken.
// Row context:
// - a line with 2+ cells (split at tabs and runs of 2+ spaces) that yields no indicator and names
//   2+ known columns (IOC, Type, First Seen, Last Seen, Category, Characterization, Description,
//   Timeframe, ...) is a table header, valid until the next blank line. In the rows below it the
//   Category / Characterization / Description / Tier / Tags cells and a Type other than a plain
//   "IP" / "Domain" become tags; First Seen / Last Seen cells become dates.
// - a line of "Key: value; Key: value" right under a line with indicators applies to those
//   indicators (JDY style: "First Seen: 2025-04-11; Last Seen: Present; Description: C2").
#include <algorithm>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "intel/feed_parser.h"
#include "intel/feed_text.h"

namespace orbwatch::intel {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string lower_key(std::string_view s) {
  std::string out;
  for (char c : trim(s)) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_' || c == '-') c = ' ';
    out += c;
  }
  return out;
}

enum class Ctx : uint8_t { kNone, kTag, kType, kFirstSeen, kLastSeen, kValue, kOther };

Ctx column_kind(std::string_view name) {
  std::string k = lower_key(name);
  for (std::string_view t : {"category", "characterization", "description", "tier", "tags", "tag",
                             "role", "malware", "comment"}) {
    if (k == t) return Ctx::kTag;
  }
  if (k == "type" || k == "ioc type") return Ctx::kType;
  if (k == "first seen") return Ctx::kFirstSeen;
  if (k == "last seen") return Ctx::kLastSeen;
  for (std::string_view t :
       {"ioc", "indicator", "ip", "ip address", "address", "domain", "value"}) {
    if (k == t) return Ctx::kValue;
  }
  for (std::string_view t : {"timeframe", "active timeframe", "date", "port"}) {
    if (k == t) return Ctx::kOther;
  }
  return Ctx::kNone;
}

bool generic_type(std::string_view v) {
  std::string k = lower_key(v);
  for (std::string_view t :
       {"ip", "ipv4", "ipv6", "ip address", "domain", "hostname", "url", "cidr"}) {
    if (k == t) return true;
  }
  return false;
}

bool file_extension(std::string_view tld) {
  static constexpr std::string_view kExt[] = {
      "exe", "dll",  "sys", "php",  "sh",   "py",   "js",  "txt",  "log", "zip",  "rar",
      "gz",  "tar",  "tgz", "bz2",  "xz",   "7z",   "bin", "elf",  "so",  "jpg",  "png",
      "gif", "pdf",  "doc", "docx", "xls",  "xlsx", "htm", "html", "asp", "aspx", "jsp",
      "cgi", "json", "xml", "csv",  "conf", "cfg",  "ini", "tmp",  "dat", "db",   "bat",
      "ps1", "vbs",  "jar", "apk",  "msi",  "lnk",  "yar"};
  return std::find(std::begin(kExt), std::end(kExt), tld) != std::end(kExt);
}

// Cells: split at tabs (empty cells kept, so columns line up), then at runs of 2+ spaces.
std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t i = 0;
  while (true) {
    size_t tab = line.find('\t', i);
    std::string_view part = line.substr(i, tab == std::string_view::npos ? tab : tab - i);
    // Runs of 2+ spaces inside a tab cell separate columns too.
    size_t start = 0;
    bool any = false;
    for (size_t k = 0; k + 1 < part.size(); ++k) {
      if (part[k] == ' ' && part[k + 1] == ' ') {
        std::string_view c = trim(part.substr(start, k - start));
        if (!c.empty()) {
          cells.push_back(c);
          any = true;
        }
        while (k < part.size() && part[k] == ' ') ++k;
        start = k;
      }
    }
    std::string_view c = trim(part.substr(std::min(start, part.size())));
    if (!c.empty() || !any) cells.push_back(c);
    if (tab == std::string_view::npos) break;
    i = tab + 1;
  }
  return cells;
}

bool dotted_quad_like(std::string_view t) {
  int dots = 0;
  size_t i = 0;
  for (; i < t.size() && (is_digit(t[i]) || t[i] == '.'); ++i) dots += t[i] == '.';
  return dots == 3 && i > 0 && is_digit(t[0]) && (i == t.size() || t[i] == '/' || t[i] == ':');
}

class Extractor {
 public:
  Extractor(ParsedFeed& feed, IndicatorSink& sink) : feed_(feed), sink_(sink) {}

  // Adds every indicator in `cell`; returns how many were added.
  size_t cell(std::string_view raw, const Indicator& proto, std::vector<size_t>& added) {
    bool malformed = false;
    std::string text = refang(raw, &malformed);
    size_t before = added.size();
    size_t i = 0;
    auto delim = [](char c) {
      return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '"' || c == '\'' || c == '<' ||
             c == '>' || c == '(' || c == ')' || c == '{' || c == '}' || c == '|' || c == '=' ||
             c == '`';
    };
    while (i < text.size()) {
      while (i < text.size() && delim(text[i])) ++i;
      size_t start = i;
      while (i < text.size() && !delim(text[i])) ++i;
      std::string_view tok = std::string_view(text).substr(start, i - start);
      token(tok, proto, added);
    }
    if (malformed && added.size() > before) {
      feed_.warn(proto.line, at_line(proto.line) + quote(raw) +
                                 ": malformed defanging (half bracket around a dot) repaired");
    }
    return added.size() - before;
  }

 private:
  void token(std::string_view tok, const Indicator& proto, std::vector<size_t>& added) {
    while (!tok.empty() && std::string_view(".:!?*[]").find(tok.front()) != std::string_view::npos)
      tok.remove_prefix(1);
    while (!tok.empty() && std::string_view(".:!?*[]").find(tok.back()) != std::string_view::npos)
      tok.remove_suffix(1);
    if (tok.size() < 4 || tok.size() > 300) return;
    if (auto host = url_host(tok)) {
      tok = *host;
      if (tok.empty()) return;
    }
    std::vector<Prefix> prefixes;
    std::string why;
    bool host_bits = false;
    const size_t dash = tok.find('-');
    const bool range = dash != std::string_view::npos && dotted_quad_like(tok.substr(0, dash)) &&
                       dotted_quad_like(tok.substr(dash + 1));
    if (range || dotted_quad_like(tok)) {
      // "1.2.3.4:8080" -> the address; "1.2.3.4-1.2.3.9" -> the range's CIDRs.
      if (size_t colon = tok.find(':'); !range && colon != std::string_view::npos) {
        tok = tok.substr(0, colon);
      }
      if (!parse_address(tok, prefixes, why, &host_bits)) {
        feed_.error(proto.line, at_line(proto.line) + quote(tok) + ": " + why);
        return;
      }
    } else if (std::count(tok.begin(), tok.end(), ':') >= 2 &&
               std::all_of(tok.begin(), tok.end(),
                           [](char c) { return is_hex(c) || c == ':' || c == '.' || c == '/'; })) {
      if (!parse_address(tok, prefixes, why, &host_bits)) return;  // "07:20:07" and the like
    } else {
      domain(tok, proto, added);
      return;
    }
    if (host_bits) {
      feed_.warn(proto.line, at_line(proto.line) + quote(tok) + ": host bits set, normalised to " +
                                 prefixes.front().to_string());
    }
    for (const Prefix& p : prefixes) {
      Indicator ind = proto;
      ind.prefix = p;
      added.push_back(sink_.add(std::move(ind)));
    }
  }

  void domain(std::string_view tok, const Indicator& proto, std::vector<size_t>& added) {
    if (tok.find('@') != std::string_view::npos) return;
    // "evil.example/path" -> the host part; "wp-content/x.php" -> "wp-content", not a domain.
    tok = tok.substr(0, tok.find('/'));
    if (size_t colon = tok.find(':'); colon != std::string_view::npos) {
      std::string_view port = tok.substr(colon + 1);
      if (port.empty() || !std::all_of(port.begin(), port.end(), is_digit)) return;
      tok = tok.substr(0, colon);
    }
    if (tok.find('.') == std::string_view::npos) return;
    Indicator ind = proto;
    ind.kind = IndicatorKind::kDomain;
    std::string why;
    if (!normalize_domain(tok, ind.domain, why)) return;
    std::string_view tld = std::string_view(ind.domain).substr(ind.domain.rfind('.') + 1);
    if (file_extension(tld)) return;
    added.push_back(sink_.add(std::move(ind)));
  }

  ParsedFeed& feed_;
  IndicatorSink& sink_;
};

void add_tag(Indicator& ind, std::string_view v) {
  std::string t = clean_text(v, 64);
  if (t.empty() || ind.tags.size() >= 16) return;
  if (std::find(ind.tags.begin(), ind.tags.end(), t) == ind.tags.end()) ind.tags.push_back(t);
}

void set_date(int64_t& dst, std::string_view v) {
  if (auto ms = parse_feed_date_ms(v)) dst = *ms;  // "Present", free-text ranges: left unknown
}

// "First Seen: ...; Last Seen: ...; Description: C2" -> (key kind, value) pairs; empty when the
// line is not entirely of that form.
std::vector<std::pair<Ctx, std::string_view>> key_values(std::string_view line) {
  std::vector<std::pair<Ctx, std::string_view>> out;
  bool known = false;
  size_t i = 0;
  while (i <= line.size()) {
    size_t semi = line.find(';', i);
    if (semi == std::string_view::npos) semi = line.size();
    std::string_view part = trim(line.substr(i, semi - i));
    i = semi + 1;
    if (part.empty()) continue;
    size_t colon = part.find(':');
    if (colon > 40) return {};  // also no colon at all (npos)
    Ctx kind = column_kind(part.substr(0, colon));
    known = known || kind != Ctx::kNone;
    out.emplace_back(kind, trim(part.substr(colon + 1)));
  }
  if (!known) return {};
  return out;
}

}  // namespace

ParsedFeed parse_advisory(std::string_view text) {
  ParsedFeed feed;
  feed.format = FeedFormat::kAdvisory;
  IndicatorSink sink(feed);
  Extractor ex(feed, sink);
  std::vector<Ctx> header;      // the current table's columns; empty outside a table
  std::vector<size_t> pending;  // indicators of the previous line, for a "Key: value" line
  for_each_line(text, [&](uint32_t no, std::string_view line) {
    ++feed.lines;
    if (line.size() > kMaxLineBytes) {
      feed.error(no, at_line(no) + "line of " + std::to_string(line.size()) + " bytes exceeds " +
                         std::to_string(kMaxLineBytes) + ", skipped");
      pending.clear();
      return;
    }
    if (trim(line).empty()) {
      header.clear();
      pending.clear();
      return;
    }
    std::vector<std::string_view> cells = split_cells(line);
    Indicator proto;
    proto.line = no;
    std::vector<size_t> added;
    std::vector<bool> had(cells.size(), false);
    for (size_t c = 0; c < cells.size(); ++c) had[c] = ex.cell(cells[c], proto, added) > 0;
    if (added.empty()) {
      auto kv = key_values(trim(line));
      if (!kv.empty() && !pending.empty()) {
        for (size_t idx : pending) {
          Indicator& ind = feed.indicators[idx];
          for (const auto& [kind, v] : kv) {
            if (kind == Ctx::kTag || (kind == Ctx::kType && !generic_type(v))) add_tag(ind, v);
            if (kind == Ctx::kFirstSeen) set_date(ind.first_seen_ms, v);
            if (kind == Ctx::kLastSeen) set_date(ind.last_seen_ms, v);
          }
        }
        pending.clear();
        return;
      }
      pending.clear();
      if (cells.size() >= 2) {
        std::vector<Ctx> cols;
        int known = 0;
        for (auto c : cells) {
          cols.push_back(column_kind(c));
          known += cols.back() != Ctx::kNone;
        }
        if (known >= 2) header = std::move(cols);
      }
      return;
    }
    // Row context from the table header.
    for (size_t c = 0; c < cells.size() && c < header.size(); ++c) {
      if (had[c] || cells[c].empty()) continue;
      for (size_t idx : added) {
        Indicator& ind = feed.indicators[idx];
        switch (header[c]) {
          case Ctx::kTag:
            add_tag(ind, cells[c]);
            break;
          case Ctx::kType:
            if (!generic_type(cells[c])) add_tag(ind, cells[c]);
            break;
          case Ctx::kFirstSeen: {
            int64_t ms = 0;
            set_date(ms, cells[c]);
            if (ms && (!ind.first_seen_ms || ms < ind.first_seen_ms)) ind.first_seen_ms = ms;
            break;
          }
          case Ctx::kLastSeen: {
            int64_t ms = 0;
            set_date(ms, cells[c]);
            if (ms > ind.last_seen_ms) ind.last_seen_ms = ms;
            break;
          }
          default:
            break;
        }
      }
    }
    pending = std::move(added);
  });
  return feed;
}

}  // namespace orbwatch::intel
