#include "sink/clickhouse.h"

#include <httplib.h>

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

#include "core/gzip.h"
#include "core/time.h"

namespace orbwatch::sink {

namespace {

void put_u8(std::string& out, uint8_t v) {
  out += static_cast<char>(v);
}
template <typename T>
void put_le(std::string& out, T v) {
  char b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, sizeof(T));
}
void put_addr(std::string& out, const IpAddr& a) {
  out.append(reinterpret_cast<const char*>(a.b.data()), 16);
}
void put_string(std::string& out, std::string_view s) {
  uint64_t n = s.size();  // LEB128 length
  do {
    uint8_t byte = n & 0x7f;
    n >>= 7;
    put_u8(out, byte | (n ? 0x80 : 0));
  } while (n);
  out += s;
}

// ClickHouse's message of a failed request, trimmed.
std::string http_error(const std::string& url, int status, std::string_view body) {
  std::string msg(body.substr(0, 500));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return fmt::format("ClickHouse {}: HTTP {}: {}", url, status, msg);
}

}  // namespace

bool valid_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

std::string_view flow_read_columns() {
  return "ts_start, ts_end, src_ip, dst_ip, src_port, dst_port, proto, tcp_flags, bytes, "
         "packets, exporter, in_if, out_if, src_as, dst_as, sampling_rate, obs_domain, "
         "flow_source, direction, vlan, tos, src_mask, dst_mask, biflow, server_name";
}

std::string_view flow_columns() {
  static const std::string columns = std::string(flow_read_columns()) + ", batch";
  return columns;
}

void append_flow_row(std::string& out, const FlowBatch& b, size_t i, uint64_t batch) {
  const FlowRecord& r = b.records[i];
  put_le<uint64_t>(out, static_cast<uint64_t>(std::max<int64_t>(r.start_ms, 0)));
  put_le<uint64_t>(out, static_cast<uint64_t>(std::max<int64_t>(r.end_ms, 0)));
  put_addr(out, r.src);
  put_addr(out, r.dst);
  put_le<uint16_t>(out, r.src_port);
  put_le<uint16_t>(out, r.dst_port);
  put_u8(out, r.proto);
  put_u8(out, r.tcp_flags);
  put_le<uint64_t>(out, r.bytes);
  put_le<uint64_t>(out, r.packets);
  put_addr(out, r.exporter);
  put_le<uint32_t>(out, r.in_if);
  put_le<uint32_t>(out, r.out_if);
  put_le<uint32_t>(out, r.src_as);
  put_le<uint32_t>(out, r.dst_as);
  put_le<uint32_t>(out, r.sampling_rate);
  put_le<uint32_t>(out, r.obs_domain);
  put_u8(out, static_cast<uint8_t>(r.source));     // Enum8, the same numbers
  put_u8(out, static_cast<uint8_t>(r.direction));  // Enum8, the same numbers
  put_le<uint16_t>(out, r.vlan);
  put_u8(out, r.tos);
  put_u8(out, r.src_mask);
  put_u8(out, r.dst_mask);
  put_u8(out, (r.flags & flow_flags::kBiflowForward)   ? 1
              : (r.flags & flow_flags::kBiflowReverse) ? 2
                                                       : 0);
  put_string(out, r.name_ref != 0 ? b.name(r.name_ref) : std::string_view());
  put_le<uint64_t>(out, batch);
}

std::string_view alert_columns() {
  return "ts, id, detector, severity, summary, src_ip, dst_ip, dst_port, proto, asset, "
         "first_seen, last_seen, count, retro, json";
}

void append_alert_row(std::string& out, const Alert& a) {
  put_le<uint64_t>(out, static_cast<uint64_t>(std::max<int64_t>(a.ts_ms, 0)));
  put_string(out, a.id);
  put_string(out, a.detector);
  put_u8(out, static_cast<uint8_t>(a.severity));  // Enum8, the same numbers
  put_string(out, a.summary);
  put_addr(out, a.src);
  put_addr(out, a.dst);
  put_le<uint16_t>(out, a.dst_port);
  put_u8(out, a.proto);
  put_string(out, a.asset);
  put_le<uint64_t>(out, static_cast<uint64_t>(std::max<int64_t>(a.first_seen_ms, 0)));
  put_le<uint64_t>(out, static_cast<uint64_t>(std::max<int64_t>(a.last_seen_ms, 0)));
  put_le<uint64_t>(out, a.count);
  put_u8(out, a.retro ? 1 : 0);
  std::string json;
  append_alert_json(json, a);
  json.pop_back();  // '\n'
  put_string(out, json);
}

