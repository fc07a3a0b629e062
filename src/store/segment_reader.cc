#include "store/segment_reader.h"

#include <fcntl.h>
#include <lz4.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "store/segment_columns.h"

namespace orbwatch::store {

using namespace segment;

void BlockScratch::FreeDCtx::operator()(ZSTD_DCtx_s* d) const {
  ZSTD_freeDCtx(d);
}

SegmentReader::SegmentReader(SegmentReader&& o) noexcept {
  *this = std::move(o);
}

SegmentReader& SegmentReader::operator=(SegmentReader&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    name_ = std::move(o.name_);
    fd_ = std::exchange(o.fd_, -1);
    mem_ = std::move(o.mem_);
    size_ = o.size_;
    has_footer_ = o.has_footer_;
    blocks_ = std::move(o.blocks_);
    problems_ = std::move(o.problems_);
    damaged_blocks_ = o.damaged_blocks_;
    partial_tail_bytes_ = o.partial_tail_bytes_;
    scratch_ = std::move(o.scratch_);
    id_ = o.id_;
  }
  return *this;
}

SegmentReader::~SegmentReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<SegmentReader> SegmentReader::open(const std::string& path, std::string& error) {
  SegmentReader r;
  r.name_ = path;
  r.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (r.fd_ < 0 || ::fstat(r.fd_, &st) != 0) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return std::nullopt;
  }
  r.size_ = static_cast<uint64_t>(st.st_size);
  if (!r.load(error)) return std::nullopt;
  return r;
}

std::optional<SegmentReader> SegmentReader::open_memory(std::string name,
                                                        std::vector<uint8_t> bytes,
                                                        std::string& error) {
  SegmentReader r;
  r.name_ = std::move(name);
  r.mem_ = std::move(bytes);
  r.size_ = r.mem_.size();
  if (!r.load(error)) return std::nullopt;
  return r;
}

bool SegmentReader::read_at(uint64_t offset, size_t n, uint8_t* out) const {
  if (offset > size_ || n > size_ - offset) return false;
  if (fd_ < 0) {
    if (n > 0) std::memcpy(out, mem_.data() + offset, n);
    return true;
  }
  return pread_all(fd_, out, n, offset);
}

void SegmentReader::problem(const std::string& message) {
  problems_.push_back(name_ + ": " + message);
}

uint64_t SegmentReader::records() const {
  uint64_t n = 0;
  for (const auto& b : blocks_) n += b.header.records;
  return n;
}

bool SegmentReader::load(std::string& error) {
  static std::atomic<uint64_t> next_id{1};
  id_ = next_id.fetch_add(1);
  uint8_t head[kFileHeaderSize];
  if (!read_at(0, sizeof head, head)) {
    error = name_ + ": too short for a segment file header";
    return false;
  }
  FileHeader fh;
  const char* why = nullptr;
  if (!FileHeader::decode(head, fh, why)) {
    error = name_ + ": " + why;
    return false;
  }
  if (!load_footer()) scan_blocks(kFileHeaderSize, size_);
  return true;
}

bool SegmentReader::load_footer() {
  if (size_ < kFileHeaderSize + kFooterHeadSize + kTrailerSize) return false;
  uint8_t t[kTrailerSize];
  if (!read_at(size_ - kTrailerSize, kTrailerSize, t)) return false;
  if (load_le32(t + 12) != kTrailerMagic) return false;  // no footer: the writer did not close
  auto bad = [&](const char* why) {
    problem(std::string("footer: ") + why + "; scanning blocks instead");
    return false;
  };
  const uint64_t at = load_le64(t);
  const uint64_t footer_end = size_ - kTrailerSize;
  if (at < kFileHeaderSize || at > footer_end - kFooterHeadSize) return bad("offset out of range");
  const uint64_t len = footer_end - at;
  if ((len - kFooterHeadSize) % kFooterEntrySize != 0 ||
      (len - kFooterHeadSize) / kFooterEntrySize > kMaxBlocks) {
    return bad("bad length");
  }
  std::vector<uint8_t> f(len);
  if (!read_at(at, len, f.data())) return bad("unreadable");
  if (load_le32(f.data()) != kFooterMagic) return bad("bad magic");
  if (crc32c(0, f.data(), f.size()) != load_le32(t + 8)) return bad("checksum mismatch");
  const uint32_t count = load_le32(f.data() + 4);
  if (uint64_t{count} * kFooterEntrySize != len - kFooterHeadSize) return bad("bad block count");
  std::vector<SegmentBlock> blocks;
  uint64_t next = kFileHeaderSize;
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* e = f.data() + kFooterHeadSize + size_t{i} * kFooterEntrySize;
    SegmentBlock b;
    b.offset = load_le64(e);
    const char* why = nullptr;
    if (!BlockHeader::decode(e + 8, b.header, why)) return bad(why);
    if (b.offset < next || b.offset > at || b.header.total_bytes() > at - b.offset) {
      return bad("block offset out of range");
    }
    next = b.offset + b.header.total_bytes();
    blocks.push_back(std::move(b));
  }
  for (auto& b : blocks) {
    b.bloom.resize(b.header.bloom_bytes);
    if (!read_at(b.offset + kBlockHeaderSize, b.bloom.size(), b.bloom.data())) {
      return bad("unreadable bloom filter");
    }
  }
  blocks_ = std::move(blocks);
  has_footer_ = true;
  return true;
}

