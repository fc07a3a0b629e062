#include "store/segment_writer.h"

#include <fcntl.h>
#include <lz4.h>
#include <sys/file.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include "store/segment_columns.h"

namespace orbwatch::store {

using namespace segment;

SegmentWriter::SegmentWriter(SegmentWriterOptions options) : options_(options) {
  options_.block_records = std::clamp<uint32_t>(options_.block_records, 1, kMaxBlockRecords);
}

SegmentWriter::~SegmentWriter() {
  if (fd_ >= 0) ::close(fd_);
  ZSTD_freeCCtx(cctx_);
}

size_t SegmentWriter::compress_bound(size_t n) const {
  switch (options_.codec) {
    case Codec::kZstd:
      return ZSTD_compressBound(n);
    case Codec::kLz4:
      return static_cast<size_t>(LZ4_compressBound(static_cast<int>(n)));
    case Codec::kNone:
      break;
  }
  return n;
}

size_t SegmentWriter::compress(const std::string& in, uint8_t* out, size_t cap) {
  constexpr size_t kMinCompress = 64;  // smaller columns (constants) gain nothing
  if (in.size() < kMinCompress) return 0;
  switch (options_.codec) {
    case Codec::kZstd: {
      if (cctx_ == nullptr) cctx_ = ZSTD_createCCtx();
      if (cctx_ == nullptr) return 0;
      const size_t n =
          ZSTD_compressCCtx(cctx_, out, cap, in.data(), in.size(), options_.zstd_level);
      return ZSTD_isError(n) ? 0 : n;
    }
    case Codec::kLz4: {
      const int n = LZ4_compress_default(in.data(), reinterpret_cast<char*>(out),
                                         static_cast<int>(in.size()), static_cast<int>(cap));
      return n > 0 ? static_cast<size_t>(n) : 0;
    }
    case Codec::kNone:
      break;
  }
  return 0;
}

bool SegmentWriter::fail(std::string& error, const std::string& what) {
  failed_ = true;
  error = tmp_path() + ": " + what + ": " + std::strerror(errno);
  return false;
}

bool SegmentWriter::write_all(const void* p, size_t n, std::string& error) {
  const auto* b = static_cast<const uint8_t*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd_, b, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return fail(error, "write");
    }
    b += w;
    n -= static_cast<size_t>(w);
    offset_ += static_cast<uint64_t>(w);
    stats_.bytes += static_cast<uint64_t>(w);
  }
  return true;
}

bool SegmentWriter::open(const std::string& path, std::string& error) {
  if (fd_ >= 0) {
    error = path_ + ": writer already open";
    return false;
  }
  path_ = path;
  failed_ = false;
  offset_ = 0;
  stats_ = {};
  index_.clear();
  fd_ = ::open(tmp_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return fail(error, "open");
  // Held while writing, so that recovery tells a live writer's file from a crashed one's.
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) return fail(error, "lock");
  FileHeader h;
  h.created_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  uint8_t buf[kFileHeaderSize];
  h.encode(buf);
  return write_all(buf, sizeof buf, error);
}

bool SegmentWriter::append(const FlowBatch& batch, std::string& error) {
  if (fd_ < 0 || failed_) {
    error = tmp_path() + ": writer not open";
    return false;
  }
  for (const auto& r : batch.records) {
    FlowRecord& c = pending_.emplace_back(r);
    c.name_ref = 0;
    if (r.name_ref != 0) {
      std::string_view name = batch.name(r.name_ref);
      if (name.size() > kMaxNameBytes) {
        name = name.substr(0, kMaxNameBytes);
        ++stats_.names_truncated;
      }
      auto [it, inserted] =
          name_index_.try_emplace(std::string(name), static_cast<uint32_t>(names_.size() + 1));
      if (inserted) names_.emplace_back(name);
      c.name_ref = it->second;
    }
    if (pending_.size() >= options_.block_records && !write_block(error)) return false;
  }
  return true;
}

