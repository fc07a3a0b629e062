// Packet parsing, L2 to L4. Every read is checked against caplen; truncated packets fill what
// their bytes allow and say how far they got.
//
// Tunnels (GRE, IP-in-IP, IPv6-in-IPv4, VXLAN, ...) are deliberately NOT followed: the outer
// header is what crossed the monitored link and what NetFlow exporters report, and following a
// tunnel would let one packet pick whichever inner addresses an attacker chose.
#include "ingest/packet.h"

#include <algorithm>

#include "core/byte_reader.h"

namespace orbwatch::ingest {
namespace {

constexpr int kMaxVlanTags = 8;
constexpr int kMaxMplsLabels = 16;      // deepest real stacks are ~5; past this it is garbage
constexpr int kMaxEthernetNesting = 4;  // EoMPLS inside EoMPLS ...
constexpr int kMaxIpv6ExtHeaders = 16;

constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthVlan = 0x8100;
constexpr uint16_t kEthQinq = 0x88a8;
constexpr uint16_t kEthQinqOld = 0x9100;
constexpr uint16_t kEthMplsUc = 0x8847;
constexpr uint16_t kEthMplsMc = 0x8848;
constexpr uint16_t kEthPppoeSession = 0x8864;

class Parser {
 public:
  Parser(const uint8_t* data, size_t caplen, PacketInfo& out) : p_(data), n_(caplen), out_(out) {}

  PacketStatus link(LinkType link, size_t off) {
    switch (link) {
      case LinkType::kEthernet:
        return ethernet(off, 0);
      case LinkType::kRaw:
        return raw_ip(off);
      case LinkType::kIpv4:
        return ipv4(off);
      case LinkType::kIpv6:
        return ipv6(off);
      case LinkType::kNull: {
        // BSD loopback: AF in the writer's host order, so accept either order (the value is
        // small; a swapped one has its low 16 bits zero).
        if (!has(off, 4)) return PacketStatus::kTruncated;
        uint32_t af = load_be32(p_ + off);
        if ((af & 0xffff) == 0) af = __builtin_bswap32(af);
        return loopback_af(af, off + 4);
      }
      case LinkType::kLoop:
        if (!has(off, 4)) return PacketStatus::kTruncated;
        return loopback_af(load_be32(p_ + off), off + 4);
      case LinkType::kLinuxSll:
        // 16-byte cooked header, protocol type at offset 14.
        if (!has(off, 16)) return PacketStatus::kTruncated;
        return ethertype(load_be16(p_ + off + 14), off + 16, 0);
      case LinkType::kLinuxSll2:
        // 20-byte cooked header v2, protocol type first.
        if (!has(off, 20)) return PacketStatus::kTruncated;
        return ethertype(load_be16(p_ + off), off + 20, 0);
    }
    return PacketStatus::kMalformed;
  }

 private:
  bool has(size_t off, size_t len) const { return off <= n_ && n_ - off >= len; }

  PacketStatus loopback_af(uint32_t af, size_t off) {
    switch (af) {
      case 2:
        return ipv4(off);  // AF_INET everywhere
      case 24:
      case 28:
      case 30:
        return ipv6(off);  // AF_INET6: NetBSD/OpenBSD, FreeBSD, macOS
      default:
        return PacketStatus::kNotIp;
    }
  }

  PacketStatus raw_ip(size_t off) {
    if (!has(off, 1)) return PacketStatus::kTruncated;
    switch (p_[off] >> 4) {
      case 4:
        return ipv4(off);
      case 6:
        return ipv6(off);
      default:
        return PacketStatus::kMalformed;
    }
  }

  PacketStatus ethernet(size_t off, int nesting) {
    if (nesting > kMaxEthernetNesting) return PacketStatus::kMalformed;
    if (!has(off, 14)) return PacketStatus::kTruncated;
    uint16_t type = load_be16(p_ + off + 12);
    // Values up to 1500 are an 802.3 length (LLC/SNAP follows: STP, CDP, ...); 1501..1535 are
    // undefined. Neither carries metered IP here.
    if (type < 0x0600) return PacketStatus::kNotIp;
    return ethertype(type, off + 14, nesting);
  }

