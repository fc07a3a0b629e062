#include "store/archive_thread.h"

#include <algorithm>
#include <utility>

namespace orbwatch::store {

ArchiveThread::ArchiveThread(const std::string& dir, const ArchiveWriterOptions& options,
                             size_t writers, size_t max_queued)
    : max_queued_(std::max<size_t>(1, max_queued)),
      stage_records_(std::max<uint32_t>(1, options.segment.block_records)) {
  writers = std::max<size_t>(1, writers);
  running_ = writers;
  for (size_t i = 0; i < writers; ++i) writers_.push_back(std::make_unique<Writer>(dir, options));
  for (auto& w : writers_) w->thread = std::thread([this, one = w.get()] { run(*one); });
}

ArchiveThread::~ArchiveThread() {
  std::string error;
  close(error);
}

void ArchiveThread::hand_over(int64_t now_ms) {
  if (staging_.records.empty()) return;
  std::unique_lock lock(mu_);
  space_.wait(lock, [&] { return queue_.size() < max_queued_ || running_ == 0; });
  if (running_ == 0) {
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
  std::lock_guard lock(mu_);
  ++ticks_;
  tick_ms_ = now_ms;
  wake_.notify_all();
}

bool ArchiveThread::close(std::string& error) {
  bool joined = false;
  for (auto& w : writers_) {
    if (!w->thread.joinable()) continue;
    if (!joined) {
      hand_over(last_now_ms_);
      std::lock_guard lock(mu_);
      closing_ = true;
      wake_.notify_all();
    }
    joined = true;
    w->thread.join();
  }
  std::lock_guard lock(mu_);
  error = close_error_;
  return closed_ok_;
}

ArchiveWriterStats ArchiveThread::stats() const {
  std::lock_guard lock(mu_);
  ArchiveWriterStats total;
  for (const auto& w : writers_) total.merge(w->stats);
  return total;
}

void ArchiveThread::run(Writer& w) {
  uint64_t ticks_seen = 0;
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return !queue_.empty() || ticks_seen != ticks_ || closing_; });
    if (!queue_.empty()) {
      Item item = std::move(queue_.front());
      queue_.pop_front();
      space_.notify_one();
      lock.unlock();
      w.writer.append(item.batch, item.now_ms);
      item.batch.clear();
      lock.lock();
      if (spare_.size() < max_queued_) spare_.push_back(std::move(item.batch));
    } else if (ticks_seen != ticks_) {
      ticks_seen = ticks_;
      const int64_t now_ms = tick_ms_;
      lock.unlock();
      w.writer.tick(now_ms);
      lock.lock();
    } else {
      break;  // closing, the queue written
    }
    w.stats = w.writer.stats();
  }
  lock.unlock();
  std::string error;
  const bool ok = w.writer.close(error);
  lock.lock();
  if (!ok) {
    closed_ok_ = false;
    if (!close_error_.empty()) close_error_ += "; ";
    close_error_ += error;
  }
  w.stats = w.writer.stats();
  if (--running_ == 0) space_.notify_all();
}

}  // namespace orbwatch::store
