#include "store/segment_columns.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "store/segment_format.h"

namespace orbwatch::store::segment {
namespace {

// kWide: u64 values (times, counters, name_ref) in as many byte planes as the largest needs.
enum class Kind : uint8_t { kWide, kFixed, kAddr, kNames };
struct Shape {
  Kind kind;
  uint8_t width;  // kFixed: bytes per value
  uint8_t word;   // kFixed: where the writer packs it (ColumnValues::packed[word] >> shift)
  uint8_t shift;
};
// Column c's value type, in payload order (segment_columns.h).
constexpr std::array<Shape, kColumnCount> kShapes = {{
    {Kind::kWide, 0, 0, 0},   {Kind::kWide, 0, 0, 0},                              // times
    {Kind::kAddr, 16, 0, 0},  {Kind::kAddr, 16, 0, 0},  {Kind::kAddr, 16, 0, 0},   // addresses
    {Kind::kWide, 0, 0, 0},   {Kind::kWide, 0, 0, 0},                              // counters
    {Kind::kFixed, 4, 0, 0},  {Kind::kFixed, 4, 1, 0},  {Kind::kFixed, 4, 1, 32},  // obs, ifs
    {Kind::kFixed, 4, 2, 0},  {Kind::kFixed, 4, 2, 32}, {Kind::kFixed, 4, 0, 32},  // AS, rate
    {Kind::kFixed, 2, 3, 0},  {Kind::kFixed, 2, 3, 16},                            // ports
    {Kind::kFixed, 1, 4, 0},  {Kind::kFixed, 1, 4, 8},  {Kind::kFixed, 1, 4, 16},  // proto ..
    {Kind::kFixed, 1, 4, 24}, {Kind::kFixed, 2, 3, 32},                            // .., vlan
    {Kind::kFixed, 1, 4, 32}, {Kind::kFixed, 1, 4, 40}, {Kind::kFixed, 1, 4, 48},  // tos ..
    {Kind::kFixed, 1, 4, 56}, {Kind::kWide, 0, 0, 0},   {Kind::kNames, 0, 0, 0},   // names
}};

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
uint64_t wrap_sub(int64_t a, int64_t b) {
  return static_cast<uint64_t>(a) - static_cast<uint64_t>(b);
}

// --- writing ---------------------------------------------------------------------------------

void put_varint(std::string& s, uint64_t v) {
  char b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  s.append(b, n);
}

template <class T>
bool all_equal(const T* v, size_t n) {
  return std::all_of(v, v + n, [&](const T& x) { return x == v[0]; });
}

// A wide column: one varint when constant, else a width byte w (1..8: the bytes the largest
// value needs) and w byte planes, so that any row decodes without parsing the ones before.
void put_wide(ColumnData& col, const uint64_t* v, size_t n) {
  col.bytes.clear();
  if (all_equal(v, n)) {
    col.encoding = Encoding::kConst;
    put_varint(col.bytes, v[0]);
    return;
  }
  col.encoding = Encoding::kPlanes;
  uint64_t max = 0;
  for (size_t i = 0; i < n; ++i) max |= v[i];
  size_t w = 1;
  while (w < 8 && (max >> (8 * w)) != 0) ++w;
  col.bytes.resize(1 + w * n);
  auto* p = reinterpret_cast<uint8_t*>(col.bytes.data());
  p[0] = static_cast<uint8_t>(w);
  for (size_t b = 0; b < w; ++b) {
    for (size_t i = 0; i < n; ++i) p[1 + b * n + i] = static_cast<uint8_t>(v[i] >> (8 * b));
  }
}

// Plain fixed-width values are stored as byte planes (every value's byte 0, then byte 1, ...):
// the mostly-zero high bytes of interface indexes, AS numbers and ports then compress to
// almost nothing. The values are the `width` bytes at bit `shift` of each packed word.
void put_fixed(ColumnData& col, const uint64_t* words, size_t n, unsigned shift, size_t width) {
  const uint64_t mask = (uint64_t{1} << (8 * width)) - 1;  // width is 1, 2 or 4
  const uint64_t first = (words[0] >> shift) & mask;
  const bool same =
      std::all_of(words, words + n, [&](uint64_t w) { return ((w >> shift) & mask) == first; });
  if (same) {
    col.encoding = Encoding::kConst;
    col.bytes.resize(width);
    std::memcpy(col.bytes.data(), &first, width);  // little-endian
    return;
  }
  col.encoding = Encoding::kPlain;
  col.bytes.resize(n * width);
  auto* p = reinterpret_cast<uint8_t*>(col.bytes.data());
  for (size_t b = 0; b < width; ++b) {
    for (size_t i = 0; i < n; ++i) p[b * n + i] = static_cast<uint8_t>(words[i] >> (shift + 8 * b));
  }
}

void put_addrs(ColumnData& col, const IpAddr* v, size_t n) {
  bool v4 = true;
  for (size_t i = 0; i < n; ++i) v4 = v4 && v[i].is_v4();
  if (all_equal(v, n)) {
    col.encoding = Encoding::kConst;
    col.bytes.assign(reinterpret_cast<const char*>(v[0].b.data()), 16);
    return;
  }
  // Byte planes, as put_fixed: address byte k of every record, then byte k + 1.
  col.encoding = v4 ? Encoding::kIpv4 : Encoding::kPlain;
  const size_t width = v4 ? 4 : 16;
  const size_t from = 16 - width;
  col.bytes.resize(n * width);
  auto* p = reinterpret_cast<uint8_t*>(col.bytes.data());
  for (size_t b = 0; b < width; ++b) {
    for (size_t i = 0; i < n; ++i) p[b * n + i] = v[i].b[from + b];
  }
}

// The block's values column by column, gathered in one pass over the records (a pass per
// column over 128-byte records read each record 26 times from beyond the cache). The
// fixed-width fields are packed into five words a record, so that reordering by start time
// gathers 13 values a record instead of 25.
struct ColumnValues {
  std::array<std::vector<uint64_t>, 5> wide;    // start, duration, bytes, packets, name_ref
  std::array<std::vector<IpAddr>, 3> addr;      // src, dst, exporter
  std::array<std::vector<uint64_t>, 5> packed;  // the fixed-width fields (Shape::word)

