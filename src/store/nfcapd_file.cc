#include "store/nfcapd_file.h"

#include <bzlib.h>
#include <fcntl.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "store/segment_format.h"

namespace orbwatch::store {

namespace {

// Everything nfdump writes is in host order; the supported files come from little-endian hosts,
// so the archive's little-endian loads read them.
using segment::load_le16;
using segment::load_le32;
using segment::load_le64;

// nfdump keeps IPv6 addresses as two host-order 64-bit words.
inline void assign_v6_words(IpAddr& a, const uint8_t* p) {
  uint64_t w[2] = {__builtin_bswap64(load_le64(p)), __builtin_bswap64(load_le64(p + 8))};
  std::memcpy(a.b.data(), w, 16);
}
// An IPv4 address as a host-order 32-bit word.
inline void assign_v4_word(IpAddr& a, const uint8_t* p) {
  const uint32_t be = __builtin_bswap32(load_le32(p));
  a.assign_v4(reinterpret_cast<const uint8_t*>(&be));
}

constexpr uint16_t kMagic = 0xA50C;
constexpr size_t kHeaderV1 = 140;  // magic, version, flags, NumBlocks, ident[128]
constexpr size_t kStatV1 = 136;
constexpr size_t kHeaderV2 = 40;
constexpr size_t kBlockHeader = 12;  // NumRecords, size, type, flags
constexpr uint32_t kMaxAppendixBlocks = 8;
constexpr size_t kMaxProblems = 1000;

// File layout 1 header flags.
constexpr uint32_t kV1Lzo = 0x1;
constexpr uint32_t kV1Anonymized = 0x2;
constexpr uint32_t kV1Bz2 = 0x8;
constexpr uint32_t kV1Lz4 = 0x10;

constexpr uint8_t kNone = 0, kLzo = 1, kBz2 = 2, kLz4 = 3, kZstd = 4;  // as nfdump numbers them
const char* compression_name(uint8_t c) {
  static const char* const kNames[] = {"none", "lzo", "bz2", "lz4", "zstd"};
  return c <= kZstd ? kNames[c] : "unknown";
}

// Block types and flags.
constexpr uint16_t kBlockType2 = 2;  // nfdump 1.6 record block
constexpr uint16_t kBlockType3 = 3;  // nfdump 1.7 record block (in layout 1: histograms)
constexpr uint16_t kBlockUncompressed = 0x1;

// Record types.
constexpr uint16_t kCommonRecordV0 = 1;
constexpr uint16_t kExtensionMap = 2;
constexpr uint16_t kExporterInfo = 7;
constexpr uint16_t kExporterStat = 8;
constexpr uint16_t kSamplerLegacy = 9;
constexpr uint16_t kCommonRecord = 10;
constexpr uint16_t kV3Record = 11;
constexpr uint16_t kSampler = 15;
constexpr uint16_t kIdentRecord = 0x8001;
constexpr uint16_t kStatRecord = 0x8002;

// Common record flags (1.6) and V3 record flags (1.7).
constexpr uint16_t kFlagIpv6 = 1;
constexpr uint16_t kFlagPackets64 = 2;
constexpr uint16_t kFlagBytes64 = 4;
constexpr uint16_t kFlagSampled = 128;
constexpr uint8_t kV3Sampled = 2;

// V3 element ids.
enum : uint16_t {
  kExGenericFlow = 1,
  kExIpv4Flow = 2,
  kExIpv6Flow = 3,
  kExFlowMisc = 4,
  kExVlan = 6,
  kExAsRouting = 7,
  kExIpReceivedV4 = 12,
  kExIpReceivedV6 = 13,
  kExSamplerInfo = 18,
};

// Sizes of nfdump 1.6 extensions 0..49 (0: required or reserved, no data in the map's part).
constexpr uint8_t kExtSize[50] = {0, 0, 0, 0,  4,  8,  4,  8,  4,  4,  16, 4,  16, 4, 4, 8, 4,
                                  8, 4, 8, 16, 16, 40, 4,  16, 4,  8,  8,  0,  0,  0, 0, 0, 0,
                                  0, 0, 0, 20, 4,  8,  32, 24, 24, 72, 0,  24, 12, 0, 8, 0};

// A 1.6 extension map compiled to the offsets (from the end of the required extensions) of
// the extensions that carry FlowRecord fields.
struct ExtMap {
  static constexpr uint32_t kAbsent = 0xffffffff;
  uint32_t size = 0;  // bytes of all extensions
  uint32_t io = kAbsent, as = kAbsent, misc = kAbsent, vlan = kAbsent, router = kAbsent;
  uint8_t io_width = 0, as_width = 0, router_width = 0;
};

struct Sampler {
  int64_t id = 0;
  uint32_t rate = 0;
};

struct Exporter {
  IpAddr addr;
  uint32_t version = 0;
  uint32_t id = 0;
  std::vector<Sampler> samplers;
};

constexpr size_t kMaxSamplers = 64;
// nfcapd's own sampler ids: overwrite (-s -N), default (-s N), generic (v5 header, v9 #34/#35).
constexpr int64_t kSamplerOverwrite = -3;
constexpr int64_t kSamplerDefault = -2;
constexpr int64_t kSamplerGeneric = -1;

FlowSource source_of(uint32_t version) {
  switch (version) {
    case 5:
      return FlowSource::kNetflow5;
    case 9:
      return FlowSource::kNetflow9;
    case 10:
      return FlowSource::kIpfix;
    case 9999:
      return FlowSource::kSflow;
    default:
      return FlowSource::kUnknown;
  }
}

}  // namespace

struct NfcapdReader::State {
  std::string name;
  int fd = -1;
  std::vector<uint8_t> mem;
  uint64_t size = 0;

