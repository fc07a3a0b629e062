// One received export datagram (from a socket or from a capture), before decoding.
#pragma once

#include <cstdint>
#include <span>

#include "core/ip_addr.h"

namespace orbwatch::ingest {

struct Datagram {
  std::span<const uint8_t> data;  // UDP payload; valid only during the decode call
  IpAddr exporter;                // source address of the datagram
  uint16_t exporter_port = 0;
  uint16_t local_port = 0;  // destination port it was sent to
  int64_t recv_ms = 0;      // receive (or capture) time, Unix ms
};

// What an export datagram looks like from its first bytes (RFC 3954 / 7011 / sFlow v5 headers).
enum class ExportKind : uint8_t { kNone, kNetflow5, kNetflow9, kIpfix, kSflow5 };

// Sniffs the header: version field plus a plausibility check of the lengths, so random UDP
// payloads (DNS, QUIC, ...) are rarely mistaken for exports.
ExportKind sniff_export(std::span<const uint8_t> payload);

// Well-known collector ports: 2055, 2056, 2057, 9555, 9995, 9996 (NetFlow), 4739 (IPFIX),
// 6343 (sFlow) and the ones listed in docs/formats.md.
bool is_export_port(uint16_t port);

const char* export_kind_name(ExportKind k);

}  // namespace orbwatch::ingest
