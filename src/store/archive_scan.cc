#include "store/archive_scan.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "store/archive.h"

namespace orbwatch::store {

namespace {

// Files opened at once: bounds open descriptors and the block summaries held in memory.
constexpr size_t kFilesPerGroup = 64;
// Ordered scans: blocks read ahead of the one being delivered, per worker.
constexpr size_t kReadAheadPerWorker = 4;

struct Candidate {
  size_t file;  // index into the group
  size_t block;
};

// Runs fn(worker) on `threads` threads (the caller's when one).
template <typename F>
void run_workers(unsigned threads, F&& fn) {
  if (threads <= 1) {
    fn(0u);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned w = 0; w < threads; ++w) pool.emplace_back([&fn, w] { fn(w); });
  for (auto& t : pool) t.join();
}

bool block_wanted(const SegmentReader& r, size_t i, const ScanSpec& spec,
                  const std::optional<std::vector<Prefix>>& hint) {
  if (!r.may_contain_time(i, spec.from_ms, spec.to_ms)) return false;
  if (hint) {
    const bool any = std::any_of(hint->begin(), hint->end(), [&](const Prefix& p) {
      const bool host = p.len == 128;
      return host ? r.may_contain(i, p.addr) : r.may_contain(i, p);
    });
    if (!any) return false;
  }
  return !spec.block_may_match || spec.block_may_match(r, i);
}

bool whole_time(const ScanSpec& spec) {
  return spec.from_ms == std::numeric_limits<int64_t>::min() &&
         spec.to_ms == std::numeric_limits<int64_t>::max();
}
bool filters(const ScanSpec& spec) {
  return spec.filter != nullptr && !spec.filter->matches_all();
}

// The indexes of the records of `b` that overlap the time range and pass the filter.
void select_matching(const FlowBatch& b, const ScanSpec& spec, std::vector<uint32_t>& sel) {
  const bool all_times = whole_time(spec);
  const auto& recs = b.records;
  sel.resize(recs.size());
  size_t n = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    sel[n] = static_cast<uint32_t>(i);
    n += all_times || (recs[i].start_ms <= spec.to_ms && recs[i].end_ms >= spec.from_ms);
  }
  sel.resize(n);
  if (filters(spec) && !sel.empty()) spec.filter->select(recs.data(), sel);
}

// Keeps the records of `b` that overlap the time range and pass the filter.
void keep_matching(FlowBatch& b, const ScanSpec& spec, std::vector<uint32_t>& sel) {
  if (whole_time(spec) && !filters(spec)) return;
  select_matching(b, spec, sel);
  auto& recs = b.records;
  if (sel.size() == recs.size()) return;
  for (size_t k = 0; k < sel.size(); ++k) {
    if (sel[k] != k) recs[k] = recs[sel[k]];
  }
  recs.resize(sel.size());
}

// Per worker: buffers reused from block to block.
struct WorkerScratch {
  BlockScratch block;
  FlowBatch probe;  // phase 1 of a two-phase read: the filter's fields of every record
  std::vector<uint32_t> sel;
};

class Scanner {
 public:
  Scanner(const ScanSpec& spec, const ScanConsumer& consume)
      : spec_(spec), consume_(consume), threads_(scan_threads(spec)), columns_(spec.columns) {
    if (spec.filter != nullptr) {
      hint_ = spec.filter->address_hint();
      columns_ |= spec.filter->columns();
    }
    if (!whole_time(spec)) {
      columns_ |= segment::column::kStart | segment::column::kEnd;
      probe_columns_ |= segment::column::kStart | segment::column::kEnd;
    }
    columns_ = segment::needed_columns(columns_);
    if (filters(spec))
      probe_columns_ = segment::needed_columns(probe_columns_ | spec.filter->columns());
    // Two phases when the output needs columns the filter does not: decode the filter's columns
    // of every record, then the rest of the matching records only.
    two_phase_ = filters(spec) && (columns_ & ~probe_columns_) != 0;
  }

  ScanStats run(const std::string& dir) {
    auto files = archive::list(dir, stats_.problems);
    std::vector<std::string> group;
    for (const auto& f : files) {
      if (f.last_ms < spec_.from_ms || f.first_ms > spec_.to_ms) {
        ++stats_.files_skipped;
        continue;
      }
      group.push_back(f.path);
      if (group.size() == kFilesPerGroup) {
        scan_group(group);
        group.clear();
      }
      if (stop_) break;
    }
    if (!group.empty() && !stop_) scan_group(group);
    stats_.records_read = records_read_;
    stats_.records_matched = records_matched_;
    stats_.bytes_read = bytes_read_;
    return std::move(stats_);
  }

 private:
  void problem(std::string text) {
    std::lock_guard lock(mu_);
    stats_.problems.push_back(std::move(text));
  }