  NfcapdInfo info;
  NfcapdStats stats;
  std::vector<std::string> problems;

  uint8_t compression = kNone;
  uint64_t pos = 0;       // next block header
  uint64_t data_end = 0;  // where data blocks end (the appendix or the end of the file)
  uint64_t block_no = 0;
  bool stopped = false;

  std::vector<uint8_t> stored;     // a block's bytes as stored (file mode)
  std::unique_ptr<uint8_t[]> raw;  // a decompressed block, at most kMaxBlockBytes
  uint32_t raw_cap = 0;
  ZSTD_DCtx* zstd = nullptr;

  std::unordered_map<uint16_t, ExtMap> maps;
  std::unordered_map<uint16_t, Exporter> exporters;
  uint32_t cached_sysid = 0x10000;  // no cache
  const Exporter* cached_exporter = nullptr;

  ~State() {
    if (fd >= 0) ::close(fd);
    if (zstd != nullptr) ZSTD_freeDCtx(zstd);
  }

  void problem(std::string msg) {
    if (problems.size() < kMaxProblems) {
      problems.push_back(name + ": " + std::move(msg));
    } else if (problems.size() == kMaxProblems) {
      problems.push_back(name + ": further problems not listed");
    }
  }
  std::string where(uint64_t block, uint64_t offset) const {
    return "block " + std::to_string(block) + " at offset " + std::to_string(offset);
  }

  bool read_at(uint64_t offset, size_t n, uint8_t* out) const {
    if (offset > size || n > size - offset) return false;
    if (fd < 0) {
      if (n > 0) std::memcpy(out, mem.data() + offset, n);
      return true;
    }
    return segment::pread_all(fd, out, n, offset);
  }
  // `n` stored bytes at `offset`: a view into memory, or read into `stored`.
  const uint8_t* bytes_at(uint64_t offset, size_t n) {
    if (fd < 0) return offset <= size && n <= size - offset ? mem.data() + offset : nullptr;
    if (stored.size() < n) stored.resize(n);
    return read_at(offset, n, stored.data()) ? stored.data() : nullptr;
  }

