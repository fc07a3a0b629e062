// STIX 2.1 and MISP feed parsers (JSON). Pure functions of the text: no I/O, no globals, no
// exceptions escape. Hostile input (nesting bombs, wrong types, invalid UTF-8, huge inputs) yields
// ParseIssue errors naming the place, never a crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "intel/indicator.h"

namespace orbwatch::intel {

// STIX 2.1: a bundle ({"type":"bundle","objects":[...]}), a TAXII 2.1 envelope
// ({"more":..,"next":..,"objects":[...]}), a single object, or JSON lines (one object per line).
// Indicator::line is the 1-based line for JSON lines and the 1-based index in "objects" otherwise.
ParsedFeed parse_stix(std::string_view text);

// MISP: an event ({"Event":{...}}, or a bare event object) or a feed manifest (object keyed by
// event uuid, or a list of events). A manifest yields FeedMeta and no indicators.
ParsedFeed parse_misp(std::string_view text);

// The event uuids a MISP feed manifest lists (both shapes), in document order; empty when the text
// is not a manifest.
std::vector<std::string> misp_manifest_events(std::string_view text);

}  // namespace orbwatch::intel
