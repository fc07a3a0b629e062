// The indicator model shared by every feed parser and the matcher: an address prefix or a domain
// that a feed says is bad, with where it came from, how sure the feed is and when it expires.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_addr.h"

namespace orbwatch::intel {

enum class IndicatorKind : uint8_t {
  kPrefix,  // an address (host prefix /32 or /128) or a CIDR
  kDomain,  // a domain name; matches itself and its subdomains
};

struct Indicator {
  IndicatorKind kind = IndicatorKind::kPrefix;
  Prefix prefix;                  // kPrefix: host bits zero
  std::string domain;             // kDomain: lower case, no trailing dot
  std::vector<std::string> tags;  // feed categories, advisory row context ("Tier 2"), labels
  uint8_t confidence = 0;         // 0..100; 0 = the feed did not say
  int64_t first_seen_ms = 0;      // 0 = unknown
  int64_t last_seen_ms = 0;
  int64_t valid_from_ms = 0;   // 0 = no start
  int64_t valid_until_ms = 0;  // 0 = the feed's TTL applies
  std::string ref;             // the feed's own id for it (SBL id, STIX id, MISP uuid)
  uint32_t line = 0;           // where it was read (1-based line, or record number)
};

// A problem found while reading a feed. Errors drop the line; warnings keep a normalised value
// (e.g. host bits set in a CIDR).
struct ParseIssue {
  enum class Level : uint8_t { kWarning, kError };
  Level level = Level::kError;
  uint32_t line = 0;
  std::string message;  // names what was expected: "line 12: '10.0.0.1/33': prefix length > 32"
};

// What a feed says about itself (FireHOL headers, DROP metadata records, MISP/STIX names).
struct FeedMeta {
  std::string name;
  std::string category;
  std::string description;
  int64_t generated_ms = 0;       // when the feed was produced, 0 = unknown
  int64_t declared_entries = -1;  // a count the feed states (Feodo "# END n entries"), -1 = none
};

enum class FeedFormat : uint8_t {
  kAuto,
  kPlain,     // one IP, CIDR, range or domain per line
  kDrop,      // Spamhaus DROP/EDROP/DROPv6 text: "CIDR ; SBL id"
  kDropJson,  // Spamhaus JSON lines with a trailing metadata record
  kFirehol,   // FireHOL .ipset / .netset with its # header
  kCsv,       // CSV with a header row (column mapping), incl. abuse.ch Feodo
  kStix,      // STIX 2.1 bundle or JSON lines
  kMisp,      // MISP event JSON or feed manifest
  kAdvisory,  // free text: every IP/CIDR/domain, row context kept as tags
};

const char* feed_format_name(FeedFormat f);
bool parse_feed_format(std::string_view name, FeedFormat& out);

struct ParsedFeed {
  FeedFormat format = FeedFormat::kAuto;  // what was parsed (after detection)
  FeedMeta meta;
  std::vector<Indicator> indicators;
  std::vector<ParseIssue> issues;  // the first kMaxIssues; the rest are only counted
  uint64_t lines = 0;              // lines or records read
  uint64_t bad = 0;                // dropped as errors
  uint64_t warnings = 0;
  static constexpr size_t kMaxIssues = 200;
  // Records understood but not representable as indicators (ASN-DROP autonomous systems, STIX
  // patterns over file hashes); each is also reported as a warning. Added by the text parsers.
  uint64_t skipped = 0;

  void warn(uint32_t line, std::string message) {
    add(ParseIssue::Level::kWarning, line, std::move(message));
  }
  void error(uint32_t line, std::string message) {
    add(ParseIssue::Level::kError, line, std::move(message));
  }

 private:
  void add(ParseIssue::Level level, uint32_t line, std::string message) {
    (level == ParseIssue::Level::kError ? bad : warnings) += 1;
    if (issues.size() < kMaxIssues) issues.push_back({level, line, std::move(message)});
  }
};

}  // namespace orbwatch::intel
