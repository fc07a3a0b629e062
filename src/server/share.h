// Sharing what orbwatch saw (docs/api.md): firewall lists (PAN-OS / FortiGate external dynamic
// lists, nftables sets) and threat intel for partners (a STIX 2.1 bundle, a MISP event, the
// objects of the read-only TAXII 2.1 collection).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_addr.h"
#include "intel/intel_set.h"
#include "netmodel/model.h"
#include "server/confirmed.h"

namespace orbwatch::server {

// How long a confirmed address stays on the block list after it was last seen.
inline constexpr int64_t kConfirmedTtlMs = 7LL * 86'400'000;

struct BlockEntry {
  Prefix prefix;
  int64_t expires_ms = 0;
};
// The live address indicators of `intel` (null: none) and the confirmed addresses seen within
// kConfirmedTtlMs of `now_ms`, merged (a prefix covered by another listed one is left out),
// ordered; each with the latest expiry of what put it there.
std::vector<BlockEntry> block_list(const intel::IntelSet* intel,
                                   const std::vector<Confirmed>& confirmed, int64_t now_ms);

// The sources an asset's allow-lists name (prefixes, zones and lists resolved), for `service`
// ("tcp/22") or for any of its services; false when there is no such asset.
bool allow_list(const netmodel::Model& model, std::string_view asset,
                std::optional<netmodel::Service> service, std::vector<Prefix>& out);

// One entry a line: "192.0.2.1", "198.51.100.0/24", "2001:db8::/32" (PAN-OS EDL, FortiGate).
std::string edl_text(const std::vector<Prefix>& prefixes);

// nftables: table inet orbwatch with the sets block_v4/block_v6 (timeouts from the expiries)
// and allow_<asset>_v4/_v6 for each asset with an allow-list. `nft -f FILE` loads it.
std::string nft_text(const std::vector<BlockEntry>& block,
                     const std::map<std::string, std::vector<Prefix>>& allow, int64_t now_ms);

// STIX 2.1: an identity for this orbwatch, one indicator per confirmed address (valid_from its
// first sighting, valid_until kConfirmedTtlMs after the last) and one sighting of it (count,
// first_seen, last_seen). Ids are derived from the address: the same address keeps its ids.
struct StixOptions {
  std::string identity_name = "orbwatch";
  int64_t created_ms = 0;  // when the bundle is made
};
std::string stix_bundle(const std::vector<Confirmed>& confirmed, const StixOptions& o);
// The bundle's objects without the bundle: a TAXII 2.1 envelope's "objects".
std::string stix_objects(const std::vector<Confirmed>& confirmed, const StixOptions& o);
// A MISP event (the JSON of /events/add and of MISP feeds): one ip-src / ip-dst attribute per
// confirmed address with first_seen / last_seen.
std::string misp_event(const std::vector<Confirmed>& confirmed, const StixOptions& o);

}  // namespace orbwatch::server