std::vector<std::vector<std::string>> schema_migrations(std::string_view db) {
  return {
      // 1: flows, alerts, per-minute rollups.
      {
          // Partitioned by UTC day, ordered by minute then addresses: a time range reads few
          // parts, an address within it few granules. `batch` is the insert's id: a retry
          // after an unknown outcome looks for it first (18.16 deduplicates inserts only
          // into Replicated tables).
          fmt::format(
              "CREATE TABLE IF NOT EXISTS {}.flows (ts_start UInt64, ts_end UInt64, "
              "src_ip FixedString(16), dst_ip FixedString(16), src_port UInt16, "
              "dst_port UInt16, proto UInt8, tcp_flags UInt8, bytes UInt64, packets UInt64, "
              "exporter FixedString(16), in_if UInt32, out_if UInt32, src_as UInt32, "
              "dst_as UInt32, sampling_rate UInt32, obs_domain UInt32, "
              "flow_source Enum8('unknown' = 0, 'netflow5' = 1, 'netflow9' = 2, 'ipfix' = 3, "
              "'sflow' = 4, 'meter' = 5), "
              "direction Enum8('unknown' = 0, 'ingress' = 1, 'egress' = 2), "
              "vlan UInt16, tos UInt8, src_mask UInt8, dst_mask UInt8, "
              "biflow Enum8('none' = 0, 'forward' = 1, 'reverse' = 2), server_name String, "
              "batch UInt64) ENGINE = MergeTree() "
              "PARTITION BY toYYYYMMDD(toDateTime(intDiv(ts_start, 1000)), 'UTC') "
              "ORDER BY (intDiv(ts_start, 60000), src_ip, dst_ip)",
              db),
          // An alert is written again as it grows: the latest version (by ts) is kept when
          // parts merge (SELECT ... FINAL for the latest now). first_seen is part of the id,
          // so every version lands in the same partition.
          fmt::format(
              "CREATE TABLE IF NOT EXISTS {}.alerts (ts UInt64, id String, detector String, "
              "severity Enum8('low' = 0, 'medium' = 1, 'high' = 2, 'critical' = 3), "
              "summary String, src_ip FixedString(16), dst_ip FixedString(16), "
              "dst_port UInt16, proto UInt8, asset String, first_seen UInt64, "
              "last_seen UInt64, count UInt64, retro UInt8, json String) "
              "ENGINE = ReplacingMergeTree(ts) "
              "PARTITION BY toYYYYMM(toDateTime(intDiv(first_seen, 1000)), 'UTC') ORDER BY id",
              db),
          // Per minute, exporter, interface and AS, summed as parts merge (sum() when
          // reading): dashboards over months without scanning the flows.
          fmt::format("CREATE TABLE IF NOT EXISTS {}.flows_1m (minute UInt64, "
                      "exporter FixedString(16), in_if UInt32, out_if UInt32, src_as UInt32, "
                      "dst_as UInt32, flows UInt64, packets UInt64, bytes UInt64) "
                      "ENGINE = SummingMergeTree() "
                      "PARTITION BY toYYYYMMDD(toDateTime(intDiv(minute, 1000)), 'UTC') "
                      "ORDER BY (minute, exporter, in_if, out_if, src_as, dst_as)",
                      db),
          fmt::format(
              "CREATE MATERIALIZED VIEW IF NOT EXISTS {0}.flows_1m_mv TO {0}.flows_1m AS "
              "SELECT intDiv(ts_start, 60000) * 60000 AS minute, exporter, in_if, out_if, "
              "src_as, dst_as, count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes "
              "FROM {0}.flows GROUP BY minute, exporter, in_if, out_if, src_as, dst_as",
              db),
      },
  };
}

ClickHouseClient::ClickHouseClient(ClickHouseOptions o)
    : o_(std::move(o)), http_(std::make_unique<httplib::Client>(o_.url)) {
  http_->set_connection_timeout(o_.timeout_s, 0);
  http_->set_read_timeout(o_.timeout_s, 0);
  http_->set_write_timeout(o_.timeout_s, 0);
  http_->set_keep_alive(true);
}

ClickHouseClient::~ClickHouseClient() = default;

bool ClickHouseClient::post(const std::string& sql, std::string_view body, bool gzipped,
                            std::string* answer, std::string& error) {
  httplib::Headers headers = {{"X-ClickHouse-User", o_.user}};
  if (!o_.password.empty()) headers.emplace("X-ClickHouse-Key", o_.password);
  if (gzipped) headers.emplace("Content-Encoding", "gzip");
  std::string path = "/?query=";
  for (unsigned char c : sql) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      path += static_cast<char>(c);
    } else {
      path += fmt::format("%{:02X}", c);
    }
  }
  auto res = http_->Post(path, headers, body.data(), body.size(), "application/octet-stream");
  if (!res) {
    error = fmt::format("ClickHouse {}: {}", o_.url, httplib::to_string(res.error()));
    return false;
  }
  if (res->status != 200) {
    error = http_error(o_.url, res->status, res->body);
    return false;
  }
  if (answer != nullptr) *answer = std::move(res->body);
  return true;
}

