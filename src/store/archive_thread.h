// ArchiveThread: an ArchiveWriter on a thread of its own, so that column encoding, compression
// and writing run beside the receive thread that feeds it (on another core where there is one)
// instead of inside it, as nfcapd hands its blocks to a writer thread.
//
// append() copies the flows into a staging batch; a full one (a segment block's worth) goes to
// the thread through a queue of at most `max_queued` batches. When the queue is full, append()
// waits: the receive thread slows down and the socket buffer absorbs the burst, so an
// overloaded archive shows as counted kernel drops, never as flows silently lost in between.
// tick() hands over the staged flows too, so a crash loses at most the flush interval plus the
// queue. One ArchiveThread per receive thread; stats() may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/flow_batch.h"
#include "store/archive_writer.h"

namespace orbwatch::store {

class ArchiveThread {
 public:
  ArchiveThread(std::string dir, ArchiveWriterOptions options, size_t max_queued = 4);
  ~ArchiveThread();  // close() if not done, the error kept in stats()
  ArchiveThread(const ArchiveThread&) = delete;
  ArchiveThread& operator=(const ArchiveThread&) = delete;

  void append(const FlowBatch& batch, int64_t now_ms);
  void tick(int64_t now_ms);
  // Hands over what is staged, waits for the thread to write it all and seal the segment.
  bool close(std::string& error);

  ArchiveWriterStats stats() const;

 private:
  struct Item {
    FlowBatch batch;  // may be empty: a tick
    int64_t now_ms = 0;
  };
  void hand_over(int64_t now_ms);  // the staging batch (possibly empty) to the queue
  void run();

  ArchiveWriter writer_;  // used by the thread only
  const size_t max_queued_;
  const size_t stage_records_;
  FlowBatch staging_;        // the caller's
  int64_t last_now_ms_ = 0;  // the caller's

  mutable std::mutex mu_;
  std::condition_variable wake_;   // the thread: an item or the end
  std::condition_variable space_;  // the caller: room in the queue, or the thread done
  std::deque<Item> queue_;
  std::vector<FlowBatch> spare_;  // written batches, reused for staging
  bool closing_ = false;
  bool done_ = false;
  bool closed_ok_ = false;
  std::string close_error_;
  ArchiveWriterStats stats_;  // the writer's, published after each item
  std::thread thread_;
};

}  // namespace orbwatch::store
