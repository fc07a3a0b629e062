// The flow archive's segment file: constants and on-disk layout. docs/formats.md ("Flow archive
// segment") draws the same layout byte by byte; change both together and bump kVersion.
//
//   file    := FileHeader Block* [Footer Trailer]
//   Block   := BlockHeader bloom[bloom_bytes] payload[payload_bytes]
//   payload := ColumnDir column[kColumnCount]   (each column compressed on its own)
//   Footer  := "OWFT" u32 block_count u64 total_records (u64 offset, BlockHeader)[block_count]
//   Trailer := u64 footer_offset u32 footer_crc "OWEN"
//
// Everything is little-endian. Checksums are CRC-32C (Castagnoli, as iSCSI and ext4; the SSE4.2
// instruction computes it at several GB/s, where zlib's CRC-32 took a twentieth of a scan). A block
// is self-describing, so a file whose writer died before the footer (blocks appended, no footer) is
// read by scanning block headers from the file header on.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/ip_addr.h"

namespace orbwatch::store::segment {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "segment I/O assumes little endian");

inline constexpr uint16_t kVersion = 2;
inline constexpr char kFileMagic[8] = {'O', 'R', 'B', 'W', 'S', 'E', 'G', '\0'};
inline constexpr uint32_t kBlockMagic = 0x4b42574f;    // "OWBK"
inline constexpr uint32_t kFooterMagic = 0x5446574f;   // "OWFT"
inline constexpr uint32_t kTrailerMagic = 0x4e45574f;  // "OWEN"

inline constexpr size_t kFileHeaderSize = 32;
inline constexpr size_t kBlockHeaderSize = 144;
inline constexpr size_t kFooterHeadSize = 16;
inline constexpr size_t kFooterEntrySize = 8 + kBlockHeaderSize;
inline constexpr size_t kTrailerSize = 16;

// Compression of a column (and, in the block header, the writer's choice for the block).
enum class Codec : uint8_t { kNone = 0, kZstd = 1, kLz4 = 2 };

// How a column's values are laid out before compression (segment_columns.h).
enum class Encoding : uint8_t {
  kPlain = 0,   // one value per record (fixed width, varint or 16-byte address)
  kConst = 1,   // one value that every record has
  kIpv4 = 2,    // address columns only: every address IPv4, 4 bytes each in network order
  kPlanes = 3,  // wide columns only: a width byte w, then w byte planes
};

// Columns per block (segment_columns.h names them).
inline constexpr size_t kColumnCount = 26;

// Bounds every reader enforces before allocating: a hostile file can make a reader allocate at
// most one block's declared sizes, and those are capped here.
// A block of constant columns is tiny on disk whatever its record count: the record count cap
// alone bounds what decoding one block allocates (65,536 x 128 bytes).
inline constexpr uint32_t kMaxBlockRecords = 1u << 16;
inline constexpr uint32_t kMaxRawBytes = 256u << 20;      // uncompressed columns
inline constexpr uint32_t kMaxPayloadBytes = 256u << 20;  // stored payload
inline constexpr uint32_t kMaxBloomBytes = 4u << 20;
inline constexpr uint32_t kMaxBlocks = 1u << 20;  // footer entries
inline constexpr uint32_t kMaxNameBytes = 65535;  // one server name; longer ones are truncated

// Bloom filter over every src and dst address of a block: kBloomBitsPerAddr bits per distinct
// address (rounded up to whole 64-bit words, at least one), kBloomHashes probes.
inline constexpr uint32_t kBloomBitsPerAddr = 10;
inline constexpr uint8_t kBloomHashes = 7;

// --- little-endian helpers -------------------------------------------------------------------

inline void store_le16(uint8_t* p, uint16_t v) {
  std::memcpy(p, &v, 2);
}
inline void store_le32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}
inline void store_le64(uint8_t* p, uint64_t v) {
  std::memcpy(p, &v, 8);
}
inline uint16_t load_le16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// CRC-32C of [p, p + n), continuing from `crc` (0 to start).
uint32_t crc32c(uint32_t crc, const uint8_t* p, size_t n);

// --- file header (32 bytes) ----------------------------------------------------------------
//   0  magic[8] "ORBWSEG\0"     8  u16 version     10 u16 header size (32)   12 u32 flags (0)
//   16 i64 created_ms (writer's clock, informational)   24 u32 reserved (0)   28 u32 crc of 0..27
struct FileHeader {
  uint16_t version = kVersion;
  int64_t created_ms = 0;

  void encode(uint8_t* out) const;  // kFileHeaderSize bytes
  // False when the magic, size or checksum is wrong or the version is not one this reader knows.
  static bool decode(const uint8_t* in, FileHeader& out, const char*& why);
};

// --- address ranges (40 bytes) -------------------------------------------------------------
// The bounds of a block's src (or dst) addresses per family, so that a dual-stack block still
// rules out IPv4 prefixes outside its IPv4 range:
//   0 u32 IPv4 min   4 u32 IPv4 max (the address as a number)   8 IPv6 min[16]   24 IPv6 max[16]
// IPv6 covers every address that is not IPv4 mapped. A family with no address has min > max
// (IPv4: 0xffffffff, 0; IPv6: all ff, all 00).
struct AddrRange {
  uint32_t v4_min = UINT32_MAX;
  uint32_t v4_max = 0;
  IpAddr v6_min = all_ones();
  IpAddr v6_max;

