// A TAXII feed is polled incrementally (only objects added since the last poll), so the feed
// manager keeps the indicators of earlier polls and ages each out on its own: an indicator
// without valid_until gets one at arrival + TTL. The accumulated set is cached as STIX 2.1 JSON
// lines, which parse_stix reads back.
#pragma once

#include <cstdint>
#include <string>

#include "intel/indicator.h"

namespace orbwatch::intel {

// More than this many accumulated indicators: those expiring first are dropped.
inline constexpr size_t kMaxTaxiiIndicators = 1'000'000;

// previous + poll, without indicators expired at now_ms; an indicator the poll sends again
// (same value) replaces the earlier one. Counts and issues are the poll's.
ParsedFeed accumulate_taxii(const ParsedFeed& previous, ParsedFeed poll, int64_t now_ms,
                            int64_t ttl_ms);

// One STIX indicator object per line: id (Indicator::ref), pattern, valid_from/valid_until,
// created/modified (first/last seen), confidence, labels (tags).
std::string to_stix_lines(const ParsedFeed& feed);

}  // namespace orbwatch::intel