  void scan_group(const std::vector<std::string>& paths) {
    // Phase 1: open the files and choose their blocks.
    std::vector<std::optional<SegmentReader>> readers(paths.size());
    std::vector<std::vector<size_t>> chosen(paths.size());
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> blocks{0}, skipped{0};
    run_workers(std::min<unsigned>(threads_, static_cast<unsigned>(paths.size())), [&](unsigned) {
      for (size_t k; (k = next.fetch_add(1)) < paths.size();) {
        std::string error;
        readers[k] = SegmentReader::open(paths[k], error);
        if (!readers[k]) {
          problem(error);
          continue;
        }
        const SegmentReader& r = *readers[k];
        for (const auto& p : r.problems()) problem(p);
        blocks += r.blocks().size();
        for (size_t i = 0; i < r.blocks().size(); ++i) {
          if (block_wanted(r, i, spec_, hint_)) {
            chosen[k].push_back(i);
          } else {
            ++skipped;
          }
        }
      }
    });
    stats_.files += paths.size();
    stats_.blocks += blocks;
    stats_.blocks_skipped += skipped;
    std::vector<Candidate> items;
    for (size_t k = 0; k < paths.size(); ++k) {
      for (size_t i : chosen[k]) items.push_back({k, i});
    }
    if (items.empty()) return;
    // Phase 2: read, check and filter the chosen blocks.
    if (spec_.ordered) {
      read_ordered(readers, items);
    } else {
      read_unordered(readers, items);
    }
  }

  // Reads item k into `batch` (the matching records); false when the block is damaged
  // (reported).
  bool read(const std::vector<std::optional<SegmentReader>>& readers, const Candidate& c,
            FlowBatch& batch, WorkerScratch& ws) {
    batch.clear();
    std::string error;
    const SegmentReader& r = *readers[c.file];
    const segment::BlockHeader& h = r.blocks()[c.block].header;
    if (!two_phase_) {
      if (!r.read_block(c.block, batch, ws.block, error, columns_)) {
        problem(error);
        return false;
      }
      records_read_ += batch.records.size();
      bytes_read_ += h.total_bytes();
      keep_matching(batch, spec_, ws.sel);
      records_matched_ += batch.records.size();
      return true;
    }
    // Phase 1 into a buffer kept from block to block (resized, not cleared: only the filter's
    // fields are decoded and read).
    const char* why = nullptr;
    ws.probe.records.resize(h.records);
    if (!r.load_columns(c.block, ws.block, error, probe_columns_) ||
        !segment::decode_rows(ws.block.views, h.records, h.min_start_ms, ws.probe.records.data(),
                              nullptr, h.records, ws.probe.names, why, probe_columns_)) {
      problem(why != nullptr ? r.block_error(c.block, why) : error);
      return false;
    }
    records_read_ += h.records;
    bytes_read_ += h.total_bytes();
    select_matching(ws.probe, spec_, ws.sel);
    if (ws.sel.empty()) return true;
    // Phase 2: every needed column, for the matching records.
    if (!r.read_block(c.block, batch, ws.block, error, columns_, &ws.sel)) {
      problem(error);
      batch.clear();
      return false;
    }
    records_matched_ += batch.records.size();
    return true;
  }

  void read_unordered(const std::vector<std::optional<SegmentReader>>& readers,
                      const std::vector<Candidate>& items) {
    std::atomic<size_t> next{0};
    run_workers(std::min<unsigned>(threads_, static_cast<unsigned>(items.size())), [&](unsigned w) {
      FlowBatch batch;
      WorkerScratch ws;
      for (size_t k; !stop_ && (k = next.fetch_add(1)) < items.size();) {
        if (!read(readers, items[k], batch, ws) || batch.empty()) continue;
        if (!consume_(w, batch)) stop_ = true;
      }
    });
  }

  // Workers fill slots ahead of delivery (at most `window` blocks); the caller's thread
  // delivers them in order.
  void read_ordered(const std::vector<std::optional<SegmentReader>>& readers,
                    const std::vector<Candidate>& items) {
    const unsigned workers = std::min<unsigned>(threads_, static_cast<unsigned>(items.size()));
    const size_t window = kReadAheadPerWorker * workers;
    std::vector<std::optional<FlowBatch>> slots(items.size());
    std::mutex mu;
    std::condition_variable cv;
    size_t delivered = 0;  // guarded by mu
    size_t next = 0;       // guarded by mu
    std::thread reader_pool([&] {
      run_workers(workers, [&](unsigned) {
        FlowBatch batch;
        WorkerScratch ws;
        for (;;) {
          size_t k;
          {
            std::unique_lock lock(mu);
            cv.wait(lock,
                    [&] { return stop_ || next >= items.size() || next < delivered + window; });
            if (stop_ || next >= items.size()) return;
            k = next++;
          }
          if (!read(readers, items[k], batch, ws)) batch.clear();
          std::lock_guard lock(mu);
          slots[k] = std::move(batch);
          batch = FlowBatch{};
          cv.notify_all();
        }
      });
    });
    for (size_t k = 0; k < items.size(); ++k) {
      FlowBatch b;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return slots[k].has_value(); });
        b = std::move(*slots[k]);
        slots[k].reset();
      }
      const bool go_on = b.empty() || consume_(0, b);
      std::lock_guard lock(mu);
      delivered = k + 1;
      if (!go_on) stop_ = true;
      cv.notify_all();
      if (!go_on) break;
    }
    reader_pool.join();
  }

  const ScanSpec& spec_;
  const ScanConsumer& consume_;
  const unsigned threads_;
  uint32_t columns_;
  uint32_t probe_columns_ = 0;
  bool two_phase_ = false;
  std::optional<std::vector<Prefix>> hint_;
  std::mutex mu_;
  ScanStats stats_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> records_read_{0}, records_matched_{0}, bytes_read_{0};
};

}  // namespace

unsigned scan_threads(const ScanSpec& spec) {
  if (spec.threads != 0) return spec.threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

ScanStats scan(const std::string& dir, const ScanSpec& spec, const ScanConsumer& consume) {
  return Scanner(spec, consume).run(dir);
}

}  // namespace orbwatch::store
