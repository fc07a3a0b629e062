#include "sim/world.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace orbwatch::sim {
namespace {

constexpr std::array kCountries = {"US", "DE", "FR", "NL", "SG", "JP", "BR", "IN", "VN", "KR",
                                   "TW", "RU", "CN", "IT", "ES", "PL", "TR", "UA", "ID", "MX",
                                   "CA", "AU", "SE", "HK", "ZA", "RO", "AR", "TH"};
constexpr std::array kHostingCountries = {"US", "DE", "NL", "SG", "FR", "JP", "HK", "US",
                                          "DE", "NL", "RU", "CN", "US", "SG", "FR", "US"};
constexpr std::array kStems = {"Aster",    "Borealis", "Cobalt", "Delta",   "Ember",   "Fjord",
                               "Granite",  "Harbor",   "Iris",   "Juniper", "Kestrel", "Lumen",
                               "Meridian", "Nimbus",   "Orion",  "Pioneer", "Quartz",  "Riverside",
                               "Summit",   "Tidal",    "Umbra",  "Vertex",  "Willow",  "Xenon",
                               "Yarrow",   "Zenith"};
// Organisation names as registries show them: the words the ASN-type rules read.
constexpr std::array kHostingForms = {"Hosting Ltd",  "Cloud Inc",     "VPS LLC",
                                      "Servers GmbH", "Datacenter BV", "Host SAS"};
constexpr std::array kResidentialForms = {"Telecom", "Broadband",         "Cable Communications",
                                          "Mobile",  "Internet Services", "Fibre Networks"};
constexpr std::array kBusinessForms = {"University",       "Bank plc",     "Logistics AG",
                                       "Manufacturing Co", "Health Trust", "Insurance SA"};

// First octets the invented internet may use: public unicast /8s, none of them private,
// shared (100.64/10), loopback, link-local, documentation or multicast space.
bool usable_first_octet(uint32_t o) {
  return o >= 24 && o <= 223 && o != 100 && o != 127 && o != 169 && o != 172 && o != 192 &&
         o != 198 && o != 203 && o != 10;
}

}  // namespace

const char* as_kind_name(AsKind k) {
  switch (k) {
    case AsKind::kHosting:
      return "hosting";
    case AsKind::kResidential:
      return "residential";
    case AsKind::kBusiness:
      return "business";
  }
  return "?";
}

IpAddr As::random_addr(Rng& rng) const {
  // Skip .0 and .255 of each /24: they are rarely hosts.
  for (;;) {
    const uint32_t a = first + static_cast<uint32_t>(rng.below(uint64_t{last} - first + 1));
    if ((a & 0xff) != 0 && (a & 0xff) != 255) return IpAddr::v4(a);
  }
}

const As* World::as_of(const IpAddr& a) const {
  if (!a.is_v4()) return nullptr;
  const uint32_t v = a.v4_value();
  // ases is sorted by range: the last one starting at or below v, if it reaches v.
  auto it = std::upper_bound(ases.begin(), ases.end(), v,
                             [](uint32_t x, const As& as) { return x < as.first; });
  if (it == ases.begin()) return nullptr;
  --it;
  return v <= it->last ? &*it : nullptr;
}

const As& World::random_as(AsKind kind, Rng& rng, int home) const {
  // Rejection sampling over the (small) AS list.
  for (;;) {
    const As& as = ases[rng.below(ases.size())];
    if (as.kind != kind) continue;
    if (home == 1 && as.country != options.country) continue;
    if (home == 0 && as.country == options.country) continue;
    return as;
  }
}

IpAddr World::random_external(AsKind kind, Rng& rng, int home) const {
  return random_as(kind, rng, home).random_addr(rng);
}

