#include "ingest/data_set.h"

#include <algorithm>
#include <array>

#include "ingest/packet.h"

namespace orbwatch::ingest {

namespace {

using O = FieldOp;

// NTP-format timestamps (RFC 7011 6.1.9/6.1.10): seconds since 1900 and a 2^-32 fraction.
constexpr int64_t kNtpToUnixSeconds = 2208988800;
int64_t ntp_to_ms(uint64_t v) {
  auto secs = static_cast<int64_t>(v >> 32) - kNtpToUnixSeconds;
  auto frac_ms = static_cast<int64_t>(((v & 0xffffffffu) * 1000) >> 32);
  return secs * 1000 + frac_ms;
}

// Values of one record, indexed by FieldOp. Only entries whose bit is in the template's
// `present` mask are read, so nothing is cleared between records.
struct Values {
  std::array<uint64_t, static_cast<size_t>(O::kCount)> v;
  // Where the addresses are in the record (4 or 16 bytes); copied into the FlowRecord in place.
  const uint8_t* src = nullptr;
  const uint8_t* dst = nullptr;
  uint8_t src_len = 0, dst_len = 0;
  const uint8_t* name = nullptr;
  size_t name_len = 0;
  const uint8_t* frame = nullptr;  // RFC 7133 dataLinkFrameSection
  size_t frame_len = 0;
  uint64_t operator[](O op) const { return v[static_cast<size_t>(op)]; }
};

// Templates that carry both IPv4 and IPv6 addresses (Procera, Cisco, FS.com, Swisscom routers)
// leave the family not in use all zeros: an all-zero address never replaces one already read.
void set_addr(const uint8_t*& slot, uint8_t& slot_len, FieldKind kind, const uint8_t* p) {
  const uint8_t n = kind == FieldKind::kV4 ? 4 : 16;
  bool zero = n == 4 ? load_be32(p) == 0 : (load_be64(p) | load_be64(p + 8)) == 0;
  if (zero && slot != nullptr) return;
  slot = p;
  slot_len = n;
}

void copy_addr(IpAddr& a, const uint8_t* p, uint8_t len) {
  if (len == 4) {
    a.assign_v4(p);
  } else if (len == 16) {
    a.assign_v6(p);
  }
}

inline void read_field(FieldKind kind, FieldOp op, const uint8_t* p, size_t len, Values& val) {
  auto& slot = val.v[static_cast<size_t>(op)];
  switch (kind) {
    case FieldKind::kU8:
      slot = p[0];
      break;
    case FieldKind::kU16:
      slot = load_be16(p);
      break;
    case FieldKind::kU32:
      slot = load_be32(p);
      break;
    case FieldKind::kU64:
      slot = load_be64(p);
      break;
    case FieldKind::kUInt:
      slot = load_be_n(p, len);
      break;
    case FieldKind::kV4:
    case FieldKind::kV6:
      if (op == O::kSrcV4 || op == O::kSrcV6) {
        set_addr(val.src, val.src_len, kind, p);
      } else {
        set_addr(val.dst, val.dst_len, kind, p);
      }
      break;
    case FieldKind::kString:
      if (op == O::kFrameSection) {
        val.frame = p;
        val.frame_len = len;
      } else {
        val.name = p;
        val.name_len = len;
      }
      break;
    case FieldKind::kSkip:
      break;
  }
}

// Reads one record at p (at most `avail` bytes). Returns bytes consumed, 0 when it does not fit.
size_t read_record(const Template& t, const uint8_t* p, size_t avail, Values& val) {
  val.src = val.dst = nullptr;  // set_addr keeps the first address: start each record clean
  val.src_len = val.dst_len = 0;
  if (!t.has_varlen) {
    // Hot path: offsets are known, skipped fields cost nothing, and one loop per kind avoids an
    // unpredictable indirect jump per field.
    if (avail < t.fixed_len) return 0;
    const TemplateField* f = t.used.data();
    auto range = [&](FieldKind k) {
      auto i = static_cast<size_t>(k);
      return std::pair{f + t.kind_begin[i], f + t.kind_begin[i + 1]};
    };
    auto slot = [&](const TemplateField* x) -> uint64_t& {
      return val.v[static_cast<size_t>(x->op)];
    };
    for (auto [a, b] = range(FieldKind::kU8); a != b; ++a) slot(a) = p[a->offset];
    for (auto [a, b] = range(FieldKind::kU16); a != b; ++a) slot(a) = load_be16(p + a->offset);
    for (auto [a, b] = range(FieldKind::kU32); a != b; ++a) slot(a) = load_be32(p + a->offset);
    for (auto [a, b] = range(FieldKind::kU64); a != b; ++a) slot(a) = load_be64(p + a->offset);
    for (auto [a, b] = range(FieldKind::kUInt); a != b; ++a) {
      slot(a) = load_be_n(p + a->offset, a->len);
    }
    // Addresses (in template order, see parse_template) and strings.
    for (const TemplateField* a = f + t.kind_begin[static_cast<size_t>(FieldKind::kV4)];
         a != f + t.used.size(); ++a) {
      read_field(a->kind, a->op, p + a->offset, a->len, val);
    }
    return t.fixed_len;
  }
  const uint8_t* start = p;
  const uint8_t* end = p + avail;
  for (const TemplateField& f : t.fields) {
    size_t len = f.len;
    if (f.len == kVarLen) {
      // RFC 7011 7: one length byte, or 255 followed by a two-byte length.
      if (p >= end) return 0;
      len = *p++;
      if (len == 255) {
        if (end - p < 2) return 0;
        len = load_be16(p);
        p += 2;
      }
    }
    if (static_cast<size_t>(end - p) < len) return 0;
    read_field(f.kind, f.op, p, len, val);
    p += len;
  }
  return static_cast<size_t>(p - start);
}

// Times are range-checked before any arithmetic: hostile records carry any 64-bit value, and a
// time past the year 9999 is as absent as a missing one.
constexpr uint64_t kMaxMs = 253402300799999;  // 9999-12-31T23:59:59.999Z
int64_t ms_or_absent(uint64_t v) {
  return v <= kMaxMs ? static_cast<int64_t>(v) : INT64_MIN;
}

// Absolute start/end in ms from whichever time encoding the template carries.
void resolve_times(const Template& t, const Values& v, const MessageContext& ctx,
                   const DomainState* ds, FlowRecord& r) {
  int64_t start = INT64_MIN, end = INT64_MIN;
  auto uptime_base = [&]() -> int64_t {
    if (ctx.kind == ExportKind::kNetflow9) return ctx.export_ms - ctx.sys_uptime_ms;
    if (t.has(O::kSystemInitMs)) return ms_or_absent(v[O::kSystemInitMs]);
    return ds != nullptr && ds->system_init_ms >= 0 ? ds->system_init_ms : INT64_MIN;
  };
  auto uptime = [&](O op) -> int64_t {
    if (ctx.kind == ExportKind::kNetflow9) {
      // Signed difference: survives uptime wrap and records stamped just after export.
      auto ago = static_cast<int32_t>(ctx.sys_uptime_ms - static_cast<uint32_t>(v[op]));
      return ctx.export_ms - ago;
    }
    int64_t base = uptime_base(), up = ms_or_absent(v[op]);
    return base == INT64_MIN || up == INT64_MIN ? INT64_MIN : base + up;
  };
  // One encoding per end, in order of precision; kFirstUptime/kLastUptime need the clock above.
  struct Ops {
    O ms, us, ns, sec, uptime, delta_us;
  };
  auto pick = [&](const Ops& k) -> int64_t {
    if (t.has(k.ms)) return ms_or_absent(v[k.ms]);
    if (t.has(k.us)) return ntp_to_ms(v[k.us]);
    if (t.has(k.ns)) return ntp_to_ms(v[k.ns]);
    if (t.has(k.sec))
      return v[k.sec] <= kMaxMs / 1000 ? static_cast<int64_t>(v[k.sec]) * 1000 : INT64_MIN;
    if (t.has(k.uptime)) return uptime(k.uptime);
    if (t.has(k.delta_us)) {
      int64_t ago = ms_or_absent(v[k.delta_us] / 1000);
      return ago == INT64_MIN ? INT64_MIN : ctx.export_ms - ago;
    }
    return INT64_MIN;
  };
  start = pick(
      {O::kStartMs, O::kStartUs, O::kStartNs, O::kStartSec, O::kFirstUptime, O::kStartDeltaUs});
  end = pick({O::kEndMs, O::kEndUs, O::kEndNs, O::kEndSec, O::kLastUptime, O::kEndDeltaUs});
  int64_t duration = t.has(O::kDurationMs)   ? ms_or_absent(v[O::kDurationMs])
                     : t.has(O::kDurationUs) ? ms_or_absent(v[O::kDurationUs] / 1000)
                                             : -1;
  if (start == INT64_MIN && end != INT64_MIN && duration >= 0) start = end - duration;
  if (end == INT64_MIN && start != INT64_MIN && duration >= 0) end = start + duration;
  if (start == INT64_MIN && end == INT64_MIN) {
    start = end = ctx.export_ms != 0 ? ctx.export_ms : ctx.recv_ms;
    r.flags |= flow_flags::kTimeEstimated;
  } else if (start == INT64_MIN) {
    start = end;
  } else if (end == INT64_MIN) {
    end = start;
  }
  r.start_ms = start;
  r.end_ms = end;
}

uint32_t clamp_rate(uint64_t rate) {
  return rate > UINT32_MAX ? UINT32_MAX : uint32_t(rate);
}

// The sampling rate an options record announces (RFC 3954 8, RFC 7270 for 305/306).
uint32_t options_rate(const Template& t, const Values& v) {
  if (t.has(O::kSamplingInterval) && v[O::kSamplingInterval] > 0) {
    return clamp_rate(v[O::kSamplingInterval]);
  }
  if (t.has(O::kSamplerRandomInterval) && v[O::kSamplerRandomInterval] > 0) {
    return clamp_rate(v[O::kSamplerRandomInterval]);
  }
  if (t.has(O::kSamplingSize) && t.has(O::kSamplingPopulation) && v[O::kSamplingSize] > 0 &&
      v[O::kSamplingPopulation] > v[O::kSamplingSize]) {
    // n-out-of-N: Cisco sends IE 305 = 1 beside these, so they come first.
    return clamp_rate(v[O::kSamplingPopulation] / v[O::kSamplingSize]);
  }
  if (t.has(O::kSamplingPacketInterval) && v[O::kSamplingPacketInterval] > 0) {
    uint64_t interval = v[O::kSamplingPacketInterval];
    uint64_t space = t.has(O::kSamplingPacketSpace) ? v[O::kSamplingPacketSpace] : 0;
    return clamp_rate((interval + space) / interval);
  }
  return 0;
}

void consume_options(const Template& t, const Values& v, const MessageContext& ctx,
                     ExporterState& ex, DomainState* ds) {
  if (ds == nullptr) return;
  if (t.has(O::kSystemInitMs)) {
    int64_t init = ms_or_absent(v[O::kSystemInitMs]);
    ds->system_init_ms = init == INT64_MIN ? -1 : init;
  }
  uint32_t rate = options_rate(t, v);
  if (rate == 0) return;
  if (t.has(O::kSamplerId)) {
    ex.set_sampler_rate(ctx.domain, v[O::kSamplerId], rate);
  } else {
    ds->default_rate = rate;
  }
  ds->last_rate = rate;
}

uint32_t record_rate(const Template& t, const Values& v, const MessageContext& ctx,
                     const ExporterState& ex, const DomainState* ds) {
  uint32_t direct = options_rate(t, v);  // some exporters put the interval in every record
  if (direct != 0) return direct;
  if (t.has(O::kSamplerId)) {
    uint32_t r = ex.sampler_rate(ctx.domain, v[O::kSamplerId]);
    if (r != 0) return r;
  }
  if (ds == nullptr) return 0;
  return ds->default_rate != 0 ? ds->default_rate : ds->last_rate;
}

void emit_reverse(const Template& t, const Values& v, FlowBatch& out) {
  // RFC 5103: the reverse half shares the key with source and destination swapped.
  FlowRecord r = out.records.back();
  std::swap(r.src, r.dst);
  std::swap(r.src_port, r.dst_port);
  std::swap(r.in_if, r.out_if);
  std::swap(r.src_as, r.dst_as);
  std::swap(r.src_mask, r.dst_mask);
  if (r.proto == 1 || r.proto == 58) r.src_port = r.dst_port = 0;
  r.bytes = t.has(O::kRevBytes) ? v[O::kRevBytes] : 0;
  r.packets = t.has(O::kRevPackets) ? v[O::kRevPackets] : 0;
  auto get = [&](O op) -> uint64_t { return t.has(op) ? v[op] : 0; };
  r.tcp_flags = static_cast<uint8_t>(get(O::kRevTcpFlags) | get(O::kRevInitTcpFlags) |
                                     get(O::kRevUnionTcpFlags));
  if (t.has(O::kRevStartMs) && v[O::kRevStartMs] <= kMaxMs)
    r.start_ms = ms_or_absent(v[O::kRevStartMs]);
  if (t.has(O::kRevEndMs) && v[O::kRevEndMs] <= kMaxMs) r.end_ms = ms_or_absent(v[O::kRevEndMs]);
  if (t.has(O::kRevDeltaMs) && v[O::kRevDeltaMs] <= kMaxMs) {
    r.start_ms += static_cast<int64_t>(v[O::kRevDeltaMs]);
    if (r.end_ms < r.start_ms) r.end_ms = r.start_ms;
  }
  if (r.sampling_rate > 1) {
    r.bytes *= r.sampling_rate;
    r.packets *= r.sampling_rate;
  }
  r.flags =
      static_cast<uint8_t>((r.flags & ~flow_flags::kBiflowForward) | flow_flags::kBiflowReverse);
  out.records.back().flags |= flow_flags::kBiflowForward;
  out.records.push_back(r);
}

// RFC 7133: a record describing one sampled frame by its first bytes (sFlow-like IPFIX, as
// Juniper and akvorado's tests send). Fields the template states directly take precedence.
void apply_frame(const Template& t, const Values& v, FlowRecord& r) {
  PacketInfo pi;
  if (parse_packet(v.frame, v.frame_len, LinkType::kEthernet, pi) != PacketStatus::kOk) return;
  if (v.src == nullptr) r.src = pi.src;
  if (v.dst == nullptr) r.dst = pi.dst;
  if (!t.has(O::kProto)) r.proto = pi.proto;
  if (!t.has(O::kSrcPort)) r.src_port = pi.src_port;
  if (!t.has(O::kDstPort)) r.dst_port = pi.dst_port;
  if (!t.has(O::kTcpFlags)) r.tcp_flags = pi.tcp_flags;
  if (!t.has(O::kTos)) r.tos = pi.tos;
  if (!t.has(O::kVlan)) r.vlan = pi.vlan;
  if (!t.has(O::kBytes) && !t.has(O::kBytesAlt)) {
    r.bytes = t.has(O::kFrameSize) ? v[O::kFrameSize] : pi.ip_len;
  }
  if (!t.has(O::kPackets) && !t.has(O::kPacketsAlt)) r.packets = 1;
}

void build_flow(const Template& t, const Values& v, const MessageContext& ctx, ExporterState& ex,
                const DomainState* ds, FlowBatch& out) {
  FlowRecord& r = out.add();
  copy_addr(r.src, v.src, v.src_len);
  copy_addr(r.dst, v.dst, v.dst_len);
  r.exporter = ex.addr();
  r.obs_domain = ctx.domain;
  r.source = ctx.kind == ExportKind::kIpfix ? FlowSource::kIpfix : FlowSource::kNetflow9;
  auto get = [&](O op) -> uint64_t { return t.has(op) ? v[op] : 0; };
  r.src_port = static_cast<uint16_t>(get(O::kSrcPort));
  r.dst_port = static_cast<uint16_t>(get(O::kDstPort));
  r.proto = static_cast<uint8_t>(get(O::kProto));
  // Low byte: the flags proper. YAF splits them into the first packet's and the rest's.
  r.tcp_flags =
      static_cast<uint8_t>(get(O::kTcpFlags) | get(O::kInitTcpFlags) | get(O::kUnionTcpFlags));
  r.tos = static_cast<uint8_t>(get(O::kTos));
  r.bytes = t.has(O::kBytes) ? v[O::kBytes] : get(O::kBytesAlt);
  r.packets = t.has(O::kPackets) ? v[O::kPackets] : get(O::kPacketsAlt);
  r.in_if = static_cast<uint32_t>(get(O::kInIf));
  r.out_if = static_cast<uint32_t>(get(O::kOutIf));
  r.src_as = static_cast<uint32_t>(get(O::kSrcAs));
  r.dst_as = static_cast<uint32_t>(get(O::kDstAs));
  r.src_mask = static_cast<uint8_t>(get(O::kSrcMask));
  r.dst_mask = static_cast<uint8_t>(get(O::kDstMask));
  r.vlan = static_cast<uint16_t>(get(O::kVlan) & 0x0fff);
  if (t.has(O::kDirection)) {
    r.direction = v[O::kDirection] == 0 ? FlowDirection::kIngress : FlowDirection::kEgress;
  }
  if (t.has(O::kIcmpTypeCode) && (r.proto == 1 || r.proto == 58) && r.dst_port == 0) {
    r.dst_port = static_cast<uint16_t>(v[O::kIcmpTypeCode]);
  }
  if (v.frame_len != 0) apply_frame(t, v, r);
  resolve_times(t, v, ctx, ds, r);
  uint32_t rate = record_rate(t, v, ctx, ex, ds);
  if (rate > 1) {
    r.sampling_rate = rate;
    r.bytes *= rate;
    r.packets *= rate;
    r.flags |= flow_flags::kSampled;
  } else if (rate == 1) {
    r.sampling_rate = 1;
  }
  if (v.name_len != 0) {
    // Strings may be NUL-padded to their fixed length.
    size_t n = 0;
    while (n < v.name_len && v.name[n] != 0) ++n;
    if (n != 0) r.name_ref = out.add_name({reinterpret_cast<const char*>(v.name), n});
  }
  bool reverse = (t.has(O::kRevBytes) && v[O::kRevBytes] != 0) ||
                 (t.has(O::kRevPackets) && v[O::kRevPackets] != 0);
  if (reverse) emit_reverse(t, v, out);
}

}  // namespace

size_t decode_data_set(const Template& t, const uint8_t* body, size_t len,
                       const MessageContext& ctx, ExporterState& ex, FlowBatch& out,
                       DecodeStats& stats) {
  DomainState* ds = ex.domain(ctx.kind, ctx.domain);
  Values v{};
  size_t pos = 0, read = 0;
  const size_t before = out.records.size();
  while (len - pos >= t.min_len) {
    v.name_len = 0;
    v.frame_len = 0;
    size_t used = read_record(t, body + pos, len - pos, v);
    if (used == 0) {
      // A variable-length field ran past the set. Padding is shorter than min_len, so this is
      // a broken record: count it and keep what came before.
      stats.fail(DecodeError::kBadRecord, ex.addr(), ctx.set_offset + pos, t.id);
      break;
    }
    pos += used;
    ++read;
    if (t.options) {
      consume_options(t, v, ctx, ex, ds);
      ++stats.options_records;
    } else {
      build_flow(t, v, ctx, ex, ds, out);
    }
  }
  if (read == 0 && len != 0 && std::any_of(body, body + len, [](uint8_t b) { return b != 0; })) {
    // Not even one record fits (e.g. a template with an absurd field length): not padding.
    stats.fail(DecodeError::kBadRecord, ex.addr(), ctx.set_offset, t.id);
  }
  stats.records += out.records.size() - before;
  return read;
}

}  // namespace orbwatch::ingest