  bool open_header(std::string& error);
  void read_appendix(uint64_t offset, uint32_t blocks);
  bool decompress(uint8_t method, const uint8_t* in, uint32_t in_len, const uint8_t*& out,
                  uint32_t& out_len, std::string& why);
  enum class Inflate { kOk, kFull, kBad };  // kFull: the output space ran out
  Inflate inflate(uint8_t method, const uint8_t* in, uint32_t in_len, uint8_t* dst, uint32_t cap,
                  uint32_t& out_len);
  bool next_block(FlowBatch& out);
  void decode_records(const uint8_t* p, uint32_t len, uint32_t count, uint64_t block,
                      uint64_t offset, FlowBatch& out);
  bool decode_v3(const uint8_t* p, uint32_t len, FlowBatch& out);
  bool decode_common(const uint8_t* p, uint32_t len, bool v0, FlowBatch& out, bool& skipped);
  bool add_map(const uint8_t* p, uint32_t len, std::string& why);
  void add_exporter(const uint8_t* p, uint32_t len);
  void add_sampler(uint16_t sysid, int64_t id, uint32_t rate);
  const Exporter* exporter(uint16_t sysid);
  void finish(FlowRecord& r, uint16_t sysid, bool have_exporter, uint32_t version, bool sampled,
              uint32_t rate, bool have_selector, uint64_t selector, uint32_t engine);
};

bool NfcapdReader::State::open_header(std::string& error) {
  uint8_t h[kHeaderV1 + kStatV1];
  if (!read_at(0, kHeaderV2, h)) {
    error = name + ": too short for an nfdump file header";
    return false;
  }
  const uint16_t magic = load_le16(h);
  if (magic != kMagic) {
    error =
        name + (magic == __builtin_bswap16(kMagic) ? ": a big-endian nfdump file (not supported)"
                                                   : ": not an nfdump file (bad magic)");
    return false;
  }
  const uint16_t layout = load_le16(h + 2);
  if (layout == 1) {
    if (!read_at(0, sizeof h, h)) {
      error = name + ": too short for an nfdump 1.6 file header and stat record";
      return false;
    }
    const uint32_t flags = load_le32(h + 4);
    info.layout = 1;
    compression = (flags & kV1Lzo) != 0   ? kLzo
                  : (flags & kV1Bz2) != 0 ? kBz2
                  : (flags & kV1Lz4) != 0 ? kLz4
                                          : kNone;
    info.anonymized = (flags & kV1Anonymized) != 0;
    info.declared_blocks = load_le32(h + 8);
    const char* ident = reinterpret_cast<const char*>(h + 12);
    info.ident.assign(ident, strnlen(ident, 128));
    const uint8_t* st = h + kHeaderV1;
    info.has_stat = true;
    info.stat_flows = load_le64(st);
    info.stat_bytes = load_le64(st + 8);
    info.stat_packets = load_le64(st + 16);
    if (info.stat_flows > 0) {
      info.first_ms = int64_t{load_le32(st + 120)} * 1000 + load_le16(st + 128);
      info.last_ms = int64_t{load_le32(st + 124)} * 1000 + load_le16(st + 130);
    }
    pos = sizeof h;
    data_end = size;
  } else if (layout == 2) {
    info.layout = 2;
    info.nfd_version = load_le32(h + 4);
    info.created_s = static_cast<int64_t>(load_le64(h + 8));
    compression = h[16];
    if (compression > kZstd) {
      error = name + ": unknown compression " + std::to_string(h[16]);
      return false;
    }
    if (h[17] != 0) {
      error = name + ": encrypted nfdump files are not supported";
      return false;
    }
    const uint16_t appendix_blocks = load_le16(h + 18);
    const uint64_t appendix = load_le64(h + 24);
    info.declared_blocks = load_le32(h + 36);
    pos = kHeaderV2;
    data_end = size;
    if (appendix_blocks > 0) {
      if (appendix >= kHeaderV2 && appendix < size) {
        data_end = appendix;
        read_appendix(appendix, appendix_blocks);
      } else {
        problem("appendix offset " + std::to_string(appendix) +
                " outside the file; reading blocks to the end of the file");
      }
    }
  } else {
    error = name + ": unknown nfdump file layout " + std::to_string(layout);
    return false;
  }
  info.compression = compression_name(compression);
  return true;
}

bool NfcapdReader::State::decompress(uint8_t method, const uint8_t* in, uint32_t in_len,
                                     const uint8_t*& out, uint32_t& out_len, std::string& why) {
  if (method == kNone) {
    out = in;
    out_len = in_len;
    return true;
  }
  // nfdump's blocks shrink 3-10 times: start with 16 times the input and retry at the cap only
  // when that was too small, so small and hostile blocks do not cost a 16 MiB buffer each.
  uint32_t cap = static_cast<uint32_t>(
      std::clamp<uint64_t>(uint64_t{in_len} * 16, 256u << 10, kMaxBlockBytes));
  while (true) {
    if (raw_cap < cap) {
      raw.reset(new uint8_t[cap]);
      raw_cap = cap;
    }
    out = raw.get();
    const Inflate r = inflate(method, in, in_len, raw.get(), cap, out_len);
    if (r == Inflate::kOk) return true;
    if (r == Inflate::kFull && cap < kMaxBlockBytes) {
      cap = kMaxBlockBytes;
      continue;
    }
    why = std::string(compression_name(method)) + " decompression failed";
    if (r == Inflate::kFull) why += ": more than " + std::to_string(kMaxBlockBytes) + " bytes";
    return false;
  }
}

NfcapdReader::State::Inflate NfcapdReader::State::inflate(uint8_t method, const uint8_t* in,
                                                          uint32_t in_len, uint8_t* dst,
                                                          uint32_t cap, uint32_t& out_len) {
  switch (method) {
    case kLzo: {
      static const bool lzo_ok = lzo_init() == LZO_E_OK;
      lzo_uint n = cap;
      const int r = lzo_ok ? lzo1x_decompress_safe(in, in_len, dst, &n, nullptr) : LZO_E_ERROR;
      out_len = static_cast<uint32_t>(n);
      return r == LZO_E_OK               ? Inflate::kOk
             : r == LZO_E_OUTPUT_OVERRUN ? Inflate::kFull
                                         : Inflate::kBad;
    }
    case kLz4: {
      const int n =
          LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(dst),
                              static_cast<int>(in_len), static_cast<int>(cap));
      out_len = n < 0 ? 0 : static_cast<uint32_t>(n);
      // LZ4 does not say why it failed: a too small buffer looks like damage.
      return n >= 0 ? Inflate::kOk : Inflate::kFull;
    }
    case kBz2: {
      bz_stream bs{};
      if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK) return Inflate::kBad;
      bs.next_in = const_cast<char*>(reinterpret_cast<const char*>(in));
      bs.avail_in = in_len;
      bs.next_out = reinterpret_cast<char*>(dst);
      bs.avail_out = cap;
      int r = BZ_OK;
      // Stops when the input or the output space is used up without the stream's end, so a
      // truncated stream cannot loop.
      while (r == BZ_OK && bs.avail_in > 0 && bs.avail_out > 0) r = BZ2_bzDecompress(&bs);
      if (r == BZ_OK && bs.avail_out > 0) r = BZ2_bzDecompress(&bs);
      out_len = cap - bs.avail_out;
      const bool full = r == BZ_OK && bs.avail_out == 0;
      BZ2_bzDecompressEnd(&bs);
      return r == BZ_STREAM_END ? Inflate::kOk : full ? Inflate::kFull : Inflate::kBad;
    }
    case kZstd: {
      if (zstd == nullptr) {
        zstd = ZSTD_createDCtx();
        if (zstd == nullptr) return Inflate::kBad;
        // A frame asking for a window larger than a block is not one nfdump wrote.
        ZSTD_DCtx_setParameter(zstd, ZSTD_d_windowLogMax, 24);
      }
      const size_t n = ZSTD_decompressDCtx(zstd, dst, cap, in, in_len);
      out_len = ZSTD_isError(n) ? 0 : static_cast<uint32_t>(n);
      if (!ZSTD_isError(n)) return Inflate::kOk;
      return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? Inflate::kFull : Inflate::kBad;
    }
    default:
      return Inflate::kBad;
  }
}

