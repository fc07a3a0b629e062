// The information-element table: IANA IPFIX registry ids (which equal NetFlow v9 field types
// for ids < 128), RFC 5103 reverse elements (PEN 29305), and the few vendor elements whose
// meaning orbwatch uses. Everything else is skipped by length.
#include <array>

#include "ingest/field_op.h"

namespace orbwatch::ingest {

namespace {

constexpr uint32_t kPenReverse = 29305;  // RFC 5103 reverse information elements
constexpr uint32_t kPenCert = 6871;      // CERT/YAF
constexpr uint32_t kPenJuniper = 2636;
constexpr uint32_t kPenNtop = 35632;  // nProbe (IPFIX); in NetFlow v9 as types 57472 + id
constexpr uint16_t kNtopV9Base = 57472;

struct Entry {
  uint16_t id;
  IeInfo info;
};

using O = FieldOp;
constexpr Entry kIana[] = {
    {1, {O::kBytes}},             // octetDeltaCount
    {2, {O::kPackets}},           // packetDeltaCount
    {4, {O::kProto, 1}},          // protocolIdentifier
    {5, {O::kTos, 1}},            // ipClassOfService
    {6, {O::kTcpFlags}},          // tcpControlBits (1 byte in v9, 2 in IPFIX)
    {7, {O::kSrcPort, 2}},        // sourceTransportPort
    {8, {O::kSrcV4, 4}},          // sourceIPv4Address
    {9, {O::kSrcMask, 1}},        // sourceIPv4PrefixLength
    {10, {O::kInIf}},             // ingressInterface
    {11, {O::kDstPort, 2}},       // destinationTransportPort
    {12, {O::kDstV4, 4}},         // destinationIPv4Address
    {13, {O::kDstMask, 1}},       // destinationIPv4PrefixLength
    {14, {O::kOutIf}},            // egressInterface
    {16, {O::kSrcAs}},            // bgpSourceAsNumber
    {17, {O::kDstAs}},            // bgpDestinationAsNumber
    {21, {O::kLastUptime}},       // flowEndSysUpTime
    {22, {O::kFirstUptime}},      // flowStartSysUpTime
    {23, {O::kBytesAlt}},         // postOctetDeltaCount (v9 OUT_BYTES)
    {24, {O::kPacketsAlt}},       // postPacketDeltaCount (v9 OUT_PKTS)
    {27, {O::kSrcV6, 16}},        // sourceIPv6Address
    {28, {O::kDstV6, 16}},        // destinationIPv6Address
    {29, {O::kSrcMask, 1}},       // sourceIPv6PrefixLength
    {30, {O::kDstMask, 1}},       // destinationIPv6PrefixLength
    {32, {O::kIcmpTypeCode, 2}},  // icmpTypeCodeIPv4
    {34, {O::kSamplingInterval}},
    {35, {O::kSamplingAlgorithm}},
    {48, {O::kSamplerId}},  // samplerId (v9 FLOW_SAMPLER_ID, often 1 byte)
    {50, {O::kSamplerRandomInterval}},
    {58, {O::kVlan, 2}},           // vlanId
    {61, {O::kDirection, 1}},      // flowDirection
    {85, {O::kBytesAlt}},          // octetTotalCount
    {86, {O::kPacketsAlt}},        // packetTotalCount
    {139, {O::kIcmpTypeCode, 2}},  // icmpTypeCodeIPv6
    {150, {O::kStartSec, 4}},
    {151, {O::kEndSec, 4}},
    {152, {O::kStartMs, 8}},
    {153, {O::kEndMs, 8}},
    {154, {O::kStartUs, 8}},  // dateTimeMicroseconds: NTP format (RFC 7011 6.1.9)
    {155, {O::kEndUs, 8}},
    {156, {O::kStartNs, 8}},
    {157, {O::kEndNs, 8}},
    {158, {O::kStartDeltaUs, 4}},
    {159, {O::kEndDeltaUs, 4}},
    {160, {O::kSystemInitMs, 8}},
    {161, {O::kDurationMs, 4}},
    {162, {O::kDurationUs, 4}},
    {231, {O::kBytesAlt}},    // initiatorOctets (Cisco NSEL forward bytes)
    {232, {O::kRevBytes}},    // responderOctets
    {243, {O::kVlan, 2}},     // dot1qVlanId
    {298, {O::kPacketsAlt}},  // initiatorPackets
    {299, {O::kRevPackets}},  // responderPackets
    {302, {O::kSamplerId}},   // selectorId
    {305, {O::kSamplingPacketInterval}},
    {306, {O::kSamplingPacketSpace}},
    {309, {O::kSamplingSize}},
    {310, {O::kSamplingPopulation}},
    {312, {O::kFrameSize}},              // dataLinkFrameSize
    {315, {O::kFrameSection, 0, true}},  // dataLinkFrameSection: the frame's first bytes
};

// RFC 5103: the same ids under PEN 29305 mean "in the reverse direction".
constexpr Entry kReverse[] = {
    {1, {O::kRevBytes}},      {2, {O::kRevPackets}},  {6, {O::kRevTcpFlags}},
    {85, {O::kRevBytes}},     {86, {O::kRevPackets}}, {152, {O::kRevStartMs, 8}},
    {153, {O::kRevEndMs, 8}},
};

constexpr Entry kCert[] = {
    {14, {O::kInitTcpFlags, 1}},         // initialTCPFlags
    {15, {O::kUnionTcpFlags, 1}},        // unionTCPFlags
    {21, {O::kRevDeltaMs, 4}},           // reverseFlowDeltaMilliseconds
    {16398, {O::kRevInitTcpFlags, 1}},   // reverseInitialTCPFlags (0x4000 | 14)
    {16399, {O::kRevUnionTcpFlags, 1}},  // reverseUnionTCPFlags
};

constexpr Entry kJuniper[] = {
    {157, {O::kServerName, 0, true}},  // HTTP Host (Junos traffic-direction logging, PEN 2636)
};

// nProbe's names for domain indicators (ids as Wireshark's cflow dissector names them).
constexpr Entry kNtop[] = {
    {122, {O::kServerName, 0, true}},  // FLOW_SERVER_NAME
    {187, {O::kServerName, 0, true}},  // HTTP_HOST
    {188, {O::kServerName, 0, true}},  // SSL_SERVER_NAME (TLS SNI)
    {205, {O::kServerName, 0, true}},  // DNS_QUERY
};

constexpr auto kIanaIndex = [] {
  std::array<IeInfo, 512> t{};
  for (const auto& e : kIana) t[e.id] = e.info;
  return t;
}();

template <size_t N>
IeInfo find(const Entry (&table)[N], uint16_t id) {
  for (const auto& e : table) {
    if (e.id == id) return e.info;
  }
  return {};
}

}  // namespace

IeInfo lookup_ie(uint32_t pen, uint16_t id) {
  switch (pen) {
    case 0:
      if (id >= kNtopV9Base) return find(kNtop, static_cast<uint16_t>(id - kNtopV9Base));
      return id < kIanaIndex.size() ? kIanaIndex[id] : IeInfo{};
    case kPenReverse:
      return find(kReverse, id);
    case kPenCert:
      return find(kCert, id);
    case kPenJuniper:
      return find(kJuniper, id);
    case kPenNtop:
      return find(kNtop, id);
    default:
      return {};
  }
}

}  // namespace orbwatch::ingest
