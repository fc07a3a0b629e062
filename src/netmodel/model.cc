#include "netmodel/model.h"

#include <charconv>

#include "core/proto.h"

namespace orbwatch::netmodel {

namespace {
constexpr const char* kKinds[] = {"other",  "vpn", "firewall", "router", "mail",       "web",
                                  "camera", "nas", "iot",      "server", "workstation"};
}  // namespace

std::optional<Service> parse_service(std::string_view text) {
  const size_t slash = text.find('/');
  std::string_view name = text.substr(0, slash);
  Service s;
  if (name == "tcp") {
    s.proto = 6;
  } else if (name == "udp") {
    s.proto = 17;
  } else if (name == "sctp") {
    s.proto = 132;
  } else if (name == "icmp" || name == "icmp6" || name == "gre" || name == "esp") {
    // Protocols without ports: the protocol alone.
    if (slash != std::string_view::npos) return std::nullopt;
    s.proto = name == "icmp" ? 1 : name == "icmp6" ? 58 : name == "gre" ? 47 : 50;
    return s;
  } else {
    return std::nullopt;
  }
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view port = text.substr(slash + 1);
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535) {
    return std::nullopt;
  }
  s.port = static_cast<uint16_t>(v);
  return s;
}

std::string service_text(const Service& s) {
  std::string name = proto_text(s.proto);
  return s.port == 0 ? name : name + "/" + std::to_string(s.port);
}

const char* asset_kind_name(AssetKind k) {
  return kKinds[static_cast<size_t>(k)];
}

std::optional<AssetKind> parse_asset_kind(std::string_view name) {
  for (size_t i = 0; i < std::size(kKinds); ++i) {
    if (name == kKinds[i]) return static_cast<AssetKind>(i);
  }
  return std::nullopt;
}

}  // namespace orbwatch::netmodel