void NfcapdReader::State::read_appendix(uint64_t offset, uint32_t blocks) {
  blocks = std::min(blocks, kMaxAppendixBlocks);
  for (uint32_t b = 0; b < blocks; ++b) {
    uint8_t h[kBlockHeader];
    if (!read_at(offset, kBlockHeader, h)) {
      problem("appendix " + where(b, offset) + ": truncated block header");
      return;
    }
    const uint32_t count = load_le32(h);
    const uint32_t len = load_le32(h + 4);
    const uint16_t flags = load_le16(h + 10);
    const uint8_t* stored_bytes =
        len <= kMaxBlockBytes ? bytes_at(offset + kBlockHeader, len) : nullptr;
    if (stored_bytes == nullptr) {
      problem("appendix " + where(b, offset) + ": block size " + std::to_string(len) +
              " does not fit the file");
      return;
    }
    const uint8_t* p = nullptr;
    uint32_t n = 0;
    std::string why;
    const uint8_t method = (flags & kBlockUncompressed) != 0 ? kNone : compression;
    if (!decompress(method, stored_bytes, len, p, n, why)) {
      problem("appendix " + where(b, offset) + ": " + why);
      return;
    }
    uint32_t off = 0;
    for (uint32_t i = 0; i < count && n - off >= 4; ++i) {
      const uint16_t type = load_le16(p + off);
      const uint16_t rlen = load_le16(p + off + 2);
      if (rlen < 4 || rlen > n - off) {
        problem("appendix " + where(b, offset) + ": record " + std::to_string(i) +
                " has a bad size");
        break;
      }
      const uint8_t* d = p + off + 4;
      const uint32_t dlen = rlen - 4u;
      if (type == kIdentRecord) {
        const char* s = reinterpret_cast<const char*>(d);
        info.ident.assign(s, strnlen(s, std::min<uint32_t>(dlen, 128)));
      } else if (type == kStatRecord && dlen >= 136) {
        info.has_stat = true;
        info.stat_flows = load_le64(d);
        info.stat_bytes = load_le64(d + 8);
        info.stat_packets = load_le64(d + 16);
        if (info.stat_flows > 0) {
          info.first_ms = static_cast<int64_t>(load_le64(d + 120));
          info.last_ms = static_cast<int64_t>(load_le64(d + 128));
        }
      }
      off += rlen;
    }
    offset += kBlockHeader + len;
  }
}

