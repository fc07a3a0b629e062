#include "ingest/datagram.h"

#include "core/byte_reader.h"

namespace orbwatch::ingest {

ExportKind sniff_export(std::span<const uint8_t> p) {
  if (p.size() < 4) return ExportKind::kNone;
  uint16_t version = load_be16(p.data());
  switch (version) {
    case 5: {
      // v5: 24-byte header + count * 48-byte records; count 1..30 by the spec.
      if (p.size() < 24) return ExportKind::kNone;
      uint16_t count = load_be16(p.data() + 2);
      return count >= 1 && count <= 30 && p.size() >= 24 + size_t{count} * 48
                 ? ExportKind::kNetflow5
                 : ExportKind::kNone;
    }
    case 9: {
      // v9: 20-byte header, count 1..N flowsets/records; first flowset id 0, 1 or >= 256.
      if (p.size() < 24) return ExportKind::kNone;
      uint16_t set_id = load_be16(p.data() + 20);
      uint16_t set_len = load_be16(p.data() + 22);
      return (set_id <= 1 || set_id >= 256) && set_len >= 4 && set_len <= p.size() - 20
                 ? ExportKind::kNetflow9
                 : ExportKind::kNone;
    }
    case 10: {
      // IPFIX: the message length field equals the datagram length (RFC 7011 3.1).
      if (p.size() < 16) return ExportKind::kNone;
      return load_be16(p.data() + 2) == p.size() ? ExportKind::kIpfix : ExportKind::kNone;
    }
    case 0: {
      // sFlow v5: 32-bit version 5, then agent address type 1 (IPv4) or 2 (IPv6).
      if (p.size() < 28 || load_be32(p.data()) != 5) return ExportKind::kNone;
      uint32_t at = load_be32(p.data() + 4);
      return at == 1 || at == 2 ? ExportKind::kSflow5 : ExportKind::kNone;
    }
    default:
      return ExportKind::kNone;
  }
}

bool is_export_port(uint16_t port) {
  switch (port) {
    case 2055:
    case 2056:
    case 2057:
    case 2100:
    case 4739:
    case 4740:
    case 6343:
    case 8096:
    case 9500:
    case 9555:
    case 9990:
    case 9991:
    case 9992:
    case 9995:
    case 9996:
      return true;
    default:
      return false;
  }
}

const char* export_kind_name(ExportKind k) {
  switch (k) {
    case ExportKind::kNetflow5:
      return "netflow5";
    case ExportKind::kNetflow9:
      return "netflow9";
    case ExportKind::kIpfix:
      return "ipfix";
    case ExportKind::kSflow5:
      return "sflow5";
    case ExportKind::kNone:
      break;
  }
  return "none";
}

}  // namespace orbwatch::ingest
