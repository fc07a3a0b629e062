// What an internal host is, for the behavioural detectors (scan, relay, egress): edge and IoT
// devices (VPN gateways, firewalls, routers, cameras, NAS, other IoT in the network model, or any
// address the edge inventory saw answering the internet) should never scan, relay or start
// sessions to places they never went before.
#pragma once

#include <string>

#include "detect/detector.h"

namespace orbwatch::detect {

// Whether `addr` (at `place`) is an edge or IoT device.
inline bool is_edge_device(const EnrichedFlow& f, const netmodel::Place& place,
                           const IpAddr& addr) {
  if (place.asset >= 0) {
    using K = netmodel::AssetKind;
    switch (f.model.model().assets[static_cast<size_t>(place.asset)].kind) {
      case K::kVpn:
      case K::kFirewall:
      case K::kRouter:
      case K::kCamera:
      case K::kNas:
      case K::kIot:
        return true;
      default:
        break;
    }
  }
  return f.inventory != nullptr && f.inventory->devices().contains(addr);
}

// The model's asset name at `place`, or "".
inline std::string asset_name(const EnrichedFlow& f, const netmodel::Place& place) {
  return place.asset >= 0 ? f.model.model().assets[static_cast<size_t>(place.asset)].name
                          : std::string();
}

// Whether the record is a TCP attempt that got no answer: the initiator's opening packets only
// (SYN without ACK), or a bare reset.
inline bool failed_attempt(const FlowRecord& r) {
  return r.proto == 6 && (((r.tcp_flags & 0x02) && !(r.tcp_flags & 0x10)) || r.tcp_flags == 0x04);
}

}  // namespace orbwatch::detect
