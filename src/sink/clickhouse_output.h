// ClickHouseOutput: flows and alerts into ClickHouse (the tables of sink/clickhouse.h), in large
// gzip-compressed RowBinary inserts (docs/scale.md). Two threads of its own: an encoder builds
// the next insert's body while a sender's insert is in flight.
//
// Flows are staged as the receive threads hand them over and sent every `batch_rows` flows or
// `flush_ms`, whichever comes first; each insert holds the flows of one UTC day (one partition),
// at most kMaxBatchRows, so ClickHouse writes it as one part: all or nothing. An insert that
// fails, or whose outcome is unknown (the answer lost), goes to a spool on disk, and so does
// everything after it while the spool is not empty: order is kept. The spool is replayed oldest
// first with back-off once ClickHouse answers; before a flows insert is sent again, its id (the
// `batch` column) is looked up within its minutes, and a batch already there is not sent twice.
// Alerts need no such check: the alerts table keeps one row per id and version. The spool
// survives restarts; past `max_spool_bytes` its oldest batches are dropped and counted.
//
// When the sender falls behind (ClickHouse slower than the flows), add_flows() waits once
// 4 x batch_rows flows are staged: the receive threads slow down and the kernel counts what
// they cannot take, as with the archive. Threading: add_flows() and emit() from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/alert.h"
#include "core/flow_batch.h"
#include "sink/clickhouse.h"

namespace orbwatch::sink {

class ClickHouseOutput final : public AlertSink {
 public:
  // Rows per insert at most: below max_insert_block_size (1,048,576), so one block, one part.
  static constexpr size_t kMaxBatchRows = 1'000'000;

  struct Options {
    ClickHouseOptions server;
    std::string spool_dir;  // required
    uint64_t max_spool_bytes = 1ull << 30;
    size_t batch_rows = 200'000;
    int64_t flush_ms = 1000;
    bool gzip = true;           // compress inserts (false: ClickHouse near, CPU scarce)
    bool flows = true;          // send flows
    bool alerts = true;         // send alerts (emit())
    int64_t backoff_ms = 1000;  // first wait after a failure; doubles up to max_backoff_ms
    int64_t max_backoff_ms = 30'000;
    int64_t stop_replay_ms = 10'000;  // at stop: replay the spool at most this long
  };
  struct Stats {
    uint64_t flows_sent = 0, alerts_sent = 0;
    uint64_t inserts = 0;                            // successful INSERTs
    uint64_t spooled_batches = 0;                    // batches written to the spool (cumulative)
    uint64_t replayed_batches = 0;                   // sent from the spool
    uint64_t duplicate_batches = 0;                  // found in ClickHouse on retry, not sent again
    uint64_t dropped_flows = 0, dropped_alerts = 0;  // spool over its cap, unreadable spool file
    uint64_t errors = 0;                             // failed requests (retried)
    uint64_t spool_bytes = 0, spool_batches = 0;     // waiting on disk now
    uint64_t staged_flows = 0;                       // waiting in memory now
    int64_t last_insert_ms = 0;                      // wall clock
    std::string last_error;
  };

  explicit ClickHouseOutput(Options o);
  ~ClickHouseOutput() override;  // stop()
  ClickHouseOutput(const ClickHouseOutput&) = delete;
  ClickHouseOutput& operator=(const ClickHouseOutput&) = delete;

  // Opens the spool (batches a previous run left are sent first) and starts the sender. False
  // when the spool directory cannot be used or the options are wrong.
  bool start(std::string& error);
  void add_flows(const FlowBatch& batch);
  void emit(const Alert& alert) override;
  // Sends what is staged, replays the spool for at most stop_replay_ms; what is left stays in
  // the spool for the next start.
  void stop();

  Stats stats() const;
  const Options& options() const { return o_; }

 private:
  struct Batch {
    uint64_t seq = 0;  // spool order (file name)
    bool alerts = false;
    bool gzipped = true;
    uint64_t rows = 0;
    uint64_t id = 0;  // the flows' batch column
    int64_t minute_lo = 0, minute_hi = 0;
    uint64_t bytes = 0;  // spool file size
    std::string body;    // RowBinary, gzipped or not; empty while it waits on disk
  };
  static constexpr size_t kMaxEncoded = 2;  // bodies ready for the sender
  void encode_loop();                       // the encoder thread
  void send_loop();                         // the sender thread
  void encode_flows(FlowBatch& flows, std::vector<Batch>& out);
  void encode_alerts(const std::vector<Alert>& alerts, std::vector<Batch>& out);
  void deliver(Batch& b);
  void replay(int64_t until_ms);
  // False when it failed (retried later); a flows batch found in ClickHouse counts as sent.
  bool send(const Batch& b, bool check_first);
  void failed(const std::string& error);
  bool spool(Batch& b);
  bool load_body(Batch& b);
  void drop_oldest();
  std::string spool_path(const Batch& b) const;
  void publish();

  Options o_;
  ClickHouseClient client_;  // the sender thread's
  bool schema_ok_ = false;
  std::mt19937_64 ids_;      // the encoder thread's
  std::deque<Batch> spool_;  // oldest first, bodies on disk
  uint64_t spool_bytes_ = 0;
  uint64_t next_seq_ = 1;
  int64_t retry_at_ms_ = 0;
  int64_t backoff_ms_ = 0;
  Stats counts_;  // the sender's; published under mu_

  mutable std::mutex mu_;
  std::condition_variable wake_;   // the encoder: flows, alerts or stop
  std::condition_variable space_;  // add_flows: room in the staging batch
  FlowBatch staged_;
  std::vector<Alert> staged_alerts_;
  std::condition_variable encoded_ready_;  // the sender: a body, or the encoder is done
  std::condition_variable encoded_space_;  // the encoder: room in encoded_
  std::deque<Batch> encoded_;
  bool encoder_done_ = false;
  bool stopping_ = false;
  bool running_ = false;
  uint64_t shed_alerts_ = 0;  // more than kMaxStagedAlerts waiting
  Stats published_;
  std::thread encoder_, thread_;
};

}  // namespace orbwatch::sink
