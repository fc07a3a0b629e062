// The columnar encoding of one segment block's records. Each column is stored (and compressed)
// on its own, so a query decompresses only the columns its filter and output need. The order,
// value types and encodings are those of docs/formats.md ("Block columns").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/flow_batch.h"
#include "store/segment_format.h"

namespace orbwatch::store::segment {

// The kColumnCount columns of a block, in payload order: start_ms, end_ms, src, dst, exporter,
// bytes, packets, obs_domain, in_if, out_if, src_as, dst_as, sampling_rate, src_port, dst_port,
// proto, tcp_flags, direction, source, vlan, tos, flags, src_mask, dst_mask, name_ref, names.

struct ColumnData {
  Encoding encoding = Encoding::kPlain;
  std::string bytes;
};
using BlockColumns = std::array<ColumnData, kColumnCount>;

// Encodes `records` (at least one) into `out`, in the order records[order[0]],
// records[order[1]], ... (a permutation; nullptr keeps the order). `names` are the block's server
// names, referenced 1-based by each record's name_ref (0 = none). `base_start_ms` is the block's
// min start_ms, the first value the start_ms deltas are taken from.
void encode_columns(const std::vector<FlowRecord>& records, const std::vector<std::string>& names,
                    int64_t base_start_ms, BlockColumns& out, const uint32_t* order = nullptr);

// The columns as decode_columns' `columns` mask: bit c for column c, except that name_ref and
// names are one bit (kNames).
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

// The mask bit of column index c.
inline uint32_t column_bit(size_t c) {
  return c >= 24 ? column::kNames : 1u << c;
}
// The columns `mask` needs stored, as a mask (adds start_ms to end_ms).
inline uint32_t needed_columns(uint32_t mask) {
  return (mask & column::kEnd) != 0 ? mask | column::kStart : mask;
}

// Whether column c may hold `raw_bytes` bytes of `encoding` for `records` records. Checked
// before anything is decompressed or allocated; decode_columns then checks the values.
bool column_shape_ok(size_t c, Encoding encoding, uint64_t raw_bytes, uint32_t records);

// A column's uncompressed bytes (empty for columns not decoded).
struct ColumnView {
  Encoding encoding = Encoding::kPlain;
  std::string_view bytes;
};

// Decodes `records` records from the columns in `columns` (needed_columns applied) and appends
// them (names rebased) to `out`; the fields of the other columns stay zero. With `rows`
// (ascending indexes below `records`), only those records are appended. False with `why` set
// when a column does not hold exactly `records` well-formed values; `out` is then left as it
// was.
bool decode_columns(const std::array<ColumnView, kColumnCount>& cols, uint32_t records,
                    int64_t base_start_ms, FlowBatch& out, const char*& why,
                    uint32_t columns = column::kAll, const std::vector<uint32_t>* rows = nullptr);

// The same into rs[0..m), which the caller sized: records rows[0..m) (all `records`, m =
// records, when rows is nullptr). Only the fields of `columns` are written, so a buffer reused
// from block to block keeps stale values in the others; names are appended to `names`. On
// failure rs holds partial values.
bool decode_rows(const std::array<ColumnView, kColumnCount>& cols, uint32_t records,
                 int64_t base_start_ms, FlowRecord* rs, const uint32_t* rows, uint32_t m,
                 std::vector<std::string>& names, const char*& why, uint32_t columns);

}  // namespace orbwatch::store::segment
