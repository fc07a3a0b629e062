#include "detect/flow_role.h"

#include <algorithm>
#include <array>

namespace orbwatch::detect {

namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kIcmp = 1;
constexpr uint8_t kIcmp6 = 58;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kAck = 0x10;
constexpr uint16_t kEphemeralLow = 32768;  // Linux's default ip_local_port_range starts here

// Registered services above 1023 that edge devices and servers listen on (sorted).
constexpr std::array<uint16_t, 44> kServicePorts = {
    1080, 1194, 1433, 1521, 1701, 1723, 1812, 1883, 2049, 2082, 2083, 2375,  2376,  3128, 3306,
    3389, 4433, 4443, 4500, 5060, 5061, 5432, 5900, 5985, 5986, 6379, 7547,  8000,  8008, 8080,
    8081, 8088, 8291, 8443, 8728, 8729, 8883, 8888, 9000, 9090, 9200, 10443, 27017, 37777};

}  // namespace

bool is_service_port(uint8_t proto, uint16_t port) {
  if (proto != kTcp && proto != kUdp) return false;
  if (port != 0 && port < 1024) return true;
  if (proto == kUdp && port == 51820) return true;  // WireGuard
  return std::binary_search(kServicePorts.begin(), kServicePorts.end(), port);
}

bool responder_answered(const FlowRecord& r, Initiator initiator) {
  constexpr uint8_t kRst = 0x04;
  if (initiator == Initiator::kDst) {
    return r.packets != 0 && !(r.proto == kTcp && (r.tcp_flags & kRst) && !(r.tcp_flags & kSyn));
  }
  if (initiator == Initiator::kSrc && r.proto == kTcp) {
    return (r.tcp_flags & (kSyn | kAck)) == (kSyn | kAck);
  }
  return false;
}

Initiator guess_initiator(const FlowRecord& r) {
  if (r.proto == kTcp && (r.tcp_flags & (kSyn | kAck)) == kSyn) return Initiator::kSrc;
  if (r.flags & flow_flags::kBiflowForward) return Initiator::kSrc;
  if (r.flags & flow_flags::kBiflowReverse) return Initiator::kDst;
  if (r.proto == kIcmp || r.proto == kIcmp6) {
    const unsigned type = r.dst_port >> 8;
    if ((r.proto == kIcmp && type == 8) || (r.proto == kIcmp6 && type == 128)) {
      return Initiator::kSrc;
    }
    if ((r.proto == kIcmp && type == 0) || (r.proto == kIcmp6 && type == 129)) {
      return Initiator::kDst;
    }
    return Initiator::kUnknown;
  }
  if (r.proto != kTcp && r.proto != kUdp) return Initiator::kUnknown;
  const bool src_service = is_service_port(r.proto, r.src_port);
  const bool dst_service = is_service_port(r.proto, r.dst_port);
  if (dst_service && !src_service) return Initiator::kSrc;
  if (src_service && !dst_service) return Initiator::kDst;
  if (r.src_port == r.dst_port) return Initiator::kUnknown;
  if (src_service && dst_service) {
    return r.src_port > r.dst_port ? Initiator::kSrc : Initiator::kDst;
  }
  // Two unregistered ports: the one in the ephemeral range is the client's.
  if (r.src_port >= kEphemeralLow && r.dst_port < kEphemeralLow) return Initiator::kSrc;
  if (r.dst_port >= kEphemeralLow && r.src_port < kEphemeralLow) return Initiator::kDst;
  return Initiator::kUnknown;
}

const IpAddr& state_host(const FlowRecord& r, const netmodel::ModelIndex& model) {
  const bool si = model.place(r.src).internal;
  const bool di = model.place(r.dst).internal;
  if (si != di) return si ? r.src : r.dst;
  switch (guess_initiator(r)) {
    case Initiator::kSrc:
      return r.src;
    case Initiator::kDst:
      return r.dst;
    case Initiator::kUnknown:
      break;
  }
  return r.src < r.dst ? r.src : r.dst;
}

}  // namespace orbwatch::detect