bool ClickHouseClient::select(std::string_view sql,
                              const std::function<bool(std::string_view)>& receive,
                              std::string& error) {
  httplib::Request req;
  req.method = "POST";
  req.path = fmt::format("/?wait_end_of_query=1&max_query_size={}", sql.size() + 1024);
  req.headers = {{"X-ClickHouse-User", o_.user}, {"Content-Type", "text/plain"}};
  if (!o_.password.empty()) req.headers.emplace("X-ClickHouse-Key", o_.password);
  req.body = std::string(sql);
  std::string head;  // the start of the answer: an error's text
  bool stopped = false;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (head.size() < 1024) head.append(data, std::min(n, 1024 - head.size()));
    if (!receive(std::string_view(data, n))) stopped = true;
    return !stopped;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  // A long scan may take minutes before its first byte (wait_end_of_query).
  http_->set_read_timeout(std::max(o_.timeout_s, 300), 0);
  const bool sent = http_->send(req, res, err);
  http_->set_read_timeout(o_.timeout_s, 0);
  if (stopped && (!sent || res.status == 200)) return true;  // the consumer had enough
  if (!sent) {
    error = fmt::format("ClickHouse {}: {}", o_.url, httplib::to_string(err));
    return false;
  }
  if (res.status != 200) {
    error = http_error(o_.url, res.status, head);
    return false;
  }
  return true;
}

std::optional<std::string> ClickHouseClient::table(std::string_view name,
                                                   std::string& error) const {
  if (!valid_identifier(name) || !valid_identifier(o_.database)) {
    error = fmt::format("ClickHouse: {}.{}: letters, digits and _ only", o_.database, name);
    return std::nullopt;
  }
  return fmt::format("{}.{}", o_.database, name);
}

bool ClickHouseClient::exec(std::string_view sql, std::string& error) {
  return post(std::string(sql), {}, false, nullptr, error);
}

std::optional<std::string> ClickHouseClient::query(std::string_view sql, std::string& error) {
  std::string answer;
  if (!select(
          sql,
          [&](std::string_view chunk) {
            answer.append(chunk);
            return true;
          },
          error))
    return std::nullopt;
  return answer;
}

bool ClickHouseClient::insert(std::string_view table, std::string_view columns,
                              std::string_view rows, std::string& error) {
  const std::string body = gzip(rows, 1);
  if (body.empty() && !rows.empty()) {
    error = "ClickHouse: zlib could not compress the rows";
    return false;
  }
  return insert_body(table, columns, body, true, error);
}

bool ClickHouseClient::insert_body(std::string_view name, std::string_view columns,
                                   std::string_view body, bool gzipped, std::string& error) {
  const auto t = table(name, error);
  return t && post(fmt::format("INSERT INTO {} ({}) FORMAT RowBinary", *t, columns), body, gzipped,
                   nullptr, error);
}

bool ClickHouseClient::create_schema(std::string& error) {
  if (!valid_identifier(o_.database)) {
    error = fmt::format("ClickHouse: database \"{}\": letters, digits and _ only", o_.database);
    return false;
  }
  const std::string& db = o_.database;
  if (!exec(fmt::format("CREATE DATABASE IF NOT EXISTS {}", db), error) ||
      !exec(fmt::format("CREATE TABLE IF NOT EXISTS {}.schema_migrations (version UInt32, "
                        "applied UInt64) ENGINE = TinyLog",
                        db),
            error)) {
    return false;
  }
  auto applied = query(fmt::format("SELECT max(version) FROM {}.schema_migrations", db), error);
  if (!applied) return false;
  const auto migrations = schema_migrations(db);
  const size_t have = std::strtoul(applied->c_str(), nullptr, 10);
  for (size_t v = have; v < migrations.size(); ++v) {
    // Each statement is idempotent: a run that stopped half-way is finished by the next.
    for (const auto& sql : migrations[v])
      if (!exec(sql, error)) return false;
    if (!exec(fmt::format("INSERT INTO {}.schema_migrations VALUES ({}, {})", db, v + 1,
                          wall_clock_ms()),
              error)) {
      return false;
    }
  }
  return true;
}

}  // namespace orbwatch::sink