  PacketStatus ethertype(uint16_t type, size_t off, int nesting) {
    for (int tags = 0;; ++tags) {
      switch (type) {
        case kEthIpv4:
          return ipv4(off);
        case kEthIpv6:
          return ipv6(off);
        case kEthVlan:
        case kEthQinq:
        case kEthQinqOld: {
          if (tags >= kMaxVlanTags) return PacketStatus::kMalformed;
          if (!has(off, 4)) return PacketStatus::kTruncated;
          if (!vlan_seen_) {  // outermost tag: the one the switch port is in
            out_.vlan = load_be16(p_ + off) & 0x0fff;
            vlan_seen_ = true;
          }
          type = load_be16(p_ + off + 2);
          off += 4;
          continue;
        }
        case kEthMplsUc:
        case kEthMplsMc:
          return mpls(off, nesting);
        case kEthPppoeSession: {
          // RFC 2516: ver/type, code, session id, length, then the 2-byte PPP protocol.
          if (!has(off, 8)) return PacketStatus::kTruncated;
          uint16_t ppp = load_be16(p_ + off + 6);
          if (ppp == 0x0021) return ipv4(off + 8);
          if (ppp == 0x0057) return ipv6(off + 8);
          return PacketStatus::kNotIp;
        }
        default:
          return PacketStatus::kNotIp;
      }
    }
  }

  // RFC 3032 label stack. Nothing says what follows the bottom label, so guess from the first
  // nibble (RFC 4928 / RFC 4385: 4 = IPv4, 6 = IPv6, 0 = pseudowire control word).
  PacketStatus mpls(size_t off, int nesting) {
    for (int i = 0; i < kMaxMplsLabels; ++i) {
      if (!has(off, 4)) return PacketStatus::kTruncated;
      bool bottom = (p_[off + 2] & 0x01) != 0;
      off += 4;
      if (!bottom) continue;
      if (!has(off, 1)) return PacketStatus::kTruncated;
      switch (p_[off] >> 4) {
        case 4:
          return ipv4(off);
        case 6:
          return ipv6(off);
        case 0:
          // Ethernet pseudowire with its 4-byte control word (RFC 4448 4.6).
          if (!has(off, 4)) return PacketStatus::kTruncated;
          return ethernet(off + 4, nesting + 1);
        default:
          return PacketStatus::kMalformed;
      }
    }
    return PacketStatus::kMalformed;  // no bottom-of-stack within a sane depth
  }

  PacketStatus ipv4(size_t off) {
    out_.l3_offset = static_cast<uint32_t>(off);
    if (!has(off, 1)) return PacketStatus::kTruncated;
    const uint8_t* h = p_ + off;
    size_t avail = n_ - off;
    if ((h[0] >> 4) != 4) return PacketStatus::kMalformed;
    out_.ip_version = 4;
    size_t ihl = size_t{h[0] & 0x0fu} * 4;
    if (ihl < 20) return PacketStatus::kMalformed;
    // Fill the fixed header field by field so a snaplen-cut packet still says what it can.
    if (avail >= 2) out_.tos = h[1];
    if (avail >= 4) out_.ip_len = load_be16(h + 2);
    uint16_t frag = 0;
    if (avail >= 8) {
      out_.frag_id = load_be16(h + 4);
      frag = load_be16(h + 6);
      out_.is_fragment = (frag & 0x3fff) != 0;  // MF or a non-zero offset
      out_.first_fragment = out_.is_fragment && (frag & 0x1fff) == 0;
    }
    if (avail >= 9) out_.ttl = h[8];
    if (avail >= 10) out_.proto = h[9];
    if (avail >= 16) out_.src = IpAddr::v4_bytes(h + 12);
    if (avail >= 20) out_.dst = IpAddr::v4_bytes(h + 16);
    if (avail < ihl) return PacketStatus::kTruncated;
    size_t total = out_.ip_len;
    if (total == 0) {
      // TSO/LRO captures carry total length 0: use what was captured.
      total = avail;
      out_.ip_len = static_cast<uint32_t>(std::min<size_t>(avail, UINT32_MAX));
    }
    if (total < ihl) return PacketStatus::kMalformed;
    if ((frag & 0x1fff) != 0) return PacketStatus::kOk;  // later fragment: no L4 header
    l4(off + ihl, std::min(avail, total) - ihl);
    return PacketStatus::kOk;
  }