  template <class T>
  static void permute(std::vector<T>& values, const uint32_t* order, size_t n) {
    thread_local std::vector<T> tmp;
    tmp.resize(n);
    for (size_t k = 0; k < n; ++k) tmp[k] = values[order[k]];
    values.swap(tmp);
  }
  void permute(const uint32_t* order, size_t n) {
    for (auto& v : wide) permute(v, order, n);
    for (auto& v : addr) permute(v, order, n);
    for (auto& v : packed) permute(v, order, n);
  }

  void resize(size_t n) {
    for (auto& v : wide) v.resize(n);
    for (auto& v : addr) v.resize(n);
    for (auto& v : packed) v.resize(n);
  }
};

// --- reading ---------------------------------------------------------------------------------

bool get_varint(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  if (p < end && *p < 0x80) {
    v = *p++;
    return true;
  }
  v = 0;
  for (unsigned shift = 0; shift < 64 && p < end; shift += 7) {
    const uint8_t b = *p++;
    v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

const uint8_t* begin_of(const ColumnView& c) {
  return reinterpret_cast<const uint8_t*>(c.bytes.data());
}

// The records a decode writes: all n (idx == nullptr), or those at idx[0..m) (ascending, with
// idx[m] a sentinel no row equals), to output positions 0..m.
struct Rows {
  const uint32_t* idx;
  uint32_t m;
  uint32_t at(uint32_t k) const { return idx != nullptr ? idx[k] : k; }
};

template <size_t W>
uint64_t gather(const uint8_t* planes, uint32_t n, uint32_t i) {
  uint64_t v = 0;
  for (size_t b = 0; b < W; ++b) v |= uint64_t{planes[b * n + i]} << (8 * b);
  return v;
}

// Calls set(record, value) for the values of a wide column the rows select. A running column
// (start_ms, a sum of deltas) sees every value, with a scratch record for the rows not selected
// (branch-free: a query keeps an unpredictable few of the rows).
template <size_t W, class Set>
void get_planes(const uint8_t* planes, FlowRecord* rs, uint32_t n, Rows rows, Set& set,
                bool running) {
  if (rows.idx == nullptr) {
    for (uint32_t i = 0; i < n; ++i) set(rs[i], gather<W>(planes, n, i));
    return;
  }
  if (!running) {
    for (uint32_t k = 0; k < rows.m; ++k) set(rs[k], gather<W>(planes, n, rows.idx[k]));
    return;
  }
  FlowRecord sink;
  for (uint32_t i = 0, k = 0; i < n; ++i) {
    const bool take = rows.idx[k] == i;
    set(take ? rs[k] : sink, gather<W>(planes, n, i));
    k += take ? 1 : 0;
  }
}

// get_planes for width w (1..8): one instantiation per width, so that the gather unrolls.
template <class Set, size_t... W>
void get_planes_of_width(size_t w, const uint8_t* planes, FlowRecord* rs, uint32_t n, Rows rows,
                         Set& set, bool running, std::index_sequence<W...>) {
  (void)((w == W + 1 && (get_planes<W + 1>(planes, rs, n, rows, set, running), true)) || ...);
}

template <class Set>
bool get_wide(const ColumnView& c, FlowRecord* rs, uint32_t n, Rows rows, Set set,
              bool running = false) {
  const uint8_t* p = begin_of(c);
  const uint8_t* end = p + c.bytes.size();
  if (c.encoding == Encoding::kConst) {
    uint64_t v = 0;
    if (!get_varint(p, end, v) || p != end) return false;
    if (rows.idx == nullptr || !running) {
      for (uint32_t k = 0; k < rows.m; ++k) set(rs[k], v);
      return true;
    }
    FlowRecord sink;
    for (uint32_t i = 0, k = 0; i < n; ++i) {
      const bool take = rows.idx[k] == i;
      set(take ? rs[k] : sink, v);
      k += take ? 1 : 0;
    }
    return true;
  }
  // column_shape_ok: 1 + w * n bytes; the width byte must say the same w.
  if (uint64_t{p[0]} * n + 1 != c.bytes.size()) return false;
  get_planes_of_width(p[0], p + 1, rs, n, rows, set, running, std::make_index_sequence<8>{});
  return true;
}

template <class T>
void get_fixed(const ColumnView& c, FlowRecord* rs, uint32_t n, Rows rows, T FlowRecord::*m) {
  const uint8_t* p = begin_of(c);
  if (c.encoding == Encoding::kConst) {
    T v;
    std::memcpy(&v, p, sizeof v);
    for (uint32_t k = 0; k < rows.m; ++k) rs[k].*m = v;
    return;
  }
  // Byte planes (put_fixed).
  for (uint32_t k = 0; k < rows.m; ++k)
    rs[k].*m = static_cast<T>(gather<sizeof(T)>(p, n, rows.at(k)));
}

void get_addrs(const ColumnView& c, FlowRecord* rs, uint32_t n, Rows rows, IpAddr FlowRecord::*m) {
  const uint8_t* p = begin_of(c);
  switch (c.encoding) {
    case Encoding::kConst: {
      IpAddr a;
      std::memcpy(a.b.data(), p, 16);
      for (uint32_t k = 0; k < rows.m; ++k) rs[k].*m = a;
      break;
    }
    case Encoding::kIpv4:  // byte planes (put_addrs)
      for (uint32_t k = 0; k < rows.m; ++k) {
        const uint32_t i = rows.at(k);
        const uint8_t b[4] = {p[i], p[n + i], p[2 * n + i], p[3 * n + i]};
        rs[k].*m = IpAddr::v4_bytes(b);
      }
      break;
    case Encoding::kPlain:
      for (uint32_t k = 0; k < rows.m; ++k) {
        const uint32_t i = rows.at(k);
        for (size_t b = 0; b < 16; ++b) (rs[k].*m).b[b] = p[b * n + i];
      }
      break;
    case Encoding::kPlanes:
      break;  // not an address encoding (column_shape_ok)
  }
}

bool get_names(const ColumnView& c, std::vector<std::string>& names, uint64_t max_ref) {
  const uint8_t* p = begin_of(c);
  const uint8_t* end = p + c.bytes.size();
  uint64_t count;
  // Every name takes at least one byte, which bounds the count by the column's length.
  if (!get_varint(p, end, count) || count > static_cast<uint64_t>(end - p) || max_ref > count) {
    return false;
  }
  names.reserve(names.size() + count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t len;
    if (!get_varint(p, end, len) || len > kMaxNameBytes || len > static_cast<uint64_t>(end - p)) {
      return false;
    }
    names.emplace_back(reinterpret_cast<const char*>(p), len);
    p += len;
  }
  return p == end;
}

}  // namespace

void encode_columns(const std::vector<FlowRecord>& rs, const std::vector<std::string>& names,
                    int64_t base_start_ms, BlockColumns& out, const uint32_t* order) {
  const size_t n = rs.size();
  thread_local ColumnValues v;
  v.resize(n);
  for (size_t k = 0; k < n; ++k) {
    const FlowRecord& r = rs[k];
    v.wide[0][k] = static_cast<uint64_t>(r.start_ms);
    // end_ms: zigzag of the duration, small and usually positive.
    v.wide[1][k] = zigzag(static_cast<int64_t>(wrap_sub(r.end_ms, r.start_ms)));
    v.wide[2][k] = r.bytes;
    v.wide[3][k] = r.packets;
    v.wide[4][k] = r.name_ref;
    v.addr[0][k] = r.src;
    v.addr[1][k] = r.dst;
    v.addr[2][k] = r.exporter;
    v.packed[0][k] = r.obs_domain | uint64_t{r.sampling_rate} << 32;
    v.packed[1][k] = r.in_if | uint64_t{r.out_if} << 32;
    v.packed[2][k] = r.src_as | uint64_t{r.dst_as} << 32;
    v.packed[3][k] = r.src_port | uint64_t{r.dst_port} << 16 | uint64_t{r.vlan} << 32;
    v.packed[4][k] =
        r.proto | uint64_t{r.tcp_flags} << 8 | uint64_t{static_cast<uint8_t>(r.direction)} << 16 |
        uint64_t{static_cast<uint8_t>(r.source)} << 24 | uint64_t{r.tos} << 32 |
        uint64_t{r.flags} << 40 | uint64_t{r.src_mask} << 48 | uint64_t{r.dst_mask} << 56;
  }
  // Reordered column by column: each compact array is gathered within the cache, where
  // reading the 128-byte records in sorted order missed it on every record.
  if (order != nullptr) v.permute(order, n);
  // start_ms: zigzag deltas from the previous record (the first from the block minimum).
  auto prev = static_cast<uint64_t>(base_start_ms);
  for (size_t k = 0; k < n; ++k) {
    const uint64_t start = v.wide[0][k];
    v.wide[0][k] = zigzag(static_cast<int64_t>(start - prev));
    prev = start;
  }
  put_wide(out[0], v.wide[0].data(), n);
  put_wide(out[1], v.wide[1].data(), n);
  for (size_t k = 0; k < 3; ++k) put_addrs(out[2 + k], v.addr[k].data(), n);
  put_wide(out[5], v.wide[2].data(), n);
  put_wide(out[6], v.wide[3].data(), n);
  for (size_t c = 7; c < 24; ++c) {
    const Shape sh = kShapes[c];
    put_fixed(out[c], v.packed[sh.word].data(), n, sh.shift, sh.width);
  }
  put_wide(out[24], v.wide[4].data(), n);
  // Names: varint count, then per name a varint length and its bytes.
  auto& s = out[25];
  s.encoding = Encoding::kPlain;
  s.bytes.clear();
  put_varint(s.bytes, names.size());
  for (const auto& name : names) {
    const size_t len = std::min<size_t>(name.size(), kMaxNameBytes);
    put_varint(s.bytes, len);
    s.bytes.append(name.data(), len);
  }
}

bool column_shape_ok(size_t c, Encoding e, uint64_t raw, uint32_t n) {
  if (c >= kColumnCount || n == 0) return false;
  const Shape s = kShapes[c];
  switch (s.kind) {
    case Kind::kWide:
      if (e == Encoding::kConst) return raw >= 1 && raw <= 10;
      return e == Encoding::kPlanes && raw > n && (raw - 1) % n == 0 && (raw - 1) / n <= 8;
    case Kind::kFixed:
      if (e == Encoding::kConst) return raw == s.width;
      return e == Encoding::kPlain && raw == uint64_t{n} * s.width;
    case Kind::kAddr:
      if (e == Encoding::kConst) return raw == 16;
      if (e == Encoding::kIpv4) return raw == uint64_t{n} * 4;
      return e == Encoding::kPlain && raw == uint64_t{n} * 16;
    case Kind::kNames:
      return e == Encoding::kPlain && raw >= 1;
  }
  return false;
}

bool decode_rows(const std::array<ColumnView, kColumnCount>& cols, uint32_t n,
                 int64_t base_start_ms, FlowRecord* rs, const uint32_t* rows, uint32_t m,
                 std::vector<std::string>& names, const char*& why, uint32_t columns) {
  columns = needed_columns(columns);
  for (size_t c = 0; c < kColumnCount; ++c) {
    if ((columns & column_bit(c)) != 0 &&
        !column_shape_ok(c, cols[c].encoding, cols[c].bytes.size(), n)) {
      why = "column size does not match the record count";
      return false;
    }
  }
  if (rows != nullptr) {
    for (uint32_t k = 0; k < m; ++k) {
      if (rows[k] >= n || (k > 0 && rows[k] <= rows[k - 1])) {
        why = "rows not ascending within the block";
        return false;
      }
    }
  }
  // The rows with a sentinel after them (get_wide).
  thread_local std::vector<uint32_t> padded;
  if (rows != nullptr) {
    padded.assign(rows, rows + m);
    padded.push_back(UINT32_MAX);
  }
  const Rows sel{rows != nullptr ? padded.data() : nullptr, rows != nullptr ? m : n};
  auto want = [&](uint32_t bit) { return (columns & bit) != 0; };
  if (want(column::kStart)) {
    uint64_t prev = static_cast<uint64_t>(base_start_ms);
    if (!get_wide(
            cols[0], rs, n, sel,
            [&](FlowRecord& r, uint64_t v) {
              prev += static_cast<uint64_t>(unzigzag(v));
              r.start_ms = static_cast<int64_t>(prev);
            },
            /*running=*/true)) {
      why = "bad start_ms column";
      return false;
    }
  }
  if (want(column::kEnd) && !get_wide(cols[1], rs, n, sel, [](FlowRecord& r, uint64_t v) {
        r.end_ms = static_cast<int64_t>(static_cast<uint64_t>(r.start_ms) +
                                        static_cast<uint64_t>(unzigzag(v)));
      })) {
    why = "bad end_ms column";
    return false;
  }
  if (want(column::kSrc)) get_addrs(cols[2], rs, n, sel, &FlowRecord::src);
  if (want(column::kDst)) get_addrs(cols[3], rs, n, sel, &FlowRecord::dst);
  if (want(column::kExporter)) get_addrs(cols[4], rs, n, sel, &FlowRecord::exporter);
  if ((want(column::kBytes) &&
       !get_wide(cols[5], rs, n, sel, [](FlowRecord& r, uint64_t v) { r.bytes = v; })) ||
      (want(column::kPackets) &&
       !get_wide(cols[6], rs, n, sel, [](FlowRecord& r, uint64_t v) { r.packets = v; }))) {
    why = "bad counter column";
    return false;
  }
  // Fixed-width columns hold exactly n values (column_shape_ok).
  if (want(column::kObsDomain)) get_fixed(cols[7], rs, n, sel, &FlowRecord::obs_domain);
  if (want(column::kInIf)) get_fixed(cols[8], rs, n, sel, &FlowRecord::in_if);
  if (want(column::kOutIf)) get_fixed(cols[9], rs, n, sel, &FlowRecord::out_if);
  if (want(column::kSrcAs)) get_fixed(cols[10], rs, n, sel, &FlowRecord::src_as);
  if (want(column::kDstAs)) get_fixed(cols[11], rs, n, sel, &FlowRecord::dst_as);
  if (want(column::kSamplingRate)) get_fixed(cols[12], rs, n, sel, &FlowRecord::sampling_rate);
  if (want(column::kSrcPort)) get_fixed(cols[13], rs, n, sel, &FlowRecord::src_port);
  if (want(column::kDstPort)) get_fixed(cols[14], rs, n, sel, &FlowRecord::dst_port);
  if (want(column::kProto)) get_fixed(cols[15], rs, n, sel, &FlowRecord::proto);
  if (want(column::kTcpFlags)) get_fixed(cols[16], rs, n, sel, &FlowRecord::tcp_flags);
  if (want(column::kDirection)) get_fixed(cols[17], rs, n, sel, &FlowRecord::direction);
  if (want(column::kSource)) get_fixed(cols[18], rs, n, sel, &FlowRecord::source);
  if (want(column::kVlan)) get_fixed(cols[19], rs, n, sel, &FlowRecord::vlan);
  if (want(column::kTos)) get_fixed(cols[20], rs, n, sel, &FlowRecord::tos);
  if (want(column::kFlags)) get_fixed(cols[21], rs, n, sel, &FlowRecord::flags);
  if (want(column::kSrcMask)) get_fixed(cols[22], rs, n, sel, &FlowRecord::src_mask);
  if (want(column::kDstMask)) get_fixed(cols[23], rs, n, sel, &FlowRecord::dst_mask);
  if (!want(column::kNames)) return true;
  // The decoded name_refs are checked against the names column.
  uint64_t max_ref = 0;
  if (!get_wide(cols[24], rs, n, sel, [&](FlowRecord& r, uint64_t v) {
        max_ref = std::max(max_ref, v);
        r.name_ref = static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX));
      })) {
    why = "bad name_ref column";
    return false;
  }
  const size_t old_names = names.size();
  if (!get_names(cols[25], names, max_ref)) {
    names.resize(old_names);
    why = "bad names column";
    return false;
  }
  if (old_names > 0) {
    const auto base = static_cast<uint32_t>(old_names);
    for (uint32_t k = 0; k < sel.m; ++k) {
      if (rs[k].name_ref != 0) rs[k].name_ref += base;
    }
  }
  return true;
}

bool decode_columns(const std::array<ColumnView, kColumnCount>& cols, uint32_t n,
                    int64_t base_start_ms, FlowBatch& out, const char*& why, uint32_t columns,
                    const std::vector<uint32_t>* rows) {
  const size_t old_records = out.records.size();
  const size_t old_names = out.names.size();
  const auto m = static_cast<uint32_t>(rows != nullptr ? rows->size() : n);
  out.records.resize(old_records + m);
  if (!decode_rows(cols, n, base_start_ms, out.records.data() + old_records,
                   rows != nullptr ? rows->data() : nullptr, m, out.names, why, columns)) {
    out.records.resize(old_records);
    out.names.resize(old_names);
    return false;
  }
  return true;
}

}  // namespace orbwatch::store::segment
