// libFuzzer target for parse_packet. The first byte picks the link type, the rest is the frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ingest/packet.h"

using orbwatch::ingest::LinkType;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr LinkType kLinks[] = {
      LinkType::kEthernet, LinkType::kRaw,       LinkType::kNull, LinkType::kLoop,
      LinkType::kLinuxSll, LinkType::kLinuxSll2, LinkType::kIpv4, LinkType::kIpv6};
  LinkType link = kLinks[data[0] % (sizeof(kLinks) / sizeof(kLinks[0]))];
  orbwatch::ingest::PacketInfo info;
  orbwatch::ingest::parse_packet(data + 1, size - 1, link, info);
  // The payload must lie inside the input: touch every byte so ASan checks it.
  if (info.payload_len > 0) {
    if (info.payload < data + 1 || info.payload + info.payload_len > data + size) std::abort();
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < info.payload_len; ++i) sink = sink ^ info.payload[i];
  }
  return 0;
}
