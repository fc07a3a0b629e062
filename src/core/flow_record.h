// FlowRecord: the one record every source produces and every later stage consumes.
// A fixed-size plain struct (128 bytes, two cache lines) so batches are flat arrays that copy,
// sort and store without pointer chasing. Variable data (server names, DNS answers) lives beside
// the records in the FlowBatch and is referenced by index.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/ip_addr.h"

namespace orbwatch {

// Where a record came from.
enum class FlowSource : uint8_t { kUnknown = 0, kNetflow5, kNetflow9, kIpfix, kSflow, kMeter };

// Direction as the exporter reported it (IPFIX flowDirection, IE 61) or as metered.
enum class FlowDirection : uint8_t { kUnknown = 0, kIngress = 1, kEgress = 2 };

// FlowRecord::flags bits.
namespace flow_flags {
inline constexpr uint8_t kBiflowReverse = 1 << 0;  // the reverse half of an RFC 5103 biflow
inline constexpr uint8_t kBiflowForward = 1 << 1;  // the forward (initiator) half of a biflow
inline constexpr uint8_t kSampled = 1 << 2;        // counters were scaled by sampling_rate
inline constexpr uint8_t kTimeEstimated = 1 << 3;  // times are the receive time, not exported
}  // namespace flow_flags

struct FlowRecord {
  int64_t start_ms = 0;  // Unix epoch, milliseconds
  int64_t end_ms = 0;
  IpAddr src;
  IpAddr dst;
  IpAddr exporter;
  uint64_t bytes = 0;       // scaled by sampling_rate when one is known
  uint64_t packets = 0;     // scaled by sampling_rate when one is known
  uint32_t obs_domain = 0;  // v9 source id / IPFIX observation domain / sFlow sub-agent
  uint32_t in_if = 0;
  uint32_t out_if = 0;
  uint32_t src_as = 0;
  uint32_t dst_as = 0;
  uint32_t sampling_rate = 0;  // 0 or 1: unsampled / unknown
  uint16_t src_port = 0;       // ICMP: type << 8 | code in dst_port, as NetFlow does
  uint16_t dst_port = 0;
  uint8_t proto = 0;
  uint8_t tcp_flags = 0;
  FlowDirection direction = FlowDirection::kUnknown;
  FlowSource source = FlowSource::kUnknown;
  uint16_t vlan = 0;
  uint8_t tos = 0;
  uint8_t flags = 0;  // flow_flags
  uint8_t src_mask = 0;
  uint8_t dst_mask = 0;
  uint16_t reserved = 0;
  uint32_t name_ref = 0;  // 1-based index into FlowBatch::names (server_name); 0 = none
  uint32_t reserved2 = 0;
};

static_assert(sizeof(FlowRecord) == 128, "FlowRecord layout changed: update docs/formats.md");
static_assert(std::is_trivially_copyable_v<FlowRecord>);

}  // namespace orbwatch
