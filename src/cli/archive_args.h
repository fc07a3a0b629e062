// Options and reporting shared by the commands that scan the flow archive (query, hunt).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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
// One summary line on stderr (unless quiet) and every problem of the scan.
void report_scan(const store::ScanStats& stats, const char* command, bool quiet,
                 std::chrono::steady_clock::time_point started);

}  // namespace orbwatch::cli
