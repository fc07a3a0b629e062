// The alert store: every alert in state.db (SQLite, WAL), keyed by its id, with a status
// (new, ack, closed) and a note that analysts set. A later version of an alert (same id: more
// flows folded in, higher severity) replaces the earlier one but keeps its status and note.
//
// Threading: one AlertStore per thread (SQLite connection); readers in other processes never
// block the writer (WAL).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/alert.h"
#include "store/sqlite.h"

namespace orbwatch::store {

struct StoredAlert {
  std::string id;
  int64_t ts_ms = 0;
  std::string detector;
  Severity severity = Severity::kLow;
  std::string summary;
  std::string status;  // new | ack | closed
  std::string note;
  std::string json;    // the alert's JSON line (docs/formats.md), without the newline
  bool retro = false;  // raised by a retro-hunt (orbwatch hunt --alerts)
};

struct AlertQuery {
  int64_t since_ms = INT64_MIN;
  int64_t until_ms = INT64_MAX;
  std::string detector;                  // empty: all
  std::optional<Severity> min_severity;  // at least this
  std::string status;                    // empty: all
  std::optional<bool> retro;             // only retro-hunt alerts (true) or only live ones
  size_t limit = 1000;
  size_t offset = 0;  // skip this many (paging)
  std::string ip;     // only alerts naming this address as src_ip or dst_ip
  std::string id;     // only this alert
};

// Counts of the alerts a query matches (its limit and offset ignored).
struct AlertSummary {
  std::array<uint64_t, 4> by_severity{};  // low..critical
  std::map<std::string, uint64_t> by_status, by_detector;
  // Per time bucket (ts_ms / step_ms): counts by severity.
  std::map<int64_t, std::array<uint64_t, 4>> buckets;
};

class AlertStore {
 public:
  bool open(const std::string& db_path, bool create, std::string& error);
  // Inserts or replaces by id (status and note kept). Call inside begin()/commit() for many.
  bool put(const Alert& alert, std::string& error);
  bool begin(std::string& error) { return db_.exec("BEGIN IMMEDIATE", error); }
  bool commit(std::string& error) { return db_.exec("COMMIT", error); }
  // Newest first.
  std::vector<StoredAlert> find(const AlertQuery& q, std::string& error);
  AlertSummary summarize(const AlertQuery& q, int64_t step_ms, std::string& error);
  // Sets the status (ack, closed, new) and, when given, the note; false when no such id.
  bool set_status(const std::string& id, const std::string& status, const std::string& note,
                  std::string& error);

 private:
  Database db_;
};

}  // namespace orbwatch::store
