// STIX 2.1 (OASIS, 2021) indicators as address and domain indicators. Section numbers below are
// from STIX 2.1: 4.7 indicator, 9 patterning, 8 bundle; TAXII 2.1 5.1 the envelope.
#include <algorithm>
#include <map>
#include <string>

#include "core/time.h"
#include "intel/json_feeds.h"
#include "intel/json_support.h"
#include "intel/stix_pattern.h"

namespace orbwatch::intel {

namespace {

namespace dom = simdjson::dom;
using json::Field;

// Where a STIX object was read: its JSON line, or its index in a bundle's "objects".
struct Place {
  uint32_t n = 0;
  bool jsonl = false;
  std::string text() const { return (jsonl ? "line " : "object ") + std::to_string(n); }
};

class StixReader {
 public:
  explicit StixReader(ParsedFeed& feed) : feed_(feed) {}

  void object(dom::element el, Place at) {
    ++feed_.lines;
    dom::object obj;
    if (el.get_object().get(obj) != simdjson::SUCCESS) {
      error(at, "expected a STIX object, got " + std::string(json::type_name(el.type())));
      return;
    }
    std::string why;
    std::string_view type;
    Field f = json::get_string(obj, "type", type, why);
    if (f != Field::kOk) {
      error(at, f == Field::kMissing ? "object without 'type'" : why);
      return;
    }
    ++types_[std::string(type.substr(0, 64))];
    if (type == "indicator") indicator(obj, at);
    // A bundle on one JSON line (some exporters write one bundle per line): its objects share
    // the line number. Recursion is bounded by the JSON depth limit.
    dom::array inner;
    if (type == "bundle" && json::get_array(obj, "objects", inner, why) == Field::kOk) {
      for (dom::element e : inner) object(e, at);
    }
    // relationship, malware, campaign, identity, marking-definition, ...: counted, not errors.
  }

  void error(Place at, const std::string& message) {
    feed_.error(at.n, at.text() + ": " + message);
  }

  // "STIX: 370 objects (247 relationship, 104 indicator, ...)" for FeedMeta::description.
  std::string summary() const {
    std::vector<std::pair<std::string, uint64_t>> v(types_.begin(), types_.end());
    std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
    std::string s = "STIX: " + std::to_string(feed_.lines) + " objects";
    for (size_t i = 0; i < v.size() && i < 12; ++i) {
      s += (i == 0 ? " (" : ", ") + std::to_string(v[i].second) + " " + v[i].first;
    }
    if (!v.empty()) s += v.size() > 12 ? ", ...)" : ")";
    return s;
  }

 private:
  void skip(Place at, std::string_view id, const std::string& reason) {
    ++feed_.skipped;
    feed_.warn(at.n, at.text() + " (" + json::quote(id) + "): skipped: " + reason);
  }

  // A timestamp field; false (with an error) when present but not RFC 3339.
  bool timestamp(dom::object obj, std::string_view key, int64_t& ms, Place at, bool required_ok) {
    std::string why;
    std::string_view text;
    Field f = json::get_string(obj, key, text, why);
    if (f == Field::kMissing) return true;
    std::optional<int64_t> v;
    if (f == Field::kOk) v = parse_rfc3339_ms(text);
    if (!v) {
      std::string m = f == Field::kWrongType
                          ? why
                          : "'" + std::string(key) + "': not an RFC 3339 timestamp: '" +
                                json::quote(text) + "'";
      if (required_ok) {
        error(at, m);
        return false;
      }
      feed_.warn(at.n, at.text() + ": " + m + " (ignored)");
      return true;
    }
    ms = *v;
    return true;
  }

  void tags_from(dom::object obj, std::string_view key, std::vector<std::string>& tags, Place at) {
    std::string why;
    dom::array arr;
    Field f = json::get_array(obj, key, arr, why);
    if (f == Field::kWrongType) feed_.warn(at.n, at.text() + ": " + why + " (ignored)");
    if (f != Field::kOk) return;
    for (dom::element e : arr) {
      std::string_view s;
      if (e.get_string().get(s) == simdjson::SUCCESS) {
        json::add_tag(tags, s);
      } else {
        feed_.warn(at.n, at.text() + ": '" + std::string(key) + "' holds a " +
                             json::type_name(e.type()) + ", not a string (ignored)");
      }
    }
  }

