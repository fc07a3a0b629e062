// The daemon's own tables of the config file (`orbwatch run`): [collect], [store], [http] and
// every [[outputs]]. The network model, [[feeds]], [detectors] and [enrich] tables of the same
// file are read by their own modules. Defaults and every key: docs/configuration.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.h"
#include "core/ip_addr.h"
#include "intel/feed_config.h"
#include "kafka/client.h"
#include "sink/clickhouse.h"
#include "store/archive.h"
#include "store/archive_writer.h"

namespace orbwatch::server {

struct OutputConfig {
  enum class Type : uint8_t { kJsonl, kSyslog, kWebhook, kClickHouse, kKafka };
  Type type = Type::kJsonl;
  std::string label;  // "outputs[2] (syslog)", for messages and metrics
  Severity min_severity = Severity::kLow;
  bool ecs = false;  // format = "ecs": Elastic Common Schema field names
  // jsonl
  std::string path;
  uint64_t max_bytes = 100ull << 20;
  int64_t max_age_ms = 86'400'000;
  uint32_t keep = 10;
  // syslog (udp://, tcp://), webhook and clickhouse (http://, https://)
  std::string url;
  std::string facility = "local0";
  std::string hostname;                    // syslog; empty: this machine's name
  std::string token;                       // webhook bearer token
  std::string spool_dir;                   // webhook, clickhouse; empty: STORE/spool/outputs-N
  uint64_t max_spool_bytes = 64ull << 20;  // clickhouse: 1 GiB unless set
  // clickhouse (flows and alerts; only a restart applies changes)
  std::string database = "orbwatch";
  std::string query_database;  // where queries read (a Distributed table's); empty: database
  std::string user = "default";
  std::string password;
  size_t batch_rows = 200'000;
  bool gzip = true;  // compression = "gzip" (default) or "none"
  int64_t flush_ms = 1000;
  bool flows = true, alerts = true;  // clickhouse, kafka
  // kafka
  std::string brokers;  // bootstrap servers, "host:port,host:port"
  std::string flows_topic = "orbwatch-flows";
  std::string alerts_topic = "orbwatch-alerts";
  std::string kafka_compression = "lz4";
  kafka::Properties properties;  // librdkafka's own, applied last

  // clickhouse and kafka take flows too; the pipeline keeps them as started (restart applies).
  bool takes_flows() const { return type == Type::kClickHouse || type == Type::kKafka; }
  bool operator==(const OutputConfig&) const = default;
};

struct DaemonConfig {
  std::string path;  // the config file

  // [collect]
  std::vector<std::string> listen = {"udp://0.0.0.0:2055", "udp://0.0.0.0:4739",
                                     "udp://0.0.0.0:6343"};
  unsigned sockets_per_listen = 1;  // SO_REUSEPORT receive threads per address
  int rcvbuf_bytes = 8 << 20;
  std::vector<Prefix> exporter_allow;  // empty: any exporter
  std::vector<std::string> capture;    // interfaces to capture live (metered into flows)
  std::string capture_filter;          // BPF for them
  unsigned detect_threads = 0;         // detector shards; 0: from the cores
  size_t detect_queue = 64;            // batches waiting per shard before flows are shed
  // [collect.kafka]: flows consumed from Kafka (another instance's kafka output)
  struct Kafka {
    std::string brokers;
    std::vector<std::string> topics = {"orbwatch-flows"};
    std::string group = "orbwatch";
    std::string start = "earliest";
    kafka::Properties properties;
    bool operator==(const Kafka&) const = default;
  };
  std::optional<Kafka> kafka;

  // [store]
  std::string store_path = "/var/lib/orbwatch";
  bool archive = true;  // keep flows in STORE/flows
  store::ArchiveWriterOptions archive_options;
  store::archive::Retention retention;
  int64_t state_interval_ms = 60'000;     // inventory and baselines to state.db this often
  std::string query_backend = "archive";  // or "clickhouse": where the API reads flows

  // [http]
  std::string http_listen = "127.0.0.1:8080";  // empty: no HTTP server
  std::string token;                           // bearer token; required off loopback
  std::string tls_cert, tls_key;               // both: HTTPS

  std::vector<OutputConfig> outputs;
};

// Reads the daemon's tables; nullopt with every problem in `errors` ("FILE:LINE: key: ...").
std::optional<DaemonConfig> parse_daemon_config(std::string_view text, const std::string& path,
                                                std::vector<std::string>& errors);
std::optional<DaemonConfig> load_daemon_config(const std::string& path,
                                               std::vector<std::string>& errors);

// The first [[outputs]] of type clickhouse, or null.
const OutputConfig* clickhouse_output(const DaemonConfig& c);
// Where a clickhouse output connects (url, database, user, password); `for_queries`: the
// database queries read (query_database when set).
sink::ClickHouseOptions clickhouse_options(const OutputConfig& c, bool for_queries = false);

// Where the daemon caches its feeds: [intel] cache_dir, else STORE/feeds (for the default store
// too, which the intel reader does not know).
std::string feed_cache_dir(const DaemonConfig& daemon, const intel::IntelConfig& intel);

// "127.0.0.1:8080", "[::1]:8080", ":8080" (every address): host and port.
bool parse_host_port(std::string_view text, std::string& host, uint16_t& port);
// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

}  // namespace orbwatch::server
