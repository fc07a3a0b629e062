// SegmentWriter: appends flow batches to one segment file of the flow archive (format in
// segment_format.h and docs/formats.md).
//
// Records collect in memory and are written as one compressed columnar block every
// `block_records` records or on flush(). The file is written as PATH.tmp; close() appends the
// footer, fsyncs and renames it to PATH (then fsyncs the directory), so PATH only ever names a
// complete file. A writer destroyed without close() (or a crash) leaves PATH.tmp holding every
// block written so far, which SegmentReader reads by scanning; what was not yet flushed is lost,
// so a caller that calls flush() every second loses at most the last second.
//
// Not thread-safe: one writer per thread. Errors are returned as text naming the file; after an
// I/O error the writer refuses further appends.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/flow_batch.h"
#include "store/segment_columns.h"
#include "store/segment_format.h"

struct ZSTD_CCtx_s;

namespace orbwatch::store {

struct SegmentWriterOptions {
  // 1..segment::kMaxBlockRecords. 16,384 records: a block's records (2 MiB decoded) stay in
  // cache while a query filters them, and hunts skip blocks at a finer grain than 65,536 did.
  uint32_t block_records = 16384;
  // zstd level 1: on bench/micro/segment_bench.cc's workload it wrote 3.1 M flows/s at 18.8
  // bytes/flow, level 3 2.3 M/s at 19.3, lz4 3.7 M/s at 30.8 (docs/performance.md).
  segment::Codec codec = segment::Codec::kZstd;
  int zstd_level = 1;
  bool sync_on_flush = false;  // fdatasync after each flush() (close() always fsyncs)
};

struct SegmentWriterStats {
  uint64_t records = 0;
  uint64_t blocks = 0;
  uint64_t bytes = 0;            // written to the file so far
  uint64_t raw_bytes = 0;        // uncompressed column bytes of the written blocks
  uint64_t names_truncated = 0;  // server names longer than segment::kMaxNameBytes
  int64_t min_start_ms = 0;      // over the written blocks (when records > 0)
  int64_t max_end_ms = 0;
};

class SegmentWriter {
 public:
  explicit SegmentWriter(SegmentWriterOptions options = {});
  ~SegmentWriter();  // without close(): PATH.tmp stays, as after a crash
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Creates PATH.tmp (replacing a stale one) and writes the file header.
  bool open(const std::string& path, std::string& error);
  // Copies every record of `batch` (with its server name) into the pending block, writing full
  // blocks as they fill. The batch's DNS answers are not stored (format version 1).
  bool append(const FlowBatch& batch, std::string& error);
  // Writes the pending records (if any) as a block.
  bool flush(std::string& error);
  // flush(), footer, fsync, rename PATH.tmp -> PATH (or `final_path`, on the same file
  // system), fsync of the directory.
  bool close(std::string& error, const std::string& final_path = {});

  const SegmentWriterStats& stats() const { return stats_; }
  const std::string& path() const { return path_; }
  std::string tmp_path() const { return path_ + ".tmp"; }

 private:
  bool write_block(std::string& error);
  bool write_all(const void* p, size_t n, std::string& error);
  bool fail(std::string& error, const std::string& what);
  // The pending records' start time order (stable) in order_ (sorted_ false when already in
  // order): sorted starts delta-encode to a byte.
  void sort_by_start(int64_t min_start_ms, int64_t max_start_ms);
  size_t compress_bound(size_t n) const;
  // Compresses `in` with the writer's codec into `out`; 0 when it is not worth it or fails.
  size_t compress(const std::string& in, uint8_t* out, size_t cap);

  SegmentWriterOptions options_;
  std::string path_;
  int fd_ = -1;
  bool failed_ = false;
  uint64_t offset_ = 0;
  SegmentWriterStats stats_;
  std::vector<FlowRecord> pending_;
  std::vector<std::string> names_;  // the pending block's names, name_ref 1-based into it
  std::unordered_map<std::string, uint32_t> name_index_;
  std::vector<uint8_t> index_;               // footer entries so far
  bool sorted_ = false;                      // order_ holds the start order (else as is)
  std::vector<uint32_t> order_, order_tmp_;  // scratch: the sort's permutation
  std::vector<uint64_t> keys_;               // scratch: start_ms - block min, per record
  segment::BlockColumns cols_;               // scratch: the block's encoded columns
  ZSTD_CCtx_s* cctx_ = nullptr;              // reused: a context per block costs an allocation
  std::string out_;                          // scratch: block header, bloom and payload
  std::vector<segment::BloomHash> hashes_;   // scratch: the block's address hashes
  std::vector<uint64_t> seen_;               // scratch: linear-counting bitmap
};

}  // namespace orbwatch::store
