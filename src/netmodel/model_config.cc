// The network model's tables of the TOML config file. The only netmodel file that includes
// toml++ (slow to compile).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include <toml++/toml.h>

#include "core/json.h"
#include "intel/feed_parser.h"
#include "intel/toml_support.h"
#include "netmodel/model.h"

namespace orbwatch::netmodel {

namespace {

using intel::ConfigProblems;

constexpr size_t kMaxListBytes = 64u << 20;

bool valid_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// A prefix exactly as written: host bits set ("10.0.0.1/8") is most likely a typo, so it is
// refused rather than masked. A bare address is a host prefix.
std::optional<Prefix> exact_prefix(std::string_view s) {
  auto p = Prefix::parse(s);
  if (!p) return std::nullopt;
  auto addr = IpAddr::parse(s.substr(0, s.find('/')));
  if (!addr || !(*addr == p->addr)) return std::nullopt;
  return p;
}

// "external" names everything outside the internal prefixes in segmentation rules.
constexpr std::string_view kExternal = "external";

class ModelReader {
 public:
  ModelReader(const std::string& path, std::vector<std::string>& errors)
      : path_(path), problems_(path, errors) {
    std::error_code ec;
    base_ = std::filesystem::absolute(path, ec).parent_path();
  }

  std::optional<Model> read(const toml::table& doc) {
    Model m;
    m.path = path_;
    if (const toml::node* n = doc.get("network")) read_network(*n, m);
    if (const toml::node* n = doc.get("zones")) read_named_prefixes(*n, "zones", m.zones);
    if (const toml::node* n = doc.get("lists")) read_named_prefixes(*n, "lists", m.lists);
    check_zone_overlaps(m);
    if (const toml::node* n = doc.get("assets")) read_assets(*n, m);
    if (const toml::node* n = doc.get("segmentation")) read_segmentation(*n, m);
    if (const toml::node* n = doc.get("inventory")) read_inventory(*n, m);
    if (!report()) return std::nullopt;
    return m;
  }

  void error(const toml::source_region& where, std::string message) {
    problems_.add(where, std::move(message));
  }
  bool report() { return problems_.report(); }

 private:
  void expected(const toml::node& n, const std::string& where, const std::string& what) {
    error(n.source(), where + ": expected " + what + ", got " + intel::describe_toml(n));
  }

  const toml::table* table(const toml::node& n, const std::string& where) {
    const toml::table* t = n.as_table();
    if (t == nullptr) expected(n, where, "a table");
    return t;
  }

  // A string or an array of strings, each read by `one`.
  template <typename T, typename F>
  bool list(const toml::node& n, const std::string& where, const char* what, F one,
            std::vector<T>& out) {
    auto read_one = [&](const toml::node& item, const std::string& item_where) {
      auto s = item.value<std::string>();
      std::optional<T> v = s ? one(*s) : std::nullopt;
      if (!v) {
        expected(item, item_where, what);
        return false;
      }
      out.push_back(std::move(*v));
      return true;
    };
    if (n.is_string()) return read_one(n, where);
    const toml::array* arr = n.as_array();
    if (arr == nullptr) {
      expected(n, where, std::string("an array of ") + what + "s");
      return false;
    }
    bool ok = true;
    for (size_t i = 0; i < arr->size(); ++i) {
      ok &= read_one(*arr->get(i), where + "[" + std::to_string(i + 1) + "]");
    }
    return ok;
  }

  bool prefixes(const toml::node& n, const std::string& where, std::vector<Prefix>& out) {
    return list(
        n, where, "a prefix like \"10.0.0.0/8\"",
        [](const std::string& s) { return exact_prefix(s); }, out);
  }

  void unknown(const toml::key& key, const std::string& where, const char* keys) {
    error(key.source(),
          where + "." + std::string(key.str()) + ": unknown key (expected " + keys + ")");
  }

  void read_network(const toml::node& n, Model& m) {
    const toml::table* t = table(n, "network");
    if (t == nullptr) return;
    for (const auto& [key, value] : *t) {
      if (key.str() == "internal") {
        prefixes(value, "network.internal", m.internal);
      } else {
        unknown(key, "network", "internal");
      }
    }
  }

