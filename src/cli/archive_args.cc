#include "cli/archive_args.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/time.h"
#include "core/units.h"
#include "server/daemon_config.h"
#include "sink/clickhouse_query.h"
#include "store/archive.h"

namespace orbwatch::cli {

void add_archive_write_options(CLI::App& cmd, ArchiveWriteArgs& args) {
  cmd.add_option(
      "--store", args.store,
      "archive flows in this data directory (DIR/flows; query, hunt and analyze read it)");
  cmd.add_option("--flush-interval", args.flush_interval,
                 "write buffered flows at least this often: what a crash can lose (default 1s)");
  cmd.add_option("--rotate", args.rotate, "seal a segment file after this long (default 5m)");
  cmd.add_option("--codec", args.codec,
                 "column compression: zstd (default, smaller) or lz4 (faster)");
  cmd.add_option("--retention", args.retention,
                 "delete archived flows older than this (e.g. 90d; default: keep)");
  cmd.add_option("--max-size", args.max_size,
                 "delete the oldest archived flows beyond this size (e.g. 500G; default: none)");
}

bool parse_archive_args(const ArchiveWriteArgs& args, const char* command,
                        store::ArchiveWriterOptions& options,
                        store::archive::Retention& retention) {
  auto bad = [&](const char* option, const std::string& value, const char* expected) {
    fmt::print(stderr, "orbwatch {}: {} {}: expected {}\n", command, option, value, expected);
    return false;
  };
  auto flush = parse_duration_ms(args.flush_interval);
  if (!flush || *flush <= 0) return bad("--flush-interval", args.flush_interval, "a duration (1s)");
  options.flush_interval_ms = *flush;
  auto rotate = parse_duration_ms(args.rotate);
  if (!rotate || *rotate <= 0) return bad("--rotate", args.rotate, "a duration (5m)");
  options.rotate_interval_ms = *rotate;
  if (args.codec == "zstd") {
    options.segment.codec = store::segment::Codec::kZstd;
  } else if (args.codec == "lz4") {
    options.segment.codec = store::segment::Codec::kLz4;
  } else {
    return bad("--codec", args.codec, "zstd or lz4");
  }
  if (!args.retention.empty()) {
    auto age = parse_duration_ms(args.retention);
    if (!age || *age <= 0) return bad("--retention", args.retention, "a duration (90d)");
    retention.max_age_ms = *age;
  }
  if (!args.max_size.empty()) {
    auto size = parse_size(args.max_size);
    if (!size || *size == 0) return bad("--max-size", args.max_size, "a size (500G)");
    retention.max_bytes = *size;
  }
  return true;
}

void add_range_options(CLI::App& cmd, ArchiveRange& range) {
  cmd.add_option("--store", range.store,
                 "data directory of the archive (default /var/lib/orbwatch)");
  cmd.add_option("--since", range.since,
                 "flows since: a duration back from the newest archived flow (1h, 90d) or an "
                 "RFC 3339 time");
  cmd.add_option("--until", range.until, "flows until: a duration or an RFC 3339 time");
}

namespace {

// --since/--until, durations counting back from `newest`.
bool apply_range(const ArchiveRange& range, int64_t newest, const char* command,
                 store::ScanSpec& spec) {
  if (!range.since.empty() && !parse_time_arg(range.since, newest, spec.from_ms)) {
    fmt::print(stderr, "orbwatch {}: --since {}: expected a duration (90d) or RFC 3339 time\n",
               command, range.since);
    return false;
  }
  if (!range.until.empty() && !parse_time_arg(range.until, newest, spec.to_ms)) {
    fmt::print(stderr, "orbwatch {}: --until {}: expected a duration (1h) or RFC 3339 time\n",
               command, range.until);
    return false;
  }
  return true;
}

}  // namespace

void add_backend_options(CLI::App& cmd, BackendArgs& args) {
  cmd.add_option("--backend", args.backend,
                 "where flows are read: archive (default, --store) or clickhouse (docs/scale.md)");
  cmd.add_option("--clickhouse", args.url,
                 "ClickHouse HTTP URL (default: the config's clickhouse output, else "
                 "http://127.0.0.1:8123)");
  cmd.add_option("--database", args.database,
                 "ClickHouse database (default: the config's, else orbwatch)");
  cmd.add_option("--clickhouse-config", args.config,
                 "orbwatch.toml whose first [[outputs]] of type clickhouse says where (url, "
                 "database, user, password)");
}

std::optional<sink::ClickHouseOptions> clickhouse_backend(const BackendArgs& args,
                                                          const char* command, bool& failed) {
  failed = false;
  if (args.backend == "archive") return std::nullopt;
  failed = true;
  if (args.backend != "clickhouse") {
    fmt::print(stderr, "orbwatch {}: --backend {}: expected archive or clickhouse\n", command,
               args.backend);
    return std::nullopt;
  }
  sink::ClickHouseOptions o;
  if (!args.config.empty()) {
    std::vector<std::string> errors;
    const auto c = server::load_daemon_config(args.config, errors);
    if (!c) {
      for (const auto& e : errors) fmt::print(stderr, "orbwatch {}: {}\n", command, e);
      return std::nullopt;
    }
    const server::OutputConfig* out = server::clickhouse_output(*c);
    if (out == nullptr) {
      fmt::print(stderr, "orbwatch {}: {} has no [[outputs]] of type clickhouse\n", command,
                 args.config);
      return std::nullopt;
    }
    o = server::clickhouse_options(*out, true);
  }
  if (!args.url.empty()) o.url = args.url;
  if (!args.database.empty()) o.database = args.database;
  if (const char* pw = std::getenv("ORBWATCH_CLICKHOUSE_PASSWORD"); pw != nullptr && *pw != 0)
    o.password = pw;
  if (!sink::valid_identifier(o.database)) {
    fmt::print(stderr, "orbwatch {}: --database {}: letters, digits and _ only\n", command,
               o.database);
    return std::nullopt;
  }
  if (o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0) {
    fmt::print(stderr, "orbwatch {}: --clickhouse {}: expected http:// or https://\n", command,
               o.url);
    return std::nullopt;
  }
  failed = false;
  return o;
}

bool resolve_clickhouse_range(const ArchiveRange& range, sink::ClickHouseClient& client,
                              const char* command, store::ScanSpec& spec) {
  if (range.since.empty() && range.until.empty()) return true;
  std::string error;
  const auto newest = sink::newest_flow_ms(client, error);
  if (!newest) {
    fmt::print(stderr, "orbwatch {}: {}\n", command, error);
    return false;
  }
  return apply_range(range, *newest, command, spec);
}

bool resolve_range(const ArchiveRange& range, const char* command, store::ScanSpec& spec) {
  std::error_code ec;
  if (!std::filesystem::is_directory(range.store, ec)) {
    fmt::print(stderr, "orbwatch {}: --store {}: no such directory\n", command, range.store);
    return false;
  }
  if (range.since.empty() && range.until.empty()) return true;
  return apply_range(range, store::archive::newest_ms(range.store), command, spec);
}

void report_scan(const store::ScanStats& stats, const char* command, bool quiet,
                 std::chrono::steady_clock::time_point started) {
  for (const auto& p : stats.problems) fmt::print(stderr, "orbwatch {}: {}\n", command, p);
  if (quiet) return;
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(stderr,
             "orbwatch {}: {} flows matched of {} read in {:.2f} s ({:.1f} M flows/s); {} of {} "
             "blocks skipped, {} files ({} passed over by time)\n",
             command, stats.records_matched, stats.records_read, s,
             s > 0 ? static_cast<double>(stats.records_read) / s / 1e6 : 0.0, stats.blocks_skipped,
             stats.blocks, stats.files, stats.files_skipped);
}

}  // namespace orbwatch::cli
