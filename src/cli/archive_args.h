// Options and reporting shared by the commands that scan the flow archive (query, hunt).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>

#include "store/archive_scan.h"

namespace orbwatch::cli {

struct ArchiveRange {
  std::string store = "/var/lib/orbwatch";
  std::string since;
  std::string until;
};

// --store, --since, --until.
void add_range_options(CLI::App& cmd, ArchiveRange& range);
// Sets spec.from_ms/to_ms from --since/--until (durations count back from the archive's newest
// flow). False, with the message printed, when one does not parse or the store is missing.
bool resolve_range(const ArchiveRange& range, const char* command, store::ScanSpec& spec);
// One summary line on stderr (unless quiet) and every problem of the scan.
void report_scan(const store::ScanStats& stats, const char* command, bool quiet,
                 std::chrono::steady_clock::time_point started);

}  // namespace orbwatch::cli
