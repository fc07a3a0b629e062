#include "store/segment_format.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "store/segment_columns.h"

namespace orbwatch::store::segment {

namespace {

constexpr uint32_t kCrc32cPoly = 0x82F63B78;  // 0x1EDC6F41 reflected

uint32_t crc32c_portable(uint32_t crc, const uint8_t* p, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ kCrc32cPoly : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc & 0xffffffffu;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = __builtin_ia32_crc32qi(c32, *p);
  return ~c32;
}
#endif

}  // namespace

uint32_t crc32c(uint32_t crc, const uint8_t* p, size_t n) {
#if defined(__x86_64__)
  static const bool sse42 = __builtin_cpu_supports("sse4.2");
  if (sse42) return crc32c_sse42(crc, p, n);
#endif
  return crc32c_portable(crc, p, n);
}

void FileHeader::encode(uint8_t* out) const {
  std::memset(out, 0, kFileHeaderSize);
  std::memcpy(out, kFileMagic, 8);
  store_le16(out + 8, version);
  store_le16(out + 10, kFileHeaderSize);
  store_le64(out + 16, static_cast<uint64_t>(created_ms));
  store_le32(out + 28, crc32c(0, out, 28));
}

bool FileHeader::decode(const uint8_t* in, FileHeader& out, const char*& why) {
  if (std::memcmp(in, kFileMagic, 8) != 0) {
    why = "not a segment file (bad magic)";
    return false;
  }
  if (load_le32(in + 28) != crc32c(0, in, 28)) {
    why = "file header checksum mismatch";
    return false;
  }
  out.version = load_le16(in + 8);
  if (out.version != kVersion) {
    // Version 1 (one compressed payload per block) was only written by pre-release builds.
    why = "unsupported segment version";
    return false;
  }
  if (load_le16(in + 10) != kFileHeaderSize) {
    why = "bad file header size";
    return false;
  }
  out.created_ms = static_cast<int64_t>(load_le64(in + 16));
  return true;
}

void BlockHeader::encode(uint8_t* out) const {
  std::memset(out, 0, kBlockHeaderSize);
  store_le32(out, kBlockMagic);
  store_le16(out + 4, kBlockHeaderSize);
  out[6] = static_cast<uint8_t>(codec);
  out[7] = bloom_hashes;
  store_le32(out + 8, records);
  store_le32(out + 12, bloom_bytes);
  store_le32(out + 16, payload_bytes);
  store_le32(out + 20, raw_bytes);
  store_le64(out + 24, static_cast<uint64_t>(min_start_ms));
  store_le64(out + 32, static_cast<uint64_t>(max_start_ms));
  store_le64(out + 40, static_cast<uint64_t>(min_end_ms));
  store_le64(out + 48, static_cast<uint64_t>(max_end_ms));
  src.encode(out + 56);
  dst.encode(out + 96);
  store_le32(out + 136, data_crc);
  store_le32(out + 140, crc32c(0, out, 140));
}

bool BlockHeader::decode(const uint8_t* in, BlockHeader& out, const char*& why) {
  if (load_le32(in) != kBlockMagic) {
    why = "bad block magic";
    return false;
  }
  if (load_le32(in + 140) != crc32c(0, in, 140)) {
    why = "block header checksum mismatch";
    return false;
  }
  if (load_le16(in + 4) != kBlockHeaderSize) {
    why = "bad block header size";
    return false;
  }
  out.codec = static_cast<Codec>(in[6]);
  out.bloom_hashes = in[7];
  out.records = load_le32(in + 8);
  out.bloom_bytes = load_le32(in + 12);
  out.payload_bytes = load_le32(in + 16);
  out.raw_bytes = load_le32(in + 20);
  out.min_start_ms = static_cast<int64_t>(load_le64(in + 24));
  out.max_start_ms = static_cast<int64_t>(load_le64(in + 32));
  out.min_end_ms = static_cast<int64_t>(load_le64(in + 40));
  out.max_end_ms = static_cast<int64_t>(load_le64(in + 48));
  out.src = AddrRange::decode(in + 56);
  out.dst = AddrRange::decode(in + 96);
  out.data_crc = load_le32(in + 136);
  if (out.codec != Codec::kNone && out.codec != Codec::kZstd && out.codec != Codec::kLz4) {
    why = "unknown codec";
    return false;
  }
  if (out.records == 0 || out.records > kMaxBlockRecords) {
    why = "record count out of bounds";
    return false;
  }
  if (out.raw_bytes > kMaxRawBytes || out.payload_bytes > kMaxPayloadBytes ||
      out.bloom_bytes > kMaxBloomBytes || out.bloom_bytes % 8 != 0 || out.bloom_bytes == 0) {
    why = "block sizes out of bounds";
    return false;
  }
  if (out.payload_bytes < kColumnDirSize) {
    why = "payload smaller than the column directory";
    return false;
  }
  if (out.bloom_hashes == 0 || out.bloom_hashes > 16) {
    why = "bad bloom hash count";
    return false;
  }
  if (out.min_start_ms > out.max_start_ms || out.min_end_ms > out.max_end_ms) {
    why = "inconsistent block bounds";
    return false;
  }
  return true;
}

void encode_column_dir(const ColumnDir& dir, uint8_t* out) {
  std::memset(out, 0, kColumnDirSize);
  store_le32(out, kColumnCount);
  for (size_t c = 0; c < kColumnCount; ++c) {
    uint8_t* e = out + 4 + c * kColumnEntrySize;
    e[0] = static_cast<uint8_t>(dir[c].codec);
    e[1] = static_cast<uint8_t>(dir[c].encoding);
    store_le32(e + 4, dir[c].stored_bytes);
    store_le32(e + 8, dir[c].raw_bytes);
    store_le32(e + 12, dir[c].crc);
  }
}

bool decode_column_dir(const uint8_t* in, const BlockHeader& h, ColumnDir& out, const char*& why) {
  if (load_le32(in) != kColumnCount) {
    why = "bad column count";
    return false;
  }
  uint64_t stored = kColumnDirSize, raw = 0;
  for (size_t c = 0; c < kColumnCount; ++c) {
    const uint8_t* e = in + 4 + c * kColumnEntrySize;
    ColumnEntry& col = out[c];
    col.codec = static_cast<Codec>(e[0]);
    col.encoding = static_cast<Encoding>(e[1]);
    col.stored_bytes = load_le32(e + 4);
    col.raw_bytes = load_le32(e + 8);
    col.crc = load_le32(e + 12);
    col.offset = stored;
    if (col.codec != Codec::kNone && col.codec != Codec::kZstd && col.codec != Codec::kLz4) {
      why = "unknown column codec";
      return false;
    }
    if (load_le16(e + 2) != 0 || !column_shape_ok(c, col.encoding, col.raw_bytes, h.records) ||
        (col.codec == Codec::kNone && col.stored_bytes != col.raw_bytes)) {
      why = "column size does not match the record count";
      return false;
    }
    stored += col.stored_bytes;
    raw += col.raw_bytes;
  }
  if (stored != h.payload_bytes || raw != h.raw_bytes) {
    why = "column sizes do not add up to the block's";
    return false;
  }
  return true;
}

void AddrRange::add(const IpAddr& a) {
  if (a.is_v4()) {
    const uint32_t v = a.v4_value();
    v4_min = std::min(v4_min, v);
    v4_max = std::max(v4_max, v);
  } else {
    v6_min = std::min(v6_min, a);
    v6_max = std::max(v6_max, a);
  }
}

bool AddrRange::may_contain(const IpAddr& a) const {
  if (a.is_v4()) {
    const uint32_t v = a.v4_value();
    return v4_min <= v && v <= v4_max;
  }
  return v6_min <= a && a <= v6_max;
}

bool AddrRange::may_overlap(const Prefix& p) const {
  IpAddr lo = p.addr;
  IpAddr hi = p.addr;
  for (unsigned bit = p.len; bit < 128; ++bit) {
    lo.b[bit / 8] = static_cast<uint8_t>(lo.b[bit / 8] & ~(0x80u >> (bit % 8)));
    hi.b[bit / 8] = static_cast<uint8_t>(hi.b[bit / 8] | (0x80u >> (bit % 8)));
  }
  // The part of [lo, hi] inside the IPv4-mapped space, against the IPv4 range.
  static const IpAddr kV4Lo = IpAddr::v4(0);
  static const IpAddr kV4Hi = IpAddr::v4(UINT32_MAX);
  const IpAddr a = std::max(lo, kV4Lo);
  const IpAddr b = std::min(hi, kV4Hi);
  if (v4_min <= v4_max && a <= b && a.v4_value() <= v4_max && v4_min <= b.v4_value()) return true;
  // The IPv6 range holds no mapped address, so comparing whole intervals is exact enough.
  return v6_min <= v6_max && lo <= v6_max && v6_min <= hi;
}

void AddrRange::encode(uint8_t* out) const {
  store_le32(out, v4_min);
  store_le32(out + 4, v4_max);
  std::memcpy(out + 8, v6_min.b.data(), 16);
  std::memcpy(out + 24, v6_max.b.data(), 16);
}

AddrRange AddrRange::decode(const uint8_t* in) {
  AddrRange r;
  r.v4_min = load_le32(in);
  r.v4_max = load_le32(in + 4);
  std::memcpy(r.v6_min.b.data(), in + 8, 16);
  std::memcpy(r.v6_max.b.data(), in + 24, 16);
  return r;
}

namespace {
constexpr uint64_t kBloomSeed = 0x6f72627761746368ull;  // "orbwatch"
uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

BloomHash BloomHash::of(const IpAddr& a) {
  const uint64_t w0 = load_le64(a.b.data());
  const uint64_t w1 = load_le64(a.b.data() + 8);
  BloomHash h{};
  h.h1 = mix64(w0 ^ mix64(w1 ^ kBloomSeed));
  h.h2 = mix64(h.h1) | 1;
  return h;
}

uint32_t bloom_bytes_for(size_t distinct_addresses) {
  const uint64_t bits = std::max<uint64_t>(64, uint64_t{distinct_addresses} * kBloomBitsPerAddr);
  const uint64_t bytes = (bits + 63) / 64 * 8;
  return static_cast<uint32_t>(std::min<uint64_t>(bytes, kMaxBloomBytes));
}

namespace {
// x scaled into [0, m): (x * m) >> 64, a multiply where x % m took a division per probe.
__extension__ using Uint128 = unsigned __int128;
uint64_t reduce(uint64_t x, uint64_t m) {
  return static_cast<uint64_t>((static_cast<Uint128>(x) * m) >> 64);
}
}  // namespace

void bloom_add(uint8_t* bits, uint32_t bytes, uint8_t hashes, const BloomHash& h) {
  const uint64_t m = uint64_t{bytes} * 8;
  uint64_t x = h.h1;
  for (uint8_t i = 0; i < hashes; ++i, x += h.h2) {
    const uint64_t b = reduce(x, m);
    bits[b / 8] = static_cast<uint8_t>(bits[b / 8] | (1u << (b % 8)));
  }
}

bool bloom_test(const uint8_t* bits, uint32_t bytes, uint8_t hashes, const BloomHash& h) {
  const uint64_t m = uint64_t{bytes} * 8;
  uint64_t x = h.h1;
  for (uint8_t i = 0; i < hashes; ++i, x += h.h2) {
    const uint64_t b = reduce(x, m);
    if ((bits[b / 8] & (1u << (b % 8))) == 0) return false;
  }
  return true;
}

void append_footer_entry(std::vector<uint8_t>& entries, uint64_t offset, const BlockHeader& h) {
  const size_t e = entries.size();
  entries.resize(e + kFooterEntrySize);
  store_le64(entries.data() + e, offset);
  h.encode(entries.data() + e + 8);
}

std::vector<uint8_t> encode_footer(const std::vector<uint8_t>& entries, uint32_t blocks,
                                   uint64_t records, uint64_t footer_offset) {
  // Sized once and filled in place; the bound keeps GCC 12 -O3 from imagining an overflowing
  // size (-Warray-bounds/-Wstringop-overflow false positives).
  if (entries.size() > size_t{kMaxBlocks} * kFooterEntrySize) return {};
  const size_t footer = kFooterHeadSize + entries.size();
  std::vector<uint8_t> out(footer + kTrailerSize);
  store_le32(out.data(), kFooterMagic);
  store_le32(out.data() + 4, blocks);
  store_le64(out.data() + 8, records);
  if (!entries.empty()) std::memcpy(out.data() + kFooterHeadSize, entries.data(), entries.size());
  store_le64(out.data() + footer, footer_offset);
  store_le32(out.data() + footer + 8, crc32c(0, out.data(), footer));
  store_le32(out.data() + footer + 12, kTrailerMagic);
  return out;
}

bool pread_all(int fd, uint8_t* out, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    out += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

bool sync_parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0;
}

}  // namespace orbwatch::store::segment
