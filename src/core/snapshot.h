// SnapshotHolder: publishes the current version of an immutable structure (intel tables, the
// network model) to readers while a writer replaces it.
//
// Threading: store() and load() may be called from any threads at any time. A reader calls
// load() once per batch of flows and keeps the returned snapshot for the whole batch; the value
// it holds stays alive (and unchanged) until the last snapshot is dropped, even if a writer has
// stored a newer one meanwhile. The old value is freed by whichever thread drops its last
// reference (store() drops the holder's own reference outside the lock).
//
// load() takes no mutex and never sleeps: it holds a spin lock for the few instructions of one
// shared_ptr copy (a reference-count increment). It is not std::atomic<std::shared_ptr> because
// libstdc++ 12's implementation releases its internal lock bit with a relaxed store after a
// load, so a following store() is formally a data race with the load's read of the pointer
// (ThreadSanitizer reports it); this lock releases with release order. Cost: one uncontended
// atomic exchange per batch, hence load() once per batch, not per lookup.
#pragma once

#include <atomic>
#include <memory>
#include <utility>

namespace orbwatch {

template <typename T>
class SnapshotHolder {
 public:
  explicit SnapshotHolder(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}

  std::shared_ptr<const T> load() const {
    lock();
    std::shared_ptr<const T> snapshot = current_;
    unlock();
    return snapshot;
  }

  void store(std::shared_ptr<const T> next) {
    lock();
    current_.swap(next);
    unlock();
    // `next` now holds the previous value; it is released here, outside the lock.
  }

 private:
  void lock() const {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
    }
  }
  void unlock() const {
    locked_.store(false, std::memory_order_release);
  }

  mutable std::atomic<bool> locked_{false};
  std::shared_ptr<const T> current_;  // guarded by locked_
};

}  // namespace orbwatch
