// The [enrich] table of the config file: where ASN and country data come from, and the user's
// AS type lists.
//
//   [enrich]
//   databases = ["geo/asn-ipv4.csv", "geo/asn-ipv6.csv", "geo/geo-whois-asn-country.mmdb"]
//   [enrich.as_types]
//   hosting = [64500, 64501]       # override the name rules for these AS numbers
//   residential = [64502]
//   business = []
//
// Relative paths are relative to the config file's directory.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/geo_db.h"

namespace orbwatch::enrich {

// nullopt with one line per problem ("orbwatch.toml:7: enrich.databases[2]: ...") in `errors`;
// an absent [enrich] gives empty sources.
std::optional<GeoSources> parse_enrich_config(std::string_view text, const std::string& path,
                                              std::vector<std::string>& errors);
std::optional<GeoSources> load_enrich_config(const std::string& path,
                                             std::vector<std::string>& errors);

}  // namespace orbwatch::enrich
