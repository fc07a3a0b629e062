#include "server/share.h"

#include <algorithm>

#include <fmt/core.h>

#include "core/json.h"
#include "core/time.h"

namespace orbwatch::server {

namespace {

// A host prefix as its address alone; others as CIDR.
std::string entry_text(const Prefix& p) {
  return p.len == 128 ? p.addr.to_string() : p.to_string();
}

// A stable UUID (version 4 layout) from what it names, so a re-export keeps its ids.
std::string stable_uuid(std::string_view name) {
  auto mix = [](uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
  };
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  for (unsigned char c : name) {
    a = (a ^ c) * 0x100000001b3ull;
    b = (b + c) * 0x9E3779B97F4A7C15ull;
  }
  a = mix(a);
  b = mix(b ^ a);
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffull);
}

std::string stix_time(int64_t ms) {
  return rfc3339_ms(ms);
}

std::string describe(const Confirmed& c) {
  std::string detectors;
  for (const auto& d : c.detectors) detectors += (detectors.empty() ? "" : ", ") + d;
  if (c.role == "c2") {
    std::string feeds;
    for (const auto& f : c.feeds) feeds += (feeds.empty() ? "" : ", ") + f;
    return fmt::format(
        "Listed address ({}) that internal hosts exchanged traffic with; seen by "
        "orbwatch's {} detector(s) in {} alert(s)",
        feeds.empty() ? "threat feed" : feeds, detectors, c.sightings);
  }
  return fmt::format(
      "Covert-network node: took part in activity found by orbwatch's {} "
      "detector(s) in {} alert(s)",
      detectors, c.sightings);
}

std::string identity_id(const StixOptions& o) {
  return "identity--" + stable_uuid("identity:" + o.identity_name);
}

void append_objects(std::string& out, const std::vector<Confirmed>& confirmed,
                    const StixOptions& o) {
  const std::string created = stix_time(o.created_ms);
  const std::string identity = identity_id(o);
  out += "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"" + identity +
         "\",\"created\":\"" + created + "\",\"modified\":\"" + created + "\",\"name\":";
  json::append_string(out, o.identity_name);
  out += ",\"identity_class\":\"system\"}";
  for (const Confirmed& c : confirmed) {
    const std::string addr = c.addr.to_string();
    const std::string indicator = "indicator--" + stable_uuid("indicator:" + addr);
    const int64_t until = std::max(c.last_seen_ms + kConfirmedTtlMs, c.first_seen_ms + 1000);
    out += ",{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" + indicator +
           "\",\"created_by_ref\":\"" + identity + "\",\"created\":\"" + created +
           "\",\"modified\":\"" + created + "\",\"name\":";
    json::append_string(out,
                        (c.role == "c2" ? "C2 / listed address " : "Covert-network node ") + addr);
    out += ",\"description\":";
    json::append_string(out, describe(c));
    out += ",\"indicator_types\":[\"malicious-activity\"],\"pattern\":";
    json::append_string(
        out, fmt::format("[{}:value = '{}']", c.addr.is_v4() ? "ipv4-addr" : "ipv6-addr", addr));
    out += ",\"pattern_type\":\"stix\",\"valid_from\":\"" + stix_time(c.first_seen_ms) +
           "\",\"valid_until\":\"" + stix_time(until) + "\",\"labels\":[";
    json::append_string(out, c.role);
    for (const auto& d : c.detectors) {
      out += ',';
      json::append_string(out, d);
    }
    out += "]}";
    out += ",{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--" +
           stable_uuid("sighting:" + addr) + "\",\"created_by_ref\":\"" + identity +
           "\",\"created\":\"" + created + "\",\"modified\":\"" + created +
           "\",\"sighting_of_ref\":\"" + indicator +
           "\",\"count\":" + std::to_string(std::min<uint64_t>(c.sightings, 999'999'999)) +
           ",\"first_seen\":\"" + stix_time(c.first_seen_ms) + "\",\"last_seen\":\"" +
           stix_time(std::max(c.last_seen_ms, c.first_seen_ms)) + "\",\"where_sighted_refs\":[\"" +
           identity + "\"]}";
  }
}

}  // namespace

std::vector<BlockEntry> block_list(const intel::IntelSet* intel,
                                   const std::vector<Confirmed>& confirmed, int64_t now_ms) {
  std::map<Prefix, int64_t> all;
  auto add = [&](const Prefix& p, int64_t expires) {
    auto [it, fresh] = all.emplace(p, expires);
    if (!fresh) it->second = std::max(it->second, expires);
  };
  if (intel != nullptr) {
    for (uint32_t id = 0; id < intel->size(); ++id) {
      const intel::Indicator& i = intel->indicator(id);
      if (i.kind != intel::IndicatorKind::kPrefix || !intel->feed_of(id).enabled) continue;
      if (intel->expires_ms(id) <= now_ms) continue;
      add(i.prefix, intel->expires_ms(id));
    }
  }
  for (const Confirmed& c : confirmed) {
    const int64_t expires = c.last_seen_ms + kConfirmedTtlMs;
    if (expires > now_ms) add(Prefix::make(c.addr, 128), expires);
  }
  // Ordered by address then length: a covering prefix comes before what it covers.
  std::vector<BlockEntry> out;
  for (const auto& [p, expires] : all) {
    if (!out.empty() && out.back().prefix.len <= p.len && out.back().prefix.contains(p.addr)) {
      out.back().expires_ms = std::max(out.back().expires_ms, expires);
      continue;
    }
    out.push_back({p, expires});
  }
  return out;
}