bool SegmentWriter::flush(std::string& error) {
  if (fd_ < 0 || failed_) {
    error = tmp_path() + ": writer not open";
    return false;
  }
  if (!pending_.empty() && !write_block(error)) return false;
  if (options_.sync_on_flush && ::fdatasync(fd_) != 0) return fail(error, "fdatasync");
  return true;
}

void SegmentWriter::sort_by_start(int64_t min_start_ms, int64_t max_start_ms) {
  const size_t n = pending_.size();
  sorted_ = false;
  if (std::is_sorted(
          pending_.begin(), pending_.end(),
          [](const FlowRecord& a, const FlowRecord& b) { return a.start_ms < b.start_ms; })) {
    return;
  }
  // LSD radix sort of the record indexes by start_ms - min, 11 bits a pass (stable): a block's
  // starts usually span minutes, two passes. The records themselves stay in place: the
  // encoder takes them in this order.
  constexpr unsigned kBits = 11;
  constexpr size_t kBuckets = size_t{1} << kBits;
  const uint64_t range = static_cast<uint64_t>(max_start_ms) - static_cast<uint64_t>(min_start_ms);
  order_.resize(n);
  order_tmp_.resize(n);
  keys_.resize(n);  // compact: the passes index it at random, not the 128-byte records
  for (size_t i = 0; i < n; ++i) {
    order_[i] = static_cast<uint32_t>(i);
    keys_[i] = static_cast<uint64_t>(pending_[i].start_ms) - static_cast<uint64_t>(min_start_ms);
  }
  std::vector<uint32_t> count(kBuckets);
  for (unsigned shift = 0; shift < 64 && (range >> shift) != 0; shift += kBits) {
    auto digit = [&](uint32_t i) {
      return static_cast<size_t>((keys_[i] >> shift) & (kBuckets - 1));
    };
    std::fill(count.begin(), count.end(), 0);
    for (uint32_t i : order_) ++count[digit(i)];
    uint32_t sum = 0;
    for (auto& c : count) sum += std::exchange(c, sum);
    for (uint32_t i : order_) order_tmp_[count[digit(i)]++] = i;
    order_.swap(order_tmp_);
  }
  sorted_ = true;
}