bool NfcapdReader::State::next_block(FlowBatch& out) {
  while (!stopped && pos < data_end) {
    const uint64_t at = pos;
    const uint64_t no = block_no++;
    ++stats.blocks;
    uint8_t h[kBlockHeader];
    if (data_end - at < kBlockHeader || !read_at(at, kBlockHeader, h)) {
      ++stats.damaged_blocks;
      problem(where(no, at) + ": truncated block header");
      stopped = true;
      return false;
    }
    const uint32_t count = load_le32(h);
    const uint32_t len = load_le32(h + 4);
    const uint16_t type = load_le16(h + 8);
    const uint16_t flags = load_le16(h + 10);
    if (len > kMaxBlockBytes || len > data_end - at - kBlockHeader) {
      ++stats.damaged_blocks;
      problem(where(no, at) + ": block size " + std::to_string(len) +
              (len > kMaxBlockBytes ? " too large" : " runs past the end of the data") +
              "; stopped reading");
      stopped = true;
      return false;
    }
    pos = at + kBlockHeader + len;
    const bool records = type == kBlockType2 || (info.layout == 2 && type == kBlockType3);
    if (!records || len == 0) continue;  // histograms, nfdump 1.5 blocks, arrays, empty
    const uint8_t* stored_bytes = bytes_at(at + kBlockHeader, len);
    if (stored_bytes == nullptr) {
      ++stats.damaged_blocks;
      problem(where(no, at) + ": read failed: " + std::strerror(errno));
      stopped = true;
      return false;
    }
    const uint8_t method =
        info.layout == 2 && (flags & kBlockUncompressed) != 0 ? kNone : compression;
    const uint8_t* p = nullptr;
    uint32_t n = 0;
    std::string why;
    if (!decompress(method, stored_bytes, len, p, n, why)) {
      ++stats.damaged_blocks;
      problem(where(no, at) + ": " + why + "; block skipped");
      continue;
    }
    decode_records(p, n, count, no, at, out);
    return true;
  }
  return false;
}

void NfcapdReader::State::decode_records(const uint8_t* p, uint32_t len, uint32_t count,
                                         uint64_t block, uint64_t offset, FlowBatch& out) {
  // The smallest flow record is 32 bytes: never reserve more than the block can hold. Grow
  // geometrically: callers may gather many blocks into one batch.
  const size_t need = out.records.size() + std::min<uint32_t>(count, len / 32);
  if (need > out.records.capacity()) {
    out.records.reserve(std::max(need, out.records.capacity() * 2));
  }
  uint32_t off = 0;
  uint32_t i = 0;
  for (; i < count && off < len; ++i) {
    if (len - off < 4) break;
    const uint16_t type = load_le16(p + off);
    const uint16_t rlen = load_le16(p + off + 2);
    if (rlen < 4 || rlen > len - off) break;
    const uint8_t* r = p + off;
    bool ok = true;
    switch (type) {
      case kV3Record:
        ok = decode_v3(r, rlen, out);
        break;
      case kCommonRecord:
      case kCommonRecordV0: {
        bool skipped = false;
        ok = decode_common(r, rlen, type == kCommonRecordV0, out, skipped);
        if (skipped) {
          ++stats.skipped_records;
          problem(where(block, offset) + ": record " + std::to_string(i) + " uses extension map " +
                  std::to_string(load_le16(r + 6)) +
                  ", which the file did not define before it; record skipped");
        }
      } break;
      case kExtensionMap: {
        std::string why;
        if (!add_map(r, rlen, why)) {
          problem(where(block, offset) + ": record " + std::to_string(i) + ": " + why);
        }
      } break;
      case kExporterInfo:
        add_exporter(r, rlen);
        break;
      case kSampler:
        if (rlen >= 24) {
          const uint32_t interval = load_le32(r + 16);
          const uint32_t space = load_le32(r + 20);
          add_sampler(
              load_le16(r + 4), static_cast<int64_t>(load_le64(r + 8)),
              interval > 0 ? static_cast<uint32_t>((uint64_t{interval} + space) / interval) : 0);
        }
        break;
      case kSamplerLegacy:
        if (rlen >= 16)
          add_sampler(load_le16(r + 14), static_cast<int32_t>(load_le32(r + 4)), load_le32(r + 8));
        break;
      case kExporterStat:
        break;
      default:
        ++stats.skipped_records;
        break;
    }
    if (!ok) {
      ++stats.damaged_records;
      problem(where(block, offset) + ": record " + std::to_string(i) + " (type " +
              std::to_string(type) + ", " + std::to_string(rlen) +
              " bytes) is damaged; record skipped");
    }
    off += rlen;
  }
  if (i < count) {
    ++stats.damaged_blocks;
    problem(where(block, offset) + ": record " + std::to_string(i) + " of " +
            std::to_string(count) + " at block byte " + std::to_string(off) +
            " does not fit the block; rest of the block skipped");
  }
}