  void indicator(dom::object obj, Place at) {
    std::string why;
    std::string_view id, pattern, pattern_type = "stix";
    if (json::get_string(obj, "id", id, why) == Field::kWrongType) {
      error(at, why);
      return;
    }
    Field f = json::get_string(obj, "pattern", pattern, why);
    if (f != Field::kOk) {
      error(at, f == Field::kMissing ? "indicator without 'pattern'" : why);
      return;
    }
    // pattern_type is required in 2.1; STIX 2.0 indicators had none and meant "stix".
    if (json::get_string(obj, "pattern_type", pattern_type, why) == Field::kWrongType) {
      error(at, why);
      return;
    }
    bool revoked = false;
    if (json::get_bool(obj, "revoked", revoked, why) == Field::kWrongType) {
      error(at, why);
      return;
    }
    if (revoked) {
      skip(at, id, "revoked");
      return;
    }
    if (pattern_type != "stix") {
      skip(at, id, "pattern_type '" + json::quote(pattern_type) + "' (only 'stix' is read)");
      return;
    }

    Indicator base;
    base.ref = std::string(id);
    base.line = at.n;
    if (!timestamp(obj, "valid_from", base.valid_from_ms, at, true) ||
        !timestamp(obj, "valid_until", base.valid_until_ms, at, true)) {
      return;
    }
    if (base.valid_until_ms != 0 && base.valid_until_ms <= base.valid_from_ms) {
      error(at, "'valid_until' is not later than 'valid_from' (STIX 2.1 4.7)");
      return;
    }
    // STIX indicators carry no first/last seen (those are on sightings); created and modified
    // are the producer's first and latest statement about it, the closest it says.
    timestamp(obj, "created", base.first_seen_ms, at, false);
    timestamp(obj, "modified", base.last_seen_ms, at, false);

    int64_t confidence = 0;
    Field cf = json::get_int(obj, "confidence", confidence, why);
    if (cf == Field::kWrongType) {
      feed_.warn(at.n, at.text() + ": " + why + " (ignored)");
    } else if (cf == Field::kOk && (confidence < 0 || confidence > 100)) {
      feed_.warn(at.n, at.text() + ": 'confidence' " + std::to_string(confidence) +
                           " is outside 0..100 (ignored)");
    } else if (cf == Field::kOk) {
      base.confidence = static_cast<uint8_t>(confidence);
    }
    tags_from(obj, "labels", base.tags, at);
    tags_from(obj, "indicator_types", base.tags, at);
    std::string_view name;
    bool has_name = json::get_string(obj, "name", name, why) == Field::kOk;

    StixPattern p = parse_stix_pattern(pattern);
    if (p.status == StixPattern::Status::kSyntax) {
      error(at, "pattern syntax: " + p.reason + " in '" + json::quote(pattern) + "'");
      return;
    }
    if (p.status == StixPattern::Status::kUnsupported) {
      skip(at, id, "pattern cannot be represented: " + p.reason);
      return;
    }
    for (const auto& r : p.skipped) {
      feed_.warn(at.n, at.text() + " (" + json::quote(id) +
                           "): OR-ed comparison cannot be represented, not read: " + r);
    }
    for (const auto& c : p.comparisons) {
      Indicator ind = base;
      if (!value(c, ind, at)) continue;
      // Producers often name an indicator after its value; a different name is context.
      std::string_view shown = ind.kind == IndicatorKind::kDomain ? std::string_view(ind.domain)
                                                                  : std::string_view(c.value);
      if (has_name && name != shown) json::add_tag(ind.tags, name);
      feed_.indicators.push_back(std::move(ind));
    }
  }

