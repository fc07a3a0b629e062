#include "cli/archive_args.h"

#include <fmt/core.h>

#include <filesystem>

#include "cli/time_args.h"
#include "store/archive.h"

namespace orbwatch::cli {

void add_range_options(CLI::App& cmd, ArchiveRange& range) {
  cmd.add_option("--store", range.store,
                 "data directory of the archive (default /var/lib/orbwatch)");
  cmd.add_option("--since", range.since,
                 "flows since: a duration back from the newest archived flow (1h, 90d) or an "
                 "RFC 3339 time");
  cmd.add_option("--until", range.until, "flows until: a duration or an RFC 3339 time");
}

bool resolve_range(const ArchiveRange& range, const char* command, store::ScanSpec& spec) {
  std::error_code ec;
  if (!std::filesystem::is_directory(range.store, ec)) {
    fmt::print(stderr, "orbwatch {}: --store {}: no such directory\n", command, range.store);
    return false;
  }
  if (range.since.empty() && range.until.empty()) return true;
  const int64_t newest = store::archive::newest_ms(range.store);
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