const Exporter* NfcapdReader::State::exporter(uint16_t sysid) {
  if (sysid == cached_sysid) return cached_exporter;
  auto it = exporters.find(sysid);
  cached_sysid = sysid;
  cached_exporter = it == exporters.end() ? nullptr : &it->second;
  return cached_exporter;
}

void NfcapdReader::State::add_exporter(const uint8_t* p, uint32_t len) {
  if (len < 32) return;
  Exporter& e = exporters[load_le16(p + 26)];
  e.version = load_le32(p + 4);
  e.id = load_le32(p + 28);
  const uint8_t* ip = p + 8;
  const uint16_t family = load_le16(p + 24);
  // AF_INET / AF_INET6; newer nfdump leaves the family out: an address whose other words are
  // zero is then IPv4.
  const bool v4 = family == 2 || (family != 10 && load_le64(ip) == 0 && load_le32(ip + 12) == 0);
  if (v4) {
    e.addr = IpAddr{};
    assign_v4_word(e.addr, ip + 8);
  } else {
    assign_v6_words(e.addr, ip);
  }
  cached_sysid = 0x10000;  // pointers stay valid, but the entry may be new
}

void NfcapdReader::State::add_sampler(uint16_t sysid, int64_t id, uint32_t rate) {
  auto& list = exporters[sysid].samplers;
  cached_sysid = 0x10000;
  for (auto& s : list) {
    if (s.id == id) {
      s.rate = rate;
      return;
    }
  }
  if (list.size() < kMaxSamplers) list.push_back({id, rate});
}

bool NfcapdReader::State::add_map(const uint8_t* p, uint32_t len, std::string& why) {
  // type, size, map id, extension size, then 16-bit extension ids up to a 0.
  if (len < 10) {
    why = "extension map too short";
    return false;
  }
  uint16_t id = load_le16(p + 4);
  if (id == 0xffff) id = 0;  // nfdump's "unset" id
  ExtMap m;
  uint32_t off = 0;
  for (uint32_t at = 8; at + 2 <= len; at += 2) {
    const uint16_t ext = load_le16(p + at);
    if (ext == 0) break;
    if (ext >= sizeof kExtSize) {
      why =
          "extension map " + std::to_string(id) + " names unknown extension " + std::to_string(ext);
      return false;
    }
    switch (ext) {
      case 4:
      case 5:
        m.io = off;
        m.io_width = ext == 4 ? 2 : 4;
        break;
      case 6:
      case 7:
        m.as = off;
        m.as_width = ext == 6 ? 2 : 4;
        break;
      case 8:
        m.misc = off;
        break;
      case 13:
        m.vlan = off;
        break;
      case 23:
      case 24:
        m.router = off;
        m.router_width = ext == 23 ? 4 : 16;
        break;
      default:
        break;
    }
    off += kExtSize[ext];
  }
  // The map's own extension-size field is ignored: nfdump <= 1.6.2 wrote wrong ones, and nfdump
  // recomputes it from the ids too.
  m.size = off;
  maps[id] = m;
  return true;
}

void NfcapdReader::State::finish(FlowRecord& r, uint16_t sysid, bool have_exporter,
                                 uint32_t version, bool sampled, uint32_t rate, bool have_selector,
                                 uint64_t selector, uint32_t engine) {
  const Exporter* e = exporter(sysid);
  if (e != nullptr) {
    if (!have_exporter) r.exporter = e->addr;
    if (version == 0) version = e->version;
    r.obs_domain = e->id;
  } else if (version == 5) {
    r.obs_domain = engine;
  }
  r.source = source_of(version);
  if (!sampled) return;
  r.flags |= flow_flags::kSampled;
  if (rate == 0 && e != nullptr && !e->samplers.empty()) {
    // The sampler the record names, else nfcapd's order: -s -N, the exporter's own, -s N.
    const Sampler* pick = nullptr;
    auto find = [&](int64_t id) -> const Sampler* {
      for (const auto& s : e->samplers) {
        if (s.id == id) return &s;
      }
      return nullptr;
    };
    if (have_selector) pick = find(static_cast<int64_t>(selector));
    if (pick == nullptr) pick = find(kSamplerOverwrite);
    if (pick == nullptr) pick = find(kSamplerGeneric);
    if (pick == nullptr) pick = find(kSamplerDefault);
    if (pick == nullptr) pick = &e->samplers.front();
    rate = pick->rate;
  }
  r.sampling_rate = rate > 1 ? rate : 0;
}

