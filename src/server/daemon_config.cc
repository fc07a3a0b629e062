// The only server file that includes toml++ (slow to compile).
#include "server/daemon_config.h"

#include <cctype>
#include <filesystem>

#include <fmt/core.h>

#include "core/time.h"
#include "core/units.h"
#include "ingest/udp_listener.h"
#include "intel/toml_support.h"
#include "kafka/client.h"
#include "sink/alert_outputs.h"
#include "sink/clickhouse.h"
#include "sink/clickhouse_output.h"

namespace orbwatch::server {

namespace {

// Reads typed values of one table, each problem named "table.key: expected ..., got ...".
class TableReader {
 public:
  TableReader(std::string name, intel::ConfigProblems& problems)
      : name_(std::move(name)), problems_(problems) {}

  void bad(const toml::node& v, const std::string& key, const std::string& expected) {
    problems_.add(v.source(), fmt::format("{}.{}: expected {}, got {}", name_, key, expected,
                                          intel::describe_toml(v)));
  }
  bool string(const toml::node& v, const std::string& key, std::string& out) {
    auto s = v.value_exact<std::string>();
    if (!s) {
      bad(v, key, "a string");
      return false;
    }
    out = *s;
    return true;
  }
  bool boolean(const toml::node& v, const std::string& key, bool& out) {
    auto b = v.value_exact<bool>();
    if (!b) {
      bad(v, key, "true or false");
      return false;
    }
    out = *b;
    return true;
  }
  template <typename T>
  bool integer(const toml::node& v, const std::string& key, T& out, int64_t lo, int64_t hi) {
    auto n = v.value_exact<int64_t>();
    if (!n || *n < lo || *n > hi) {
      bad(v, key, fmt::format("a whole number from {} to {}", lo, hi));
      return false;
    }
    out = static_cast<T>(*n);
    return true;
  }
  bool duration(const toml::node& v, const std::string& key, int64_t& out) {
    auto s = v.value_exact<std::string>();
    auto ms = s ? parse_duration_ms(*s) : std::nullopt;
    if (!ms || *ms <= 0) {
      bad(v, key, "a duration like \"15m\"");
      return false;
    }
    out = *ms;
    return true;
  }
  bool size(const toml::node& v, const std::string& key, uint64_t& out) {
    auto s = v.value_exact<std::string>();
    auto n = s ? parse_size(*s) : std::nullopt;
    if (!n && v.is_integer()) n = static_cast<uint64_t>(std::max<int64_t>(0, *v.value<int64_t>()));
    if (!n || *n == 0) {
      bad(v, key, "a size like \"500G\" or \"64MiB\"");
      return false;
    }
    out = *n;
    return true;
  }
  bool strings(const toml::node& v, const std::string& key, std::vector<std::string>& out) {
    const toml::array* a = v.as_array();
    if (a == nullptr) {
      bad(v, key, "a list of strings");
      return false;
    }
    out.clear();
    for (size_t i = 0; i < a->size(); ++i) {
      auto s = (*a)[i].value_exact<std::string>();
      if (!s) {
        bad((*a)[i], fmt::format("{}[{}]", key, i + 1), "a string");
        return false;
      }
      out.push_back(*s);
    }
    return true;
  }
  void unknown(const toml::key& k, const char* expected) {
    problems_.add(k.source(),
                  fmt::format("{}.{}: unknown key (expected {})", name_, k.str(), expected));
  }

  const std::string& name() const { return name_; }
  intel::ConfigProblems& problems() { return problems_; }

