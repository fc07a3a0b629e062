#include "store/archive_thread.h"

#include <algorithm>
#include <utility>

namespace orbwatch::store {

ArchiveThread::ArchiveThread(std::string dir, ArchiveWriterOptions options, size_t max_queued)
    : writer_(std::move(dir), options),
      max_queued_(std::max<size_t>(1, max_queued)),
      stage_records_(std::max<uint32_t>(1, options.segment.block_records)),
      thread_([this] { run(); }) {}

ArchiveThread::~ArchiveThread() {
  std::string error;
  close(error);
}

void ArchiveThread::hand_over(int64_t now_ms) {
  std::unique_lock lock(mu_);
  space_.wait(lock, [&] { return queue_.size() < max_queued_ || done_; });
  if (done_) {
    staging_.clear();
    return;
  }
  queue_.push_back({std::move(staging_), now_ms});
  staging_.clear();  // moved from: valid, made empty
  if (!spare_.empty()) {
    staging_ = std::move(spare_.back());
    spare_.pop_back();
  }
  wake_.notify_one();
}

void ArchiveThread::append(const FlowBatch& batch, int64_t now_ms) {
  last_now_ms_ = now_ms;
  if (batch.records.empty()) return;
  staging_.append(batch);
  if (staging_.records.size() >= stage_records_) hand_over(now_ms);
}

void ArchiveThread::tick(int64_t now_ms) {
  last_now_ms_ = now_ms;
  hand_over(now_ms);
}

bool ArchiveThread::close(std::string& error) {
  if (thread_.joinable()) {
    if (!staging_.records.empty()) hand_over(last_now_ms_);
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      wake_.notify_one();
    }
    thread_.join();
  }
  std::lock_guard lock(mu_);
  error = close_error_;
  return closed_ok_;
}

ArchiveWriterStats ArchiveThread::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void ArchiveThread::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return !queue_.empty() || closing_; });
    if (queue_.empty()) break;  // closing, everything written
    Item item = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    lock.unlock();
    if (item.batch.records.empty()) {
      writer_.tick(item.now_ms);
    } else {
      writer_.append(item.batch, item.now_ms);
    }
    item.batch.clear();
    lock.lock();
    stats_ = writer_.stats();
    if (spare_.size() < max_queued_) spare_.push_back(std::move(item.batch));
  }
  lock.unlock();
  std::string error;
  const bool ok = writer_.close(error);
  lock.lock();
  closed_ok_ = ok;
  close_error_ = error;
  stats_ = writer_.stats();
  done_ = true;
  space_.notify_all();
}

}  // namespace orbwatch::store
