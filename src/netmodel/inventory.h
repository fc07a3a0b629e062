// EdgeInventory: the edge devices orbwatch discovers from flows — internal addresses that answer
// connections from outside — with the services they answer on, and the flow exporters. It is the
// baseline the exposure detector compares against, and what `orbwatch inventory` lists.
//
// A service is recorded when an external initiator reached an internal responder and the
// responder answered (detect/flow_role.h judges both). Distinct external peers per service are
// estimated by linear counting over a 1024-bit map (exact to a few percent up to ~2000 peers, in
// 128 bytes). Memory is capped: past max_services, new services are not recorded, only counted
// (the inventory is a baseline, so nothing already in it is evicted).
//
// Threading: one owner thread; persistence through inventory_store.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ip_addr.h"

namespace orbwatch::netmodel {

struct ServiceKey {
  IpAddr addr;
  uint8_t proto = 0;
  uint16_t port = 0;
  friend bool operator==(const ServiceKey&, const ServiceKey&) = default;
};
struct ServiceKeyHash {
  size_t operator()(const ServiceKey& k) const noexcept {
    return IpAddrHash{}(k.addr) ^ (size_t{k.proto} << 16 | k.port) * 0x9E3779B97F4A7C15ull;
  }
};

struct ServiceRecord {
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  uint64_t flows = 0;
  uint64_t bytes = 0;
  std::array<uint64_t, 16> peer_bits{};  // linear-counting map of external peers
  void add_peer(const IpAddr& peer);
  uint64_t peers() const;  // the estimate
};

struct DeviceRecord {
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
};

struct ExporterRecord {
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  uint64_t flows = 0;
};

// What one observed flow meant for the inventory.
struct Observation {
  bool edge = false;         // an external initiator was answered by an internal responder
  bool new_device = false;   // the responder was not in the inventory before
  bool new_service = false;  // this (responder, proto, port) was not in it before
  int64_t device_first_seen_ms = 0;
};

class EdgeInventory {
 public:
  explicit EdgeInventory(size_t max_services = 100'000, size_t max_exporters = 10'000)
      : max_services_(max_services), max_exporters_(max_exporters) {}

  Observation observe(const ServiceKey& service, const IpAddr& peer, int64_t start_ms,
                      int64_t end_ms, uint64_t bytes);
  void observe_exporter(const IpAddr& exporter, int64_t ts_ms);

  // When the inventory started learning (the first flow it saw, in event time); 0: none yet.
  int64_t learning_start_ms() const { return learning_start_ms_; }
  void set_learning_start_ms(int64_t ms) { learning_start_ms_ = ms; }
  uint64_t dropped() const { return dropped_; }  // services or exporters past the caps

  const std::unordered_map<ServiceKey, ServiceRecord, ServiceKeyHash>& services() const {
    return services_;
  }
  const std::unordered_map<IpAddr, DeviceRecord, IpAddrHash>& devices() const { return devices_; }
  const std::unordered_map<IpAddr, ExporterRecord, IpAddrHash>& exporters() const {
    return exporters_;
  }
  // Loading from the store: replaces or adds entries as they were saved.
  void put(const ServiceKey& k, const ServiceRecord& r);
  void put_device(const IpAddr& a, const DeviceRecord& r) { devices_[a] = r; }
  void put_exporter(const IpAddr& a, const ExporterRecord& r) { exporters_[a] = r; }

 private:
  size_t max_services_;
  size_t max_exporters_;
  int64_t learning_start_ms_ = 0;
  uint64_t dropped_ = 0;
  std::unordered_map<ServiceKey, ServiceRecord, ServiceKeyHash> services_;
  std::unordered_map<IpAddr, DeviceRecord, IpAddrHash> devices_;
  std::unordered_map<IpAddr, ExporterRecord, IpAddrHash> exporters_;
};

// What a device's services suggest it is: "vpn", "router-admin", "camera-nvr", "mail", "web",
// "backdoor-quad7" (tcp/7777 xlogin, tcp/63256 alogin). Several may apply; empty when none.
std::vector<std::string> device_kind_hints(
    const std::vector<std::pair<uint8_t, uint16_t>>& services);

// Known covert-network backdoor listeners and management services: exposure alerts on sight.
bool is_backdoor_port(uint8_t proto, uint16_t port);
bool is_management_port(uint8_t proto, uint16_t port);

}  // namespace orbwatch::netmodel