  template <typename T>
  void read_named_prefixes(const toml::node& n, const char* section, std::vector<T>& out) {
    const toml::table* t = table(n, section);
    if (t == nullptr) return;
    for (const auto& [key, value] : *t) {
      const std::string where = std::string(section) + "." + std::string(key.str());
      if (!valid_name(key.str()) || key.str() == kExternal) {
        error(key.source(), where + ": expected a name of letters, digits, '_', '-', '.'" +
                                (key.str() == kExternal ? std::string(" (\"external\" is reserved)")
                                                        : std::string()));
        continue;
      }
      T item;
      item.name = std::string(key.str());
      item.line = value.source().begin.line;
      bool ok = false;
      if constexpr (std::is_same_v<T, NamedList>) {
        // A list may come from a feed file: { source = "ranges/partner.txt", format = "auto" }.
        if (const toml::table* from = value.as_table()) {
          ok = list_from_feed(*from, where, item);
          if (ok) out.push_back(std::move(item));
          continue;
        }
      }
      ok = prefixes(value, where, item.prefixes);
      if (ok) out.push_back(std::move(item));
    }
  }

  // The address prefixes of a feed file (any format `orbwatch feeds lint` reads; host bits are
  // masked as the feed parsers do). A file that cannot be read, or a feed with errors, fails.
  bool list_from_feed(const toml::table& t, const std::string& where, NamedList& list) {
    std::string source;
    intel::FeedFormat format = intel::FeedFormat::kAuto;
    bool ok = true;
    for (const auto& [key, value] : t) {
      const std::string k(key.str());
      auto v = value.value<std::string>();
      if (k == "source" && v && !v->empty()) {
        source = std::filesystem::path(*v).is_absolute() ? *v : (base_ / *v).string();
      } else if (k == "format" && v && intel::parse_feed_format(*v, format)) {
      } else if (k == "source" || k == "format") {
        expected(value, where + "." + k,
                 k == "source" ? "a feed file path" : "a feed format such as \"auto\"");
        ok = false;
      } else {
        unknown(key, where, "source, format");
        ok = false;
      }
    }
    if (!ok) return false;
    if (source.empty()) {
      error(t.source(), where + ".source: missing (a list table names its feed file)");
      return false;
    }
    std::ifstream in(source, std::ios::binary);
    // Bounded: a list is an allow-list, not a routing table (and /dev/zero never ends).
    std::string text(kMaxListBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (!in && !in.eof()) {
      error(t.source(), where + ".source: cannot read " + source);
      return false;
    }
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxListBytes) {
      error(t.source(), where + ".source: " + source + " is larger than 64 MiB");
      return false;
    }
    intel::ParsedFeed feed = intel::parse_feed(text, format, source);
    if (feed.format == intel::FeedFormat::kAuto || feed.bad != 0) {
      std::string why = feed.format == intel::FeedFormat::kAuto ? "its format is not known"
                        : feed.issues.empty()                   ? "it has bad lines"
                                                                : feed.issues.front().message;
      error(t.source(), where + ".source: " + source + ": " + why);
      return false;
    }
    for (const auto& ind : feed.indicators) {
      if (ind.kind == intel::IndicatorKind::kPrefix) list.prefixes.push_back(ind.prefix);
    }
    return true;
  }

  // Zones partition the address space they name: an address is in at most one zone.
  void check_zone_overlaps(const Model& m) {
    struct Entry {
      Prefix p;
      size_t zone;
    };
    std::vector<Entry> all;
    for (size_t z = 0; z < m.zones.size(); ++z) {
      for (const auto& p : m.zones[z].prefixes) all.push_back({p, z});
    }
    std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
      return a.p.addr != b.p.addr ? a.p.addr < b.p.addr : a.p.len < b.p.len;
    });
    // Sorted by start: a prefix overlaps an earlier one only if that one contains it; keeping a
    // stack of open prefixes finds the containing one.
    std::vector<const Entry*> open;
    for (const auto& e : all) {
      while (!open.empty() && !open.back()->p.contains(e.p.addr)) open.pop_back();
      if (!open.empty() && open.back()->zone != e.zone) {
        const Zone& a = m.zones[open.back()->zone];
        const Zone& b = m.zones[e.zone];
        error_at_line(b.line, "zones." + b.name + ": " + e.p.to_string() + " overlaps zone \"" +
                                  a.name + "\" (" + open.back()->p.to_string() + ", line " +
                                  std::to_string(a.line) + "): an address belongs to one zone");
      }
      open.push_back(&e);
    }
  }

  void error_at_line(uint32_t line, std::string message) {
    problems_.add(line, std::move(message));
  }

