// SegmentReader: reads one segment file of the flow archive (format in segment_format.h and
// docs/formats.md) block by block.
//
// open() validates the file header and the footer; when the footer is missing or damaged (a
// writer that died before close(), a truncated copy) it scans the blocks from the file header on,
// resynchronising on the next valid block header after a damaged one. Block summaries (times,
// address bounds, bloom filter) are then in memory, so time ranges and hunts skip blocks without
// reading their payloads. read_block() verifies the checksums of the block's column directory
// and of the columns it reads, and decodes those columns.
//
// Errors never throw: they are returned as text naming the file and the block. Damaged blocks
// are skipped and counted (problems()). Every length read from the file is bounded
// (segment::kMax*), so a hostile file makes the reader allocate at most one capped block.
// A reader is not thread-safe; open one per thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/flow_batch.h"
#include "core/ip_addr.h"
#include "store/segment_columns.h"
#include "store/segment_format.h"

struct ZSTD_DCtx_s;

namespace orbwatch::store {

struct SegmentBlock {
  uint64_t offset = 0;  // of the block header in the file
  segment::BlockHeader header;
  std::vector<uint8_t> bloom;
};

// Scratch buffers for reading blocks, one per thread; they hold the columns of the last block
// loaded, so that a second read of the same block decompresses only columns not loaded yet.
struct BlockScratch {
  uint64_t reader = 0;  // the block loaded: its reader's id (unique per open) and index
  size_t block = 0;
  uint32_t loaded = 0;  // bit c: column c is in views[c]
  segment::ColumnDir dir;
  std::array<segment::ColumnView, segment::kColumnCount> views;
  std::array<std::vector<uint8_t>, segment::kColumnCount> stored;
  std::array<std::string, segment::kColumnCount> raw;  // decompressed (codec other than none)
  struct FreeDCtx {
    void operator()(ZSTD_DCtx_s* d) const;
  };
  std::unique_ptr<ZSTD_DCtx_s, FreeDCtx> dctx;  // reused: one per block costs an allocation
};

class SegmentReader {
 public:
  SegmentReader(SegmentReader&&) noexcept;
  SegmentReader& operator=(SegmentReader&&) noexcept;
  ~SegmentReader();

  // nullopt with `error` set when the file cannot be opened or has no valid file header. A file
  // with damaged blocks opens; problems() lists what was skipped.
  static std::optional<SegmentReader> open(const std::string& path, std::string& error);
  // The same over bytes in memory (fuzzing, tests); `name` stands for the path in messages.
  static std::optional<SegmentReader> open_memory(std::string name, std::vector<uint8_t> bytes,
                                                  std::string& error);

  const std::string& name() const { return name_; }
  bool has_footer() const { return has_footer_; }
  const std::vector<SegmentBlock>& blocks() const { return blocks_; }
  uint64_t records() const;  // declared by the valid blocks' headers

  // Block selection: false only when block i certainly holds no matching record.
  // A flow [start, end] matches a time range [from_ms, to_ms] when they overlap.
  bool may_contain_time(size_t i, int64_t from_ms, int64_t to_ms) const;
  // As src or dst; answered by the per-family address bounds and the bloom filter (no false
  // negatives).
  bool may_contain(size_t i, const IpAddr& a) const;
  // As src or dst; answered by the per-family address bounds only.
  bool may_contain(size_t i, const Prefix& p) const;

  // Verifies block i's checksum and appends its records (and names) to `out`. False with `error`
  // ("PATH: block 3 at offset 4096: data checksum mismatch") when the block is damaged; `out` is
  // then unchanged and the block is counted in problems().
  bool read_block(size_t i, FlowBatch& out, std::string& error);
  // The same, safe to call from several threads on one reader: each brings its own scratch, and
  // a damaged block is reported in `error` only (not counted in problems()).
  // `columns` (segment_columns.h) selects the fields decoded; the others stay zero. With `rows`
  // (ascending indexes into the block), only those records are appended.
  bool read_block(size_t i, FlowBatch& out, BlockScratch& scratch, std::string& error,
                  uint32_t columns = segment::column::kAll,
                  const std::vector<uint32_t>* rows = nullptr) const;
  // Reads, checks and decompresses the columns `columns` of block i into `scratch.views`
  // (columns loaded before for the same block are kept), for segment::decode_rows.
  bool load_columns(size_t i, BlockScratch& scratch, std::string& error, uint32_t columns) const;
  // "NAME: block I at offset O: WHY".
  std::string block_error(size_t i, const std::string& why) const;

  // Bytes after the last whole block of a file without footer that hold no whole block: the
  // block a live writer is writing, or the one a crash cut off. Not a problem of the file.
  uint64_t partial_tail_bytes() const { return partial_tail_bytes_; }
  // The end of the last whole block (the file header's end when there is none).
  uint64_t blocks_end() const;

  // What open() and read_block() skipped, one message each, and how many blocks were damaged.
  const std::vector<std::string>& problems() const { return problems_; }
  uint64_t damaged_blocks() const { return damaged_blocks_; }

 private:
  SegmentReader() = default;
  bool load(std::string& error);
  bool read_at(uint64_t offset, size_t n, uint8_t* out) const;
  bool load_footer();
  void scan_blocks(uint64_t from, uint64_t end);
  bool add_block(uint64_t offset, const segment::BlockHeader& h, uint64_t end);
  void problem(const std::string& message);

  std::string name_;
  int fd_ = -1;
  std::vector<uint8_t> mem_;
  uint64_t size_ = 0;
  bool has_footer_ = false;
  std::vector<SegmentBlock> blocks_;
  std::vector<std::string> problems_;
  uint64_t damaged_blocks_ = 0;
  uint64_t partial_tail_bytes_ = 0;
  BlockScratch scratch_;
  uint64_t id_ = 0;  // unique per opened reader (BlockScratch::reader)
};

}  // namespace orbwatch::store
