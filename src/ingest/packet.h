// Parsing one captured packet (L2..L4) into the fields a flow meter and the sFlow decoder need.
// Pure and bounds-checked: works on truncated (snaplen-cut) packets as far as the bytes go.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/ip_addr.h"

namespace orbwatch::ingest {

// Where the packet starts. Values follow libpcap DLT/LINKTYPE numbers where one exists.
enum class LinkType : uint16_t {
  kNull = 0,  // BSD loopback: 4-byte host-order address family
  kEthernet = 1,
  kRaw = 101,  // raw IP, version from the first nibble (also DLT_RAW 12/14 mapped here)
  kLinuxSll = 113,
  kLoop = 108,  // OpenBSD loopback: 4-byte network-order address family
  kLinuxSll2 = 276,
  kIpv4 = 228,
  kIpv6 = 229,
};

enum class PacketStatus : uint8_t {
  kOk,         // L3 parsed; L4 parsed when the protocol is TCP/UDP/ICMP and bytes allow
  kNotIp,      // ARP, LLDP, ...: not an error, just not metered
  kTruncated,  // cut before the L3 header ends
  kMalformed,  // impossible lengths, bad version nibble, invalid MPLS stack, ...
};

struct PacketInfo {
  IpAddr src;
  IpAddr dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;  // ICMP/ICMPv6: type << 8 | code (NetFlow convention)
  uint8_t proto = 0;      // final upper-layer protocol after IPv6 extension headers
  uint8_t tcp_flags = 0;
  uint8_t tos = 0;         // IPv4 TOS / IPv6 traffic class
  uint8_t ip_version = 0;  // 4 or 6
  uint8_t ttl = 0;
  uint16_t vlan = 0;       // outermost 802.1Q/802.1ad VLAN id, 0 = none
  uint32_t ip_len = 0;     // L3 length from the IP header (total length incl. header)
  uint32_t l3_offset = 0;  // where that IP header starts in the frame
  // Fragments: is_fragment when MF set or offset != 0; l4 fields only on the first one.
  bool is_fragment = false;
  bool first_fragment = false;
  uint32_t frag_id = 0;   // IPv4 id or IPv6 fragment header identification
  bool l4_valid = false;  // ports/flags were read from a complete L4 header
  // Captured L4 payload (after the TCP/UDP header), limited to what the capture holds.
  const uint8_t* payload = nullptr;
  size_t payload_len = 0;
  uint32_t tcp_seq = 0;
};

// Parses `data[0..caplen)` starting at `link`. Follows Ethernet, 802.1Q/QinQ (0x8100, 0x88a8,
// 0x9100), MPLS label stacks (guessing IPv4/IPv6 from the nibble after the bottom label), PPPoE
// session, IPv4 (with options), IPv6 (with extension headers), then TCP/UDP/ICMP/ICMPv6.
PacketStatus parse_packet(const uint8_t* data, size_t caplen, LinkType link, PacketInfo& out);

}  // namespace orbwatch::ingest
