// GeoDb: the autonomous system, its organisation and type, and the country of an address.
//
// Loaded from the databases users already have: CSV in the formats of the @ip-location-db npm
// packages (`ip_range_start,ip_range_end,as_number,as_organization` for ASNs and
// `ip_range_start,ip_range_end,country_code` for countries; addresses as text or as decimal
// numbers, IPv4 and IPv6) and MaxMind DB files read with libmaxminddb (country from
// `country_code`, `country.iso_code` or `registered_country.iso_code`; ASN from
// `autonomous_system_number` and `autonomous_system_organization`). Ranges become prefixes in
// the intel PrefixTable, so a lookup costs what an intel lookup does; where ranges overlap the
// more specific wins, and between equal ones the first loaded.
//
// Threading: immutable once built; any number of threads may look up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ip_addr.h"
#include "enrich/as_type.h"
#include "intel/prefix_table.h"

namespace orbwatch::enrich {

struct Geo {
  uint32_t asn = 0;      // 0: unknown
  uint32_t org = 0;      // index for GeoDb::org(); 0: none
  uint16_t country = 0;  // two ASCII letters (first << 8 | second); 0: unknown
  AsType type = AsType::kUnknown;

  std::string country_code() const;  // "GB", or "" when unknown
};

struct GeoStats {
  uint64_t asn_ranges = 0;
  uint64_t country_ranges = 0;
  uint64_t ases = 0;         // distinct AS numbers
  uint64_t by_type[4] = {};  // ASes per AsType
  uint64_t bad_lines = 0;    // lines or records skipped as malformed
};

// Where the data comes from and the user's AS type overrides ([enrich] in the config file).
struct GeoSources {
  std::vector<std::string> files;  // .mmdb, or CSV (4 columns: ASN; 3 columns: country)
  std::unordered_map<uint32_t, AsType> as_types;
};

class GeoDb {
 public:
  // Reads every file. False with one message per unusable file in `errors`; malformed lines
  // are skipped, counted and the first few reported in `warnings` ("asn.csv:12: ...").
  static std::shared_ptr<const GeoDb> load(const GeoSources& sources,
                                           std::vector<std::string>& errors,
                                           std::vector<std::string>& warnings);

  Geo lookup(const IpAddr& a) const;
  // out[i] = lookup(addrs[i]), with the table reads of many addresses overlapped.
  void lookup_batch(const IpAddr* addrs, size_t n, Geo* out) const;

  std::string_view org(uint32_t index) const { return orgs_[index]; }
  AsType type_of(uint32_t asn) const;
  const GeoStats& stats() const { return stats_; }

  // Building blocks, public for the loader and the tests.
  class Builder;

 private:
  struct AsEntry {
    uint32_t asn;
    uint32_t org;
    AsType type;
  };
  std::shared_ptr<const intel::PrefixTable> asn_table_;      // ids: index into ases_
  std::shared_ptr<const intel::PrefixTable> country_table_;  // ids: packed country codes
  std::vector<AsEntry> ases_;
  std::vector<std::string> orgs_;  // [0] = ""
  std::unordered_map<uint32_t, AsType> types_;
  GeoStats stats_;
};

// Accumulates ranges; GeoDb::load uses it, tests and fuzz targets feed it text directly.
class GeoDb::Builder {
 public:
  explicit Builder(std::unordered_map<uint32_t, AsType> overrides = {});
  // One CSV text; `name` for messages. Returns false when it is not a known layout.
  bool add_csv(std::string_view text, const std::string& name, std::vector<std::string>& warnings,
               std::string& error);
  // One MaxMind DB file.
  bool add_mmdb(const std::string& path, std::vector<std::string>& warnings, std::string& error);
  // An inclusive address range (both of one family).
  void add_asn_range(const IpAddr& first, const IpAddr& last, uint32_t asn, std::string_view org);
  void add_country_range(const IpAddr& first, const IpAddr& last, std::string_view country);
  std::shared_ptr<const GeoDb> build();

 private:
  void warn(std::vector<std::string>& warnings, const std::string& where, const std::string& what);
  intel::PrefixTable::Builder asn_;
  intel::PrefixTable::Builder country_;
  std::vector<AsEntry> ases_;
  std::vector<std::string> orgs_{""};
  std::unordered_map<std::string, uint32_t> org_index_;
  std::unordered_map<uint64_t, uint32_t> entry_index_;  // asn << 32 | org -> index into ases_
  std::unordered_map<uint32_t, AsType> overrides_;
  GeoStats stats_;
  size_t warned_ = 0;
};

}  // namespace orbwatch::enrich
