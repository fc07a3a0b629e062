// ArchiveThread: ArchiveWriters on threads of their own, so that column encoding, compression
// and writing run beside the receive thread that feeds them (on other cores where there are
// some) instead of inside it, as nfcapd hands its blocks to a writer thread.
//
// append() copies the flows into a staging batch; a full one (a segment block's worth) goes to
// the writer threads through a queue of at most `max_queued` batches. With several writers
// (`writers` > 1) each has its own segment and takes the next batch that is ready, so encoding
// runs on as many cores; queries do not depend on which segment holds a flow. When the queue is
// full, append() waits: the receive thread slows down and the socket buffer absorbs the burst,
// so an overloaded archive shows as counted kernel drops, never as flows silently lost in
// between. tick() hands over the staged flows and lets every writer flush, so a crash loses at
// most the flush interval plus the queue. One ArchiveThread per receive thread; stats() may be
// called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/flow_batch.h"
#include "store/archive_writer.h"

namespace orbwatch::store {

class ArchiveThread {
 public:
  ArchiveThread(const std::string& dir, const ArchiveWriterOptions& options, size_t writers = 1,
                size_t max_queued = 4);
  ~ArchiveThread();  // close() if not done, the error kept in stats()
  ArchiveThread(const ArchiveThread&) = delete;
  ArchiveThread& operator=(const ArchiveThread&) = delete;

  void append(const FlowBatch& batch, int64_t now_ms);
  void tick(int64_t now_ms);
  // Hands over what is staged, waits for the threads to write it all and seal their segments.
  bool close(std::string& error);

  ArchiveWriterStats stats() const;  // all writers together

 private:
  struct Item {
    FlowBatch batch;
    int64_t now_ms = 0;
  };
  struct Writer {
    explicit Writer(const std::string& dir, const ArchiveWriterOptions& o) : writer(dir, o) {}
    ArchiveWriter writer;      // used by its thread only
    ArchiveWriterStats stats;  // published after each item, under mu_
    std::thread thread;
  };
  void hand_over(int64_t now_ms);  // the staging batch, if any, to the queue
  void run(Writer& w);

  const size_t max_queued_;
  const size_t stage_records_;
  FlowBatch staging_;        // the caller's
  int64_t last_now_ms_ = 0;  // the caller's

  mutable std::mutex mu_;
  std::condition_variable wake_;   // the threads: an item, a tick or the end
  std::condition_variable space_;  // the caller: room in the queue, or the threads done
  std::deque<Item> queue_;
  std::vector<FlowBatch> spare_;  // written batches, reused for staging
  uint64_t ticks_ = 0;            // each writer flushes when it has seen fewer
  int64_t tick_ms_ = 0;
  bool closing_ = false;
  size_t running_ = 0;  // writer threads not yet finished
  bool closed_ok_ = true;
  std::string close_error_;
  std::vector<std::unique_ptr<Writer>> writers_;
};

}  // namespace orbwatch::store