bool SegmentReader::add_block(uint64_t offset, const BlockHeader& h, uint64_t end) {
  if (h.total_bytes() > end - offset) return false;
  SegmentBlock b;
  b.offset = offset;
  b.header = h;
  b.bloom.resize(h.bloom_bytes);
  if (!read_at(offset + kBlockHeaderSize, b.bloom.size(), b.bloom.data())) return false;
  blocks_.push_back(std::move(b));
  return true;
}

void SegmentReader::scan_blocks(uint64_t from, uint64_t end) {
  uint64_t off = from;
  bool resynced = false;
  // Checking candidates after damage reads their data; a hostile file full of fake headers that
  // each claim the rest of the file would make that quadratic, so it gets a budget of twice the
  // file (a genuine block lies inside the file, so it always fits).
  uint64_t verify_budget = 2 * (end - from);
  std::vector<uint8_t> buf;
  uint8_t h[kBlockHeaderSize];
  while (off < end) {
    BlockHeader bh;
    const char* why = "truncated block header";
    const uint64_t left = end - off;
    bool ok = left >= kBlockHeaderSize && read_at(off, kBlockHeaderSize, h) &&
              BlockHeader::decode(h, bh, why);
    // After whole blocks, a partial header or a valid header whose block runs past the end is
    // the block being written when the file was read (or when its writer died): not damage.
    if (!resynced && (left < kBlockHeaderSize || (ok && bh.total_bytes() > left)) &&
        !(left >= 4 && read_at(off, 4, h) && load_le32(h) == kFooterMagic)) {
      partial_tail_bytes_ = left;
      return;
    }
    if (ok && bh.total_bytes() > left) {
      ok = false;
      why = "block truncated";
    }
    if (ok && resynced) {
      // A header found by searching might be a copy (in a damaged footer): trust it only when
      // its data checksum holds too.
      const uint64_t data_bytes = bh.bloom_bytes + uint64_t{kColumnDirSize};
      if (data_bytes > verify_budget) {
        ++damaged_blocks_;
        problem("offset " + std::to_string(off) + ": too much damage; the last " +
                std::to_string(end - off) + " bytes skipped");
        return;
      }
      verify_budget -= data_bytes;
      buf.resize(data_bytes);
      ok = read_at(off + kBlockHeaderSize, buf.size(), buf.data()) &&
           crc32c(0, buf.data(), buf.size()) == bh.data_crc;
      why = "data checksum mismatch";
    }
    if (ok && add_block(off, bh, end)) {
      off += bh.total_bytes();
      resynced = false;
      continue;
    }
    if (end - off >= 4 && read_at(off, 4, h) && load_le32(h) == kFooterMagic) {
      return;  // the (damaged) footer: already reported
    }
    // Search for the next block header.
    const uint64_t bad_at = off;
    uint64_t found = end;
    constexpr size_t kWindow = 1 << 16;
    std::vector<uint8_t> w;
    for (uint64_t pos = off + 1; pos + 4 <= end && found == end;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kWindow, end - pos));
      w.resize(n);
      if (!read_at(pos, n, w.data())) break;
      for (size_t k = 0; k + 4 <= n; ++k) {
        if (load_le32(w.data() + k) != kBlockMagic) continue;
        BlockHeader probe;
        const char* unused = nullptr;
        if (pos + k + kBlockHeaderSize <= end && read_at(pos + k, kBlockHeaderSize, h) &&
            BlockHeader::decode(h, probe, unused)) {
          found = pos + k;
          break;
        }
      }
      pos += n - 3;
    }
    ++damaged_blocks_;
    problem("offset " + std::to_string(bad_at) + ": " + why + "; " +
            std::to_string(found - bad_at) + " bytes skipped");
    off = found;
    resynced = true;
  }
}

bool SegmentReader::may_contain_time(size_t i, int64_t from_ms, int64_t to_ms) const {
  if (i >= blocks_.size()) return false;
  const auto& h = blocks_[i].header;
  return h.min_start_ms <= to_ms && h.max_end_ms >= from_ms;
}

bool SegmentReader::may_contain(size_t i, const IpAddr& a) const {
  if (i >= blocks_.size()) return false;
  const auto& b = blocks_[i];
  const auto& h = b.header;
  return (h.src.may_contain(a) || h.dst.may_contain(a)) &&
         bloom_test(b.bloom.data(), h.bloom_bytes, h.bloom_hashes, BloomHash::of(a));
}

bool SegmentReader::may_contain(size_t i, const Prefix& p) const {
  if (i >= blocks_.size()) return false;
  const auto& h = blocks_[i].header;
  return h.src.may_overlap(p) || h.dst.may_overlap(p);
}

