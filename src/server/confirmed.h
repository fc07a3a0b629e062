// What orbwatch itself confirmed, from its alert store: the external addresses that took part
// in covert-network activity it saw (spray sources, relay peers, answered allow-list breaches)
// and the C2 / listed addresses hosts really exchanged traffic with (intel hits). This is what
// the firewall lists block and what `orbwatch export stix` shares (docs/api.md).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/ip_addr.h"
#include "netmodel/model_index.h"
#include "store/alert_store.h"

namespace orbwatch::server {

struct Confirmed {
  IpAddr addr;
  // "c2" (an intel hit with traffic: the listed address) or "covert-node" (a spray source, a
  // relay peer, an answered source outside an allow-list).
  std::string role;
  std::set<std::string> detectors;
  std::set<std::string> feeds;  // intel hits: the feeds that listed it
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  uint64_t sightings = 0;  // alerts that named it
};

// From the alerts (medium and above, not closed) of `alerts`, one entry per address, ordered by
// address. Addresses `model` counts as internal (its defaults too) are never listed.
std::vector<Confirmed> confirmed_from_alerts(const std::vector<store::StoredAlert>& alerts,
                                             const netmodel::ModelIndex& model);

// Reads the alerts since `since_ms` from `store` and applies the above.
bool load_confirmed(store::AlertStore& store, int64_t since_ms, const netmodel::ModelIndex& model,
                    std::vector<Confirmed>& out, std::string& error);

}  // namespace orbwatch::server
