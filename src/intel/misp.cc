// MISP events (the MISP core format, draft-dulaunoy-misp-core-format) and MISP feed manifests.
#include <charconv>
#include <string>

#include "core/time.h"
#include "intel/json_feeds.h"
#include "intel/json_support.h"

namespace orbwatch::intel {

namespace {

namespace dom = simdjson::dom;
using json::Field;

// MISP writes Unix seconds as strings ("1617181920"); some producers write numbers.
bool unix_seconds(dom::object obj, std::string_view key, int64_t& ms) {
  dom::element el;
  if (obj.at_key(key).get(el) != simdjson::SUCCESS) return false;
  int64_t s = 0;
  std::string_view text;
  if (el.get_int64().get(s) != simdjson::SUCCESS) {
    if (el.get_string().get(text) != simdjson::SUCCESS) return false;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
    if (ec != std::errc() || p != text.data() + text.size()) return false;
  }
  if (s <= 0 || s > 253402300799) return false;  // after 9999-12-31
  ms = s * 1000;
  return true;
}

// "attribute 7": attributes are numbered 1.. in document order (the event's own, then each
// object's), across all events of the document.
class MispReader {
 public:
  explicit MispReader(ParsedFeed& feed) : feed_(feed) {}

  void event(dom::object ev) {
    std::string why;
    std::string_view info;
    if (json::get_string(ev, "info", info, why) == Field::kOk && feed_.meta.name.empty()) {
      feed_.meta.name = std::string(info);
    }
    int64_t ts = 0;
    if (unix_seconds(ev, "publish_timestamp", ts) || unix_seconds(ev, "timestamp", ts)) {
      feed_.meta.generated_ms = std::max(feed_.meta.generated_ms, ts);
    }
    std::vector<std::string> tags;
    tag_names(ev, tags);
    dom::array attrs;
    Field f = json::get_array(ev, "Attribute", attrs, why);
    if (f == Field::kWrongType) feed_.error(next_ + 1, "event: " + why);
    if (f == Field::kOk) {
      for (dom::element a : attrs) attribute(a, tags, "");
    }
    dom::array objects;
    f = json::get_array(ev, "Object", objects, why);
    if (f == Field::kWrongType) feed_.error(next_ + 1, "event: " + why);
    if (f != Field::kOk) return;
    size_t oi = 0;
    for (dom::element o : objects) {
      ++oi;
      dom::object obj;
      if (o.get_object().get(obj) != simdjson::SUCCESS) {
        feed_.error(next_ + 1, "Object " + std::to_string(oi) + ": expected an object, got " +
                                   json::type_name(o.type()));
        continue;
      }
      std::string_view oname;
      json::get_string(obj, "name", oname, why);
      std::string where = " (object " + std::to_string(oi) + " '" + json::quote(oname) + "')";
      f = json::get_array(obj, "Attribute", attrs, why);
      if (f == Field::kWrongType)
        feed_.error(next_ + 1, "Object " + std::to_string(oi) + ": " + why);
      if (f != Field::kOk) continue;
      for (dom::element a : attrs) attribute(a, tags, where);
    }
  }

  void finish() {
    if (no_ids_ > 0) {
      feed_.warn(0, std::to_string(no_ids_) +
                        " attribute(s) with to_ids=false skipped (not meant for detection)");
    }
  }

 private:
  // Tag[].name, appended to `tags`.
  void tag_names(dom::object obj, std::vector<std::string>& tags) {
    std::string why;
    dom::array arr;
    if (json::get_array(obj, "Tag", arr, why) != Field::kOk) return;
    for (dom::element t : arr) {
      dom::object tobj;
      std::string_view name;
      if (t.get_object().get(tobj) == simdjson::SUCCESS &&
          json::get_string(tobj, "name", name, why) == Field::kOk) {
        json::add_tag(tags, name);
      }
    }
  }

