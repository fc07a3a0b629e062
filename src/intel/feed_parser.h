// The text feed parsers (plain lists, Spamhaus DROP text and JSON lines, FireHOL ipset/netset,
// CSV incl. abuse.ch Feodo and Sekoia, free-text advisories) and the dispatcher that detects a
// feed's format. Every parser is a pure function of the text: no I/O, no globals, no exceptions.
//
// Common rules:
// - Lines end in "\n" or "\r\n"; a UTF-8 BOM is ignored; lines over kMaxLineBytes are reported
//   and skipped. Indicator::line is the 1-based line.
// - Errors drop the line or value, warnings keep a normalised value; every message names the
//   line and the problem ("line 12: '10.0.0.1/33': prefix length 33 > 32").
// - A CIDR with host bits set is masked, with a warning. A range "a-b" becomes the minimal CIDR
// set.
// - Identical values within one feed are kept once: later duplicates are merged into the first
//   (tags united, first/last seen widened) with a warning naming both lines.
// - Records that are understood but cannot be represented (Spamhaus ASN-DROP autonomous systems,
//   STIX patterns over file hashes) are counted in ParsedFeed::skipped and reported as warnings.
#pragma once

#include <string_view>

#include "intel/indicator.h"

namespace orbwatch::intel {

// One IP, CIDR, range or domain per line (URLs: the host is kept, as a domain or an address).
// Comments "#", ";", "//", whole-line or inline after whitespace; defanged forms accepted.
ParsedFeed parse_plain(std::string_view text);

// Spamhaus DROP / EDROP / DROPv6 text: "CIDR ; SBLnnn" (ref = SBL id), ";" comment header.
ParsedFeed parse_drop(std::string_view text);

// Spamhaus JSON lines: {"cidr":..,"sblid":..,"rir":..} per line and a trailing
// {"type":"metadata","timestamp":..,"records":..} record (-> generated_ms, declared_entries).
// ASN-DROP records {"asn":..} are counted as skipped (the model has no ASN kind).
ParsedFeed parse_drop_json(std::string_view text);

// FireHOL .ipset / .netset: "#" header (name, "Category", "Source File Date", "Maintainer",
// "Entries") into FeedMeta; the category becomes each indicator's tag.
ParsedFeed parse_firehol(std::string_view text);

// CSV with a header row; columns mapped by name (case-insensitive), see feed_csv.cc. Handles
// abuse.ch Feodo (comment banner, "# END n entries" trailer -> declared_entries) and Sekoia
// (STIX patterns in a "pattern" column).
ParsedFeed parse_csv(std::string_view text);

// Free text (threat advisories): every IP / CIDR / range / domain / URL host; table row context
// (category, characterization, description, type) kept as tags, first/last seen as dates.
ParsedFeed parse_advisory(std::string_view text);

// The format of a feed, from its content first and its file name's extension second. kAuto when
// neither says (callers report "cannot detect format").
FeedFormat detect_feed_format(std::string_view text, std::string_view filename);

// Parses `text` as `fmt` (kAuto: detected). STIX and MISP go to parse_stix / parse_misp
// (json_feeds.h). ParsedFeed::format is the format actually parsed.
ParsedFeed parse_feed(std::string_view text, FeedFormat fmt, std::string_view filename = {});

}  // namespace orbwatch::intel
