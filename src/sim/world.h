// The simulated world: one organisation's network (zones, edge devices, hosts, remote users)
// and the internet around it (autonomous systems of hosting, residential and business kinds,
// each with its country and IPv4 range). Built deterministically from a seed and a size.
//
// The world also writes what a real deployment would have: the network model (TOML, as
// --config reads it) and the ASN and country tables of its invented internet (CSV in the
// formats of the @ip-location-db packages), so the simulated flows can be enriched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ip_addr.h"
#include "sim/rng.h"

namespace orbwatch::sim {

enum class AsKind : uint8_t { kHosting, kResidential, kBusiness };
const char* as_kind_name(AsKind k);

struct As {
  uint32_t asn = 0;
  std::string org;
  std::string country;  // ISO 3166-1 alpha-2
  AsKind kind = AsKind::kBusiness;
  uint32_t first = 0;  // IPv4 range, host order, inclusive
  uint32_t last = 0;
  IpAddr random_addr(Rng& rng) const;
};

// An internal host.
struct Host {
  std::string name;
  IpAddr addr;
  std::string zone;  // dmz, servers, corp, iot, branch
  std::string kind;  // the model's asset kinds: vpn, mail, web, firewall, router, camera, ...
};

// A remote-access user: a workstation's owner who also connects from home.
struct RemoteUser {
  uint32_t workstation = 0;  // index into World::hosts
  IpAddr home;               // stable, in a residential AS of the home country
  IpAddr travel;             // used on some days, in another country
};

struct WorldOptions {
  uint64_t seed = 1;
  uint32_t hosts = 200;  // workstations; the other parts scale with it
  std::string country = "GB";
};

struct World {
  WorldOptions options;
  std::vector<As> ases;  // sorted by address range
  std::vector<Host> hosts;
  // Indexes into hosts by role.
  std::vector<uint32_t> workstations, cameras, branch_routers, servers;
  uint32_t vpn_gw = 0, mail = 0, web = 0, firewall = 0, resolver = 0, nvr = 0, nas = 0;
  std::vector<uint32_t> admins;  // workstations on the firewall's admin allow-list
  std::vector<RemoteUser> remote_users;
  // Popular external services (indexes into ases by kind and addresses in them).
  std::vector<IpAddr> saas;           // web/SaaS endpoints, most popular first
  std::vector<IpAddr> vendor_clouds;  // IoT vendors' check-in servers
  std::vector<IpAddr> dns_forwarders, ntp_servers, update_servers;
  std::vector<IpAddr> mail_relays;  // other organisations' mail servers
  IpAddr edge_exporter, core_exporter;

  // AS of an external IPv4 address; nullptr when none holds it.
  const As* as_of(const IpAddr& a) const;
  // A random address in a random AS of the kind (residential: home country when `home`).
  IpAddr random_external(AsKind kind, Rng& rng, int home = -1) const;
  const As& random_as(AsKind kind, Rng& rng, int home = -1) const;

  std::string model_toml() const;
  std::string asn_csv() const;      // ip_range_start,ip_range_end,as_number,as_organization
  std::string country_csv() const;  // ip_range_start,ip_range_end,country_code
};

World build_world(const WorldOptions& options);

}  // namespace orbwatch::sim
