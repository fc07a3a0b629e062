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

// Decodes `records` records from `raw` and appends them (names rebased) to `out`. False with
// `why` set when the columns do not hold exactly that many well-formed values; `out` is then left
// as it was.
bool decode_columns(std::string_view raw, uint32_t records, int64_t base_start_ms, FlowBatch& out,
                    const char*& why);

}  // namespace orbwatch::store::segment
