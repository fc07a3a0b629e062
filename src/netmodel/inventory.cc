#include "netmodel/inventory.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace orbwatch::netmodel {

namespace {
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr unsigned kBits = 1024;

bool has(const std::vector<std::pair<uint8_t, uint16_t>>& s, uint8_t proto, uint16_t port) {
  return std::find(s.begin(), s.end(), std::make_pair(proto, port)) != s.end();
}
}  // namespace

void ServiceRecord::add_peer(const IpAddr& peer) {
  const size_t h = IpAddrHash{}(peer) % kBits;
  peer_bits[h / 64] |= uint64_t{1} << (h % 64);
}

uint64_t ServiceRecord::peers() const {
  unsigned set = 0;
  for (uint64_t w : peer_bits) set += static_cast<unsigned>(std::popcount(w));
  if (set == kBits) return 7 * kBits;  // saturated: "at least" this many
  // Linear counting (Whang et al. 1990): n ~ -m ln(empty / m).
  const double m = kBits;
  return static_cast<uint64_t>(std::llround(-m * std::log((m - set) / m)));
}

Observation EdgeInventory::observe(const ServiceKey& key, const IpAddr& peer, int64_t start_ms,
                                   int64_t end_ms, uint64_t bytes) {
  Observation o;
  o.edge = true;
  if (learning_start_ms_ == 0 || start_ms < learning_start_ms_) learning_start_ms_ = start_ms;
  auto it = services_.find(key);
  if (it == services_.end()) {
    if (services_.size() >= max_services_) {
      ++dropped_;
      o.edge = false;
      return o;
    }
    it = services_.emplace(key, ServiceRecord{start_ms, end_ms, 0, 0, {}}).first;
    o.new_service = true;
  }
  ServiceRecord& s = it->second;
  s.first_seen_ms = std::min(s.first_seen_ms, start_ms);
  s.last_seen_ms = std::max(s.last_seen_ms, end_ms);
  s.flows += 1;
  s.bytes += bytes;
  s.add_peer(peer);
  auto [dev, fresh] = devices_.try_emplace(key.addr, DeviceRecord{start_ms, end_ms});
  o.new_device = fresh;
  dev->second.first_seen_ms = std::min(dev->second.first_seen_ms, start_ms);
  dev->second.last_seen_ms = std::max(dev->second.last_seen_ms, end_ms);
  o.device_first_seen_ms = dev->second.first_seen_ms;
  return o;
}

void EdgeInventory::observe_exporter(const IpAddr& exporter, int64_t ts_ms) {
  auto it = exporters_.find(exporter);
  if (it == exporters_.end()) {
    if (exporters_.size() >= max_exporters_) {
      ++dropped_;
      return;
    }
    it = exporters_.emplace(exporter, ExporterRecord{ts_ms, ts_ms, 0}).first;
  }
  it->second.first_seen_ms = std::min(it->second.first_seen_ms, ts_ms);
  it->second.last_seen_ms = std::max(it->second.last_seen_ms, ts_ms);
  it->second.flows += 1;
}

void EdgeInventory::put(const ServiceKey& k, const ServiceRecord& r) {
  services_[k] = r;
}

std::vector<std::string> device_kind_hints(const std::vector<std::pair<uint8_t, uint16_t>>& s) {
  std::vector<std::string> out;
  if (has(s, kUdp, 500) || has(s, kUdp, 4500) || has(s, kUdp, 1194) || has(s, kTcp, 1194) ||
      has(s, kUdp, 51820)) {
    out.emplace_back("vpn");
  }
  if (has(s, kTcp, 8291) || has(s, kTcp, 7547) || has(s, kTcp, 23) || has(s, kTcp, 8728) ||
      (has(s, kTcp, 22) && (has(s, kTcp, 80) || has(s, kTcp, 443) || has(s, kTcp, 8080)))) {
    out.emplace_back("router-admin");
  }
  if (has(s, kTcp, 554) || has(s, kTcp, 8000) || has(s, kTcp, 37777)) {
    out.emplace_back("camera-nvr");
  }
  if (has(s, kTcp, 25) || has(s, kTcp, 465) || has(s, kTcp, 587) || has(s, kTcp, 993)) {
    out.emplace_back("mail");
  }
  if (out.empty() && (has(s, kTcp, 80) || has(s, kTcp, 443))) out.emplace_back("web");
  if (has(s, kTcp, 7777) || has(s, kTcp, 63256)) out.emplace_back("backdoor-quad7");
  return out;
}

bool is_backdoor_port(uint8_t proto, uint16_t port) {
  return proto == kTcp && (port == 7777 || port == 63256);
}

bool is_management_port(uint8_t proto, uint16_t port) {
  if (proto == kUdp) return port == 161;  // SNMP
  if (proto != kTcp) return false;
  switch (port) {
    case 22:    // SSH
    case 23:    // telnet
    case 2323:  // telnet, alternative
    case 3389:  // RDP
    case 5900:  // VNC
    case 5985:  // WinRM
    case 5986:
    case 7547:  // TR-069 / CWMP
    case 8291:  // MikroTik winbox
    case 8728:  // RouterOS API
    case 8729:
    case 10000:  // Webmin
      return true;
    default:
      return false;
  }
}

}  // namespace orbwatch::netmodel
