#include "server/daemon_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace orbwatch::server {
namespace {

std::optional<DaemonConfig> parse(const std::string& text, std::vector<std::string>& errors) {
  return parse_daemon_config(text, "/etc/orbwatch/orbwatch.toml", errors);
}

std::string joined(const std::vector<std::string>& errors) {
  std::string s;
  for (const auto& e : errors) s += e + "\n";
  return s;
}

TEST(DaemonConfig, DefaultsWithoutTables) {
  std::vector<std::string> errors;
  auto c = parse("[network]\ninternal = [\"10.0.0.0/8\"]\n", errors);
  ASSERT_TRUE(c) << joined(errors);
  EXPECT_EQ(c->listen, (std::vector<std::string>{"udp://0.0.0.0:2055", "udp://0.0.0.0:4739",
                                                 "udp://0.0.0.0:6343"}));
  EXPECT_EQ(c->store_path, "/var/lib/orbwatch");
  EXPECT_TRUE(c->archive);
  EXPECT_EQ(c->http_listen, "127.0.0.1:8080");
  EXPECT_TRUE(c->outputs.empty());
  EXPECT_EQ(c->state_interval_ms, 60'000);
}

// The keys the issue names, exactly as written there.
TEST(DaemonConfig, IssueExampleWorksAsWritten) {
  const std::string text = R"(
[collect]
listen = ["udp://0.0.0.0:2055", "udp://0.0.0.0:4739", "udp://0.0.0.0:6343"]

[store]
path = "/var/lib/orbwatch"        # archive, SQLite state

[http]
listen = "127.0.0.1:8080"

[[feeds]]
name   = "covert-nodes"
source = "/etc/orbwatch/feeds/covert.txt"   # or an https:// URL
format = "auto"
refresh = "15m"

[[outputs]]
type = "jsonl"                     # jsonl | syslog | webhook | clickhouse | kafka
path = "/var/log/orbwatch/alerts.jsonl"
)";
  std::vector<std::string> errors;
  auto c = parse(text, errors);
  ASSERT_TRUE(c) << joined(errors);
  EXPECT_EQ(c->listen.size(), 3u);
  EXPECT_EQ(c->store_path, "/var/lib/orbwatch");
  ASSERT_EQ(c->outputs.size(), 1u);
  EXPECT_EQ(c->outputs[0].type, OutputConfig::Type::kJsonl);
  EXPECT_EQ(c->outputs[0].path, "/var/log/orbwatch/alerts.jsonl");
  EXPECT_EQ(c->outputs[0].label, "outputs[1] (jsonl)");
}

TEST(DaemonConfig, EveryKey) {
  const std::string text = R"(
[collect]
listen = ["udp://[::]:2055"]
threads = 2
rcvbuf = "16MiB"
exporter_allow = ["192.0.2.0/24"]
capture = ["eth1"]
capture_filter = "not port 2055"
detect_threads = 3
detect_queue = 16

[store]
path = "data"
archive = false
flush_interval = "2s"
rotate = "10m"
codec = "lz4"
retention = "90d"
max_size = "500G"
state_interval = "30s"

[http]
listen = "0.0.0.0:8443"
token = "s3cret"
tls_cert = "tls/cert.pem"
tls_key = "tls/key.pem"

[[outputs]]
type = "syslog"
url = "tcp://127.0.0.1:6514"
facility = "local3"
min_severity = "high"
format = "ecs"

[[outputs]]
type = "webhook"
url = "https://soar.example/hook"
token = "abc"
max_spool = "8MiB"

[[outputs]]
type = "clickhouse"
url = "http://127.0.0.1:8123"
database = "flows_site_a"
query_database = "everywhere"
user = "orbwatch"
password = "pw"
batch_size = 50000
flush_interval = "500ms"
compression = "none"
alerts = false
min_severity = "medium"
spool_dir = "/var/spool/orbwatch-ch"
)";
  std::vector<std::string> errors;
  auto c = parse(text, errors);
  ASSERT_TRUE(c) << joined(errors);
  EXPECT_EQ(c->sockets_per_listen, 2u);
  EXPECT_EQ(c->rcvbuf_bytes, 16 << 20);
  ASSERT_EQ(c->exporter_allow.size(), 1u);
  EXPECT_EQ(c->capture, std::vector<std::string>{"eth1"});
  EXPECT_EQ(c->capture_filter, "not port 2055");
  EXPECT_EQ(c->detect_threads, 3u);
  EXPECT_EQ(c->detect_queue, 16u);
  EXPECT_EQ(c->store_path, "/etc/orbwatch/data");  // relative to the config file
  EXPECT_FALSE(c->archive);
  EXPECT_EQ(c->archive_options.flush_interval_ms, 2000);
  EXPECT_EQ(c->archive_options.rotate_interval_ms, 600'000);
  EXPECT_EQ(c->archive_options.segment.codec, store::segment::Codec::kLz4);
  EXPECT_EQ(c->retention.max_age_ms, 90LL * 86'400'000);
  EXPECT_EQ(c->retention.max_bytes, 500ull << 30);
  EXPECT_EQ(c->state_interval_ms, 30'000);
  EXPECT_EQ(c->token, "s3cret");
  EXPECT_EQ(c->tls_cert, "/etc/orbwatch/tls/cert.pem");
  ASSERT_EQ(c->outputs.size(), 3u);
  EXPECT_EQ(c->outputs[0].type, OutputConfig::Type::kSyslog);
  EXPECT_EQ(c->outputs[0].facility, "local3");
  EXPECT_EQ(c->outputs[0].min_severity, Severity::kHigh);
  EXPECT_TRUE(c->outputs[0].ecs);
  EXPECT_EQ(c->outputs[1].type, OutputConfig::Type::kWebhook);
  EXPECT_EQ(c->outputs[1].max_spool_bytes, 8ull << 20);
  const OutputConfig& ch = c->outputs[2];
  EXPECT_EQ(ch.type, OutputConfig::Type::kClickHouse);
  EXPECT_EQ(ch.label, "outputs[3] (clickhouse)");
  EXPECT_EQ(ch.url, "http://127.0.0.1:8123");
  EXPECT_EQ(ch.database, "flows_site_a");
  EXPECT_EQ(clickhouse_options(ch).database, "flows_site_a");
  EXPECT_EQ(clickhouse_options(ch, true).database, "everywhere");
  EXPECT_EQ(ch.user, "orbwatch");
  EXPECT_EQ(ch.password, "pw");
  EXPECT_EQ(ch.batch_rows, 50'000u);
  EXPECT_EQ(ch.flush_ms, 500);
  EXPECT_FALSE(ch.gzip);
  EXPECT_TRUE(ch.flows);
  EXPECT_FALSE(ch.alerts);
  EXPECT_EQ(ch.min_severity, Severity::kMedium);
  EXPECT_EQ(ch.spool_dir, "/var/spool/orbwatch-ch");
  EXPECT_EQ(ch.max_spool_bytes, 1ull << 30);  // its own default
}

TEST(DaemonConfig, ProblemsNameLineKeyAndExpectation) {
  const std::string text = R"([collect]
listen = ["tcp://0.0.0.0:2055"]
treads = 2
[store]
retention = "forever"
path = ""
[[outputs]]
type = "syslog"
url = "127.0.0.1:514"
[[outputs]]
type = "clickhouse"
database = "flows; DROP TABLE x"
batch_size = 2000000
format = "ecs"
[[outputs]]
type = "jsonl"
min_severity = "urgent"
[[outputs]]
type = "kafka"
)";
  std::vector<std::string> errors;
  EXPECT_FALSE(parse(text, errors));
  const std::string all = joined(errors);
  EXPECT_NE(all.find("orbwatch.toml:2: collect.listen"), std::string::npos) << all;
  EXPECT_NE(all.find("orbwatch.toml:3: collect.treads: unknown key"), std::string::npos) << all;
  EXPECT_NE(all.find("orbwatch.toml:5: store.retention: expected a duration"), std::string::npos)
      << all;
  EXPECT_NE(all.find("store.path: expected a directory"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs[1].url"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs[2].url: missing"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs[2].database: expected a name of letters, digits and _"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("outputs[2].batch_size: expected a whole number from 1 to 1000000"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("outputs[2].format: unknown key"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs[4].brokers: missing"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs[3].path: missing"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs[3].min_severity: expected low, medium, high or critical"),
            std::string::npos)
      << all;
}

TEST(DaemonConfig, KafkaOutputAndConsumer) {
  const char* text = R"(
[collect]
listen = []
[collect.kafka]
brokers = "10.0.0.1:9092,10.0.0.2:9092"
topics = ["site-a-flows", "site-b-flows"]
group = "detect"
start = "latest"
properties = { "security.protocol" = "sasl_ssl", "sasl.mechanisms" = "PLAIN", "fetch.wait.max.ms" = 50 }

[[outputs]]
type = "kafka"
brokers = "10.0.0.1:9092"
flows_topic = "site-a-flows"
alerts_topic = "orbwatch.alerts"
compression = "zstd"
min_severity = "high"
format = "ecs"
properties = { "acks" = "all", "linger.ms" = 20 }
)";
  std::vector<std::string> errors;
  auto c = parse(text, errors);
  ASSERT_TRUE(c) << joined(errors);
  ASSERT_TRUE(c->kafka);
  EXPECT_EQ(c->kafka->brokers, "10.0.0.1:9092,10.0.0.2:9092");
  EXPECT_EQ(c->kafka->topics, (std::vector<std::string>{"site-a-flows", "site-b-flows"}));
  EXPECT_EQ(c->kafka->group, "detect");
  EXPECT_EQ(c->kafka->start, "latest");
  ASSERT_EQ(c->kafka->properties.size(), 3u);
  EXPECT_NE(std::find(c->kafka->properties.begin(), c->kafka->properties.end(),
                      std::pair<std::string, std::string>{"fetch.wait.max.ms", "50"}),
            c->kafka->properties.end());
  ASSERT_EQ(c->outputs.size(), 1u);
  const OutputConfig& o = c->outputs[0];
  EXPECT_EQ(o.type, OutputConfig::Type::kKafka);
  EXPECT_EQ(o.label, "outputs[1] (kafka)");
  EXPECT_EQ(o.flows_topic, "site-a-flows");
  EXPECT_EQ(o.alerts_topic, "orbwatch.alerts");
  EXPECT_EQ(o.kafka_compression, "zstd");
  EXPECT_EQ(o.min_severity, Severity::kHigh);
  EXPECT_TRUE(o.ecs);
  EXPECT_EQ(o.properties.size(), 2u);

  // Each mistake named; an instance that would consume its own flows refused.
  const char* bad = R"(
[collect.kafka]
brokers = "10.0.0.1:9092"
topics = ["orbwatch-flows"]
start = "middle"
properties = { "no.such.thing" = "1", "bootstrap.servers" = "x:1" }
nope = 1
[[outputs]]
type = "kafka"
brokers = "10.0.0.1"
[[outputs]]
type = "kafka"
brokers = "10.0.0.1:9092"
flows_topic = "bad topic"
compression = "brotli"
url = "http://x"
[[outputs]]
type = "kafka"
brokers = "10.0.0.1:9092"
properties = { "acks" = "sometimes" }
)";
  errors.clear();
  EXPECT_FALSE(parse(bad, errors));
  const std::string all = joined(errors);
  for (const char* want :
       {"collect.kafka.start: expected \"earliest\" or \"latest\"", "no.such.thing",
        "collect.kafka.properties.bootstrap.servers: set brokers instead",
        "collect.kafka.nope: unknown key", "outputs[1].brokers: expected a list of brokers",
        "outputs[2].flows_topic: expected a topic name", "outputs[2].compression: expected none",
        "outputs[2].url: unknown key", "outputs[3].properties.acks",
        "outputs[3] (kafka): flows_topic \"orbwatch-flows\" is also consumed by [collect.kafka]"})
    EXPECT_NE(all.find(want), std::string::npos) << want << "\n" << all;
  errors.clear();
  EXPECT_FALSE(parse("[collect.kafka]\ngroup = \"g\"\n", errors));
  EXPECT_NE(joined(errors).find("collect.kafka.brokers: missing"), std::string::npos);
}

