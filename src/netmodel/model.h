// The network model: what orbwatch knows about the network it watches, from the config file's
// [network], [zones], [lists], [[assets]] and [[segmentation]] tables (docs/configuration.md).
// Plain data, validated when read; model_index.h compiles it for per-flow classification.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.h"
#include "core/ip_addr.h"

namespace orbwatch::netmodel {

// "tcp/443", "udp/500", "icmp" (proto only: port 0 means any).
struct Service {
  uint8_t proto = 0;
  uint16_t port = 0;
  friend bool operator==(const Service&, const Service&) = default;
  bool covers(uint8_t p, uint16_t port_) const {
    return proto == p && (port == 0 || port == port_);
  }
};
std::optional<Service> parse_service(std::string_view text);
std::string service_text(const Service& s);

enum class AssetKind : uint8_t {
  kOther,
  kVpn,
  kFirewall,
  kRouter,
  kMail,
  kWeb,
  kCamera,
  kNas,
  kIot,
  kServer,
  kWorkstation,
};
const char* asset_kind_name(AssetKind k);
std::optional<AssetKind> parse_asset_kind(std::string_view name);

// Who may connect: a prefix, "zone:NAME" or "list:NAME".
struct SourceRef {
  enum class Kind : uint8_t { kPrefix, kZone, kList };
  Kind kind = Kind::kPrefix;
  Prefix prefix;
  std::string name;
};

struct Zone {
  std::string name;
  std::vector<Prefix> prefixes;
  uint32_t line = 0;
};

struct NamedList {
  std::string name;
  std::vector<Prefix> prefixes;
  uint32_t line = 0;
};

// An allow-list for some of an asset's services (all of them when `services` is empty).
struct AllowRule {
  std::vector<Service> services;
  std::vector<SourceRef> from;
};

struct Asset {
  std::string name;
  std::vector<Prefix> addresses;
  AssetKind kind = AssetKind::kOther;
  std::vector<Service> services;  // what it offers; empty: not stated
  Severity criticality = Severity::kMedium;
  std::string owner;
  // allow_from (every service) and allow (per service): only these may connect. When both say
  // something about a service, the per-service list wins.
  std::vector<AllowRule> allow;
  uint32_t line = 0;
};

struct SegmentationRule {
  std::string from;  // zone names
  std::string to;
  std::vector<Service> services;  // empty: every service
  bool allow = false;
  uint32_t line = 0;
};

// [inventory]: how much of the edge the inventory holds.
struct InventoryLimits {
  size_t max_services = 100'000;
  size_t max_exporters = 10'000;
};

struct Model {
  std::string path;  // the file it came from
  InventoryLimits inventory;
  std::vector<Prefix> internal;
  std::vector<Zone> zones;
  std::vector<NamedList> lists;
  std::vector<Asset> assets;
  std::vector<SegmentationRule> segmentation;
  bool empty() const {
    return internal.empty() && zones.empty() && assets.empty() && segmentation.empty();
  }
};

// Reads the model's tables of an orbwatch TOML config file (other tables belong to other modules
// and are not looked at). nullopt when anything is wrong; `errors` then holds one line per
// problem, naming the file, line, key and what was expected:
//   orbwatch.toml:14: assets[1].services[2]: expected a service like "tcp/443", got "tcp/http"
std::optional<Model> load_model(const std::string& path, std::vector<std::string>& errors);
std::optional<Model> parse_model(std::string_view text, const std::string& path,
                                 std::vector<std::string>& errors);

}  // namespace orbwatch::netmodel