bool allow_list(const netmodel::Model& model, std::string_view asset,
                std::optional<netmodel::Service> service, std::vector<Prefix>& out) {
  const auto a = std::find_if(model.assets.begin(), model.assets.end(),
                              [&](const netmodel::Asset& x) { return x.name == asset; });
  if (a == model.assets.end()) return false;
  std::vector<Prefix> all;
  for (const auto& rule : a->allow) {
    if (service && !rule.services.empty() &&
        std::none_of(rule.services.begin(), rule.services.end(), [&](const netmodel::Service& s) {
          return s.covers(service->proto, service->port);
        }))
      continue;
    for (const auto& src : rule.from) {
      switch (src.kind) {
        case netmodel::SourceRef::Kind::kPrefix:
          all.push_back(src.prefix);
          break;
        case netmodel::SourceRef::Kind::kZone:
          for (const auto& z : model.zones)
            if (z.name == src.name) all.insert(all.end(), z.prefixes.begin(), z.prefixes.end());
          break;
        case netmodel::SourceRef::Kind::kList:
          for (const auto& l : model.lists)
            if (l.name == src.name) all.insert(all.end(), l.prefixes.begin(), l.prefixes.end());
          break;
      }
    }
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  out = std::move(all);
  return true;
}

std::string edl_text(const std::vector<Prefix>& prefixes) {
  std::string out;
  for (const auto& p : prefixes) {
    out += entry_text(p);
    out += '\n';
  }
  return out;
}

std::string nft_text(const std::vector<BlockEntry>& block,
                     const std::map<std::string, std::vector<Prefix>>& allow, int64_t now_ms) {
  std::string out = fmt::format(
      "# orbwatch firewall lists, {} (docs/api.md, \"Firewall lists\")\n"
      "# Load with: nft -f FILE; match with e.g.\n"
      "#   ip saddr @block_v4 drop\n"
      "table inet orbwatch\nflush table inet orbwatch\ntable inet orbwatch {{\n",
      rfc3339_ms(now_ms));
  auto set = [&](const std::string& name, bool v4, const std::vector<std::string>& elements,
                 bool timeout) {
    out += fmt::format("  set {} {{\n    type {}\n    flags interval{}\n", name,
                       v4 ? "ipv4_addr" : "ipv6_addr", timeout ? ", timeout" : "");
    if (!elements.empty()) {
      out += "    elements = {";
      for (size_t i = 0; i < elements.size(); ++i) {
        out += i % 4 == 0 ? "\n      " : " ";
        out += elements[i];
        if (i + 1 < elements.size()) out += ',';
      }
      out += "\n    }\n";
    }
    out += "  }\n";
  };
  std::vector<std::string> v4, v6;
  for (const auto& e : block) {
    std::string el = entry_text(e.prefix);
    if (e.expires_ms != INT64_MAX && e.expires_ms > now_ms)
      el += fmt::format(" timeout {}s", std::max<int64_t>(1, (e.expires_ms - now_ms) / 1000));
    (e.prefix.addr.is_v4() ? v4 : v6).push_back(std::move(el));
  }
  set("block_v4", true, v4, true);
  set("block_v6", false, v6, true);
  for (const auto& [asset, prefixes] : allow) {
    std::string id;
    for (char c : asset) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    std::vector<std::string> a4, a6;
    for (const auto& p : prefixes) (p.addr.is_v4() ? a4 : a6).push_back(entry_text(p));
    set("allow_" + id + "_v4", true, a4, false);
    set("allow_" + id + "_v6", false, a6, false);
  }
  out += "}\n";
  return out;
}

std::string stix_objects(const std::vector<Confirmed>& confirmed, const StixOptions& o) {
  std::string out = "[";
  append_objects(out, confirmed, o);
  out += ']';
  return out;
}

std::string stix_bundle(const std::vector<Confirmed>& confirmed, const StixOptions& o) {
  std::string out = "{\"type\":\"bundle\",\"id\":\"bundle--" +
                    stable_uuid(fmt::format("bundle:{}:{}", o.identity_name, o.created_ms)) +
                    "\",\"objects\":" + stix_objects(confirmed, o) + "}\n";
  return out;
}

std::string misp_event(const std::vector<Confirmed>& confirmed, const StixOptions& o) {
  std::string out = "{\"Event\":{\"uuid\":\"" +
                    stable_uuid(fmt::format("misp:{}:{}", o.identity_name, o.created_ms)) +
                    "\",\"info\":";
  json::append_string(out, o.identity_name + ": covert-network activity it confirmed");
  out += fmt::format(
      ",\"date\":\"{}\",\"timestamp\":\"{}\",\"threat_level_id\":\"2\","
      "\"analysis\":\"2\",\"distribution\":\"0\",\"published\":false,"
      "\"Tag\":[{{\"name\":\"tlp:amber\"}}],\"Attribute\":[",
      rfc3339_ms(o.created_ms).substr(0, 10), o.created_ms / 1000);
  for (size_t i = 0; i < confirmed.size(); ++i) {
    const Confirmed& c = confirmed[i];
    if (i) out += ',';
    out += "{\"uuid\":\"" + stable_uuid("misp-attribute:" + c.addr.to_string()) + "\",\"type\":\"" +
           (c.role == "c2" ? "ip-dst" : "ip-src") +
           "\",\"category\":\"Network activity\",\"to_ids\":true,\"value\":\"" +
           c.addr.to_string() + "\",\"first_seen\":\"" + rfc3339_ms(c.first_seen_ms) +
           "\",\"last_seen\":\"" + rfc3339_ms(std::max(c.last_seen_ms, c.first_seen_ms)) +
           "\",\"comment\":";
    json::append_string(out, describe(c));
    out += '}';
  }
  out += "]}}\n";
  return out;
}

}  // namespace orbwatch::server