TEST(DaemonConfig, HttpOffLoopbackNeedsToken) {
  std::vector<std::string> errors;
  EXPECT_FALSE(parse("[http]\nlisten = \"0.0.0.0:8080\"\n", errors));
  EXPECT_NE(joined(errors).find("set token"), std::string::npos) << joined(errors);
  errors.clear();
  EXPECT_TRUE(parse("[http]\nlisten = \"0.0.0.0:8080\"\ntoken = \"t\"\n", errors));
  EXPECT_TRUE(parse("[http]\nlisten = \"[::1]:8080\"\n", errors)) << joined(errors);
  EXPECT_TRUE(parse("[http]\nlisten = \"\"\n", errors)) << joined(errors);  // no server
  EXPECT_FALSE(parse("[http]\nlisten = \"127.0.0.1:8080\"\ntls_cert = \"c.pem\"\n", errors));
}

TEST(DaemonConfig, HostPort) {
  std::string host;
  uint16_t port = 0;
  EXPECT_TRUE(parse_host_port("127.0.0.1:8080", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  EXPECT_TRUE(parse_host_port("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_TRUE(parse_host_port(":9000", host, port));
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_FALSE(parse_host_port("::1:8080", host, port));
  EXPECT_FALSE(parse_host_port("127.0.0.1:65536", host, port));
  EXPECT_FALSE(parse_host_port("example.org:80", host, port));
  EXPECT_TRUE(is_loopback_host("127.0.0.2"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("192.0.2.1"));
}

}  // namespace
}  // namespace orbwatch::server
