// NetFlow v9 / IPFIX templates, compiled at arrival into (length, op) lists so data records
// decode without looking anything up (RFC 3954 5.2-5.3, RFC 7011 3.4).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/byte_reader.h"
#include "ingest/field_op.h"

namespace orbwatch::ingest {

inline constexpr uint16_t kVarLen = 65535;  // RFC 7011 7: variable-length encoding
inline constexpr size_t kMaxTemplateFields = 1024;

// How a field is read; integer widths are separate kinds so one switch does the whole read.
enum class FieldKind : uint8_t { kSkip, kU8, kU16, kU32, kU64, kUInt, kV4, kV6, kString };

struct TemplateField {
  uint16_t len = 0;     // kVarLen for variable-length fields
  uint16_t offset = 0;  // within the record (fixed-length templates only)
  FieldOp op = FieldOp::kSkip;
  FieldKind kind = FieldKind::kSkip;
};

struct Template {
  uint16_t id = 0;
  bool options = false;
  uint16_t scope_count = 0;  // options templates: the first scope_count fields are scope
  bool has_varlen = false;
  uint32_t fixed_len = 0;  // sum of fixed field lengths
  uint32_t min_len = 0;    // smallest possible record (fixed + 1 byte per varlen field)
  uint64_t present = 0;    // bit per FieldOp the template carries
  std::vector<TemplateField> fields;
  // Fixed-length templates: the non-skipped fields, sorted by kind; used[kind_begin[k] ..
  // kind_begin[k + 1]) are the fields of kind k, so each kind is read by its own loop.
  std::vector<TemplateField> used;
  std::array<uint16_t, 10> kind_begin{};
  uint64_t last_used = 0;  // LRU stamp (ExporterState::clock)

  bool has(FieldOp op) const { return (present >> static_cast<unsigned>(op)) & 1; }
};

enum class TemplateParse : uint8_t { kOk, kWithdraw, kTruncated, kInvalid };

// Parses one template record at `r` (consumed). `ipfix` selects the enterprise-bit and
// options-template layouts; v9 field types >= 32768 are plain vendor types (e.g. nProbe).
// A kWithdraw result (IPFIX field count 0) leaves only `out.id` set.
TemplateParse parse_template(ByteReader& r, bool ipfix, bool options, Template& out);

}  // namespace orbwatch::ingest
