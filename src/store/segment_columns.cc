#include "store/segment_columns.h"

#include <algorithm>
#include <cstring>

#include "store/segment_format.h"

namespace orbwatch::store::segment {
namespace {

// --- writing ---------------------------------------------------------------------------------

void put_u32(std::string& raw, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  raw.append(b, 4);
}

// A column: reserves the length word, which finish() fills in.
class ColumnOut {
 public:
  explicit ColumnOut(std::string& raw) : raw_(raw), at_(raw.size()) { put_u32(raw, 0); }
  ~ColumnOut() {
    const auto len = static_cast<uint32_t>(raw_.size() - at_ - 4);
    std::memcpy(raw_.data() + at_, &len, 4);
  }
  ColumnOut(const ColumnOut&) = delete;
  ColumnOut& operator=(const ColumnOut&) = delete;

 private:
  std::string& raw_;
  size_t at_;
};

template <class T, class Get>
void put_fixed(std::string& raw, const std::vector<FlowRecord>& rs, Get get) {
  ColumnOut col(raw);
  const size_t at = raw.size();
  raw.resize(at + rs.size() * sizeof(T));
  char* p = raw.data() + at;
  for (const auto& r : rs) {
    const T v = static_cast<T>(get(r));
    std::memcpy(p, &v, sizeof(T));
    p += sizeof(T);
  }
}

void put_addr(std::string& raw, const std::vector<FlowRecord>& rs, IpAddr FlowRecord::*m) {
  ColumnOut col(raw);
  const size_t at = raw.size();
  raw.resize(at + rs.size() * 16);
  char* p = raw.data() + at;
  for (const auto& r : rs) {
    std::memcpy(p, (r.*m).b.data(), 16);
    p += 16;
  }
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

void put_varint(std::string& raw, uint64_t v) {
  char b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  raw.append(b, n);
}

template <class Get>
void put_varints(std::string& raw, const std::vector<FlowRecord>& rs, Get get) {
  ColumnOut col(raw);
  for (const auto& r : rs) put_varint(raw, get(r));
}

// --- reading ---------------------------------------------------------------------------------

class In {
 public:
  explicit In(std::string_view s) : p_(reinterpret_cast<const uint8_t*>(s.data())), n_(s.size()) {}
  // The next column's bytes.
  bool column(const uint8_t*& p, size_t& n) {
    if (n_ < 4) return false;
    const uint32_t len = load_le32(p_);
    if (n_ - 4 < len) return false;
    p = p_ + 4;
    n = len;
    p_ += 4 + size_t{len};
    n_ -= 4 + size_t{len};
    return true;
  }
  bool done() const { return n_ == 0; }
  // Passes over the next column without decoding it.
  bool skip() {
    const uint8_t* p;
    size_t n;
    return column(p, n);
  }

 private:
  const uint8_t* p_;
  size_t n_;
};

bool get_varint(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 64 && p < end; shift += 7) {
    const uint8_t b = *p++;
    v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

template <class T, class Set>
bool get_fixed(In& in, FlowRecord* rs, uint32_t n, Set set) {
  const uint8_t* p;
  size_t len;
  if (!in.column(p, len) || len != size_t{n} * sizeof(T)) return false;
  for (uint32_t i = 0; i < n; ++i, p += sizeof(T)) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    set(rs[i], v);
  }
  return true;
}

bool get_addr(In& in, FlowRecord* rs, uint32_t n, IpAddr FlowRecord::*m) {
  const uint8_t* p;
  size_t len;
  if (!in.column(p, len) || len != size_t{n} * 16) return false;
  for (uint32_t i = 0; i < n; ++i, p += 16) std::memcpy((rs[i].*m).b.data(), p, 16);
  return true;
}

template <class Set>
bool get_varints(In& in, FlowRecord* rs, uint32_t n, Set set) {
  const uint8_t* p;
  size_t len;
  if (!in.column(p, len)) return false;
  const uint8_t* end = p + len;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t v;
    if (!get_varint(p, end, v)) return false;
    set(rs[i], v);
  }
  return p == end;
}

}  // namespace

void encode_columns(const std::vector<FlowRecord>& rs, const std::vector<std::string>& names,
                    int64_t base_start_ms, std::string& raw) {
  {
    // start_ms: zigzag deltas from the previous record (the first from the block minimum).
    ColumnOut col(raw);
    int64_t prev = base_start_ms;
    for (const auto& r : rs) {
      put_varint(raw, zigzag(static_cast<int64_t>(static_cast<uint64_t>(r.start_ms) -
                                                  static_cast<uint64_t>(prev))));
      prev = r.start_ms;
    }
  }
  // end_ms: zigzag of the duration (end - start), small and usually positive.
  put_varints(raw, rs, [](const FlowRecord& r) {
    return zigzag(
        static_cast<int64_t>(static_cast<uint64_t>(r.end_ms) - static_cast<uint64_t>(r.start_ms)));
  });
  put_addr(raw, rs, &FlowRecord::src);
  put_addr(raw, rs, &FlowRecord::dst);
  put_addr(raw, rs, &FlowRecord::exporter);
  put_varints(raw, rs, [](const FlowRecord& r) { return r.bytes; });
  put_varints(raw, rs, [](const FlowRecord& r) { return r.packets; });
  put_fixed<uint32_t>(raw, rs, [](const FlowRecord& r) { return r.obs_domain; });
  put_fixed<uint32_t>(raw, rs, [](const FlowRecord& r) { return r.in_if; });
  put_fixed<uint32_t>(raw, rs, [](const FlowRecord& r) { return r.out_if; });
  put_fixed<uint32_t>(raw, rs, [](const FlowRecord& r) { return r.src_as; });
  put_fixed<uint32_t>(raw, rs, [](const FlowRecord& r) { return r.dst_as; });
  put_fixed<uint32_t>(raw, rs, [](const FlowRecord& r) { return r.sampling_rate; });
  put_fixed<uint16_t>(raw, rs, [](const FlowRecord& r) { return r.src_port; });
  put_fixed<uint16_t>(raw, rs, [](const FlowRecord& r) { return r.dst_port; });
  put_fixed<uint8_t>(raw, rs, [](const FlowRecord& r) { return r.proto; });
  put_fixed<uint8_t>(raw, rs, [](const FlowRecord& r) { return r.tcp_flags; });
  put_fixed<uint8_t>(raw, rs, [](const FlowRecord& r) { return r.direction; });
  put_fixed<uint8_t>(raw, rs, [](const FlowRecord& r) { return r.source; });
  put_fixed<uint16_t>(raw, rs, [](const FlowRecord& r) { return r.vlan; });
  put_fixed<uint8_t>(raw, rs, [](const FlowRecord& r) { return r.tos; });
  put_fixed<uint8_t>(raw, rs, [](const FlowRecord& r) { return r.flags; });
  put_fixed<uint8_t>(raw, rs, [](const FlowRecord& r) { return r.src_mask; });
  put_fixed<uint8_t>(raw, rs, [](const FlowRecord& r) { return r.dst_mask; });
  put_varints(raw, rs, [](const FlowRecord& r) { return uint64_t{r.name_ref}; });
  {
    // Names: varint count, then per name a varint length and its bytes.
    ColumnOut col(raw);
    put_varint(raw, names.size());
    for (const auto& s : names) {
      const size_t len = std::min<size_t>(s.size(), kMaxNameBytes);
      put_varint(raw, len);
      raw.append(s.data(), len);
    }
  }
}

bool decode_columns(std::string_view raw, uint32_t n, int64_t base_start_ms, FlowBatch& out,
                    const char*& why, uint32_t columns) {
  const size_t old_records = out.records.size();
  const size_t old_names = out.names.size();
  auto fail = [&](const char* what) {
    out.records.resize(old_records);
    out.names.resize(old_names);
    why = what;
    return false;
  };
  if ((columns & column::kEnd) != 0) columns |= column::kStart;
  out.records.resize(old_records + n);
  FlowRecord* rs = out.records.data() + old_records;
  In in(raw);
  // Decodes column `bit` with `get` when wanted, else passes over it.
  auto col = [&](uint32_t bit, auto&& get) { return (columns & bit) != 0 ? get() : in.skip(); };
  if (!col(column::kStart, [&] {
        const uint8_t* p;
        size_t len;
        if (!in.column(p, len)) return false;
        const uint8_t* end = p + len;
        uint64_t prev = static_cast<uint64_t>(base_start_ms);
        for (uint32_t i = 0; i < n; ++i) {
          uint64_t v;
          if (!get_varint(p, end, v)) return false;
          prev += static_cast<uint64_t>(unzigzag(v));
          rs[i].start_ms = static_cast<int64_t>(prev);
        }
        return p == end;
      })) {
    return fail("bad start_ms column");
  }
  if (!col(column::kEnd, [&] {
        return get_varints(in, rs, n, [](FlowRecord& r, uint64_t v) {
          r.end_ms = static_cast<int64_t>(static_cast<uint64_t>(r.start_ms) +
                                          static_cast<uint64_t>(unzigzag(v)));
        });
      })) {
    return fail("bad end_ms column");
  }
  if (!col(column::kSrc, [&] { return get_addr(in, rs, n, &FlowRecord::src); }) ||
      !col(column::kDst, [&] { return get_addr(in, rs, n, &FlowRecord::dst); }) ||
      !col(column::kExporter, [&] { return get_addr(in, rs, n, &FlowRecord::exporter); })) {
    return fail("bad address column");
  }
  if (!col(
          column::kBytes,
          [&] { return get_varints(in, rs, n, [](FlowRecord& r, uint64_t v) { r.bytes = v; }); }) ||
      !col(column::kPackets, [&] {
        return get_varints(in, rs, n, [](FlowRecord& r, uint64_t v) { r.packets = v; });
      })) {
    return fail("bad counter column");
  }
  // The fixed-width columns, in payload order.
  auto fixed32 = [&](uint32_t bit, uint32_t FlowRecord::*m) {
    return col(bit, [&] {
      return get_fixed<uint32_t>(in, rs, n, [m](FlowRecord& r, uint32_t v) { r.*m = v; });
    });
  };
  auto fixed16 = [&](uint32_t bit, uint16_t FlowRecord::*m) {
    return col(bit, [&] {
      return get_fixed<uint16_t>(in, rs, n, [m](FlowRecord& r, uint16_t v) { r.*m = v; });
    });
  };
  auto fixed8 = [&](uint32_t bit, uint8_t FlowRecord::*m) {
    return col(bit, [&] {
      return get_fixed<uint8_t>(in, rs, n, [m](FlowRecord& r, uint8_t v) { r.*m = v; });
    });
  };
  const bool ok =
      fixed32(column::kObsDomain, &FlowRecord::obs_domain) &&
      fixed32(column::kInIf, &FlowRecord::in_if) && fixed32(column::kOutIf, &FlowRecord::out_if) &&
      fixed32(column::kSrcAs, &FlowRecord::src_as) &&
      fixed32(column::kDstAs, &FlowRecord::dst_as) &&
      fixed32(column::kSamplingRate, &FlowRecord::sampling_rate) &&
      fixed16(column::kSrcPort, &FlowRecord::src_port) &&
      fixed16(column::kDstPort, &FlowRecord::dst_port) &&
      fixed8(column::kProto, &FlowRecord::proto) &&
      fixed8(column::kTcpFlags, &FlowRecord::tcp_flags) &&
      col(column::kDirection,
          [&] {
            return get_fixed<uint8_t>(
                in, rs, n, [](FlowRecord& r, uint8_t v) { r.direction = FlowDirection{v}; });
          }) &&
      col(column::kSource,
          [&] {
            return get_fixed<uint8_t>(in, rs, n,
                                      [](FlowRecord& r, uint8_t v) { r.source = FlowSource{v}; });
          }) &&
      fixed16(column::kVlan, &FlowRecord::vlan) && fixed8(column::kTos, &FlowRecord::tos) &&
      fixed8(column::kFlags, &FlowRecord::flags) &&
      fixed8(column::kSrcMask, &FlowRecord::src_mask) &&
      fixed8(column::kDstMask, &FlowRecord::dst_mask);
  if (!ok) return fail("bad fixed-width column");
  if ((columns & column::kNames) == 0) {
    if (!in.skip() || !in.skip()) return fail("bad names column");
    if (!in.done()) return fail("trailing bytes after the last column");
    return true;
  }
  uint64_t max_ref = 0;
  if (!get_varints(in, rs, n, [&](FlowRecord& r, uint64_t v) {
        max_ref = std::max(max_ref, v);
        r.name_ref = static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX));
      })) {
    return fail("bad name_ref column");
  }
  {
    const uint8_t* p;
    size_t len;
    if (!in.column(p, len)) return fail("bad names column");
    const uint8_t* end = p + len;
    uint64_t count;
    // Every name takes at least one byte, which bounds the count by the column's length.
    if (!get_varint(p, end, count) || count > static_cast<uint64_t>(end - p)) {
      return fail("bad names column");
    }
    if (max_ref > count) return fail("name_ref beyond the names column");
    out.names.reserve(old_names + count);
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t nlen;
      if (!get_varint(p, end, nlen) || nlen > kMaxNameBytes ||
          nlen > static_cast<uint64_t>(end - p)) {
        return fail("bad names column");
      }
      out.names.emplace_back(reinterpret_cast<const char*>(p), nlen);
      p += nlen;
    }
    if (p != end) return fail("bad names column");
  }
  if (!in.done()) return fail("trailing bytes after the last column");
  if (old_names > 0) {
    const auto base = static_cast<uint32_t>(old_names);
    for (uint32_t i = 0; i < n; ++i) {
      if (rs[i].name_ref != 0) rs[i].name_ref += base;
    }
  }
  return true;
}

}  // namespace orbwatch::store::segment
