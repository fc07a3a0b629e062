#include "intel/intel_updater.h"

#include <algorithm>
#include <chrono>
#include <climits>

namespace orbwatch::intel {

namespace {
constexpr int64_t kMaxSleepMs = 60'000;
}  // namespace

void IntelUpdater::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void IntelUpdater::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (!thread_.joinable()) return;
  feeds_.cancel();
  thread_.join();
}

void IntelUpdater::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool IntelUpdater::publish_if_needed(int64_t now_ms) {
  // The generation is read before the feeds: a change in between only causes one more build.
  const uint64_t generation = feeds_.generation();
  if (generation == built_generation_ && now_ms < next_change_ms_) return false;
  auto set = IntelSet::build(feeds_.feeds(), now_ms);
  built_generation_ = generation;
  next_change_ms_ = set->next_change_ms();
  holder_.store(std::move(set));
  published_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

bool IntelUpdater::step() {
  // Publish first: at start-up the cached copies go live before any slow download.
  bool published = publish_if_needed(clock_());
  feeds_.refresh_due(clock_());
  published = publish_if_needed(clock_()) || published;
  return published;
}

void IntelUpdater::run() {
  for (;;) {
    step();
    const int64_t now = clock_();
    const int64_t wake_at = std::min(feeds_.next_due_ms(), next_change_ms_);
    // At least a little: a step that could not make progress does not spin.
    const int64_t sleep_ms = std::clamp<int64_t>(wake_at - std::min(wake_at, now), 10, kMaxSleepMs);
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(sleep_ms), [this] { return stopping_ || woken_; });
    woken_ = false;
    if (stopping_) return;
  }
}

}  // namespace orbwatch::intel