 private:
  std::string name_;
  intel::ConfigProblems& problems_;
};

const toml::table* table_of(const toml::table& doc, const char* name,
                            intel::ConfigProblems& problems) {
  const toml::node* n = doc.get(name);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) problems.add(n->source(), fmt::format("{}: expected a table", name));
  return n->as_table();
}

std::string resolve(const std::filesystem::path& base, const std::string& p) {
  return p.empty() || std::filesystem::path(p).is_absolute() ? p : (base / p).string();
}

// A secret kept in a file of its own (token_file, password_file): its text, line end removed.
void read_secret(TableReader& r, const toml::node& v, const std::string& key,
                 const std::filesystem::path& base, std::string& out) {
  std::string f;
  if (!r.string(v, key, f)) return;
  std::vector<std::string> errors;
  auto text = intel::read_config_file(resolve(base, f), errors);
  if (!text) {
    r.problems().add(v.source(), fmt::format("{}.{}: {}", r.name(), key, errors.front()));
    return;
  }
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  out = *text;
}

// A Kafka topic name: 1..249 of letters, digits, '.', '_', '-'.
bool valid_topic(const std::string& t) {
  if (t.empty() || t.size() > 249 || t == "." || t == "..") return false;
  for (char ch : t)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-')
      return false;
  return true;
}

bool kafka_topic(TableReader& r, const toml::node& v, const std::string& key, std::string& out) {
  if (!r.string(v, key, out)) return false;
  if (valid_topic(out)) return true;
  r.bad(v, key, "a topic name of letters, digits, '.', '_' and '-'");
  return false;
}

void kafka_brokers(TableReader& r, const toml::node& v, const std::string& key, std::string& out) {
  if (r.string(v, key, out) && !kafka::valid_brokers(out))
    r.bad(v, key, "a list of brokers such as \"10.0.0.1:9092,10.0.0.2:9092\"");
}

// properties = { "security.protocol" = "ssl", ... }: librdkafka's own keys, checked by it.
void kafka_properties(TableReader& r, const toml::node& v, const std::string& key,
                      kafka::Properties& out) {
  const toml::table* t = v.as_table();
  if (t == nullptr) {
    r.bad(v, key, "a table of librdkafka properties");
    return;
  }
  for (const auto& [name, value] : *t) {
    std::string text;
    if (auto sv = value.value_exact<std::string>()) {
      text = *sv;
    } else if (auto b = value.value_exact<bool>()) {
      text = *b ? "true" : "false";
    } else if (auto n = value.value_exact<int64_t>()) {
      text = std::to_string(*n);
    } else {
      r.bad(value, fmt::format("{}.{}", key, name.str()), "a string, number or boolean");
      continue;
    }
    std::string error;
    if (name.str() == "bootstrap.servers") {
      r.problems().add(name.source(),
                       fmt::format("{}.{}.bootstrap.servers: set brokers instead", r.name(), key));
    } else if (!kafka::check_property(std::string(name.str()), text, error)) {
      r.problems().add(value.source(), fmt::format("{}.{}.{}", r.name(), key, error));
    } else {
      out.emplace_back(std::string(name.str()), std::move(text));
    }
  }
}

void read_collect_kafka(const toml::node& n, DaemonConfig& c, intel::ConfigProblems& problems) {
  TableReader r("collect.kafka", problems);
  const toml::table* t = n.as_table();
  if (t == nullptr) {
    problems.add(n.source(), "collect.kafka: expected a table");
    return;
  }
  DaemonConfig::Kafka k;
  for (const auto& [key, v] : *t) {
    const std::string name(key.str());
    if (name == "brokers") {
      kafka_brokers(r, v, name, k.brokers);
    } else if (name == "topics") {
      if (r.strings(v, name, k.topics)) {
        for (const auto& topic : k.topics)
          if (!valid_topic(topic)) r.bad(v, name, "topic names of letters, digits, '.', '_', '-'");
        if (k.topics.empty()) r.bad(v, name, "at least one topic");
      }
    } else if (name == "group") {
      if (r.string(v, name, k.group) && k.group.empty()) r.bad(v, name, "a consumer group name");
    } else if (name == "start") {
      if (r.string(v, name, k.start) && k.start != "earliest" && k.start != "latest")
        r.bad(v, name, "\"earliest\" or \"latest\"");
    } else if (name == "properties") {
      kafka_properties(r, v, name, k.properties);
    } else {
      r.unknown(key, "brokers, topics, group, start, properties");
    }
  }
  if (k.brokers.empty()) problems.add(t->source(), "collect.kafka.brokers: missing");
  c.kafka = std::move(k);
}

void read_collect(const toml::table& t, DaemonConfig& c, intel::ConfigProblems& problems) {
  TableReader r("collect", problems);
  for (const auto& [key, v] : t) {
    const std::string k(key.str());
    if (k == "listen") {
      if (r.strings(v, k, c.listen)) {
        for (const auto& url : c.listen) {
          ingest::ListenAddress a;
          std::string error;
          if (!ingest::parse_listen_url(url, a, error))
            problems.add(v.source(), "collect.listen: " + error);
        }
      }
    } else if (k == "threads") {
      r.integer(v, k, c.sockets_per_listen, 1, 64);
    } else if (k == "rcvbuf") {
      uint64_t n = 0;
      if (r.size(v, k, n)) c.rcvbuf_bytes = static_cast<int>(std::min<uint64_t>(n, INT32_MAX));
    } else if (k == "exporter_allow") {
      std::vector<std::string> cidrs;
      if (!r.strings(v, k, cidrs)) continue;
      for (const auto& s : cidrs) {
        auto p = Prefix::parse(s);
        if (!p) {
          r.bad(v, k, "a list of CIDRs such as \"192.0.2.0/24\"");
          break;
        }
        c.exporter_allow.push_back(*p);
      }
    } else if (k == "capture") {
      r.strings(v, k, c.capture);
    } else if (k == "capture_filter") {
      r.string(v, k, c.capture_filter);
    } else if (k == "detect_threads") {
      r.integer(v, k, c.detect_threads, 0, 256);
    } else if (k == "detect_queue") {
      r.integer(v, k, c.detect_queue, 1, 1 << 16);
    } else if (k == "kafka") {
      read_collect_kafka(v, c, problems);
    } else {
      r.unknown(key,
                "listen, threads, rcvbuf, exporter_allow, capture, capture_filter, detect_threads, "
                "detect_queue, kafka");
    }
  }
}

void read_store(const toml::table& t, DaemonConfig& c, const std::filesystem::path& base,
                intel::ConfigProblems& problems) {
  TableReader r("store", problems);
  for (const auto& [key, v] : t) {
    const std::string k(key.str());
    if (k == "path") {
      if (r.string(v, k, c.store_path) && c.store_path.empty()) r.bad(v, k, "a directory");
      c.store_path = resolve(base, c.store_path);
    } else if (k == "archive") {
      r.boolean(v, k, c.archive);
    } else if (k == "flush_interval") {
      r.duration(v, k, c.archive_options.flush_interval_ms);
    } else if (k == "rotate") {
      r.duration(v, k, c.archive_options.rotate_interval_ms);
    } else if (k == "codec") {
      std::string s;
      if (!r.string(v, k, s)) continue;
      if (s == "zstd") {
        c.archive_options.segment.codec = store::segment::Codec::kZstd;
      } else if (s == "lz4") {
        c.archive_options.segment.codec = store::segment::Codec::kLz4;
      } else {
        r.bad(v, k, "\"zstd\" or \"lz4\"");
      }
    } else if (k == "retention") {
      r.duration(v, k, c.retention.max_age_ms);
    } else if (k == "max_size") {
      r.size(v, k, c.retention.max_bytes);
    } else if (k == "state_interval") {
      r.duration(v, k, c.state_interval_ms);
    } else if (k == "query_backend") {
      if (r.string(v, k, c.query_backend) && c.query_backend != "archive" &&
          c.query_backend != "clickhouse")
        r.bad(v, k, "\"archive\" or \"clickhouse\"");
    } else {
      r.unknown(key,
                "path, archive, flush_interval, rotate, codec, retention, max_size, "
                "state_interval, query_backend");
    }
  }
}

void read_http(const toml::table& t, DaemonConfig& c, const std::filesystem::path& base,
               intel::ConfigProblems& problems) {
  TableReader r("http", problems);
  for (const auto& [key, v] : t) {
    const std::string k(key.str());
    if (k == "listen") {
      std::string host;
      uint16_t port = 0;
      if (r.string(v, k, c.http_listen) && !c.http_listen.empty() &&
          !parse_host_port(c.http_listen, host, port)) {
        r.bad(v, k, "HOST:PORT such as \"127.0.0.1:8080\" (\"\": no HTTP server)");
      }
    } else if (k == "token") {
      r.string(v, k, c.token);
    } else if (k == "token_file") {
      read_secret(r, v, k, base, c.token);
    } else if (k == "tls_cert") {
      if (r.string(v, k, c.tls_cert)) c.tls_cert = resolve(base, c.tls_cert);
    } else if (k == "tls_key") {
      if (r.string(v, k, c.tls_key)) c.tls_key = resolve(base, c.tls_key);
    } else {
      r.unknown(key, "listen, token, token_file, tls_cert, tls_key");
    }
  }
  if (c.tls_cert.empty() != c.tls_key.empty())
    problems.add(t.source(), "http: tls_cert and tls_key go together");
  std::string host;
  uint16_t port = 0;
  if (!c.http_listen.empty() && parse_host_port(c.http_listen, host, port) &&
      !is_loopback_host(host) && c.token.empty()) {
    problems.add(t.source(),
                 fmt::format("http: listen = \"{}\" is reachable from other machines: set "
                             "token (or token_file)",
                             c.http_listen));
  }
}

void read_output(const toml::table& t, size_t n, DaemonConfig& c, const std::filesystem::path& base,
                 intel::ConfigProblems& problems) {
  const std::string name = fmt::format("outputs[{}]", n);
  TableReader r(name, problems);
  OutputConfig o;
  std::string type;
  if (const toml::node* tn = t.get("type"); tn == nullptr) {
    problems.add(t.source(), name + ".type: missing (jsonl, syslog, webhook, clickhouse or kafka)");
    return;
  } else if (!r.string(*tn, "type", type)) {
    return;
  } else if (type == "jsonl") {
    o.type = OutputConfig::Type::kJsonl;
  } else if (type == "syslog") {
    o.type = OutputConfig::Type::kSyslog;
  } else if (type == "webhook") {
    o.type = OutputConfig::Type::kWebhook;
  } else if (type == "clickhouse") {
    o.type = OutputConfig::Type::kClickHouse;
    o.max_spool_bytes = 1ull << 30;
  } else if (type == "kafka") {
    o.type = OutputConfig::Type::kKafka;
  } else {
    r.bad(*tn, "type", "\"jsonl\", \"syslog\", \"webhook\", \"clickhouse\" or \"kafka\"");
    return;
  }
  o.label = fmt::format("{} ({})", name, type);
  const char* keys = o.type == OutputConfig::Type::kJsonl
                         ? "type, path, max_size, max_age, keep, min_severity, format"
                     : o.type == OutputConfig::Type::kSyslog
                         ? "type, url, facility, hostname, min_severity, format"
                     : o.type == OutputConfig::Type::kWebhook
                         ? "type, url, token, spool_dir, max_spool, min_severity, format"
                     : o.type == OutputConfig::Type::kKafka
                         ? "type, brokers, flows_topic, alerts_topic, flows, alerts, compression, "
                           "properties, min_severity, format"
                         : "type, url, database, query_database, user, password, "
                           "password_file, batch_size, flush_interval, compression, flows, "
                           "alerts, spool_dir, max_spool, min_severity";
  for (const auto& [key, v] : t) {
    const std::string k(key.str());
    const bool jsonl = o.type == OutputConfig::Type::kJsonl;
    const bool syslog = o.type == OutputConfig::Type::kSyslog;
    const bool webhook = o.type == OutputConfig::Type::kWebhook;
    const bool clickhouse = o.type == OutputConfig::Type::kClickHouse;
    const bool kafka = o.type == OutputConfig::Type::kKafka;
    if (k == "type") continue;
    if (k == "min_severity") {
      std::string s;
      if (!r.string(v, k, s)) continue;
      auto sev = parse_severity(s);
      if (!sev) {
        r.bad(v, k, "low, medium, high or critical");
        continue;
      }
      o.min_severity = *sev;
    } else if (k == "format" && !clickhouse) {
      std::string s;
      if (!r.string(v, k, s)) continue;
      if (s != "orbwatch" && s != "ecs") r.bad(v, k, "\"orbwatch\" or \"ecs\"");
      o.ecs = s == "ecs";
    } else if (jsonl && k == "path") {
      if (r.string(v, k, o.path)) o.path = resolve(base, o.path);
    } else if (jsonl && k == "max_size") {
      r.size(v, k, o.max_bytes);
    } else if (jsonl && k == "max_age") {
      r.duration(v, k, o.max_age_ms);
    } else if (jsonl && k == "keep") {
      r.integer(v, k, o.keep, 1, 1000);
    } else if (!jsonl && !kafka && k == "url") {
      r.string(v, k, o.url);
    } else if (syslog && k == "facility") {
      if (r.string(v, k, o.facility) && sink::syslog_facility(o.facility) < 0)
        r.bad(v, k, "a syslog facility (kern .. local7)");
    } else if (syslog && k == "hostname") {
      r.string(v, k, o.hostname);
    } else if (webhook && k == "token") {
      r.string(v, k, o.token);
    } else if ((webhook || clickhouse) && k == "spool_dir") {
      if (r.string(v, k, o.spool_dir)) o.spool_dir = resolve(base, o.spool_dir);
    } else if ((webhook || clickhouse) && k == "max_spool") {
      r.size(v, k, o.max_spool_bytes);
    } else if (clickhouse && k == "database") {
      if (r.string(v, k, o.database) && !sink::valid_identifier(o.database))
        r.bad(v, k, "a name of letters, digits and _");
    } else if (clickhouse && k == "query_database") {
      if (r.string(v, k, o.query_database) && !sink::valid_identifier(o.query_database))
        r.bad(v, k, "a name of letters, digits and _");
    } else if (clickhouse && k == "user") {
      r.string(v, k, o.user);
    } else if (clickhouse && k == "password") {
      r.string(v, k, o.password);
    } else if (clickhouse && k == "password_file") {
      read_secret(r, v, k, base, o.password);
    } else if (clickhouse && k == "batch_size") {
      r.integer(v, k, o.batch_rows, 1, sink::ClickHouseOutput::kMaxBatchRows);
    } else if (clickhouse && k == "flush_interval") {
      if (r.duration(v, k, o.flush_ms) && (o.flush_ms < 10 || o.flush_ms > 600'000))
        r.bad(v, k, "a duration of 10ms .. 10m");
    } else if (clickhouse && k == "compression") {
      std::string codec;
      if (r.string(v, k, codec) && codec != "gzip" && codec != "none")
        r.bad(v, k, "\"gzip\" or \"none\"");
      o.gzip = codec != "none";
    } else if ((clickhouse || kafka) && k == "flows") {
      r.boolean(v, k, o.flows);
    } else if ((clickhouse || kafka) && k == "alerts") {
      r.boolean(v, k, o.alerts);
    } else if (kafka && k == "brokers") {
      kafka_brokers(r, v, k, o.brokers);
    } else if (kafka && k == "flows_topic") {
      kafka_topic(r, v, k, o.flows_topic);
    } else if (kafka && k == "alerts_topic") {
      kafka_topic(r, v, k, o.alerts_topic);
    } else if (kafka && k == "compression") {
      if (r.string(v, k, o.kafka_compression) && o.kafka_compression != "none" &&
          o.kafka_compression != "gzip" && o.kafka_compression != "snappy" &&
          o.kafka_compression != "lz4" && o.kafka_compression != "zstd")
        r.bad(v, k, "none, gzip, snappy, lz4 or zstd");
    } else if (kafka && k == "properties") {
      kafka_properties(r, v, k, o.properties);
    } else {
      r.unknown(key, keys);
    }
  }
  if (o.type == OutputConfig::Type::kJsonl && o.path.empty())
    problems.add(t.source(), name + ".path: missing (the alert file)");
  if (o.type == OutputConfig::Type::kKafka) {
    if (o.brokers.empty()) problems.add(t.source(), name + ".brokers: missing");
    if (o.flows && o.alerts && o.flows_topic == o.alerts_topic)
      problems.add(t.source(), name + ": flows_topic and alerts_topic must differ");
  } else if (o.type != OutputConfig::Type::kJsonl) {
    std::string error;
    bool tcp = false;
    std::string host;
    uint16_t port = 0;
    if (o.url.empty()) {
      problems.add(t.source(), name + ".url: missing");
    } else if (o.type == OutputConfig::Type::kSyslog &&
               !sink::SyslogOutput::parse_url(o.url, tcp, host, port, error)) {
      problems.add(t.source(), fmt::format("{}.url: {}", name, error));
    } else if (o.type != OutputConfig::Type::kSyslog && o.url.rfind("http://", 0) != 0 &&
               o.url.rfind("https://", 0) != 0) {
      problems.add(t.source(),
                   fmt::format("{}.url: expected http:// or https://, got \"{}\"", name, o.url));
    }
  }
  c.outputs.push_back(std::move(o));
}

}  // namespace

bool parse_host_port(std::string_view text, std::string& host, uint16_t& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = text.substr(0, colon);
  const std::string_view p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return false;  // IPv6 needs brackets
  }
  uint32_t n = 0;
  if (p.empty() || p.size() > 5) return false;
  for (char ch : p) {
    if (ch < '0' || ch > '9') return false;
    n = n * 10 + static_cast<uint32_t>(ch - '0');
  }
  if (n > 65535) return false;
  host = h.empty() ? "0.0.0.0" : std::string(h);
  port = static_cast<uint16_t>(n);
  if (host == "localhost") return true;
  return IpAddr::parse(host).has_value();
}

std::string feed_cache_dir(const DaemonConfig& daemon, const intel::IntelConfig& intel) {
  return intel.cache_dir.empty() ? (std::filesystem::path(daemon.store_path) / "feeds").string()
                                 : intel.cache_dir;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  auto a = IpAddr::parse(host);
  if (!a) return false;
  static const Prefix v4 = *Prefix::parse("127.0.0.0/8");
  static const Prefix v6 = *Prefix::parse("::1/128");
  return v4.contains(*a) || v6.contains(*a);
}

std::optional<DaemonConfig> parse_daemon_config(std::string_view text, const std::string& path,
                                                std::vector<std::string>& errors) {
  auto doc = intel::parse_toml(text, path, errors);
  if (!doc) return std::nullopt;
  DaemonConfig c;
  c.path = path;
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  intel::ConfigProblems problems(path, errors);
  if (const toml::table* t = table_of(*doc, "collect", problems)) read_collect(*t, c, problems);
  if (const toml::table* t = table_of(*doc, "store", problems)) read_store(*t, c, base, problems);
  if (const toml::table* t = table_of(*doc, "http", problems)) read_http(*t, c, base, problems);
  if (const toml::node* n = doc->get("outputs")) {
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      problems.add(n->source(), "outputs: expected [[outputs]] tables");
    } else {
      for (size_t i = 0; i < a->size(); ++i) {
        if (const toml::table* t = (*a)[i].as_table()) {
          read_output(*t, i + 1, c, base, problems);
        } else {
          problems.add((*a)[i].source(), fmt::format("outputs[{}]: expected a table", i + 1));
        }
      }
    }
  }
  // An instance that consumed its own flows would read each again and again.
  for (const auto& o : c.outputs) {
    if (o.type != OutputConfig::Type::kKafka || !o.flows || !c.kafka ||
        c.kafka->brokers != o.brokers)
      continue;
    for (const auto& topic : c.kafka->topics)
      if (topic == o.flows_topic)
        problems.add(doc->source(), fmt::format("{}: flows_topic \"{}\" is also consumed by "
                                                "[collect.kafka]: this instance would read its own "
                                                "flows back",
                                                o.label, topic));
  }
  if (c.query_backend == "clickhouse" && !clickhouse_output(c)) {
    const toml::node* n = doc->at_path("store.query_backend").node();
    problems.add(n != nullptr ? n->source() : doc->source(),
                 "store.query_backend: \"clickhouse\" reads from an [[outputs]] of type "
                 "clickhouse, and there is none");
  }
  if (!problems.report()) return std::nullopt;
  return c;
}

sink::ClickHouseOptions clickhouse_options(const OutputConfig& c, bool for_queries) {
  sink::ClickHouseOptions o;
  o.url = c.url;
  o.database = for_queries && !c.query_database.empty() ? c.query_database : c.database;
  o.user = c.user;
  o.password = c.password;
  return o;
}

const OutputConfig* clickhouse_output(const DaemonConfig& c) {
  for (const auto& o : c.outputs)
    if (o.type == OutputConfig::Type::kClickHouse) return &o;
  return nullptr;
}

std::optional<DaemonConfig> load_daemon_config(const std::string& path,
                                               std::vector<std::string>& errors) {
  auto text = intel::read_config_file(path, errors);
  if (!text) return std::nullopt;
  return parse_daemon_config(*text, path, errors);
}

}  // namespace orbwatch::server
