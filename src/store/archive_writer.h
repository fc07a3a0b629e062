// ArchiveWriter: appends flows to the flow archive (archive.h), one open segment at a time.
//
// Pending records are written as a block at least every `flush_interval_ms` (so a crash loses at
// most that much), and the segment is sealed (footer, rename under its day) every
// `rotate_interval_ms` or after the append that reaches `rotate_records`. Several writers (one per
// receive thread) may write to one archive; each has its own segment.
//
// Writing never stops the caller: after an I/O error (a full disk) the writer drops the segment,
// counts the flows it could not store, keeps the error text and tries a new segment after
// `retry_ms`. Not thread-safe: one writer per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/flow_batch.h"
#include "store/segment_writer.h"

namespace orbwatch::store {

struct ArchiveWriterOptions {
  SegmentWriterOptions segment;
  int64_t flush_interval_ms = 1000;
  int64_t rotate_interval_ms = 300'000;  // as nfcapd's 5-minute files
  uint64_t rotate_records = 16u << 20;
  int64_t retry_ms = 30'000;
};

struct ArchiveWriterStats {
  uint64_t flows_stored = 0;      // handed to a segment that was still healthy
  uint64_t flows_not_stored = 0;  // lost to write errors (full disk, permissions)
  uint64_t segments_sealed = 0;
  uint64_t bytes_sealed = 0;
  uint64_t write_errors = 0;
  std::string last_error;  // empty while healthy

  // Adds another writer's counts (the last error seen wins).
  void merge(const ArchiveWriterStats& o) {
    flows_stored += o.flows_stored;
    flows_not_stored += o.flows_not_stored;
    segments_sealed += o.segments_sealed;
    bytes_sealed += o.bytes_sealed;
    write_errors += o.write_errors;
    if (!o.last_error.empty()) last_error = o.last_error;
  }
};

class ArchiveWriter {
 public:
  ArchiveWriter(std::string dir, ArchiveWriterOptions options = {});
  ~ArchiveWriter();  // without close(): the open segment stays for recovery, as after a crash
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // Stores `batch`; `now_ms` (wall clock) drives flushing and rotation.
  void append(const FlowBatch& batch, int64_t now_ms);
  // Flushes and rotates by time; call about once a second, also when no flows arrive.
  void tick(int64_t now_ms);
  // Seals the open segment. False with the error text when that failed (or earlier writes
  // did and flows were lost).
  bool close(std::string& error);

  const ArchiveWriterStats& stats() const { return stats_; }
  const std::string& dir() const { return dir_; }

 private:
  bool start(int64_t now_ms);
  bool seal(std::string& error);
  void failed(const std::string& error, int64_t now_ms);

  std::string dir_;
  ArchiveWriterOptions options_;
  std::unique_ptr<SegmentWriter> segment_;
  std::string nonce_;
  int64_t opened_ms_ = 0;
  int64_t flushed_ms_ = 0;
  int64_t retry_at_ms_ = 0;
  uint64_t appended_ = 0;  // records handed to the open segment
  bool dirty_ = false;     // records appended since the last flush
  std::string abandoned_;  // the open segment an error left, sealed on the next start
  ArchiveWriterStats stats_;
};

}  // namespace orbwatch::store
