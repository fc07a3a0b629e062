// ClickHouse over its HTTP interface (cpp-httplib): statements, gzip-compressed RowBinary
// inserts, and the tables orbwatch keeps there (docs/scale.md). The SQL is what both
// ClickHouse 18.16 (Debian 12) and current releases accept: no DateTime64, no IPv6 type, no
// query parameters, so times are epoch milliseconds (UInt64) and addresses FixedString(16)
// (IPv4 mapped into IPv6, as orbwatch holds them).
//
// Threading: one client per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.h"
#include "core/flow_batch.h"

namespace httplib {
class Client;
}

namespace orbwatch::sink {

struct ClickHouseOptions {
  std::string url = "http://127.0.0.1:8123";
  std::string database = "orbwatch";
  std::string user = "default";
  std::string password;
  int timeout_s = 30;
};

class ClickHouseClient {
 public:
  explicit ClickHouseClient(ClickHouseOptions o);
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  // False (with ClickHouse's own message, or why it could not be reached) when it failed.
  bool exec(std::string_view sql, std::string& error);
  // A query's answer in the format the query names (TabSeparated by default).
  std::optional<std::string> query(std::string_view sql, std::string& error);
  // The same, handed to `receive` as it arrives (`receive` returns false to stop). The SQL goes
  // in the body (IN lists can be long); wait_end_of_query=1, so that an error found while the
  // answer is produced comes as an HTTP error, not appended to rows already sent.
  bool select(std::string_view sql, const std::function<bool(std::string_view)>& receive,
              std::string& error);
  // "database.table", or nullopt with `error` when a name is not letters, digits and _.
  std::optional<std::string> table(std::string_view name, std::string& error) const;
  // `INSERT INTO database.table (columns) FORMAT RowBinary` with `rows` as the body,
  // gzip-compressed. `columns` is orbwatch's own text (flow_columns()), never user input.
  bool insert(std::string_view table, std::string_view columns, std::string_view rows,
              std::string& error);
  // The same with the body as the spool keeps it: gzip-compressed rows, or the rows as they are.
  bool insert_body(std::string_view table, std::string_view columns, std::string_view body,
                   bool gzipped, std::string& error);
  // Creates the database and brings its tables to the current schema (idempotent).
  bool create_schema(std::string& error);

  const ClickHouseOptions& options() const { return o_; }

 private:
  bool post(const std::string& sql, std::string_view body, bool gzipped, std::string* answer,
            std::string& error);
  ClickHouseOptions o_;
  std::unique_ptr<httplib::Client> http_;
};

// A database or table name is pasted into SQL: letters, digits and underscores only.
bool valid_identifier(std::string_view s);

// The flows table's columns, in insert order (the flow JSON line's names, docs/formats.md, then
// the insert's batch id); flow_read_columns() without the batch id, as queries read them.
std::string_view flow_columns();
std::string_view flow_read_columns();
// Appends record `i` of `b` as one RowBinary row of the flows table, from insert `batch`.
void append_flow_row(std::string& out, const FlowBatch& b, size_t i, uint64_t batch);

// The alerts table's columns, in insert order, and one alert as a RowBinary row of it.
std::string_view alert_columns();
void append_alert_row(std::string& out, const Alert& a);

// The schema's migrations: migrations[v] takes a database at version v to v + 1 (each
// statement idempotent). create_schema() applies those not yet in `schema_migrations`.
std::vector<std::vector<std::string>> schema_migrations(std::string_view database);

}  // namespace orbwatch::sink