  void add(const IpAddr& a);
  bool may_contain(const IpAddr& a) const;
  bool may_overlap(const Prefix& p) const;
  void encode(uint8_t* out) const;  // 40 bytes
  static AddrRange decode(const uint8_t* in);
  static IpAddr all_ones() {
    IpAddr a;
    a.b.fill(0xff);
    return a;
  }
};

// --- block header (144 bytes) --------------------------------------------------------------
//   0  u32 magic "OWBK"   4 u16 header size (144)   6 u8 codec   7 u8 bloom hashes
//   8  u32 record count   12 u32 bloom bytes   16 u32 payload bytes (directory + stored columns)
//   20 u32 raw bytes (the columns' uncompressed bytes, summed)
//   24 i64 min start_ms   32 i64 max start_ms   40 i64 min end_ms   48 i64 max end_ms
//   56 src AddrRange[40]   96 dst AddrRange[40]
//   136 u32 data crc (of bloom and column directory)   140 u32 header crc (of bytes 0..139)
struct BlockHeader {
  Codec codec = Codec::kZstd;
  uint8_t bloom_hashes = kBloomHashes;
  uint32_t records = 0;
  uint32_t bloom_bytes = 0;
  uint32_t payload_bytes = 0;
  uint32_t raw_bytes = 0;
  int64_t min_start_ms = 0;
  int64_t max_start_ms = 0;
  int64_t min_end_ms = 0;
  int64_t max_end_ms = 0;
  AddrRange src, dst;
  uint32_t data_crc = 0;

  void encode(uint8_t* out) const;  // kBlockHeaderSize bytes, header crc computed
  // Checks the magic, size, header crc and every bound above; `why` says what failed.
  static bool decode(const uint8_t* in, BlockHeader& out, const char*& why);
  uint64_t total_bytes() const { return kBlockHeaderSize + uint64_t{bloom_bytes} + payload_bytes; }
};

// --- column directory (4 + 16 per column bytes, at the start of the payload) ------------------
//   0 u32 column count (kColumnCount), then per column:
//   0 u8 codec   1 u8 encoding   2 u16 reserved (0)   4 u32 stored bytes   8 u32 raw bytes
//   12 u32 crc of the stored bytes
// The columns' stored bytes follow the directory in column order.
inline constexpr size_t kColumnEntrySize = 16;
inline constexpr size_t kColumnDirSize = 4 + kColumnCount * kColumnEntrySize;

struct ColumnEntry {
  Codec codec = Codec::kNone;
  Encoding encoding = Encoding::kPlain;
  uint32_t stored_bytes = 0;
  uint32_t raw_bytes = 0;
  uint32_t crc = 0;
  uint64_t offset = 0;  // of the stored bytes, from the start of the payload (not encoded)
};
using ColumnDir = std::array<ColumnEntry, kColumnCount>;

void encode_column_dir(const ColumnDir& dir, uint8_t* out);  // kColumnDirSize bytes
// Checks the count, codecs, each column's size against the record count, and that the stored
// and raw sizes add up to the block header's; fills in the offsets.
bool decode_column_dir(const uint8_t* in, const BlockHeader& h, ColumnDir& out, const char*& why);

// --- footer --------------------------------------------------------------------------------
// Footer and trailer for a file whose footer starts at `footer_offset`: `entries` holds
// `blocks` index entries (u64 block offset + encoded BlockHeader each).
// Appends one footer index entry: the block's file offset and its header.
void append_footer_entry(std::vector<uint8_t>& entries, uint64_t offset, const BlockHeader& h);
std::vector<uint8_t> encode_footer(const std::vector<uint8_t>& entries, uint32_t blocks,
                                   uint64_t records, uint64_t footer_offset);

// Reads exactly `n` bytes at `offset` (retrying short reads and EINTR); false at end of file or
// on an error.
bool pread_all(int fd, uint8_t* out, size_t n, uint64_t offset);

// fsync of the directory holding `path`, so that a rename into it is durable.
bool sync_parent_dir(const std::string& path);

// --- bloom filter ----------------------------------------------------------------------------
// Probe i (0..k-1) of address a sets bit (x * m) >> 64 with x = (h1 + i * h2) mod 2^64 and
// m = 8 * bloom bytes (128-bit product), where
// w0, w1 = the address's 16 bytes as two little-endian u64, h1 = mix64(w0 ^ mix64(w1 ^ kSeed)),
// h2 = mix64(h1) | 1, mix64 = the SplitMix64 finaliser. Bit b is byte b / 8, bit b % 8.
struct BloomHash {
  uint64_t h1, h2;
  static BloomHash of(const IpAddr& a);
};
uint32_t bloom_bytes_for(size_t distinct_addresses);
void bloom_add(uint8_t* bits, uint32_t bytes, uint8_t hashes, const BloomHash& h);
bool bloom_test(const uint8_t* bits, uint32_t bytes, uint8_t hashes, const BloomHash& h);

}  // namespace orbwatch::store::segment
