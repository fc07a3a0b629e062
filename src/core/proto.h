// IP protocol names as users write them ("tcp", "udp", "icmp"): summaries, alerts, filters.
#pragma once

#include <cstdint>
#include <string>

namespace orbwatch {

// The usual name of an IANA protocol number, or nullptr when orbwatch has none.
inline const char* proto_name(uint8_t p) {
  switch (p) {
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 47:
      return "gre";
    case 50:
      return "esp";
    case 58:
      return "icmp6";
    case 132:
      return "sctp";
    default:
      return nullptr;
  }
}

// The name, or the number as text.
inline std::string proto_text(uint8_t p) {
  const char* name = proto_name(p);
  return name != nullptr ? std::string(name) : std::to_string(p);
}

}  // namespace orbwatch