bool NfcapdReader::State::decode_v3(const uint8_t* p, uint32_t len, FlowBatch& out) {
  // type, size, numElements, engineType, engineID, exporterID, flags, nfversion; then elements.
  if (len < 12) return false;
  const uint16_t elements = load_le16(p + 4);
  const uint32_t engine = uint32_t{p[6]} << 8 | p[7];
  const uint16_t sysid = load_le16(p + 8);
  const uint8_t vflags = p[10];
  const uint8_t version = p[11];

  FlowRecord& r = out.add();
  bool have_exporter = false;
  bool have_selector = false;
  uint64_t selector = 0;
  uint32_t rate = 0;
  uint32_t off = 12;
  for (uint16_t i = 0; i < elements; ++i) {
    if (len - off < 4) {
      out.records.pop_back();
      return false;
    }
    const uint16_t type = load_le16(p + off);
    const uint16_t elen = load_le16(p + off + 2);
    if (elen < 4 || elen > len - off) {
      out.records.pop_back();
      return false;
    }
    const uint8_t* d = p + off + 4;
    const uint32_t dlen = elen - 4u;
    // Elements shorter than the layout this reader knows are ignored, not misread.
    switch (type) {
      case kExGenericFlow:
        if (dlen >= 48) {
          r.start_ms = static_cast<int64_t>(load_le64(d));
          r.end_ms = static_cast<int64_t>(load_le64(d + 8));
          r.packets = load_le64(d + 24);
          r.bytes = load_le64(d + 32);
          r.src_port = load_le16(d + 40);
          r.dst_port = load_le16(d + 42);
          r.proto = d[44];
          r.tcp_flags = d[45];
          r.tos = d[47];
        }
        break;
      case kExIpv4Flow:
        if (dlen >= 8) {
          assign_v4_word(r.src, d);
          assign_v4_word(r.dst, d + 4);
        }
        break;
      case kExIpv6Flow:
        if (dlen >= 32) {
          assign_v6_words(r.src, d);
          assign_v6_words(r.dst, d + 16);
        }
        break;
      case kExFlowMisc:
        if (dlen >= 12) {
          r.in_if = load_le32(d);
          r.out_if = load_le32(d + 4);
          r.src_mask = d[8];
          r.dst_mask = d[9];
          // IE 61: 1 egress; 0 is also what nfdump stores when the exporter sent nothing.
          if (d[10] == 1) r.direction = FlowDirection::kEgress;
        }
        break;
      case kExVlan:
        if (dlen >= 8) {
          const uint32_t src = load_le32(d);
          r.vlan = static_cast<uint16_t>(src != 0 ? src : load_le32(d + 4));
        }
        break;
      case kExAsRouting:
        if (dlen >= 8) {
          r.src_as = load_le32(d);
          r.dst_as = load_le32(d + 4);
        }
        break;
      case kExIpReceivedV4:
        if (dlen >= 4) {
          assign_v4_word(r.exporter, d);
          have_exporter = true;
        }
        break;
      case kExIpReceivedV6:
        if (dlen >= 16) {
          assign_v6_words(r.exporter, d);
          have_exporter = true;
        }
        break;
      case kExSamplerInfo:
        // Older 1.7 releases: id, interval, mode, exporter (12 bytes); later: a 64-bit selector
        // id and the exporter (16 bytes), the interval being in the exporter's sampler record.
        if (dlen >= 16) {
          selector = load_le64(d);
          have_selector = true;
        } else if (dlen >= 12) {
          rate = load_le32(d + 4);
        }
        break;
      default:
        break;
    }
    off += elen;
  }
  finish(r, sysid, have_exporter, version, (vflags & kV3Sampled) != 0, rate, have_selector,
         selector, engine);
  ++stats.records;
  return true;
}

