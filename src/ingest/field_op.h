// What a NetFlow v9 / IPFIX field does to a record. Templates are compiled once into a list of
// (length, op) pairs so the per-record loop is a tight switch over a small enum, and the
// information-element knowledge lives in one table (ie_table.cc), not in copy-pasted code.
#pragma once

#include <cstdint>
#include <string_view>

namespace orbwatch::ingest {

enum class FieldOp : uint8_t {
  kSkip = 0,
  kSrcV4,
  kDstV4,
  kSrcV6,
  kDstV6,
  kSrcPort,
  kDstPort,
  kProto,
  kTcpFlags,
  kTos,
  kIcmpTypeCode,
  kBytes,
  kPackets,  // delta counts (IE 1, 2)
  kBytesAlt,
  kPacketsAlt,  // used when the delta counts are absent (totals, NSEL initiator)
  kInIf,
  kOutIf,
  kSrcAs,
  kDstAs,
  kSrcMask,
  kDstMask,
  kVlan,
  kDirection,
  // Times (RFC 7011 6.1.7-6.1.10, RFC 3954 8).
  kFirstUptime,
  kLastUptime,  // ms since exporter boot (IE 22 / 21)
  kStartSec,
  kEndSec,
  kStartMs,
  kEndMs,
  kStartUs,
  kEndUs,
  kStartNs,
  kEndNs,
  kStartDeltaUs,
  kEndDeltaUs,  // µs before the export time (IE 158 / 159)
  kDurationMs,
  kDurationUs,
  kSystemInitMs,  // IE 160, usually in options records
  // Sampling (RFC 3954 8 options; RFC 7011/7270 for IPFIX).
  kSamplerId,
  kSamplingInterval,
  kSamplingAlgorithm,
  kSamplerRandomInterval,
  kSamplingPacketInterval,
  kSamplingPacketSpace,
  kSamplingSize,
  kSamplingPopulation,  // RFC 5477 random n-out-of-N (IE 309 / 310)
  kFrameSize,
  kFrameSection,  // RFC 7133 sampled frame (IE 312 / 315)
  // RFC 5103 reverse direction (PEN 29305) and NSEL responder counters.
  kRevBytes,
  kRevPackets,
  kRevTcpFlags,
  kRevStartMs,
  kRevEndMs,
  kRevDeltaMs,
  kInitTcpFlags,
  kUnionTcpFlags,
  kRevInitTcpFlags,
  kRevUnionTcpFlags,  // YAF (PEN 6871)
  kServerName,        // vendor IEs carrying SNI / HTTP host / DNS query name
  kCount
};
static_assert(static_cast<int>(FieldOp::kCount) <= 64, "present-mask is one uint64_t");

// Which op an information element maps to, and its required length (0 = any valid length for
// the op: reduced-size integers 1..8, strings any). Unknown elements map to kSkip.
struct IeInfo {
  FieldOp op = FieldOp::kSkip;
  uint8_t fixed_len = 0;  // 4 for IPv4, 16 for IPv6, ... 0 = integer 1..8 or string
  bool is_string = false;
};

// pen = 0 for IANA elements. The NetFlow v9 field types 1..127 coincide with IANA's.
IeInfo lookup_ie(uint32_t pen, uint16_t id);

}  // namespace orbwatch::ingest
