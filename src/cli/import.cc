// `orbwatch import nfcapd PATH...`: nfdump 1.6/1.7 files into the flow archive, one sealed
// segment per file, files spread over the cores.
#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/archive_args.h"
#include "cli/commands.h"
#include "store/archive.h"
#include "store/archive_writer.h"
#include "store/nfcapd_file.h"

namespace orbwatch::cli {

namespace {

struct ImportOptions {
  std::vector<std::string> paths;
  std::string store = "/var/lib/orbwatch";
  std::string codec = "zstd";
  unsigned threads = 0;
  bool quiet = false;
};

// The files named, and nfdump's files (nfcapd.*) under the directories named, sorted.
std::vector<std::string> input_files(const std::vector<std::string>& paths,
                                     std::vector<std::string>& problems) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      files.push_back(p);
      continue;
    }
    for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_regular_file(ec) && name.rfind("nfcapd.", 0) == 0 &&
          name.find("current") == std::string::npos) {
        files.push_back(it->path().string());
      }
    }
    if (ec) problems.push_back(p + ": " + ec.message());
  }
  std::sort(files.begin(), files.end());
  return files;
}

int run_import(const ImportOptions& o) {
  store::ArchiveWriterOptions wo;
  if (o.codec == "lz4") {
    wo.segment.codec = store::segment::Codec::kLz4;
  } else if (o.codec != "zstd") {
    fmt::print(stderr, "orbwatch import: --codec {}: expected zstd or lz4\n", o.codec);
    return 2;
  }
  // One segment per input file, in full blocks: no time-driven flushes or rotations.
  wo.flush_interval_ms = wo.rotate_interval_ms = INT64_MAX / 2;
  wo.rotate_records = UINT64_MAX;
  std::signal(SIGXFSZ, SIG_IGN);

  std::vector<std::string> problems;
  const auto files = input_files(o.paths, problems);
  if (files.empty()) {
    fmt::print(stderr, "orbwatch import: no nfdump files in {}\n", fmt::join(o.paths, " "));
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.store, ec);
  if (ec) {
    fmt::print(stderr, "orbwatch import: --store {}: {}\n", o.store, ec.message());
    return 1;
  }
  for (auto& p : store::archive::recover(o.store).problems) problems.push_back(std::move(p));

  const auto t0 = std::chrono::steady_clock::now();
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> flows{0}, skipped{0}, damaged_blocks{0}, not_stored{0}, segments{0};
  std::atomic<size_t> bad_files{0};
  auto work = [&] {
    FlowBatch batch;
    for (size_t k; (k = next.fetch_add(1)) < files.size();) {
      std::string error;
      auto reader = store::NfcapdReader::open(files[k], error);
      if (!reader) {
        ++bad_files;
        std::lock_guard lock(mu);
        problems.push_back(error);
        continue;
      }
      store::ArchiveWriter writer(o.store, wo);
      while (reader->next_block(batch)) {
        writer.append(batch, 0);
        batch.clear();
      }
      const bool ok = writer.close(error);
      flows += writer.stats().flows_stored;
      not_stored += writer.stats().flows_not_stored;
      segments += writer.stats().segments_sealed;
      skipped += reader->stats().skipped_records;
      damaged_blocks += reader->stats().damaged_blocks;
      std::lock_guard lock(mu);
      for (const auto& p : reader->problems()) problems.push_back(p);
      if (!ok) problems.push_back(o.store + ": " + error);
    }
  };
  const unsigned threads = std::min<size_t>(
      o.threads != 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency()), files.size());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();

  for (const auto& p : problems) fmt::print(stderr, "orbwatch import: {}\n", p);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!o.quiet) {
    fmt::print(stderr,
               "orbwatch import: {} files, {} flows into {} segments in {:.2f} s ({:.1f} M "
               "flows/s); {} records of unmapped types skipped, {} damaged blocks, {} unreadable "
               "files{}\n",
               files.size(), flows.load(), segments.load(), s,
               s > 0 ? static_cast<double>(flows.load()) / s / 1e6 : 0.0, skipped.load(),
               damaged_blocks.load(), bad_files.load(),
               not_stored != 0 ? fmt::format(", {} flows NOT stored", not_stored.load()) : "");
  }
  return problems.empty() ? 0 : 1;
}

}  // namespace

void add_import_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ImportOptions>();
  CLI::App* cmd = app.add_subcommand("import", "Import flow history into the archive");
  cmd->require_subcommand(1);
  CLI::App* nf = cmd->add_subcommand(
      "nfcapd",
      "nfdump 1.6 / 1.7 files (nfcapd.*, nfdump -w; uncompressed, LZO, bzip2, LZ4, zstd): each "
      "becomes one archive segment");
  nf->add_option("paths", o->paths, "files, or directories searched for nfcapd.* files")
      ->required();
  nf->add_option("--store", o->store, "data directory of the archive (default /var/lib/orbwatch)");
  nf->add_option("--codec", o->codec, "block compression: zstd (default) or lz4");
  nf->add_option("--threads", o->threads, "files read at once (default: one per core)");
  nf->add_flag("--quiet,-q", o->quiet, "no summary line on stderr");
  nf->callback([o, &exit_code] { exit_code = run_import(*o); });
}

}  // namespace orbwatch::cli
