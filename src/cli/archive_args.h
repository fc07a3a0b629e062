// Options and reporting shared by the commands that scan the flow archive (query, hunt).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "sink/clickhouse.h"
#include "store/archive.h"
#include "store/archive_scan.h"
#include "store/archive_writer.h"

namespace orbwatch::cli {

struct ArchiveRange {
  std::string store = "/var/lib/orbwatch";
  std::string since;
  std::string until;
};

// How commands that write the archive (collect, import) write it.
struct ArchiveWriteArgs {
  std::string store;
  std::string flush_interval = "1s";
  std::string rotate = "5m";
  std::string codec = "zstd";
  std::string retention;  // e.g. 90d
  std::string max_size;   // e.g. 500G
};

// --store, --flush-interval, --rotate, --codec, --retention, --max-size.
void add_archive_write_options(CLI::App& cmd, ArchiveWriteArgs& args);
// False, with the message printed, when a value does not parse.
bool parse_archive_args(const ArchiveWriteArgs& args, const char* command,
                        store::ArchiveWriterOptions& options, store::archive::Retention& retention);

// --store, --since, --until.
void add_range_options(CLI::App& cmd, ArchiveRange& range);
// Sets spec.from_ms/to_ms from --since/--until (durations count back from the archive's newest
// flow). False, with the message printed, when one does not parse or the store is missing.
bool resolve_range(const ArchiveRange& range, const char* command, store::ScanSpec& spec);
// Where query and hunt read flows: the embedded archive (--store) or ClickHouse.
struct BackendArgs {
  std::string backend = "archive";  // or "clickhouse"
  std::string config;               // the daemon's config: its first clickhouse output
  std::string url;                  // --clickhouse
  std::string database;             // --database
};
// --backend, --clickhouse, --database, --clickhouse-config.
void add_backend_options(CLI::App& cmd, BackendArgs& args);
// The ClickHouse to read when --backend clickhouse (nullopt otherwise, and with `failed` set
// and the message printed when the options are wrong). Flags win over the config file's output;
// the password comes from the config or ORBWATCH_CLICKHOUSE_PASSWORD.
std::optional<sink::ClickHouseOptions> clickhouse_backend(const BackendArgs& args,
                                                          const char* command, bool& failed);
// --since/--until against ClickHouse: durations count back from its newest flow.
bool resolve_clickhouse_range(const ArchiveRange& range, sink::ClickHouseClient& client,
                              const char* command, store::ScanSpec& spec);

// One summary line on stderr (unless quiet) and every problem of the scan.
void report_scan(const store::ScanStats& stats, const char* command, bool quiet,
                 std::chrono::steady_clock::time_point started);

}  // namespace orbwatch::cli