World build_world(const WorldOptions& options) {
  World w;
  w.options = options;
  Rng rng = Rng::stream(options.seed, 1);

  // The internet: ASes placed at random aligned blocks that do not overlap.
  auto place = [&](AsKind kind, const std::string& country, unsigned prefix_len,
                   const std::string& org) {
    const uint32_t size = 1u << (32 - prefix_len);
    for (;;) {
      const auto octet = static_cast<uint32_t>(24 + rng.below(200));
      if (!usable_first_octet(octet)) continue;
      const uint32_t first =
          (octet << 24) + static_cast<uint32_t>(rng.below((1u << 24) / size)) * size;
      const uint32_t last = first + (size - 1);
      const bool overlaps = std::any_of(w.ases.begin(), w.ases.end(), [&](const As& o) {
        return first <= o.last && o.first <= last;
      });
      if (overlaps) continue;
      As as;
      as.asn = 64600 + static_cast<uint32_t>(w.ases.size());  // private-use ASNs (RFC 6996)
      as.org = org;
      as.country = country;
      as.kind = kind;
      as.first = first;
      as.last = last;
      w.ases.push_back(as);
      return;
    }
  };
  size_t stem = 0;
  auto org_name = [&](const auto& forms) {
    std::string s = fmt::format("{} {}", kStems[stem % kStems.size()],
                                forms[(stem / kStems.size() + stem) % forms.size()]);
    ++stem;
    return s;
  };
  for (size_t i = 0; i < kHostingCountries.size(); ++i)
    place(AsKind::kHosting, kHostingCountries[i], i < 3 ? 14 : 16, org_name(kHostingForms));
  for (int i = 0; i < 4; ++i)
    place(AsKind::kResidential, options.country, 14, org_name(kResidentialForms));
  for (const char* c : kCountries) {
    if (c == options.country) continue;
    for (int i = 0; i < 2; ++i) place(AsKind::kResidential, c, 15, org_name(kResidentialForms));
  }
  for (int i = 0; i < 12; ++i) {
    const std::string c = i < 4 ? options.country : kCountries[rng.below(kCountries.size())];
    place(AsKind::kBusiness, c, 20, org_name(kBusinessForms));
  }

  // Popular external services: the three big clouds hold most SaaS endpoints.
  for (int i = 0; i < 300; ++i) {
    const As& as =
        i % 4 != 3 ? w.ases[static_cast<size_t>(i % 3)] : w.random_as(AsKind::kHosting, rng);
    w.saas.push_back(as.random_addr(rng));
  }
  for (int i = 0; i < 4; ++i) w.vendor_clouds.push_back(w.random_external(AsKind::kHosting, rng));
  for (int i = 0; i < 2; ++i) w.dns_forwarders.push_back(w.ases[0].random_addr(rng));
  for (int i = 0; i < 4; ++i) w.ntp_servers.push_back(w.random_external(AsKind::kHosting, rng));
  for (int i = 0; i < 6; ++i) w.update_servers.push_back(w.random_external(AsKind::kHosting, rng));
  for (int i = 0; i < 2000; ++i) {
    w.mail_relays.push_back(
        w.random_external(i % 3 == 0 ? AsKind::kHosting : AsKind::kBusiness, rng));
  }

  std::sort(w.ases.begin(), w.ases.end(),
            [](const As& a, const As& b) { return a.first < b.first; });

  // The organisation.
  auto add = [&](std::string name, uint32_t addr, std::string zone, std::string kind) {
    w.hosts.push_back({std::move(name), IpAddr::v4(addr), std::move(zone), std::move(kind)});
    return static_cast<uint32_t>(w.hosts.size() - 1);
  };
  constexpr uint32_t k10 = 10u << 24;
  w.edge_exporter = IpAddr::v4(k10 | 20u << 16 | 1);
  w.core_exporter = IpAddr::v4(k10 | 20u << 16 | 2);
  w.vpn_gw = add("vpn-gw", k10 | 20u << 16 | 1u << 8 | 1, "dmz", "vpn");
  w.mail = add("mail", k10 | 20u << 16 | 1u << 8 | 25, "dmz", "mail");
  w.web = add("web", k10 | 20u << 16 | 1u << 8 | 80, "dmz", "web");
  w.firewall = add("firewall", k10 | 20u << 16 | 1u << 8 | 254, "dmz", "firewall");
  w.resolver = add("resolver", k10 | 20u << 16 | 2u << 8 | 53, "servers", "server");
  const uint32_t n = std::max<uint32_t>(options.hosts, 10);
  for (uint32_t i = 0; i < std::clamp<uint32_t>(n / 50, 4, 100); ++i)
    w.servers.push_back(add(fmt::format("srv-{:02}", i + 1), k10 | 20u << 16 | 2u << 8 | (10 + i),
                            "servers", "server"));
  for (uint32_t i = 0; i < std::clamp<uint32_t>(n / 20, 4, 90); ++i)
    w.cameras.push_back(add(fmt::format("cam-{:02}", i + 1), k10 | 20u << 16 | 5u << 8 | (10 + i),
                            "iot", "camera"));
  w.nvr = add("nvr", k10 | 20u << 16 | 5u << 8 | 100, "iot", "camera");
  w.nas = add("nas", k10 | 20u << 16 | 5u << 8 | 200, "iot", "nas");
  for (uint32_t i = 0; i < std::clamp<uint32_t>(n / 50, 3, 250); ++i)
    w.branch_routers.push_back(add(fmt::format("branch-{:02}", i + 1),
                                   k10 | 40u << 16 | (i + 1) << 8 | 1, "branch", "router"));
  for (uint32_t i = 0; i < n; ++i) {
    w.workstations.push_back(add(fmt::format("ws-{:04}", i + 1),
                                 k10 | 21u << 16 | (i / 250) << 8 | (i % 250 + 1), "corp",
                                 "workstation"));
  }
  w.admins.assign(w.workstations.begin(), w.workstations.begin() + 3);

  // Remote-access users: about one in seven, from a stable home address in the home country.
  for (uint32_t i = 0; i < n; ++i) {
    if (rng.below(7) != 0) continue;
    RemoteUser u;
    u.workstation = w.workstations[i];
    u.home = w.random_external(AsKind::kResidential, rng, 1);
    u.travel =
        w.random_external(rng.chance(0.5) ? AsKind::kResidential : AsKind::kBusiness, rng, 0);
    w.remote_users.push_back(u);
  }
  return w;
}

