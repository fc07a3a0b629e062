#include "enrich/geo_db.h"

#include <maxminddb.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace orbwatch::enrich {
namespace {

__extension__ typedef unsigned __int128 U128;

constexpr size_t kMaxFileBytes = size_t{1} << 30;  // the real ASN CSV is ~35 MB
constexpr size_t kMaxWarnings = 10;

U128 to_u128(const IpAddr& a) {
  U128 v = 0;
  for (uint8_t b : a.b) v = v << 8 | b;
  return v;
}
IpAddr from_u128(U128 v) {
  IpAddr a;
  for (int i = 15; i >= 0; --i) {
    a.b[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  return a;
}
int ctz128(U128 v) {
  const auto lo = static_cast<uint64_t>(v);
  if (lo != 0) return __builtin_ctzll(lo);
  const auto hi = static_cast<uint64_t>(v >> 64);
  return hi != 0 ? 64 + __builtin_ctzll(hi) : 128;
}

// The prefixes that exactly cover [lo, hi] (at most 2 * 128 of them).
template <class Fn>
void for_each_prefix(U128 lo, U128 hi, Fn&& fn) {
  while (lo <= hi) {
    const U128 span = hi - lo;
    int k = ctz128(lo);
    while (k > 0 && (k == 128 ? span != ~U128{0} : ((U128{1} << k) - 1) > span)) --k;
    fn(Prefix::make(from_u128(lo), static_cast<unsigned>(128 - k)));
    if (k == 128) return;
    const U128 next = lo + (U128{1} << k);
    if (next == 0 || next > hi) return;  // the top of the space, or done
    lo = next;
  }
}

// A CSV line's fields (RFC 4180 quoting: "a, b" and "" inside quotes).
std::vector<std::string> split_csv(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

// An address as text ("1.0.0.0", "2001:200::") or as a decimal number (the -num files: numbers
// up to 2^32 - 1 are IPv4, larger ones IPv6).
std::optional<U128> parse_bound(std::string_view s, bool& v4) {
  if (s.find_first_of(".:") != std::string_view::npos) {
    auto a = IpAddr::parse(s);
    if (!a) return std::nullopt;
    v4 = a->is_v4();
    return to_u128(*a);
  }
  if (s.empty() || s.size() > 39) return std::nullopt;
  U128 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const U128 next = v * 10 + static_cast<unsigned>(c - '0');
    if (next / 10 != v) return std::nullopt;  // overflow
    v = next;
  }
  v4 = v <= 0xffffffffu;
  return v4 ? to_u128(IpAddr::v4(static_cast<uint32_t>(v))) : v;
}

std::optional<uint16_t> parse_country(std::string_view s) {
  if (s.size() != 2) return std::nullopt;
  char a = s[0], b = s[1];
  if (a >= 'a' && a <= 'z') a = static_cast<char>(a - 32);
  if (b >= 'a' && b <= 'z') b = static_cast<char>(b - 32);
  if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z') return std::nullopt;
  if (a == 'Z' && b == 'Z') return uint16_t{0};  // "unknown" in several databases
  return static_cast<uint16_t>(a << 8 | b);
}

std::optional<uint32_t> parse_asn(std::string_view s) {
  if (s.size() > 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
    s.remove_prefix(2);
  uint32_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string Geo::country_code() const {
  if (country == 0) return {};
  return {static_cast<char>(country >> 8), static_cast<char>(country & 0xff)};
}

GeoDb::Builder::Builder(std::unordered_map<uint32_t, AsType> overrides)
    : overrides_(std::move(overrides)) {}

void GeoDb::Builder::warn(std::vector<std::string>& warnings, const std::string& where,
                          const std::string& what) {
  ++stats_.bad_lines;
  if (warned_++ < kMaxWarnings) warnings.push_back(where + ": " + what);
}

void GeoDb::Builder::add_asn_range(const IpAddr& first, const IpAddr& last, uint32_t asn,
                                   std::string_view org) {
  uint32_t org_id = 0;
  if (!org.empty()) {
    auto [it, added] =
        org_index_.try_emplace(std::string(org), static_cast<uint32_t>(orgs_.size()));
    if (added) orgs_.emplace_back(org);
    org_id = it->second;
  }
  auto [it, added] =
      entry_index_.try_emplace(uint64_t{asn} << 32 | org_id, static_cast<uint32_t>(ases_.size()));
  if (added) ases_.push_back({asn, org_id, AsType::kUnknown});
  const uint32_t id = it->second;  // clang 14 cannot capture a structured binding
  for_each_prefix(to_u128(first), to_u128(last), [&](const Prefix& p) { asn_.add(p, id); });
  ++stats_.asn_ranges;
}

void GeoDb::Builder::add_country_range(const IpAddr& first, const IpAddr& last,
                                       std::string_view country) {
  const auto code = parse_country(country);
  if (!code || *code == 0) return;
  for_each_prefix(to_u128(first), to_u128(last), [&](const Prefix& p) { country_.add(p, *code); });
  ++stats_.country_ranges;
}

bool GeoDb::Builder::add_csv(std::string_view text, const std::string& name,
                             std::vector<std::string>& warnings, std::string& error) {
  size_t columns = 0;  // 4: ASN, 3: country; from the first good line
  size_t line_no = 0;
  size_t good = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty() || line == "\r" || line[0] == '#') continue;
    const auto f = split_csv(line);
    const std::string where = name + ":" + std::to_string(line_no);
    bool v4a = false, v4b = false;
    auto lo = f.size() >= 3 ? parse_bound(f[0], v4a) : std::nullopt;
    auto hi = lo ? parse_bound(f[1], v4b) : std::nullopt;
    if (!lo || !hi) {
      if (line_no == 1) continue;  // a header line
      warn(warnings, where, "expected two addresses (or address numbers) and a value");
      continue;
    }
    if (v4a != v4b || *lo > *hi) {
      warn(warnings, where, "the range's end is before its start or of another family");
      continue;
    }
    if (columns == 0) columns = f.size() >= 4 ? 4 : 3;
    if (columns == 4) {
      const auto asn = f.size() >= 3 ? parse_asn(f[2]) : std::nullopt;
      if (!asn) {
        warn(warnings, where, "expected an AS number in the third column");
        continue;
      }
      if (*asn != 0) add_asn_range(from_u128(*lo), from_u128(*hi), *asn, f.size() > 3 ? f[3] : "");
    } else {
      if (!parse_country(f[2])) {
        warn(warnings, where, "expected a two-letter country code in the third column");
        continue;
      }
      add_country_range(from_u128(*lo), from_u128(*hi), f[2]);
    }
    ++good;
  }
  if (good == 0 && line_no > 1) {
    error = name + ": no line is an address range with an AS number or a country code";
    return false;
  }
  return true;
}

bool GeoDb::Builder::add_mmdb(const std::string& path, std::vector<std::string>& warnings,
                              std::string& error) {
  MMDB_s db;
  const int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db);
  if (rc != MMDB_SUCCESS) {
    error = path + ": " + MMDB_strerror(rc);
    return false;
  }
  struct Decoded {
    uint32_t asn = 0;
    std::string org;
    std::string country;
  };
  std::unordered_map<uint64_t, Decoded> cache;  // by data offset: networks share records
  auto decode = [&](MMDB_entry_s entry) -> const Decoded& {
    auto [it, added] = cache.try_emplace(entry.offset);
    if (!added) return it->second;
    Decoded& d = it->second;
    MMDB_entry_data_s v;
    auto str = [&](const char* a, const char* b) -> std::string {
      const int r =
          b ? MMDB_get_value(&entry, &v, a, b, nullptr) : MMDB_get_value(&entry, &v, a, nullptr);
      if (r != MMDB_SUCCESS || !v.has_data || v.type != MMDB_DATA_TYPE_UTF8_STRING) return {};
      return std::string(v.utf8_string, v.data_size);
    };
    d.country = str("country_code", nullptr);
    if (d.country.empty()) d.country = str("country", "iso_code");
    if (d.country.empty()) d.country = str("registered_country", "iso_code");
    if (MMDB_get_value(&entry, &v, "autonomous_system_number", nullptr) == MMDB_SUCCESS &&
        v.has_data) {
      if (v.type == MMDB_DATA_TYPE_UINT32) d.asn = v.uint32;
      if (v.type == MMDB_DATA_TYPE_UINT16) d.asn = v.uint16;
    }
    d.org = str("autonomous_system_organization", nullptr);
    return d;
  };

  const unsigned bits = db.metadata.ip_version == 6 ? 128 : 32;
  const uint32_t node_count = db.metadata.node_count;
  // Depth-first over the search tree. IPv6 trees alias the IPv4 subtree at ::ffff:0:0/96,
  // 2001::/32 and 2002::/16: those are skipped and ::/96 is read as IPv4. A tree that visits more
  // nodes than it has is not a tree (a hostile file): stop.
  struct Step {
    uint32_t node;
    unsigned depth;
    U128 prefix;  // the path's bits, left-aligned in 128 bits
  };
  std::vector<Step> stack{{0, 0, 0}};
  uint64_t visited = 0;
  bool ok = true;
  while (!stack.empty()) {
    const Step s = stack.back();
    stack.pop_back();
    if (++visited > uint64_t{node_count} + 16) {
      error = path + ": the search tree revisits nodes (a damaged or hostile file)";
      ok = false;
      break;
    }
    MMDB_search_node_s node;
    if (MMDB_read_node(&db, s.node, &node) != MMDB_SUCCESS) {
      warn(warnings, path, "node " + std::to_string(s.node) + " cannot be read");
      continue;
    }
    for (int side = 1; side >= 0; --side) {
      const unsigned depth = s.depth + 1;
      const U128 prefix = s.prefix | (side ? U128{1} << (128 - depth) : 0);
      const uint8_t type = side ? node.right_record_type : node.left_record_type;
      if (bits == 128) {
        const auto top = static_cast<uint64_t>(prefix >> 64);
        if ((depth == 96 && top == 0 && static_cast<uint32_t>(prefix >> 32) == 0xffff) ||
            (depth == 32 && (top >> 32) == 0x20010000u) || (depth == 16 && (top >> 48) == 0x2002))
          continue;  // aliases of the IPv4 subtree
      }
      if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
        if (depth >= bits) {
          warn(warnings, path, "the search tree is deeper than the address");
          continue;
        }
        stack.push_back(
            {static_cast<uint32_t>(side ? node.right_record : node.left_record), depth, prefix});
      } else if (type == MMDB_RECORD_TYPE_DATA) {
        const Decoded& d = decode(side ? node.right_record_entry : node.left_record_entry);
        Prefix p;
        if (bits == 32) {
          p = Prefix::make(IpAddr::v4(static_cast<uint32_t>(prefix >> 96)), 96 + depth);
        } else if (depth >= 96 && (prefix >> 32) == 0) {
          p = Prefix::make(IpAddr::v4(static_cast<uint32_t>(prefix)), depth);  // ::/96: IPv4
        } else if (depth < 96 && (prefix >> (128 - depth)) == 0) {
          continue;  // a network above ::/96 spanning both: not one we can place
        } else {
          p = Prefix::make(from_u128(prefix), depth);
        }
        const U128 lo = to_u128(p.addr);
        const U128 hi = lo | (p.len == 0 ? ~U128{0} : (U128{1} << (128 - p.len)) - 1);
        if (d.asn != 0) add_asn_range(from_u128(lo), from_u128(hi), d.asn, d.org);
        if (!d.country.empty()) add_country_range(from_u128(lo), from_u128(hi), d.country);
      } else if (type == MMDB_RECORD_TYPE_INVALID) {
        warn(warnings, path, "a record points outside the file");
      }
    }
  }
  MMDB_close(&db);
  return ok;
}

std::shared_ptr<const GeoDb> GeoDb::Builder::build() {
  auto db = std::shared_ptr<GeoDb>(new GeoDb());
  std::unordered_map<uint32_t, AsType> first_type;
  for (AsEntry& e : ases_) {
    auto o = overrides_.find(e.asn);
    e.type = o != overrides_.end() ? o->second : classify_org(orgs_[e.org]);
    auto [it, added] = first_type.try_emplace(e.asn, e.type);
    if (!added && it->second == AsType::kUnknown) it->second = e.type;
  }
  for (const auto& [asn, type] : first_type) ++stats_.by_type[static_cast<size_t>(type)];
  stats_.ases = first_type.size();
  db->asn_table_ = asn_.build();
  db->country_table_ = country_.build();
  db->ases_ = std::move(ases_);
  db->orgs_ = std::move(orgs_);
  db->types_ = std::move(first_type);
  db->stats_ = stats_;
  return db;
}

std::shared_ptr<const GeoDb> GeoDb::load(const GeoSources& sources,
                                         std::vector<std::string>& errors,
                                         std::vector<std::string>& warnings) {
  Builder b(sources.as_types);
  bool ok = true;
  for (const std::string& path : sources.files) {
    std::string error;
    const bool mmdb = path.size() >= 5 && path.compare(path.size() - 5, 5, ".mmdb") == 0;
    if (mmdb) {
      ok = b.add_mmdb(path, warnings, error) && ok;
    } else {
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        errors.push_back(path + ": cannot be read");
        ok = false;
        continue;
      }
      in.seekg(0, std::ios::end);
      const auto size = static_cast<size_t>(std::max<std::streamoff>(0, in.tellg()));
      if (size > kMaxFileBytes) {
        errors.push_back(path + ": larger than 1 GiB");
        ok = false;
        continue;
      }
      in.seekg(0);
      std::string text(size, '\0');
      in.read(text.data(), static_cast<std::streamsize>(size));
      ok = b.add_csv(text, path, warnings, error) && ok;
    }
    if (!error.empty()) errors.push_back(error);
  }
  if (!ok) return nullptr;
  return b.build();
}

