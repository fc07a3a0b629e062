#include "store/alert_store.h"

#include <algorithm>

#include "core/time.h"

namespace orbwatch::store {

namespace {
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts(
  id TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL, detector TEXT NOT NULL,
  severity INTEGER NOT NULL, summary TEXT NOT NULL, first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL, count INTEGER NOT NULL, retro INTEGER NOT NULL,
  json TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'new', note TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS alerts_ts ON alerts(ts_ms);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
)";
}  // namespace

bool AlertStore::open(const std::string& db_path, bool create, std::string& error) {
  return db_.open(db_path, create, error) && db_.exec(kSchema, error);
}

bool AlertStore::put(const Alert& a, std::string& error) {
  Statement st;
  // An upsert: a later version replaces the alert's fields; status and note stay.
  if (!db_.prepare("INSERT INTO alerts(id, ts_ms, detector, severity, summary, first_seen_ms, "
                   "last_seen_ms, count, retro, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT(id) DO UPDATE SET ts_ms = excluded.ts_ms, severity = "
                   "excluded.severity, summary = excluded.summary, first_seen_ms = "
                   "excluded.first_seen_ms, last_seen_ms = excluded.last_seen_ms, count = "
                   "excluded.count, retro = excluded.retro, json = excluded.json",
                   st, error)) {
    return false;
  }
  std::string json;
  append_alert_json(json, a);
  if (!json.empty() && json.back() == '\n') json.pop_back();
  st.bind(1, a.id);
  st.bind(2, a.ts_ms);
  st.bind(3, a.detector);
  st.bind(4, static_cast<int64_t>(a.severity));
  st.bind(5, a.summary);
  st.bind(6, a.first_seen_ms);
  st.bind(7, a.last_seen_ms);
  st.bind(8, static_cast<int64_t>(a.count));
  st.bind(9, int64_t{a.retro});
  st.bind(10, json);
  if (!st.run()) {
    error = "alerts: " + st.error();
    return false;
  }
  return true;
}

namespace {

// The WHERE clause of find() and summarize(); bind_where binds its 14 parameters.
constexpr const char* kWhere =
    " FROM alerts WHERE ts_ms >= ? AND ts_ms <= ? AND (? = '' OR detector = ?) "
    "AND severity >= ? AND (? = '' OR status = ?) AND (? < 0 OR retro = ?) "
    "AND (? = '' OR instr(json, ?) > 0 OR instr(json, ?) > 0) AND (? = '' OR id = ?)";

void bind_where(Statement& st, const AlertQuery& q) {
  st.bind(1, q.since_ms);
  st.bind(2, q.until_ms);
  st.bind(3, q.detector);
  st.bind(4, q.detector);
  st.bind(5, static_cast<int64_t>(q.min_severity.value_or(Severity::kLow)));
  st.bind(6, q.status);
  st.bind(7, q.status);
  const int64_t retro = q.retro ? int64_t{*q.retro} : -1;
  st.bind(8, retro);
  st.bind(9, retro);
  st.bind(10, q.ip);
  st.bind(11, q.ip.empty() ? std::string() : "\"src_ip\":\"" + q.ip + "\"");
  st.bind(12, q.ip.empty() ? std::string() : "\"dst_ip\":\"" + q.ip + "\"");
  st.bind(13, q.id);
  st.bind(14, q.id);
}

}  // namespace

std::vector<StoredAlert> AlertStore::find(const AlertQuery& q, std::string& error) {
  std::vector<StoredAlert> out;
  Statement st;
  if (!db_.prepare(std::string("SELECT id, ts_ms, detector, severity, summary, status, note, "
                               "json, retro") +
                       kWhere + " ORDER BY ts_ms DESC, id LIMIT ? OFFSET ?",
                   st, error)) {
    return out;
  }
  bind_where(st, q);
  st.bind(15, static_cast<int64_t>(q.limit));
  st.bind(16, static_cast<int64_t>(q.offset));
  while (st.step()) {
    StoredAlert a;
    a.id = st.text(0);
    a.ts_ms = st.int64(1);
    a.detector = st.text(2);
    a.severity = static_cast<Severity>(std::clamp<int64_t>(st.int64(3), 0, 3));
    a.summary = st.text(4);
    a.status = st.text(5);
    a.note = st.text(6);
    a.json = st.text(7);
    a.retro = st.int64(8) != 0;
    out.push_back(std::move(a));
  }
  if (!st.error().empty()) error = "alerts: " + st.error();
  return out;
}

AlertSummary AlertStore::summarize(const AlertQuery& q, int64_t step_ms, std::string& error) {
  AlertSummary out;
  Statement st;
  if (step_ms <= 0) step_ms = 3'600'000;
  if (!db_.prepare(std::string("SELECT min(ts_ms), severity, status, detector, count(*)") + kWhere +
                       " GROUP BY ts_ms / ?, 2, 3, 4",
                   st, error)) {
    return out;
  }
  bind_where(st, q);
  st.bind(15, step_ms);
  while (st.step()) {
    const auto sev = static_cast<size_t>(std::clamp<int64_t>(st.int64(1), 0, 3));
    const auto n = static_cast<uint64_t>(st.int64(4));
    const int64_t ts = st.int64(0);
    out.buckets[ts / step_ms - (ts % step_ms < 0 ? 1 : 0)][sev] += n;
    out.by_severity[sev] += n;
    out.by_status[std::string(st.text(2))] += n;
    out.by_detector[std::string(st.text(3))] += n;
  }
  if (!st.error().empty()) error = "alerts: " + st.error();
  return out;
}

bool AlertStore::set_status(const std::string& id, const std::string& status,
                            const std::string& note, std::string& error) {
  Statement st;
  if (!db_.prepare("UPDATE alerts SET status = ?, note = CASE WHEN ? = '' THEN note ELSE ? END "
                   "WHERE id = ?",
                   st, error)) {
    return false;
  }
  st.bind(1, status);
  st.bind(2, note);
  st.bind(3, note);
  st.bind(4, id);
  if (!st.run()) {
    error = "alerts: " + st.error();
    return false;
  }
  if (sqlite3_changes(db_.handle()) == 0) {
    error = "no alert with id " + id;
    return false;
  }
  return true;
}

}  // namespace orbwatch::store