bool SegmentWriter::write_block(std::string& error) {
  BlockHeader h;
  h.codec = options_.codec;
  h.records = static_cast<uint32_t>(pending_.size());
  h.min_start_ms = h.max_start_ms = pending_[0].start_ms;
  h.min_end_ms = h.max_end_ms = pending_[0].end_ms;
  hashes_.clear();
  hashes_.reserve(pending_.size() * 2);
  for (const auto& r : pending_) {
    h.min_start_ms = std::min(h.min_start_ms, r.start_ms);
    h.max_start_ms = std::max(h.max_start_ms, r.start_ms);
    h.min_end_ms = std::min(h.min_end_ms, r.end_ms);
    h.max_end_ms = std::max(h.max_end_ms, r.end_ms);
    h.src.add(r.src);
    h.dst.add(r.dst);
    hashes_.push_back(BloomHash::of(r.src));
    hashes_.push_back(BloomHash::of(r.dst));
  }
  // The bloom filter is sized by the distinct addresses, estimated by linear counting: the
  // hashes set bits in a bitmap of at least twice as many bits as addresses (8 KiB for a full
  // block, where an exact hash set took 512 KiB), distinct = -m ln(zero bits / m), within about
  // 1%.
  size_t m = 64;
  while (m < hashes_.size() * 2) m *= 2;
  seen_.assign(m / 64, 0);
  for (const auto& bh : hashes_) {
    const uint64_t bit = (bh.h2 >> 1) & (m - 1);
    seen_[bit / 64] |= uint64_t{1} << (bit % 64);
  }
  size_t set = 0;
  for (uint64_t w : seen_) set += static_cast<size_t>(std::popcount(w));
  const double zero = static_cast<double>(m - set) / static_cast<double>(m);
  const auto distinct = std::clamp<size_t>(
      static_cast<size_t>(std::llround(-static_cast<double>(m) * std::log(zero))), 1,
      hashes_.size());

  sort_by_start(h.min_start_ms, h.max_start_ms);
  encode_columns(pending_, names_, h.min_start_ms, cols_, sorted_ ? order_.data() : nullptr);
  uint64_t raw = 0;
  size_t bound = kColumnDirSize;
  for (const auto& col : cols_) {
    raw += col.bytes.size();
    bound += compress_bound(col.bytes.size());
  }
  if (raw > kMaxRawBytes) {
    errno = EFBIG;
    return fail(error, "block too large (server names?)");
  }
  h.raw_bytes = static_cast<uint32_t>(raw);
  h.bloom_bytes = bloom_bytes_for(distinct);

  out_.assign(kBlockHeaderSize + h.bloom_bytes + bound, '\0');
  auto* bloom = reinterpret_cast<uint8_t*>(out_.data() + kBlockHeaderSize);
  for (const auto& bh : hashes_) bloom_add(bloom, h.bloom_bytes, h.bloom_hashes, bh);
  uint8_t* payload = bloom + h.bloom_bytes;
  ColumnDir dir;
  size_t at = kColumnDirSize;
  for (size_t c = 0; c < kColumnCount; ++c) {
    const std::string& in = cols_[c].bytes;
    ColumnEntry& e = dir[c];
    e.encoding = cols_[c].encoding;
    e.raw_bytes = static_cast<uint32_t>(in.size());
    e.codec = h.codec;
    size_t n = compress(in, payload + at, bound - at);
    if (n == 0 || n >= in.size()) {  // incompressible (or tiny): stored as is
      e.codec = Codec::kNone;
      n = in.size();
      if (n > 0) std::memcpy(payload + at, in.data(), n);
    }
    e.stored_bytes = static_cast<uint32_t>(n);
    e.crc = crc32c(0, payload + at, n);
    at += n;
  }
  encode_column_dir(dir, payload);
  h.payload_bytes = static_cast<uint32_t>(at);
  out_.resize(kBlockHeaderSize + h.bloom_bytes + at);
  h.data_crc = crc32c(crc32c(0, bloom, h.bloom_bytes), payload, kColumnDirSize);
  h.encode(reinterpret_cast<uint8_t*>(out_.data()));

  const uint64_t block_at = offset_;
  if (!write_all(out_.data(), out_.size(), error)) return false;
  append_footer_entry(index_, block_at, h);

  if (stats_.records == 0) {
    stats_.min_start_ms = h.min_start_ms;
    stats_.max_end_ms = h.max_end_ms;
  }
  stats_.min_start_ms = std::min(stats_.min_start_ms, h.min_start_ms);
  stats_.max_end_ms = std::max(stats_.max_end_ms, h.max_end_ms);
  stats_.records += pending_.size();
  stats_.raw_bytes += raw;
  ++stats_.blocks;
  pending_.clear();
  names_.clear();
  name_index_.clear();
  return true;
}

bool SegmentWriter::close(std::string& error, const std::string& final_path) {
  if (!flush(error)) return false;
  const auto footer =
      encode_footer(index_, static_cast<uint32_t>(stats_.blocks), stats_.records, offset_);
  if (!write_all(footer.data(), footer.size(), error)) return false;
  if (::fsync(fd_) != 0) return fail(error, "fsync");
  if (::close(fd_) != 0) {
    fd_ = -1;
    return fail(error, "close");
  }
  fd_ = -1;
  const std::string& to = final_path.empty() ? path_ : final_path;
  if (::rename(tmp_path().c_str(), to.c_str()) != 0) return fail(error, "rename to " + to);
  path_ = to;
  // The rename is durable once the directory is synced.
  if (!segment::sync_parent_dir(to)) return fail(error, "fsync directory of " + to);
  return true;
}

}  // namespace orbwatch::store
