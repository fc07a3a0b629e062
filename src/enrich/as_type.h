// What kind of network an autonomous system is: hosting/cloud (where attackers rent VPSs and
// where covert networks put their tier-2 servers), residential/ISP (where hijacked home routers
// and cameras live), business/other (companies, universities, governments).
//
// classify_org() applies documented keyword rules to the AS organisation name, as registries
// publish it (docs/detection.md, "Enrichment"); user lists ([enrich.as_types]) override it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace orbwatch::enrich {

enum class AsType : uint8_t { kUnknown = 0, kHosting, kResidential, kBusiness };

const char* as_type_name(AsType t);  // "unknown", "hosting", "residential", "business"
std::optional<AsType> parse_as_type(std::string_view name);

// The type the rules give an organisation name; kUnknown when no rule matches.
AsType classify_org(std::string_view org);

}  // namespace orbwatch::enrich