std::string World::model_toml() const {
  std::string s = fmt::format(
      "# Network model of the simulated organisation (orbwatch simulate --seed {} --hosts {}).\n"
      "[network]\ninternal = [\"10.0.0.0/8\"]\n\n"
      "[zones]\ndmz = [\"10.20.1.0/24\"]\nservers = [\"10.20.2.0/24\"]\niot = [\"10.20.5.0/24\"]\n"
      "corp = [\"10.21.0.0/16\"]\nbranch = [\"10.40.0.0/16\"]\n\n[lists]\nadmins = [",
      options.seed, options.hosts);
  for (size_t i = 0; i < admins.size(); ++i)
    s += fmt::format("{}\"{}\"", i ? ", " : "", hosts[admins[i]].addr.to_string());
  s += "]\n";
  auto asset = [&](uint32_t h, const char* services, const char* extra) {
    s += fmt::format("\n[[assets]]\nname = \"{}\"\naddress = \"{}\"\nkind = \"{}\"\n",
                     hosts[h].name, hosts[h].addr.to_string(), hosts[h].kind);
    if (*services) s += fmt::format("services = [{}]\n", services);
    s += extra;
  };
  asset(vpn_gw, R"("tcp/443", "udp/500", "udp/4500")", "criticality = \"critical\"\n");
  asset(mail, R"("tcp/25", "tcp/587", "tcp/993")", "");
  asset(web, R"("tcp/80", "tcp/443")", "");
  asset(firewall, R"("tcp/22", "tcp/443")",
        "criticality = \"critical\"\nallow_from = [\"list:admins\"]\n");
  asset(resolver, R"("udp/53", "tcp/53")", "");
  for (uint32_t h : servers) asset(h, R"("tcp/443", "tcp/445")", "");
  for (uint32_t h : cameras) asset(h, "", "");
  asset(nvr, R"("tcp/554")", "");
  asset(nas, R"("tcp/445", "tcp/5001")", "");
  for (uint32_t h : branch_routers) asset(h, R"("udp/500", "udp/4500")", "");
  s += "\n[[segmentation]]\nfrom = \"iot\"\nto = \"corp\"\naction = \"deny\"\n";
  s += "\n[[segmentation]]\nfrom = \"iot\"\nto = \"external\"\n"
       "services = [\"tcp/443\", \"udp/123\", \"udp/53\"]\naction = \"allow\"\n";
  return s;
}

namespace {
std::string v4_text(uint32_t v) {
  return IpAddr::v4(v).to_string();
}
}  // namespace

std::string World::asn_csv() const {
  std::string s;
  for (const As& a : ases)
    s += fmt::format("{},{},{},{}\n", v4_text(a.first), v4_text(a.last), a.asn, a.org);
  return s;
}

std::string World::country_csv() const {
  std::string s;
  for (const As& a : ases)
    s += fmt::format("{},{},{}\n", v4_text(a.first), v4_text(a.last), a.country);
  return s;
}

}  // namespace orbwatch::sim
