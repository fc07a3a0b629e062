// IntelUpdater: the thread that keeps a SnapshotHolder<IntelSet> current. Each step refreshes the
// feeds that are due (FeedManager::refresh_due) and builds and publishes a new IntelSet when a
// feed changed or when the current set's next_change_ms() passed (an indicator expired or
// became valid). It sleeps until the next feed is due or the set changes by itself, at most a
// minute (a wall-clock jump is noticed within it).
//
// Threading: start() and stop() from one owning thread. Readers load() the holder at any time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "core/snapshot.h"
#include "core/time.h"
#include "intel/feed_manager.h"
#include "intel/intel_set.h"

namespace orbwatch::intel {

class IntelUpdater {
 public:
  using Clock = std::function<int64_t()>;  // wall clock in unix ms; tests give their own

  IntelUpdater(FeedManager& feeds, SnapshotHolder<IntelSet>& holder, Clock clock = wall_clock_ms)
      : feeds_(feeds), holder_(holder), clock_(std::move(clock)) {}
  ~IntelUpdater() { stop(); }
  IntelUpdater(const IntelUpdater&) = delete;
  IntelUpdater& operator=(const IntelUpdater&) = delete;

  // Starts the thread; its first step publishes what the manager holds (the cached copies)
  // before any download.
  void start();
  // Returns promptly: wakes the thread and aborts downloads in flight through
  // FeedManager::cancel(), after which the manager refreshes nothing more.
  void stop();
  // Makes the thread look again now (after the clock was moved, or the config changed).
  void wake();

  // One step on the calling thread (when the thread is not running). True when it published.
  bool step();
  // How many sets were published so far.
  uint64_t published() const { return published_.load(std::memory_order_acquire); }

 private:
  bool publish_if_needed(int64_t now_ms);
  void run();

  FeedManager& feeds_;
  SnapshotHolder<IntelSet>& holder_;
  Clock clock_;
  // Used by the stepping thread only.
  uint64_t built_generation_ = 0;  // the manager's generations start at 1
  int64_t next_change_ms_ = INT64_MAX;
  std::atomic<uint64_t> published_{0};

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mutex_
  bool woken_ = false;     // guarded by mutex_
};

}  // namespace orbwatch::intel