uint64_t SegmentReader::blocks_end() const {
  return blocks_.empty() ? kFileHeaderSize
                         : blocks_.back().offset + blocks_.back().header.total_bytes();
}

bool SegmentReader::read_block(size_t i, FlowBatch& out, std::string& error) {
  if (read_block(i, out, scratch_, error)) return true;
  if (i < blocks_.size()) {
    ++damaged_blocks_;
    problems_.push_back(error);
  }
  return false;
}

std::string SegmentReader::block_error(size_t i, const std::string& why) const {
  const uint64_t offset = i < blocks_.size() ? blocks_[i].offset : 0;
  return name_ + ": block " + std::to_string(i) + " at offset " + std::to_string(offset) + ": " +
         why;
}

bool SegmentReader::load_columns(size_t i, BlockScratch& scratch, std::string& error,
                                 uint32_t columns) const {
  if (i >= blocks_.size()) {
    error = name_ + ": no block " + std::to_string(i);
    return false;
  }
  const SegmentBlock& b = blocks_[i];
  const BlockHeader& h = b.header;
  auto fail = [&](const std::string& why) {
    error = block_error(i, why);
    return false;
  };
  const uint64_t payload_at = b.offset + kBlockHeaderSize + h.bloom_bytes;
  if (scratch.reader != id_ || scratch.block != i) {
    scratch.reader = 0;
    scratch.loaded = 0;
    uint8_t head[kBlockHeaderSize];
    if (!read_at(b.offset, sizeof head, head)) return fail("unreadable (truncated file?)");
    uint8_t expect[kBlockHeaderSize];
    h.encode(expect);
    if (std::memcmp(expect, head, kBlockHeaderSize) != 0) {
      return fail("block header differs from the index");
    }
    uint8_t dir_bytes[kColumnDirSize];
    if (!read_at(payload_at, sizeof dir_bytes, dir_bytes)) {
      return fail("unreadable (truncated file?)");
    }
    if (crc32c(crc32c(0, b.bloom.data(), b.bloom.size()), dir_bytes, kColumnDirSize) !=
        h.data_crc) {
      return fail("data checksum mismatch");
    }
    const char* why = nullptr;
    if (!decode_column_dir(dir_bytes, h, scratch.dir, why)) return fail(why);
    scratch.reader = id_;
    scratch.block = i;
  }
  // Only the wanted columns not loaded yet are read, checked and decompressed.
  columns = needed_columns(columns);
  for (size_t c = 0; c < kColumnCount; ++c) {
    const uint32_t bit = uint32_t{1} << c;
    if ((columns & column_bit(c)) == 0 || (scratch.loaded & bit) != 0) continue;
    const ColumnEntry& e = scratch.dir[c];
    auto& stored = scratch.stored[c];
    stored.resize(e.stored_bytes);
    auto bad = [&](const char* what) { return fail("column " + std::to_string(c) + ": " + what); };
    if (!read_at(payload_at + e.offset, e.stored_bytes, stored.data())) {
      return bad("unreadable (truncated file?)");
    }
    if (crc32c(0, stored.data(), e.stored_bytes) != e.crc) return bad("checksum mismatch");
    ColumnView& view = scratch.views[c];
    view.encoding = e.encoding;
    if (e.codec == Codec::kNone) {
      view.bytes = {reinterpret_cast<const char*>(stored.data()), e.stored_bytes};
      scratch.loaded |= bit;
      continue;
    }
    auto& raw = scratch.raw[c];
    raw.resize(e.raw_bytes);
    if (e.codec == Codec::kZstd) {
      if (!scratch.dctx) scratch.dctx.reset(ZSTD_createDCtx());
      if (!scratch.dctx) return bad("out of memory for zstd");
      const size_t n = ZSTD_decompressDCtx(scratch.dctx.get(), raw.data(), e.raw_bytes,
                                           stored.data(), e.stored_bytes);
      if (ZSTD_isError(n) || n != e.raw_bytes) return bad("zstd data does not decompress");
    } else {
      const int n =
          LZ4_decompress_safe(reinterpret_cast<const char*>(stored.data()), raw.data(),
                              static_cast<int>(e.stored_bytes), static_cast<int>(e.raw_bytes));
      if (n < 0 || static_cast<uint32_t>(n) != e.raw_bytes) {
        return bad("lz4 data does not decompress");
      }
    }
    view.bytes = {raw.data(), e.raw_bytes};
    scratch.loaded |= bit;
  }
  return true;
}

bool SegmentReader::read_block(size_t i, FlowBatch& out, BlockScratch& scratch, std::string& error,
                               uint32_t columns, const std::vector<uint32_t>* rows) const {
  if (!load_columns(i, scratch, error, columns)) return false;
  const BlockHeader& h = blocks_[i].header;
  const char* why = nullptr;
  if (!decode_columns(scratch.views, h.records, h.min_start_ms, out, why, columns, rows)) {
    error = block_error(i, why);
    return false;
  }
  return true;
}

}  // namespace orbwatch::store
