// The columnar encoding of one segment block's records (the raw payload, before compression).
// Each column is a u32 little-endian byte length followed by its bytes, in the order of
// docs/formats.md ("Block payload"); each FlowRecord field is one column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/flow_batch.h"

namespace orbwatch::store::segment {

// Appends the columns of `records` to `raw`. `names` are the block's server names, referenced
// 1-based by each record's name_ref (0 = none). `base_start_ms` is the block's min start_ms,
// the first value the start_ms deltas are taken from.
void encode_columns(const std::vector<FlowRecord>& records, const std::vector<std::string>& names,
                    int64_t base_start_ms, std::string& raw);

// The columns of a block in payload order, as bits of decode_columns' `columns` mask.
namespace column {
enum : uint32_t {
  kStart = 1u << 0,
  kEnd = 1u << 1,  // needs kStart (stored as a duration)
  kSrc = 1u << 2,
  kDst = 1u << 3,
  kExporter = 1u << 4,
  kBytes = 1u << 5,
  kPackets = 1u << 6,
  kObsDomain = 1u << 7,
  kInIf = 1u << 8,
  kOutIf = 1u << 9,
  kSrcAs = 1u << 10,
  kDstAs = 1u << 11,
  kSamplingRate = 1u << 12,
  kSrcPort = 1u << 13,
  kDstPort = 1u << 14,
  kProto = 1u << 15,
  kTcpFlags = 1u << 16,
  kDirection = 1u << 17,
  kSource = 1u << 18,
  kVlan = 1u << 19,
  kTos = 1u << 20,
  kFlags = 1u << 21,
  kSrcMask = 1u << 22,
  kDstMask = 1u << 23,
  kNames = 1u << 24,  // name_ref and the names
  kAll = (1u << 25) - 1,
};
}  // namespace column

// Decodes `records` records from `raw` and appends them (names rebased) to `out`. False with
// `why` set when the columns do not hold exactly that many well-formed values; `out` is then left
// as it was.
// Only the columns in `columns` are decoded (the fields of the others stay zero; queries read
// what their filter and output need); those must hold exactly `records` values.
bool decode_columns(std::string_view raw, uint32_t records, int64_t base_start_ms, FlowBatch& out,
                    const char*& why, uint32_t columns = column::kAll);

}  // namespace orbwatch::store::segment
