#include "ingest/template.h"

#include <algorithm>

namespace orbwatch::ingest {

namespace {

FieldKind kind_for(const IeInfo& ie, uint16_t len) {
  if (ie.op == FieldOp::kSkip) return FieldKind::kSkip;
  if (ie.is_string) return FieldKind::kString;
  switch (ie.op) {
    case FieldOp::kSrcV4:
    case FieldOp::kDstV4:
      return len == 4 ? FieldKind::kV4 : FieldKind::kSkip;
    case FieldOp::kSrcV6:
    case FieldOp::kDstV6:
      return len == 16 ? FieldKind::kV6 : FieldKind::kSkip;
    default:
      break;
  }
  // Integers: reduced-size encoding allowed (RFC 7011 6.2); anything else is not a number.
  switch (len) {
    case 1:
      return FieldKind::kU8;
    case 2:
      return FieldKind::kU16;
    case 4:
      return FieldKind::kU32;
    case 8:
      return FieldKind::kU64;
    default:
      return len >= 1 && len <= 8 ? FieldKind::kUInt : FieldKind::kSkip;
  }
}

bool add_field(Template& t, uint32_t pen, uint16_t id, uint16_t len, bool scope) {
  TemplateField f;
  f.len = len;
  f.offset = static_cast<uint16_t>(t.fixed_len);
  // Scope fields describe what an options record is about; only sampler ids matter there.
  IeInfo ie = lookup_ie(pen, id);
  if (scope && ie.op != FieldOp::kSamplerId) ie = {};
  if (len != kVarLen && ie.fixed_len != 0 && ie.fixed_len != len && !ie.is_string) {
    // Addresses and other fixed-size elements with a wrong length are skipped, not misread.
    if (ie.op != FieldOp::kTcpFlags) ie = {};
  }
  f.kind = len == kVarLen && !ie.is_string ? FieldKind::kSkip : kind_for(ie, len);
  f.op = f.kind == FieldKind::kSkip ? FieldOp::kSkip : ie.op;
  if (len == kVarLen) {
    // Also accepted in NetFlow v9, where H3C/Huawei send IPFIX-style variable-length fields.
    t.has_varlen = true;
    t.min_len += 1;
  } else {
    t.fixed_len += len;
    t.min_len += len;
  }
  if (f.op != FieldOp::kSkip) t.present |= uint64_t{1} << static_cast<unsigned>(f.op);
  t.fields.push_back(f);
  return t.fixed_len <= 65535;
}

}  // namespace

TemplateParse parse_template(ByteReader& r, bool ipfix, bool options, Template& out) {
  out = Template{};
  uint16_t id = 0, count = 0;
  if (!r.u16(id) || !r.u16(count)) return TemplateParse::kTruncated;
  out.id = id;
  out.options = options;
  uint16_t scope_count = 0;
  if (options) {
    if (ipfix) {
      if (count == 0) return TemplateParse::kWithdraw;
      if (!r.u16(scope_count)) return TemplateParse::kTruncated;
      if (scope_count == 0 || scope_count > count) return TemplateParse::kInvalid;
    } else {
      // v9 options template: `count` is the scope length in bytes, then the option length.
      uint16_t scope_len = count, option_len = 0;
      if (!r.u16(option_len)) return TemplateParse::kTruncated;
      if (scope_len % 4 != 0 || option_len % 4 != 0) return TemplateParse::kInvalid;
      scope_count = scope_len / 4;
      count = static_cast<uint16_t>(scope_count + option_len / 4);
    }
  } else if (count == 0) {
    return ipfix ? TemplateParse::kWithdraw : TemplateParse::kInvalid;
  }
  if (count > kMaxTemplateFields) return TemplateParse::kInvalid;
  out.scope_count = scope_count;
  out.fields.reserve(count);
  for (uint16_t i = 0; i < count; ++i) {
    uint16_t type = 0, len = 0;
    uint32_t pen = 0;
    if (!r.u16(type) || !r.u16(len)) return TemplateParse::kTruncated;
    if (ipfix && (type & 0x8000)) {
      if (!r.u32(pen)) return TemplateParse::kTruncated;
      type &= 0x7fff;
    }
    bool scope = i < scope_count;
    if (!options || !scope || ipfix) {
      if (!add_field(out, pen, type, len, scope)) return TemplateParse::kInvalid;
    } else {
      // v9 scope fields use their own type space (1 system, 2 interface, ...): skip by length.
      if (!add_field(out, 0xffffffff, type, len, true)) return TemplateParse::kInvalid;
    }
  }
  // A record that can be empty would make a data set loop forever.
  if (out.min_len == 0) return TemplateParse::kInvalid;
  if (!out.has_varlen) {
    for (const auto& f : out.fields) {
      if (f.kind != FieldKind::kSkip) out.used.push_back(f);
    }
    // Grouped by kind, except that IPv4 and IPv6 addresses stay in template order: when a
    // record carries several (Huawei: outer tunnel header, then the flow), the later one wins.
    auto rank = [](FieldKind k) { return k == FieldKind::kV6 ? FieldKind::kV4 : k; };
    std::stable_sort(out.used.begin(), out.used.end(),
                     [&](const auto& a, const auto& b) { return rank(a.kind) < rank(b.kind); });
    size_t i = 0;
    for (size_t k = 0; k < out.kind_begin.size(); ++k) {
      out.kind_begin[k] = static_cast<uint16_t>(i);
      while (i < out.used.size() && static_cast<size_t>(rank(out.used[i].kind)) == k) ++i;
    }
  }
  return TemplateParse::kOk;
}

}  // namespace orbwatch::ingest