  bool source_ref(const toml::node& n, const std::string& where, const Model& m,
                  std::vector<SourceRef>& out) {
    return list(
        n, where, "a prefix, \"zone:NAME\" or \"list:NAME\"",
        [&](const std::string& s) -> std::optional<SourceRef> {
          SourceRef r;
          auto known = [&](const auto& items, std::string_view name) {
            return std::any_of(items.begin(), items.end(),
                               [&](const auto& i) { return i.name == name; });
          };
          if (s.starts_with("zone:")) {
            r.kind = SourceRef::Kind::kZone;
            r.name = s.substr(5);
            if (!known(m.zones, r.name)) return std::nullopt;
          } else if (s.starts_with("list:")) {
            r.kind = SourceRef::Kind::kList;
            r.name = s.substr(5);
            if (!known(m.lists, r.name)) return std::nullopt;
          } else {
            auto p = exact_prefix(s);
            if (!p) return std::nullopt;
            r.prefix = *p;
          }
          return r;
        },
        out);
  }

  bool services(const toml::node& n, const std::string& where, std::vector<Service>& out) {
    return list(n, where, "a service like \"tcp/443\"", parse_service, out);
  }

  void read_assets(const toml::node& n, Model& m) {
    const toml::array* arr = n.as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      expected(n, "assets", "[[assets]] tables");
      return;
    }
    std::map<std::string, uint32_t> names;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table& t = *arr->get(i)->as_table();
      const std::string where = "assets[" + std::to_string(i + 1) + "]";
      Asset a;
      a.line = t.source().begin.line;
      bool ok = true;
      for (const auto& [key, value] : t) {
        const std::string k(key.str());
        const std::string w = where + "." + k;
        if (k == "name") {
          auto s = value.value<std::string>();
          if (!s || !valid_name(*s)) {
            expected(value, w, "a name of letters, digits, '_', '-', '.'");
            ok = false;
          } else {
            a.name = *s;
          }
        } else if (k == "address" || k == "addresses") {
          ok &= prefixes(value, w, a.addresses);
        } else if (k == "kind") {
          auto s = value.value<std::string>();
          auto kind = s ? parse_asset_kind(*s) : std::nullopt;
          if (!kind) {
            expected(value, w,
                     "one of vpn, firewall, router, mail, web, camera, nas, iot, server, "
                     "workstation, other");
            ok = false;
          } else {
            a.kind = *kind;
          }
        } else if (k == "services") {
          ok &= services(value, w, a.services);
        } else if (k == "criticality") {
          auto s = value.value<std::string>();
          auto sev = s ? parse_severity(*s) : std::nullopt;
          if (!sev) {
            expected(value, w, "one of low, medium, high, critical");
            ok = false;
          } else {
            a.criticality = *sev;
          }
        } else if (k == "owner") {
          auto s = value.value<std::string>();
          if (!s) {
            expected(value, w, "a string");
            ok = false;
          } else {
            a.owner = *s;
          }
        } else if (k == "allow_from") {
          AllowRule rule;
          ok &= source_ref(value, w, m, rule.from);
          a.allow.insert(a.allow.begin(), std::move(rule));  // the catch-all goes first
        } else if (k == "allow") {
          ok &= read_allow(value, w, m, a);
        } else {
          unknown(key, where,
                  "name, address, kind, services, criticality, owner, allow_from, allow");
          ok = false;
        }
      }
      if (!t.contains("name")) {
        error(t.source(), where + ".name: missing (every asset needs one)");
        ok = false;
      }
      if (!t.contains("address") && !t.contains("addresses")) {
        error(t.source(), where + ".address: missing (every asset needs its addresses)");
        ok = false;
      }
      if (!a.name.empty()) {
        auto [first, fresh] = names.emplace(a.name, a.line);
        if (!fresh) {
          error(t["name"].node()->source(), where + ".name: \"" + a.name +
                                                "\" is already the name of the asset on line " +
                                                std::to_string(first->second));
          ok = false;
        }
      }
      if (ok) m.assets.push_back(std::move(a));
    }
    check_asset_overlaps(m);
  }

  // allow = { "tcp/22" = ["zone:corp"], "udp/500" = [...] }
  bool read_allow(const toml::node& n, const std::string& where, const Model& m, Asset& a) {
    const toml::table* t = table(n, where);
    if (t == nullptr) return false;
    bool ok = true;
    for (const auto& [key, value] : *t) {
      const std::string w = where + "." + std::string(key.str());
      auto svc = parse_service(key.str());
      if (!svc) {
        error(key.source(), w + ": expected a service like \"tcp/22\" as the key");
        ok = false;
        continue;
      }
      AllowRule rule;
      rule.services.push_back(*svc);
      if (source_ref(value, w, m, rule.from)) {
        a.allow.push_back(std::move(rule));
      } else {
        ok = false;
      }
    }
    return ok;
  }

  void check_asset_overlaps(const Model& m) {
    std::vector<std::pair<Prefix, size_t>> all;
    for (size_t i = 0; i < m.assets.size(); ++i) {
      for (const auto& p : m.assets[i].addresses) all.emplace_back(p, i);
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.first.addr != b.first.addr ? a.first.addr < b.first.addr : a.first.len < b.first.len;
    });
    std::vector<const std::pair<Prefix, size_t>*> open;
    for (const auto& e : all) {
      while (!open.empty() && !open.back()->first.contains(e.first.addr)) open.pop_back();
      if (!open.empty() && open.back()->second != e.second) {
        const Asset& a = m.assets[open.back()->second];
        const Asset& b = m.assets[e.second];
        error_at_line(b.line, "assets \"" + b.name + "\": " + e.first.to_string() +
                                  " is also an address of asset \"" + a.name + "\" (line " +
                                  std::to_string(a.line) + ")");
      }
      open.push_back(&e);
    }
  }

  void read_inventory(const toml::node& n, Model& m) {
    const toml::table* t = table(n, "inventory");
    if (t == nullptr) return;
    for (const auto& [key, value] : *t) {
      const std::string k(key.str());
      size_t* target = k == "max_services"    ? &m.inventory.max_services
                       : k == "max_exporters" ? &m.inventory.max_exporters
                                              : nullptr;
      if (target == nullptr) {
        unknown(key, "inventory", "max_services, max_exporters");
        continue;
      }
      auto v = value.value_exact<int64_t>();
      if (!v || *v <= 0 || *v > 100'000'000) {
        expected(value, "inventory." + k, "a whole number from 1 to 100000000");
        continue;
      }
      *target = static_cast<size_t>(*v);
    }
  }

  void read_segmentation(const toml::node& n, Model& m) {
    const toml::array* arr = n.as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      expected(n, "segmentation", "[[segmentation]] tables");
      return;
    }
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table& t = *arr->get(i)->as_table();
      const std::string where = "segmentation[" + std::to_string(i + 1) + "]";
      SegmentationRule r;
      r.line = t.source().begin.line;
      bool ok = true;
      for (const auto& [key, value] : t) {
        const std::string k(key.str());
        const std::string w = where + "." + k;
        if (k == "from" || k == "to") {
          auto s = value.value<std::string>();
          bool known =
              s && (*s == kExternal || std::any_of(m.zones.begin(), m.zones.end(),
                                                   [&](const Zone& z) { return z.name == *s; }));
          if (!known) {
            expected(value, w, "a zone name from [zones] or \"external\"");
            ok = false;
          } else {
            (k == "from" ? r.from : r.to) = *s;
          }
        } else if (k == "action") {
          auto s = value.value<std::string>();
          if (!s || (*s != "allow" && *s != "deny")) {
            expected(value, w, "\"allow\" or \"deny\"");
            ok = false;
          } else {
            r.allow = *s == "allow";
          }
        } else if (k == "services") {
          ok &= services(value, w, r.services);
        } else {
          unknown(key, where, "from, to, action, services");
          ok = false;
        }
      }
      for (const char* required : {"from", "to", "action"}) {
        if (!t.contains(required)) {
          error(t.source(),
                where + "." + required + ": missing (every rule needs from, to and action)");
          ok = false;
        }
      }
      if (ok && r.from == r.to) {
        error(t.source(), where + ": from and to are the same zone (\"" + r.from +
                              "\"): rules are between zones");
        ok = false;
      }
      if (ok) m.segmentation.push_back(std::move(r));
    }
  }

  std::string path_;
  std::filesystem::path base_;  // relative feed paths resolve against the config's directory
  ConfigProblems problems_;
};

}  // namespace

std::optional<Model> parse_model(std::string_view text, const std::string& path,
                                 std::vector<std::string>& errors) {
  auto doc = intel::parse_toml(text, path, errors);
  if (!doc) return std::nullopt;
  return ModelReader(path, errors).read(*doc);
}

std::optional<Model> load_model(const std::string& path, std::vector<std::string>& errors) {
  auto text = intel::read_config_file(path, errors);
  if (!text) return std::nullopt;
  return parse_model(*text, path, errors);
}

}  // namespace orbwatch::netmodel
