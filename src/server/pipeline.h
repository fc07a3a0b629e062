// Pipeline: the data path of `orbwatch run`, one direction, joined by bounded queues.
//
//   receive threads (UdpListener, one per socket; a capture thread per live interface: packets
//   metered into flows): decode -> archive (ArchiveThread)
//        |  each flow to the detect shard of its internal host (detect::state_host)
//        v
//   detect shards (one thread each): Engine with its own detectors and edge inventory
//        |  alerts
//        v
//   alert thread: alert store (state.db), then every output (jsonl, syslog, webhook)
//
//   The receive threads also hand their flows to each ClickHouse output (sink/
//   clickhouse_output.h), which the alert thread feeds with alerts; it sends from a thread of
//   its own and spools to disk while ClickHouse is away. Kafka outputs (kafka/kafka_output.h)
//   take flows and alerts the same way, each flow keyed by its shard's host (state_host).
//
//   [collect.kafka]: one more receive thread reads flows from Kafka (kafka/flow_consumer.h)
//   into the same path; its offsets are stored once its flows are archived and routed.
//
// Overload: the archive keeps every flow the receive threads take (a full archive queue makes
// them wait; the socket buffer absorbs the burst, then the kernel drops and counts); a full
// shard queue sheds the flows for detection only, counted by shard. Every drop has a counter
// in stats() (place and reason), shown on /metrics.
//
// State that survives restarts: archived flows (sealed within the flush interval), alerts
// (committed as they come), the edge inventory and detector baselines (state.db, written every
// state_interval and at stop). A host's state lives in one shard: a flow goes to the shard of
// its internal side, or of its initiator when both or neither side is internal.
//
// Threading: open(), start(), stop() and save_state() from one owning thread; stats(),
// inventory() and the set_* calls from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/alert.h"
#include "core/snapshot.h"
#include "detect/detector.h"
#include "enrich/geo_db.h"
#include "ingest/decode_stats.h"
#include "ingest/export_decoder.h"
#include "ingest/udp_listener.h"
#include "intel/intel_set.h"
#include "kafka/flow_consumer.h"
#include "kafka/kafka_output.h"
#include "netmodel/inventory.h"
#include "netmodel/model_index.h"
#include "server/daemon_config.h"
#include "sink/alert_outputs.h"
#include "sink/clickhouse_output.h"
#include "store/archive_writer.h"

namespace orbwatch::server {

// Builds one shard's detectors (each shard has its own instances).
using DetectorFactory =
    std::function<bool(std::vector<std::unique_ptr<detect::Detector>>&, std::string&)>;

struct ExporterMetrics {
  IpAddr addr;
  const char* version = "";  // netflow5, netflow9, ipfix
  uint64_t datagrams = 0, records = 0, errors = 0, seq_lost = 0;
  size_t templates = 0;
  int64_t last_seen_ms = 0;
};

struct OutputMetrics {
  std::string label;
  sink::OutputStats stats;  // alerts
  uint64_t spooled_bytes = 0;
  // Outputs of flows too (clickhouse).
  bool flows_output = false;
  uint64_t flows = 0, flows_dropped = 0, flows_staged = 0;
  uint64_t spooled_batches = 0, duplicate_batches = 0;
};

// [collect.kafka]
struct KafkaMetrics {
  bool enabled = false;
  kafka::FlowConsumer::Stats stats;
};

struct ShardMetrics {
  uint64_t flows = 0;  // processed by its detectors
  uint64_t shed = 0;   // flows dropped because its queue was full
  size_t queued = 0;   // batches waiting now
  int64_t watermark_ms = 0;
  size_t services = 0, devices = 0;  // its edge inventory
  uint64_t inventory_dropped = 0;
};

struct PipelineStats {
  int64_t started_ms = 0;
  ingest::UdpStats udp;
  ingest::DecodeStats decode;
  std::array<uint64_t, 5> datagrams_by_kind{};  // by ingest::ExportKind
  std::vector<ExporterMetrics> exporters;       // at most kMaxExporterMetrics, busiest first
  size_t exporters_total = 0;
  store::ArchiveWriterStats archive;
  std::vector<ShardMetrics> shards;
  std::vector<std::pair<std::string, detect::DetectorStats>> detectors;  // summed over shards
  // Alerts by detector and severity as they left the detectors (each version of an alert).
  std::vector<std::pair<std::string, std::array<uint64_t, 4>>> alerts;
  uint64_t capture_packets = 0;  // live capture ([collect] capture)
  uint64_t capture_drops = 0;    // packets the kernel or interface dropped
  uint64_t capture_flows = 0;    // flows metered from them
  KafkaMetrics kafka;
  uint64_t alerts_shed = 0;  // the alert queue was full
  uint64_t alerts_not_stored = 0;
  std::string alert_store_error;
  std::vector<OutputMetrics> outputs;
  size_t inventory_services = 0, inventory_devices = 0;
  uint64_t inventory_dropped = 0;
  int64_t state_saved_ms = 0;  // wall clock of the last state.db save
  std::string state_error;
};

inline constexpr size_t kMaxExporterMetrics = 1000;
// Per exporter of a decoder (at most kMaxExporterMetrics).
std::vector<ExporterMetrics> exporter_metrics(const ingest::ExportDecoder& decoder);

class Pipeline {
 public:
  struct Options {
    DaemonConfig config;
    std::shared_ptr<const netmodel::ModelIndex> model;
    std::shared_ptr<const enrich::GeoDb> geo;
    const SnapshotHolder<intel::IntelSet>* intel = nullptr;
    DetectorFactory make_detectors;
  };
  explicit Pipeline(Options o);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Binds the sockets, recovers the archive, loads state.db (inventory, baselines), opens the
  // alert store and outputs, builds the detectors. False with a one-line reason.
  bool open(std::string& error);
  const std::vector<std::string>& warnings() const { return warnings_; }
  // The bound UDP port of listen address `i` (resolves port 0).
  uint16_t port(size_t i) const;
  void start();
  // Drains: sockets, shard queues (detectors flush their windows), alerts; then the archive
  // is sealed and state.db written. Idempotent.
  void stop();