Geo GeoDb::lookup(const IpAddr& a) const {
  Geo g;
  lookup_batch(&a, 1, &g);
  return g;
}

void GeoDb::lookup_batch(const IpAddr* addrs, size_t n, Geo* out) const {
  std::vector<intel::PrefixTable::SetIndex> sets(n);
  for (size_t i = 0; i < n; ++i) out[i] = Geo{};
  if (asn_table_) {
    asn_table_->lookup_batch(addrs, n, sets.data());
    for (size_t i = 0; i < n; ++i) {
      const auto ids = asn_table_->set(sets[i]);
      if (ids.empty()) continue;
      const AsEntry& e = ases_[ids[0]];
      out[i].asn = e.asn;
      out[i].org = e.org;
      out[i].type = e.type;
    }
  }
  if (country_table_) {
    country_table_->lookup_batch(addrs, n, sets.data());
    for (size_t i = 0; i < n; ++i) {
      const auto ids = country_table_->set(sets[i]);
      if (!ids.empty()) out[i].country = static_cast<uint16_t>(ids[0]);
    }
  }
}

AsType GeoDb::type_of(uint32_t asn) const {
  auto it = types_.find(asn);
  return it == types_.end() ? AsType::kUnknown : it->second;
}

}  // namespace orbwatch::enrich
