#include "store/archive_writer.h"

#include <unistd.h>

#include <filesystem>
#include <utility>

#include "store/archive.h"

namespace orbwatch::store {

ArchiveWriter::ArchiveWriter(std::string dir, ArchiveWriterOptions options)
    : dir_(std::move(dir)), options_(options) {}

ArchiveWriter::~ArchiveWriter() = default;

void ArchiveWriter::failed(const std::string& error, int64_t now_ms) {
  ++stats_.write_errors;
  stats_.last_error = error;
  retry_at_ms_ = now_ms + options_.retry_ms;
  if (segment_) {
    // What was appended but never reached the disk is lost; what did stays in the open file,
    // which is sealed on the next start (or by `orbwatch store repair`).
    stats_.flows_not_stored += appended_ - segment_->stats().records;
    stats_.flows_stored -= appended_ - segment_->stats().records;
    abandoned_ = segment_->tmp_path();
    segment_.reset();
  }
}

bool ArchiveWriter::start(int64_t now_ms) {
  if (now_ms < retry_at_ms_) return false;
  std::string error;
  if (!abandoned_.empty()) {
    // The segment an error left: keep its whole blocks if the disk now allows it.
    if (archive::seal(dir_, abandoned_, error)) abandoned_.clear();
  }
  std::error_code ec;
  std::filesystem::create_directories(archive::open_dir(dir_), ec);
  if (ec) {
    failed(archive::open_dir(dir_) + ": " + ec.message(), now_ms);
    return false;
  }
  nonce_ = archive::new_nonce();
  auto segment = std::make_unique<SegmentWriter>(options_.segment);
  if (!segment->open(archive::open_dir(dir_) + "/" + nonce_ + ".seg", error)) {
    failed(error, now_ms);
    ::unlink(segment->tmp_path().c_str());
    return false;
  }
  segment_ = std::move(segment);
  opened_ms_ = flushed_ms_ = now_ms;
  appended_ = 0;
  dirty_ = false;
  stats_.last_error.clear();
  return true;
}

void ArchiveWriter::append(const FlowBatch& batch, int64_t now_ms) {
  if (batch.records.empty()) return;
  if (!segment_ && !start(now_ms)) {
    stats_.flows_not_stored += batch.records.size();
    return;
  }
  appended_ += batch.records.size();
  stats_.flows_stored += batch.records.size();
  dirty_ = true;
  std::string error;
  if (!segment_->append(batch, error)) {
    failed(error, now_ms);
    return;
  }
  tick(now_ms);
}

void ArchiveWriter::tick(int64_t now_ms) {
  if (!segment_) return;
  if (now_ms - opened_ms_ >= options_.rotate_interval_ms || appended_ >= options_.rotate_records) {
    std::string error;
    if (!seal(error)) failed(error, now_ms);
    return;
  }
  if (dirty_ && now_ms - flushed_ms_ >= options_.flush_interval_ms) {
    std::string error;
    if (!segment_->flush(error)) {
      failed(error, now_ms);
      return;
    }
    dirty_ = false;
    flushed_ms_ = now_ms;
  }
}

bool ArchiveWriter::seal(std::string& error) {
  if (!segment_->flush(error)) return false;
  if (segment_->stats().records == 0) {
    // Nothing arrived: no file to keep.
    const std::string tmp = segment_->tmp_path();
    segment_.reset();
    ::unlink(tmp.c_str());
    return true;
  }
  const auto& s = segment_->stats();
  const std::string to = archive::sealed_path(dir_, s.min_start_ms, s.max_end_ms, nonce_);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(to).parent_path(), ec);
  if (ec) {
    error = std::filesystem::path(to).parent_path().string() + ": " + ec.message();
    return false;
  }
  if (!segment_->close(error, to)) return false;
  ++stats_.segments_sealed;
  stats_.bytes_sealed += segment_->stats().bytes;
  segment_.reset();
  return true;
}

bool ArchiveWriter::close(std::string& error) {
  if (segment_ && !seal(error)) {
    failed(error, 0);
    return false;
  }
  if (stats_.flows_not_stored > 0) {
    error = std::to_string(stats_.flows_not_stored) + " flows not stored: " + stats_.last_error;
    return false;
  }
  return true;
}

}  // namespace orbwatch::store