  // Writes the inventory and detector baselines to state.db now (the shards hand over copies).
  bool save_state(std::string& error);
  // Once a minute: archive retention; returns its problems.
  std::vector<std::string> maintain();

  // Config reload (SIGHUP): the network model and geo database take effect with the next batch
  // of each shard; outputs are rebuilt by the alert thread.
  void set_model(std::shared_ptr<const netmodel::ModelIndex> model,
                 std::shared_ptr<const enrich::GeoDb> geo);
  // False (the outputs unchanged) when one cannot be built. ClickHouse outputs stay as opened
  // (a restart applies their changes).
  bool set_outputs(const std::vector<OutputConfig>& outputs, std::string& error);

  PipelineStats stats() const;
  // The network model in use (the latest reload's).
  std::shared_ptr<const netmodel::ModelIndex> model() const { return model_.load()->model; }
  // The geo/AS data in use (null when none is configured).
  std::shared_ptr<const enrich::GeoDb> geo() const { return model_.load()->geo; }
  // The edge inventory of every shard merged (as of the last state hand-over).
  netmodel::EdgeInventory inventory() const;

 private:
  struct Receiver;
  struct Shard;
  class Consumer;
  class AlertThread;
  struct Model {
    std::shared_ptr<const netmodel::ModelIndex> model;
    std::shared_ptr<const enrich::GeoDb> geo;
  };

  void run_shard(Shard& s);
  bool load_state(std::string& error);
  bool collect_snapshots(std::chrono::milliseconds wait);

  Options o_;
  int lock_fd_ = -1;  // STORE/orbwatch.lock, held while the pipeline lives
  int64_t started_ms_ = 0;
  std::vector<std::string> warnings_;
  SnapshotHolder<Model> model_;
  // Declared before what feeds them (receive threads, alert thread), so destroyed after.
  struct ClickHouse {
    std::string label;  // for metrics
    std::unique_ptr<sink::ClickHouseOutput> output;
  };
  std::vector<ClickHouse> clickhouse_;
  struct Kafka {
    std::string label;
    std::unique_ptr<kafka::KafkaOutput> output;
  };
  std::vector<Kafka> kafka_;
  std::unique_ptr<ingest::UdpListener> listener_;
  struct Capture;
  std::vector<std::unique_ptr<Capture>> captures_;  // live interfaces; receivers after sockets
  std::atomic<bool> sources_stop_{false};
  void run_capture(Capture& c);
  std::unique_ptr<kafka::FlowConsumer> kafka_in_;  // [collect.kafka]; the last receiver's
  std::thread kafka_thread_;
  void run_kafka();
  std::vector<std::unique_ptr<Receiver>> receivers_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<Consumer> consumer_;
  std::unique_ptr<AlertThread> alerts_;
  std::atomic<int64_t> max_end_ms_{INT64_MIN};
  std::atomic<uint64_t> snapshot_request_{0};
  bool started_ = false, stopped_ = false;
  mutable std::mutex state_mu_;  // state_saved_ms_, state_error_
  int64_t state_saved_ms_ = 0;
  std::string state_error_;
};

}  // namespace orbwatch::server