  void attribute(dom::element el, const std::vector<std::string>& event_tags,
                 const std::string& where) {
    ++feed_.lines;
    if (next_ < UINT32_MAX) ++next_;
    uint32_t n = next_;
    std::string at = "attribute " + std::to_string(n) + where;
    dom::object a;
    if (el.get_object().get(a) != simdjson::SUCCESS) {
      feed_.error(n, at + ": expected an object, got " + json::type_name(el.type()));
      return;
    }
    std::string why;
    std::string_view type, value, uuid;
    Field f = json::get_string(a, "type", type, why);
    if (f == Field::kOk) f = json::get_string(a, "value", value, why);
    if (f != Field::kOk) {
      feed_.error(n, at + ": " + (f == Field::kMissing ? "needs 'type' and 'value'" : why));
      return;
    }
    if (json::get_string(a, "uuid", uuid, why) == Field::kWrongType) {
      feed_.error(n, at + ": " + why);
      return;
    }
    bool flag = false;
    if (json::get_bool(a, "deleted", flag, why) == Field::kOk && flag) {
      skip(n, at + ": deleted");
      return;
    }
    // to_ids: MISP's "use for detection" flag. Missing means the producer did not opt out.
    bool to_ids = true;
    if (json::get_bool(a, "to_ids", to_ids, why) == Field::kWrongType) {
      feed_.error(n, at + ": " + why);
      return;
    }

    // Composite types split on '|' (MISP core format 2.3): ip-dst|port, domain|ip, ...
    std::string_view first = value, second;
    bool composite = type.find('|') != std::string_view::npos;
    if (composite) {
      size_t bar = value.find('|');
      if (bar == std::string_view::npos) {
        feed_.error(
            n, at + ": " + std::string(type) + " value '" + json::quote(value) + "' has no '|'");
        return;
      }
      first = value.substr(0, bar);
      second = value.substr(bar + 1);
    }
    // Which parts are addresses (A) or domains (D).
    char k1 = 0, k2 = 0;
    if (type == "ip-src" || type == "ip-dst" || type == "ip-src|port" || type == "ip-dst|port") {
      k1 = 'A';
    } else if (type == "domain" || type == "hostname" || type == "hostname|port") {
      k1 = 'D';
    } else if (type == "domain|ip") {
      k1 = 'D';
      k2 = 'A';
    } else {
      skip(n, at + ": type '" + json::quote(type) + "' is not an address or domain");
      return;
    }
    if (!to_ids) {
      ++feed_.skipped;
      ++no_ids_;
      return;
    }

    Indicator base;
    base.ref = std::string(uuid);
    base.line = n;
    base.tags = event_tags;
    tag_names(a, base.tags);
    int64_t ts = 0;
    if (unix_seconds(a, "timestamp", ts)) base.last_seen_ms = ts;
    // first_seen / last_seen (MISP >= 2.4.120) are ISO 8601 and override the edit timestamp.
    for (auto [key, dst] : {std::pair{"first_seen", &base.first_seen_ms},
                            std::pair{"last_seen", &base.last_seen_ms}}) {
      std::string_view text;
      if (json::get_string(a, key, text, why) != Field::kOk) continue;
      if (auto v = parse_rfc3339_ms(text)) {
        *dst = *v;
      } else {
        feed_.warn(n, at + ": '" + key + "' is not an ISO 8601 timestamp: '" + json::quote(text) +
                          "' (ignored)");
      }
    }
    add(base, k1, first, n, at, type);
    if (k2 != 0) add(base, k2, second, n, at, type);
  }

  void add(const Indicator& base, char kind, std::string_view text, uint32_t n,
           const std::string& at, std::string_view type) {
    Indicator ind = base;
    std::string why;
    if (kind == 'D') {
      auto d = json::normalize_domain(text, why);
      if (!d) {
        feed_.error(n, at + ": " + std::string(type) + ": " + why);
        return;
      }
      ind.kind = IndicatorKind::kDomain;
      ind.domain = std::move(*d);
    } else {
      bool host_bits = false;
      auto p = json::parse_prefix(text, host_bits);
      if (!p) {
        feed_.error(n, at + ": " + std::string(type) + ": '" + json::quote(text) +
                           "' is not an address or CIDR");
        return;
      }
      if (host_bits) {
        feed_.warn(
            n, at + ": '" + json::quote(text) + "' has host bits set; read as " + p->to_string());
      }
      ind.kind = IndicatorKind::kPrefix;
      ind.prefix = *p;
    }
    feed_.indicators.push_back(std::move(ind));
  }

  void skip(uint32_t n, const std::string& message) {
    ++feed_.skipped;
    feed_.warn(n, message + ": skipped");
  }