  bool value(const StixComparison& c, Indicator& ind, Place at) {
    const char* path = stix_object_path_name(c.path);
    std::string why;
    bool host_bits = false;
    if (c.path == StixObjectPath::kDomainValue) {
      auto d = json::normalize_domain(c.value, why);
      if (!d) {
        error(at, std::string(path) + ": " + why);
        return false;
      }
      ind.kind = IndicatorKind::kDomain;
      ind.domain = std::move(*d);
      return true;
    }
    auto p = json::parse_prefix(c.value, host_bits);
    bool v4 = p && p->addr.is_v4() && p->len >= 96;
    if (p && ((c.path == StixObjectPath::kIpv4Value && !v4) ||
              (c.path == StixObjectPath::kIpv6Value && v4))) {
      error(at, std::string(path) + ": '" + json::quote(c.value) + "' is an IPv" +
                    (v4 ? "4" : "6") + " value");
      return false;
    }
    if (!p && (c.path == StixObjectPath::kTrafficDstRefValue ||
               c.path == StixObjectPath::kTrafficSrcRefValue)) {
      // dst_ref/src_ref may point at a domain-name object (STIX 2.1 6.12).
      auto d = json::normalize_domain(c.value, why);
      if (d) {
        ind.kind = IndicatorKind::kDomain;
        ind.domain = std::move(*d);
        return true;
      }
    }
    if (!p) {
      error(at, std::string(path) + ": '" + json::quote(c.value) + "' is not an address or CIDR");
      return false;
    }
    if (host_bits) {
      feed_.warn(at.n, at.text() + ": " + path + ": '" + json::quote(c.value) +
                           "' has host bits set; read as " + p->to_string());
    }
    ind.kind = IndicatorKind::kPrefix;
    ind.prefix = *p;
    return true;
  }

  ParsedFeed& feed_;
  std::map<std::string, uint64_t> types_;
};

// The first non-blank line holds a complete JSON object and more text follows: JSON lines. A
// pretty-printed bundle starts with a line that is not a complete document.
bool looks_like_json_lines(std::string_view text, json::DomReader& reader) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || text[start] != '{') return false;
  size_t end = text.find('\n', start);
  if (end == std::string_view::npos) return false;
  if (text.find_first_not_of(" \t\r\n", end) == std::string_view::npos) return false;
  dom::element root;
  return reader.parse(text.substr(start, end - start), root) == simdjson::SUCCESS &&
         root.is<dom::object>();
}

}  // namespace

ParsedFeed parse_stix(std::string_view text) {
  ParsedFeed feed;
  feed.format = FeedFormat::kStix;
  json::DomReader reader;
  StixReader stix(feed);
  if (looks_like_json_lines(text, reader)) {
    uint32_t line = 0;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view l = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      if (line < UINT32_MAX) ++line;
      if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      dom::element root;
      if (auto e = reader.parse(l, root); e != simdjson::SUCCESS) {
        ++feed.lines;
        stix.error({line, true}, json::describe_error(e, l.size()));
        continue;
      }
      stix.object(root, {line, true});
    }
    feed.meta.description = stix.summary();
    return feed;
  }

  dom::element root;
  if (auto e = reader.parse(text, root); e != simdjson::SUCCESS) {
    feed.error(0, "document: " + json::describe_error(e, text.size()));
    return feed;
  }
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    feed.error(0, std::string("document: expected a STIX bundle, TAXII envelope or object, got ") +
                      json::type_name(root.type()));
    return feed;
  }
  std::string why;
  dom::array objects;
  Field f = json::get_array(obj, "objects", objects, why);
  if (f == Field::kWrongType) {
    feed.error(0, "document: " + why);
    return feed;
  }
  if (f == Field::kMissing) {
    std::string_view type;
    if (json::get_string(obj, "type", type, why) == Field::kOk && type != "bundle") {
      stix.object(root, {1, false});  // a single STIX object
    } else if (type != "bundle") {
      // TAXII envelopes without "objects" are empty pages (TAXII 2.1 5.1); anything else is not
      // STIX.
      bool envelope = obj.at_key("more").error() == simdjson::SUCCESS;
      if (!envelope) feed.error(0, "document: not a STIX bundle, TAXII envelope or object");
    }
  } else {
    std::string_view id;
    if (json::get_string(obj, "id", id, why) == Field::kOk) feed.meta.name = std::string(id);
    uint32_t index = 0;
    for (dom::element el : objects) {
      if (index < UINT32_MAX) ++index;
      stix.object(el, {index, false});
    }
  }
  feed.meta.description = stix.summary();
  return feed;
}

}  // namespace orbwatch::intel
