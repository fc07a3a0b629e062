// KafkaOutput: flows and alerts to Kafka topics with librdkafka (docs/scale.md, message schema
// in docs/formats.md). One message per flow: the flow JSON line (without its newline), keyed by
// the flow's internal host (detect::state_host), so with the default Java-compatible murmur2
// partitioner every flow of a host lands in one partition and a consumer group spreads hosts,
// not flows, over detector instances. Its header `orbwatch-watermark` holds the producing
// instance's latest flow end before the flow (decimal ms): consumers close their detectors'
// windows where the producer's would, so instances of one group raise the alerts one instance
// would. One message per alert version: the alert JSON (or ECS), keyed by the alert id.
//
// librdkafka batches, compresses and retries; the producer is idempotent (no duplicates, order
// kept per partition across retries). Its queue is bounded: when it is full, add_flows() waits
// up to kFullWaitMs per batch, then drops the rest of that batch and counts it, so a Kafka
// outage never stalls the archive or detection. A message librdkafka could not deliver within
// message.timeout.ms is counted as dropped too. Threading: add_flows() and emit() from any
// thread; delivery reports are served by a thread of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "core/alert.h"
#include "core/flow_batch.h"
#include "core/ip_addr.h"
#include "kafka/client.h"

namespace orbwatch::kafka {

class KafkaOutput final : public AlertSink {
 public:
  static constexpr int kFullWaitMs = 100;

  struct Options {
    std::string brokers;  // bootstrap.servers: "host:port,host:port"
    std::string flows_topic = "orbwatch-flows";
    std::string alerts_topic = "orbwatch-alerts";
    bool flows = true, alerts = true;
    bool ecs = false;                 // alerts as Elastic Common Schema
    std::string compression = "lz4";  // compression.codec: none, gzip, snappy, lz4, zstd
    Properties properties;            // the operator's librdkafka properties, applied last
    int64_t stop_flush_ms = 10'000;   // at stop: wait this long for deliveries
  };
  struct Stats {
    uint64_t flows_sent = 0, alerts_sent = 0;        // acknowledged by the brokers
    uint64_t flows_dropped = 0, alerts_dropped = 0;  // queue full, not delivered in time
    uint64_t queued = 0;                             // messages waiting in librdkafka now
    uint64_t errors = 0;                             // client errors (brokers down, ...)
    std::string last_error;
  };

  explicit KafkaOutput(Options o);
  ~KafkaOutput() override;  // stop()
  KafkaOutput(const KafkaOutput&) = delete;
  KafkaOutput& operator=(const KafkaOutput&) = delete;

  // Creates the producer (no broker needs to answer yet). False when the configuration is
  // refused.
  bool start(std::string& error);
  static constexpr const char* kWatermarkHeader = "orbwatch-watermark";

  // Produces every flow of `batch`, flow i keyed by keys[i], with watermark ends[i].
  void add_flows(const FlowBatch& batch, std::span<const IpAddr> keys,
                 std::span<const int64_t> ends);
  void emit(const Alert& alert) override;
  // Waits up to stop_flush_ms for what is queued; what is left is counted as dropped.
  void stop();

  Stats stats() const;
  const Options& options() const { return o_; }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque);
  // False when the queue stayed full past `deadline` (steady clock, ms).
  // `watermark` INT64_MIN: no header.
  bool produce(rd_kafka_topic_t* topic, const std::string& key, std::string_view value,
               int64_t watermark, void* kind, int64_t& deadline_ms);
  void note_error(std::string error);

  Options o_;
  Handle rk_;
  rd_kafka_topic_t* flows_topic_ = nullptr;
  rd_kafka_topic_t* alerts_topic_ = nullptr;
  std::thread poller_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;

  std::atomic<uint64_t> flows_sent_{0}, alerts_sent_{0};
  std::atomic<uint64_t> flows_dropped_{0}, alerts_dropped_{0};
  std::atomic<uint64_t> errors_{0};
  mutable std::mutex mu_;  // last_error_
  std::string last_error_;
};

}  // namespace orbwatch::kafka
