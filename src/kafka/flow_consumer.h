// FlowConsumer: flows from Kafka topics (what KafkaOutput produces, docs/formats.md) for
// `orbwatch run`'s [collect.kafka]. Instances that share a consumer group share the partitions,
// and so the internal hosts the producer keyed them by: each host's detector state lives on one
// instance (docs/scale.md).
//
// At least once: offsets are stored only for flows done() says were delivered (archived and
// routed), and committed by librdkafka every second and at close; after a crash or a partition
// moving to another instance, the flows since the last commit are read again. A message that is
// not a flow is counted and skipped, its place (topic[partition]@offset) and reason kept.
// Threading: poll(), done() and close() from one thread; stats() from any.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/flow_batch.h"
#include "ingest/flow_json_reader.h"
#include "kafka/client.h"

namespace orbwatch::kafka {

class FlowConsumer {
 public:
  struct Options {
    std::string brokers;
    std::vector<std::string> topics = {"orbwatch-flows"};
    std::string group = "orbwatch";
    std::string start = "earliest";  // where a new group begins: earliest or latest
    Properties properties;           // the operator's librdkafka properties, applied last
  };
  struct Stats {
    uint64_t messages = 0;  // read, flows or not
    uint64_t flows = 0;
    uint64_t bad = 0;       // messages that are not flows (skipped)
    uint64_t errors = 0;    // consumer errors (brokers away, ...)
    size_t partitions = 0;  // assigned to this instance now
    int64_t lag = 0;        // messages behind the partitions' ends (as last fetched)
    std::string last_bad;   // "orbwatch-flows[3]@1207: src_ip: expected an IP address"
    std::string last_error;
  };

  explicit FlowConsumer(Options o);
  ~FlowConsumer();  // close()
  FlowConsumer(const FlowConsumer&) = delete;
  FlowConsumer& operator=(const FlowConsumer&) = delete;

  // Creates the consumer and joins the group (no broker needs to answer yet).
  bool open(std::string& error);
  // Appends the flows of what arrives within `timeout_ms` (at most `max` messages) to `out`,
  // and for each its producer's watermark to `upstream_ends` (INT64_MIN without one); returns
  // the messages read.
  size_t poll(FlowBatch& out, std::vector<int64_t>& upstream_ends, int timeout_ms, size_t max);
  // The flows poll() gave have been delivered: their offsets may be committed.
  void done();
  // Updates partitions and lag in stats() (from the client's cached offsets; no request).
  void refresh();
  // Commits what done() stored and leaves the group.
  void close();

  Stats stats() const;

 private:
  Options o_;
  Handle rk_;
  ingest::FlowJsonReader reader_;
  rd_kafka_topic_partition_list_t* pending_ = nullptr;  // offsets to store at done()
  std::string error_;

  mutable std::mutex mu_;
  Stats stats_;
};

}  // namespace orbwatch::kafka
