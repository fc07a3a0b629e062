// Names for domain indicators from one L4 payload: TLS ClientHello SNI, HTTP/1.x Host, DNS
// query and A/AAAA answers. Pure and bounds-checked; nothing allocates, so the meter can try
// them on the packets that look promising without costing the hot path.
//
// Out of scope: QUIC Initial packets (the ClientHello is encrypted with keys derived from the
// connection id; decrypting them needs AES-GCM and is left for later), mDNS/LLMNR (link-local
// names are not domain indicators), ClientHellos or HTTP headers split over several TCP segments
// (only the bytes of this one payload are read), HTTP/2.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/ip_addr.h"

namespace orbwatch::ingest {

// A host name, lower-cased, printable ASCII only (0x21..0x7e), at most 253 characters (the text
// form of a 255-octet wire name).
struct HostName {
  static constexpr size_t kMax = 253;
  std::array<char, kMax + 1> text{};
  uint16_t len = 0;

  std::string_view view() const { return {text.data(), len}; }
  bool empty() const { return len == 0; }
};

// Checks and copies `s` lower-cased. False when empty, too long or not printable.
bool make_host_name(std::string_view s, HostName& out);

// server_name (type 0, host_name) of a TLS ClientHello that starts this payload (RFC 8446 4.1.2,
// RFC 6066 3). Reads as far as the payload goes: a hello cut before the extension gives nullopt.
std::optional<HostName> tls_client_hello_sni(std::span<const uint8_t> payload);

// Host header of an HTTP/1.x request that starts this payload: request line "METHOD target
// HTTP/1.x", headers up to the first blank line, "Host:" matched case-insensitively, value
// trimmed, ":port" removed ("[v6]:port" gives the address without brackets).
std::optional<HostName> http_request_host(std::span<const uint8_t> payload);

struct DnsAnswerName {
  HostName name;  // owner name as given in the answer (with CNAMEs: the last name of the chain)
  IpAddr addr;
  uint32_t ttl = 0;
};

struct DnsInfo {
  static constexpr size_t kMaxAnswers = 16;
  uint16_t id = 0;
  bool response = false;
  uint8_t rcode = 0;
  bool has_query = false;  // false when the first question is the root or unreadable
  HostName query;          // first question
  uint16_t qtype = 0;
  uint8_t answer_count = 0;  // A/AAAA answers kept (at most kMaxAnswers)
  std::array<DnsAnswerName, kMaxAnswers> answers{};
};

// A DNS message (RFC 1035 4.1). `tcp`: the message has the 2-byte length prefix (RFC 1035
// 4.2.2). Compression pointers are followed with a hop limit; labels over 63 bytes, names over
// 255 octets, reserved label types and non-printable names are rejected. Returns nullopt when
// the header or the first question cannot be read (so random UDP/53 noise yields nothing);
// answers are read until the first broken one.
std::optional<DnsInfo> parse_dns(std::span<const uint8_t> payload, bool tcp);

}  // namespace orbwatch::ingest