  PacketStatus ipv6(size_t off) {
    out_.l3_offset = static_cast<uint32_t>(off);
    if (!has(off, 1)) return PacketStatus::kTruncated;
    const uint8_t* h = p_ + off;
    size_t avail = n_ - off;
    if ((h[0] >> 4) != 6) return PacketStatus::kMalformed;
    out_.ip_version = 6;
    if (avail >= 2) out_.tos = static_cast<uint8_t>(((h[0] & 0x0f) << 4) | (h[1] >> 4));
    size_t payload = 0;
    if (avail >= 6) {
      payload = load_be16(h + 4);
      out_.ip_len = static_cast<uint32_t>(40 + payload);
    }
    uint8_t next = 0;
    if (avail >= 7) out_.proto = next = h[6];
    if (avail >= 8) out_.ttl = h[7];
    if (avail >= 24) out_.src = IpAddr::v6_bytes(h + 8);
    if (avail >= 40) out_.dst = IpAddr::v6_bytes(h + 24);
    if (avail < 40) return PacketStatus::kTruncated;
    if (payload == 0) {
      // Jumbogram (RFC 2675) or TSO capture: use what was captured.
      payload = avail - 40;
      out_.ip_len = static_cast<uint32_t>(std::min<size_t>(avail, UINT32_MAX));
    }
    size_t end = off + 40 + std::min(payload, avail - 40);
    size_t pos = off + 40;
    // RFC 8200 4: walk extension headers to the upper-layer protocol.
    for (int i = 0; i < kMaxIpv6ExtHeaders; ++i) {
      size_t len = 0;
      switch (next) {
        case 0:   // hop-by-hop options
        case 43:  // routing
        case 60:  // destination options
          if (!has(pos, 2) || pos + 2 > end) return PacketStatus::kTruncated;
          len = (size_t{p_[pos + 1]} + 1) * 8;
          break;
        case 51:  // AH (RFC 4302 2.2): length in 4-byte units minus 2
          if (!has(pos, 2) || pos + 2 > end) return PacketStatus::kTruncated;
          len = (size_t{p_[pos + 1]} + 2) * 4;
          break;
        case 44: {  // fragment (RFC 8200 4.5)
          if (!has(pos, 8) || pos + 8 > end) return PacketStatus::kTruncated;
          uint16_t fo = load_be16(p_ + pos + 2);
          out_.frag_id = load_be32(p_ + pos + 4);
          out_.is_fragment = (fo & 0xfff9) != 0;  // offset (13 bits) or M flag
          out_.first_fragment = out_.is_fragment && (fo & 0xfff8) == 0;
          len = 8;
          if ((fo & 0xfff8) != 0) {  // later fragment: the upper layer header is elsewhere
            out_.proto = p_[pos];
            return PacketStatus::kOk;
          }
          break;
        }
        default:
          l4(pos, end - pos);
          return PacketStatus::kOk;
      }
      if (!has(pos, len) || pos + len > end) return PacketStatus::kTruncated;
      out_.proto = next = p_[pos];
      pos += len;
    }
    return PacketStatus::kMalformed;  // extension header chain too long
  }

  // `len` bytes of L4 are available at `off` (already limited by caplen and the IP length).
  void l4(size_t off, size_t len) {
    const uint8_t* h = p_ + off;
    switch (out_.proto) {
      case 6: {  // TCP (RFC 9293 3.1)
        if (len >= 4) {
          out_.src_port = load_be16(h);
          out_.dst_port = load_be16(h + 2);
        }
        if (len >= 8) out_.tcp_seq = load_be32(h + 4);
        if (len >= 14) out_.tcp_flags = h[13];
        if (len < 20) return;
        size_t doff = static_cast<size_t>(h[12] >> 4) * 4;
        if (doff < 20) return;  // impossible data offset: header unusable
        out_.l4_valid = true;
        if (doff <= len) set_payload(h + doff, len - doff);
        return;
      }
      case 17:     // UDP (RFC 768)
      case 136: {  // UDP-Lite (RFC 3828): same header, length field is the checksum coverage
        if (len >= 4) {
          out_.src_port = load_be16(h);
          out_.dst_port = load_be16(h + 2);
        }
        if (len < 8) return;
        out_.l4_valid = true;
        size_t plen = len - 8;
        uint16_t ulen = load_be16(h + 4);
        if (out_.proto == 17 && ulen >= 8) plen = std::min(plen, size_t{ulen} - 8);
        set_payload(h + 8, plen);
        return;
      }
      case 132:  // SCTP (RFC 9260 3.1): ports then verification tag and checksum
        if (len >= 4) {
          out_.src_port = load_be16(h);
          out_.dst_port = load_be16(h + 2);
        }
        if (len < 12) return;
        out_.l4_valid = true;
        set_payload(h + 12, len - 12);
        return;
      case 1:   // ICMP
      case 58:  // ICMPv6
        if (len >= 2) out_.dst_port = static_cast<uint16_t>((h[0] << 8) | h[1]);
        if (len < 8) return;
        out_.l4_valid = true;
        set_payload(h + 8, len - 8);
        return;
      default:
        return;  // GRE, IP-in-IP, ESP, ...: not followed (see top of file)
    }
  }

  void set_payload(const uint8_t* p, size_t len) {
    out_.payload = len > 0 ? p : nullptr;
    out_.payload_len = len;
  }

  const uint8_t* p_;
  size_t n_;
  PacketInfo& out_;
  bool vlan_seen_ = false;
};

}  // namespace

PacketStatus parse_packet(const uint8_t* data, size_t caplen, LinkType link, PacketInfo& out) {
  out = PacketInfo{};
  if (data == nullptr) caplen = 0;
  return Parser(data, caplen, out).link(link, 0);
}

}  // namespace orbwatch::ingest