  ParsedFeed& feed_;
  uint32_t next_ = 0;
  uint64_t no_ids_ = 0;
};

enum class Shape : uint8_t { kEvent, kEventList, kManifestObject, kManifestList, kUnknown };

// {"Event": {...}}, a bare event (has "Attribute" or "Object"), [{"Event": ...}, ...] (MISP's
// REST search output), {"<uuid>": {"info": ...}, ...} (the MISP feed manifest.json), or
// [{"uuid": ..., "info": ...}, ...] (manifests some publishers write as a list).
Shape shape_of(dom::element root) {
  dom::object obj;
  dom::array arr;
  if (root.get_object().get(obj) == simdjson::SUCCESS) {
    if (obj.at_key("Event").error() == simdjson::SUCCESS) return Shape::kEvent;
    if (obj.at_key("Attribute").error() == simdjson::SUCCESS ||
        obj.at_key("Object").error() == simdjson::SUCCESS) {
      return Shape::kEvent;
    }
    for (auto field : obj) {  // every value an object: a manifest (empty is an empty manifest)
      if (!field.value.is<dom::object>()) return Shape::kUnknown;
    }
    return Shape::kManifestObject;
  }
  if (root.get_array().get(arr) == simdjson::SUCCESS) {
    dom::element first;
    if (arr.at(0).get(first) != simdjson::SUCCESS) return Shape::kManifestList;
    dom::object fo;
    if (first.get_object().get(fo) == simdjson::SUCCESS &&
        fo.at_key("Event").error() == simdjson::SUCCESS) {
      return Shape::kEventList;
    }
    return Shape::kManifestList;
  }
  return Shape::kUnknown;
}

// Walks a manifest; calls f(index, uuid, entry) per listed event, reporting bad entries to feed.
template <class F>
void walk_manifest(dom::element root, Shape shape, ParsedFeed& feed, F&& f) {
  std::string why;
  uint32_t i = 0;
  if (shape == Shape::kManifestObject) {
    dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) return;
    for (auto field : obj) {
      if (i < UINT32_MAX) ++i;
      dom::object entry;
      if (field.value.get_object().get(entry) != simdjson::SUCCESS) continue;  // see shape_of
      f(i, field.key, entry);
    }
    return;
  }
  dom::array arr;
  if (root.get_array().get(arr) != simdjson::SUCCESS) return;
  for (dom::element el : arr) {
    if (i < UINT32_MAX) ++i;
    dom::object entry;
    std::string_view uuid;
    if (el.get_object().get(entry) != simdjson::SUCCESS) {
      feed.error(i, "manifest entry " + std::to_string(i) + ": expected an object, got " +
                        json::type_name(el.type()));
      continue;
    }
    Field uf = json::get_string(entry, "uuid", uuid, why);
    if (uf != Field::kOk) {
      feed.error(i, "manifest entry " + std::to_string(i) + ": " +
                        (uf == Field::kMissing ? "no 'uuid'" : why));
      continue;
    }
    f(i, uuid, entry);
  }
}

bool parse_document(std::string_view text, json::DomReader& reader, dom::element& root,
                    ParsedFeed& feed) {
  if (auto e = reader.parse(text, root); e != simdjson::SUCCESS) {
    feed.error(0, "document: " + json::describe_error(e, text.size()));
    return false;
  }
  return true;
}

}  // namespace

ParsedFeed parse_misp(std::string_view text) {
  ParsedFeed feed;
  feed.format = FeedFormat::kMisp;
  json::DomReader reader;
  dom::element root;
  if (!parse_document(text, reader, root, feed)) return feed;
  Shape shape = shape_of(root);
  MispReader misp(feed);
  std::string why;
  switch (shape) {
    case Shape::kEvent: {
      dom::object obj, ev;
      if (root.get_object().get(obj) != simdjson::SUCCESS) break;
      Field f = json::get_object(obj, "Event", ev, why);
      if (f == Field::kWrongType) {
        feed.error(0, "document: " + why);
        break;
      }
      misp.event(f == Field::kOk ? ev : obj);
      break;
    }
    case Shape::kEventList: {
      dom::array arr;
      if (root.get_array().get(arr) != simdjson::SUCCESS) break;
      size_t i = 0;
      for (dom::element el : arr) {
        ++i;
        dom::object obj, ev;
        if (el.get_object().get(obj) != simdjson::SUCCESS ||
            json::get_object(obj, "Event", ev, why) != Field::kOk) {
          feed.error(0, "event " + std::to_string(i) + ": expected {\"Event\": {...}}");
          continue;
        }
        misp.event(ev);
      }
      break;
    }
    case Shape::kManifestObject:
    case Shape::kManifestList: {
      int64_t events = 0;
      walk_manifest(root, shape, feed, [&](uint32_t, std::string_view, dom::object entry) {
        ++events;
        int64_t ts = 0;
        if (unix_seconds(entry, "timestamp", ts)) {
          feed.meta.generated_ms = std::max(feed.meta.generated_ms, ts);
        }
      });
      feed.lines = static_cast<uint64_t>(events);
      feed.meta.declared_entries = events;
      feed.meta.description = "MISP feed manifest listing " + std::to_string(events) +
                              " event(s) (" +
                              (shape == Shape::kManifestObject ? "keyed by uuid" : "a list") +
                              "); the events are separate files";
      break;
    }
    case Shape::kUnknown:
      feed.error(0, std::string("document: not a MISP event or feed manifest (a ") +
                        json::type_name(root.type()) + ")");
      break;
  }
  misp.finish();
  return feed;
}

std::vector<std::string> misp_manifest_events(std::string_view text) {
  std::vector<std::string> out;
  ParsedFeed scratch;
  json::DomReader reader;
  dom::element root;
  if (!parse_document(text, reader, root, scratch)) return out;
  Shape shape = shape_of(root);
  if (shape != Shape::kManifestObject && shape != Shape::kManifestList) return out;
  walk_manifest(root, shape, scratch,
                [&](uint32_t, std::string_view uuid, dom::object) { out.emplace_back(uuid); });
  return out;
}

}  // namespace orbwatch::intel