bool NfcapdReader::State::decode_common(const uint8_t* p, uint32_t len, bool v0, FlowBatch& out,
                                        bool& skipped) {
  // Type 10: type, size, flags(16), map, msec_first, msec_last, first, last, fwd_status,
  // tcp_flags, proto, tos, src port, dst port, exporter sysid(16), reserved; then extensions.
  // Type 1 (older 1.6): 8-bit flags and 8-bit exporter sysid, no trailing 4 bytes.
  const uint32_t head = v0 ? 28 : 32;
  if (len < head) return false;
  const uint16_t flags = v0 ? p[4] : load_le16(p + 4);
  const uint16_t sysid = v0 ? p[5] : load_le16(p + 28);
  const uint16_t map_id = load_le16(p + 6);
  auto it = maps.find(map_id);
  if (it == maps.end()) {
    skipped = true;
    return true;
  }
  const ExtMap& m = it->second;
  const uint32_t addr_len = (flags & kFlagIpv6) != 0 ? 32 : 8;
  const uint32_t pkt_len = (flags & kFlagPackets64) != 0 ? 8 : 4;
  const uint32_t byte_len = (flags & kFlagBytes64) != 0 ? 8 : 4;
  const uint32_t ext = head + addr_len + pkt_len + byte_len;
  if (uint64_t{ext} + m.size > len) return false;

  FlowRecord& r = out.add();
  r.start_ms = int64_t{load_le32(p + 12)} * 1000 + load_le16(p + 8);
  r.end_ms = int64_t{load_le32(p + 16)} * 1000 + load_le16(p + 10);
  r.tcp_flags = p[21];
  r.proto = p[22];
  r.tos = p[23];
  r.src_port = load_le16(p + 24);
  r.dst_port = load_le16(p + 26);
  const uint8_t* d = p + head;
  if (addr_len == 32) {
    assign_v6_words(r.src, d);
    assign_v6_words(r.dst, d + 16);
  } else {
    assign_v4_word(r.src, d);
    assign_v4_word(r.dst, d + 4);
  }
  d += addr_len;
  r.packets = pkt_len == 8 ? load_le64(d) : load_le32(d);
  d += pkt_len;
  r.bytes = byte_len == 8 ? load_le64(d) : load_le32(d);

  const uint8_t* x = p + ext;
  if (m.io != ExtMap::kAbsent) {
    r.in_if = m.io_width == 2 ? load_le16(x + m.io) : load_le32(x + m.io);
    r.out_if = m.io_width == 2 ? load_le16(x + m.io + 2) : load_le32(x + m.io + 4);
  }
  if (m.as != ExtMap::kAbsent) {
    r.src_as = m.as_width == 2 ? load_le16(x + m.as) : load_le32(x + m.as);
    r.dst_as = m.as_width == 2 ? load_le16(x + m.as + 2) : load_le32(x + m.as + 4);
  }
  if (m.misc != ExtMap::kAbsent) {
    // dst tos, direction, src mask, dst mask
    if (x[m.misc + 1] == 1) r.direction = FlowDirection::kEgress;
    r.src_mask = x[m.misc + 2];
    r.dst_mask = x[m.misc + 3];
  }
  if (m.vlan != ExtMap::kAbsent) {
    const uint16_t src = load_le16(x + m.vlan);
    r.vlan = src != 0 ? src : load_le16(x + m.vlan + 2);
  }
  bool have_exporter = false;
  if (m.router != ExtMap::kAbsent) {
    if (m.router_width == 4) {
      assign_v4_word(r.exporter, x + m.router);
    } else {
      assign_v6_words(r.exporter, x + m.router);
    }
    have_exporter = true;
  }
  // Layout 1 records carry no NetFlow version: source and domain come from the exporter record.
  finish(r, sysid, have_exporter, 0, (flags & kFlagSampled) != 0, 0, false, 0, 0);
  ++stats.records;
  return true;
}

NfcapdReader::NfcapdReader(std::unique_ptr<State> s) : s_(std::move(s)) {}
NfcapdReader::NfcapdReader(NfcapdReader&&) noexcept = default;
NfcapdReader& NfcapdReader::operator=(NfcapdReader&&) noexcept = default;
NfcapdReader::~NfcapdReader() = default;

std::optional<NfcapdReader> NfcapdReader::open(const std::string& path, std::string& error) {
  auto s = std::make_unique<State>();
  s->name = path;
  s->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (s->fd < 0 || ::fstat(s->fd, &st) != 0) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return std::nullopt;
  }
  s->size = static_cast<uint64_t>(st.st_size);
  if (!s->open_header(error)) return std::nullopt;
  return NfcapdReader(std::move(s));
}

std::optional<NfcapdReader> NfcapdReader::open_memory(std::string name, std::vector<uint8_t> bytes,
                                                      std::string& error) {
  auto s = std::make_unique<State>();
  s->name = std::move(name);
  s->mem = std::move(bytes);
  s->size = s->mem.size();
  if (!s->open_header(error)) return std::nullopt;
  return NfcapdReader(std::move(s));
}

bool NfcapdReader::next_block(FlowBatch& out) {
  return s_->next_block(out);
}
const std::string& NfcapdReader::name() const {
  return s_->name;
}
const NfcapdInfo& NfcapdReader::info() const {
  return s_->info;
}
const NfcapdStats& NfcapdReader::stats() const {
  return s_->stats;
}
const std::vector<std::string>& NfcapdReader::problems() const {
  return s_->problems;
}

}  // namespace orbwatch::store
