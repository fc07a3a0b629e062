// `orbwatch alerts`: the alerts kept in a store's state.db, filtered; `orbwatch alerts ack ID`
// and `orbwatch alerts close ID` set their status.
#include <memory>
#include <string>

#include <fmt/core.h>

#include "cli/commands.h"
#include "core/time.h"
#include "store/alert_store.h"
#include "store/inventory_store.h"

namespace orbwatch::cli {

namespace {

struct AlertsOptions {
  std::string store = "/var/lib/orbwatch";
  std::string since, until, detector, severity, status;
  std::string format = "table";
  size_t limit = 100;
  bool retro = false;
  std::string id, note;
};

std::string csv_field(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

int run_list(const AlertsOptions& o) {
  if (o.format != "table" && o.format != "jsonl" && o.format != "csv") {
    fmt::print(stderr, "orbwatch alerts: --format: expected table, jsonl or csv, got '{}'\n",
               o.format);
    return 2;
  }
  store::AlertStore db;
  std::string error;
  if (!db.open(store::state_db_path(o.store), false, error)) {
    fmt::print(stderr, "orbwatch alerts: {}\n", error);
    return 1;
  }
  store::AlertQuery q;
  q.detector = o.detector;
  q.status = o.status;
  q.limit = o.limit;
  if (o.retro) q.retro = true;
  if (!o.severity.empty()) {
    q.min_severity = parse_severity(o.severity);
    if (!q.min_severity) {
      fmt::print(stderr,
                 "orbwatch alerts: --severity: expected low, medium, high or critical, got "
                 "'{}'\n",
                 o.severity);
      return 2;
    }
  }
  if (!o.since.empty() || !o.until.empty()) {
    // Relative times count back from the newest alert.
    store::AlertQuery newest;
    newest.limit = 1;
    auto last = db.find(newest, error);
    const int64_t top = last.empty() ? wall_clock_ms() : last.front().ts_ms;
    if ((!o.since.empty() && !parse_time_arg(o.since, top, q.since_ms)) ||
        (!o.until.empty() && !parse_time_arg(o.until, top, q.until_ms))) {
      fmt::print(stderr,
                 "orbwatch alerts: --since/--until: expected a duration like 1d or an RFC 3339 "
                 "time\n");
      return 2;
    }
  }
  auto rows = db.find(q, error);
  if (!error.empty()) {
    fmt::print(stderr, "orbwatch alerts: {}\n", error);
    return 1;
  }
  std::string out;
  if (o.format == "csv") out = "ts,id,detector,severity,status,summary,note,retro\n";
  for (const auto& a : rows) {
    if (o.format == "jsonl") {
      out += a.json + "\n";
    } else if (o.format == "csv") {
      out += fmt::format("{},{},{},{},{},{},{},{}\n", rfc3339_ms(a.ts_ms), a.id, a.detector,
                         severity_name(a.severity), a.status, csv_field(a.summary),
                         csv_field(a.note), a.retro ? 1 : 0);
    } else {
      // Retro-hunt alerts are marked: their time is when the flows were seen, not now.
      out += fmt::format("{}  {}  {:<8} {:<12} {:<6} {}{}{}\n", rfc3339_ms(a.ts_ms), a.id,
                         severity_name(a.severity), a.detector, a.status, a.retro ? "[retro] " : "",
                         a.summary, a.note.empty() ? "" : "  [" + a.note + "]");
    }
  }
  if (o.format == "table" && rows.empty()) out = "no alerts\n";
  fmt::print("{}", out);
  return 0;
}

int run_set_status(const AlertsOptions& o, const std::string& status) {
  store::AlertStore db;
  std::string error;
  if (!db.open(store::state_db_path(o.store), false, error) ||
      !db.set_status(o.id, status, o.note, error)) {
    fmt::print(stderr, "orbwatch alerts {}: {}\n", status == "ack" ? "ack" : "close", error);
    return 1;
  }
  fmt::print("{}: {}\n", o.id, status);
  return 0;
}

}  // namespace

void add_alerts_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<AlertsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "alerts", "List the alerts kept in a store (newest first), or acknowledge and close them");
  cmd->add_option("--store", o->store,
                  "data directory holding state.db (default /var/lib/orbwatch)");
  cmd->add_option("--since", o->since,
                  "only alerts since: a duration back from the newest alert (1d) or an RFC 3339 "
                  "time");
  cmd->add_option("--until", o->until, "only alerts until (same forms)");
  cmd->add_option("--detector", o->detector, "only this detector's (intel, allowlist, ...)");
  cmd->add_option("--severity", o->severity,
                  "at least this severity (low, medium, high, critical)");
  cmd->add_option("--status", o->status, "only alerts in this status (new, ack, closed)");
  cmd->add_flag("--retro", o->retro, "only alerts raised by a retro-hunt (orbwatch hunt --alerts)");
  cmd->add_option("--format", o->format, "table (default), jsonl (the alert JSON lines) or csv");
  cmd->add_option("-n,--limit", o->limit, "at most this many (default 100)");
  for (const char* verb : {"ack", "close"}) {
    CLI::App* sub = cmd->add_subcommand(
        verb, std::string(verb == std::string("ack") ? "Acknowledge" : "Close") + " an alert");
    sub->add_option("id", o->id, "the alert's id")->required();
    sub->add_option("--note", o->note, "a note kept with the alert");
    sub->add_option("--store", o->store, "data directory holding state.db");
    const std::string status = verb == std::string("ack") ? "ack" : "closed";
    sub->callback([o, status, &exit_code] { exit_code = run_set_status(*o, status); });
  }
  cmd->callback([o, cmd, &exit_code] {
    if (cmd->get_subcommands().empty()) exit_code = run_list(*o);
  });
}

}  // namespace orbwatch::cli
