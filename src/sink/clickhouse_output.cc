#include "sink/clickhouse_output.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <fmt/core.h>

#include "core/gzip.h"
#include "core/time.h"

namespace orbwatch::sink {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMinuteMs = 60'000;
constexpr size_t kMaxStagedAlerts = 100'000;
constexpr std::string_view kMagic = "orbwatch-clickhouse-spool 1";

uint64_t ts(int64_t ms) {
  return static_cast<uint64_t>(std::max<int64_t>(ms, 0));  // as the ts_start column holds it
}

}  // namespace

ClickHouseOutput::ClickHouseOutput(Options o)
    : o_(std::move(o)), client_(o_.server), ids_(std::random_device{}()) {}

ClickHouseOutput::~ClickHouseOutput() {
  stop();
}

bool ClickHouseOutput::start(std::string& error) {
  if (o_.spool_dir.empty()) {
    error = "clickhouse: a spool directory is needed";
    return false;
  }
  if (o_.batch_rows == 0 || o_.batch_rows > kMaxBatchRows) {
    error = fmt::format("clickhouse: batch_size must be 1 .. {}", kMaxBatchRows);
    return false;
  }
  std::error_code ec;
  fs::create_directories(o_.spool_dir, ec);
  if (ec) {
    error = fmt::format("clickhouse: spool {}: {}", o_.spool_dir, ec.message());
    return false;
  }
  // What a previous run left: sent first, in its order.
  std::vector<Batch> found;
  for (const auto& e : fs::directory_iterator(o_.spool_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".tmp")) {
      fs::remove(e.path(), ec);  // a write a crash interrupted; its batch was not counted
      continue;
    }
    if (!name.ends_with(".batch")) continue;
    Batch b;
    b.seq = std::strtoull(name.c_str(), nullptr, 10);
    if (b.seq == 0 || !load_body(b)) {
      fs::rename(e.path(), e.path().string() + ".bad", ec);
      ++counts_.errors;
      counts_.last_error =
          fmt::format("clickhouse: spool file {} is unreadable (kept as .bad)", e.path().string());
      continue;
    }
    b.body.clear();
    found.push_back(std::move(b));
  }
  if (ec) {
    error = fmt::format("clickhouse: spool {}: {}", o_.spool_dir, ec.message());
    return false;
  }
  std::sort(found.begin(), found.end(),
            [](const Batch& a, const Batch& b) { return a.seq < b.seq; });
  for (Batch& b : found) {
    next_seq_ = std::max(next_seq_, b.seq + 1);
    spool_bytes_ += b.bytes;
    spool_.push_back(std::move(b));
  }
  publish();
  {
    std::lock_guard lock(mu_);
    running_ = true;
  }
  encoder_ = std::thread([this] { encode_loop(); });
  thread_ = std::thread([this] { send_loop(); });
  return true;
}

void ClickHouseOutput::add_flows(const FlowBatch& batch) {
  if (!o_.flows || batch.empty()) return;
  std::unique_lock lock(mu_);
  space_.wait(lock, [&] { return !running_ || stopping_ || staged_.size() < 4 * o_.batch_rows; });
  staged_.append(batch);
  if (staged_.size() >= o_.batch_rows) wake_.notify_one();
}

void ClickHouseOutput::emit(const Alert& alert) {
  if (!o_.alerts) return;
  std::lock_guard lock(mu_);
  if (staged_alerts_.size() >= kMaxStagedAlerts) {
    ++shed_alerts_;
    return;
  }
  staged_alerts_.push_back(alert);
}

void ClickHouseOutput::stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  space_.notify_all();
  if (encoder_.joinable()) encoder_.join();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  running_ = false;
}

ClickHouseOutput::Stats ClickHouseOutput::stats() const {
  std::lock_guard lock(mu_);
  Stats s = published_;
  s.staged_flows = staged_.size();
  s.dropped_alerts += shed_alerts_;
  return s;
}

void ClickHouseOutput::publish() {
  Stats s = counts_;
  s.spool_bytes = spool_bytes_;
  s.spool_batches = spool_.size();
  std::lock_guard lock(mu_);
  published_ = std::move(s);
}

// The encoder turns staged flows and alerts into insert bodies (RowBinary, gzip) while the
// sender's previous insert is in flight: both overlap instead of taking turns.
void ClickHouseOutput::encode_loop() {
  using Clock = std::chrono::steady_clock;
  auto next_flush = Clock::now() + std::chrono::milliseconds(o_.flush_ms);
  FlowBatch flows;
  std::vector<Alert> alerts;
  std::vector<Batch> batches;
  for (;;) {
    bool stop = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait_until(lock, next_flush,
                       [&] { return stopping_ || staged_.size() >= o_.batch_rows; });
      const auto now = Clock::now();
      if (stopping_ || staged_.size() >= o_.batch_rows || now >= next_flush) {
        std::swap(flows, staged_);
        std::swap(alerts, staged_alerts_);
        next_flush = now + std::chrono::milliseconds(o_.flush_ms);
      }
      stop = stopping_;
    }
    space_.notify_all();
    batches.clear();
    encode_flows(flows, batches);
    encode_alerts(alerts, batches);
    flows.clear();
    alerts.clear();
    {
      std::unique_lock lock(mu_);
      for (Batch& b : batches) {
        // At most kMaxEncoded bodies wait for the sender; then the staged flows grow.
        encoded_space_.wait(lock, [&] { return encoded_.size() < kMaxEncoded; });
        encoded_.push_back(std::move(b));
        encoded_ready_.notify_one();
      }
      if (stop) {
        encoder_done_ = true;
        encoded_ready_.notify_one();
        return;  // the producers stopped before stop() was called
      }
    }
  }
}

void ClickHouseOutput::send_loop() {
  for (;;) {
    Batch b;
    bool have = false, done = false;
    {
      std::unique_lock lock(mu_);
      // Woken at least every flush interval: the spool is retried even without new batches.
      encoded_ready_.wait_for(lock, std::chrono::milliseconds(o_.flush_ms),
                              [&] { return !encoded_.empty() || encoder_done_; });
      if (!encoded_.empty()) {
        b = std::move(encoded_.front());
        encoded_.pop_front();
        have = true;
      } else {
        done = encoder_done_;
      }
    }
    encoded_space_.notify_one();
    if (have) deliver(b);
    replay(done ? wall_clock_ms() + o_.stop_replay_ms : INT64_MAX);
    publish();
    if (done) return;
  }
}

void ClickHouseOutput::encode_flows(FlowBatch& flows, std::vector<Batch>& out) {
  const size_t n = flows.size();
  if (n == 0) return;
  // One UTC day per insert (one partition, so one part); staged flows nearly always share one.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  auto day = [&](uint32_t i) { return ts(flows.records[i].start_ms) / kDayMs; };
  const bool one_day =
      std::all_of(order.begin(), order.end(), [&](uint32_t i) { return day(i) == day(0); });
  if (!one_day)
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return day(a) < day(b); });
  size_t i = 0;
  while (i < n) {
    Batch b;
    b.id = ids_();
    const uint64_t d = day(order[i]);
    const size_t begin = i;
    std::string rows;
    rows.reserve(std::min(n - i, o_.batch_rows) * 140);
    b.minute_lo = INT64_MAX;
    b.minute_hi = 0;
    for (; i < n && i - begin < o_.batch_rows && day(order[i]) == d; ++i) {
      const int64_t minute = static_cast<int64_t>(ts(flows.records[order[i]].start_ms)) / kMinuteMs;
      b.minute_lo = std::min(b.minute_lo, minute);
      b.minute_hi = std::max(b.minute_hi, minute);
      append_flow_row(rows, flows, order[i], b.id);
    }
    b.rows = i - begin;
    b.gzipped = o_.gzip;
    b.body = o_.gzip ? gzip(rows, 1) : std::move(rows);
    out.push_back(std::move(b));
  }
}

void ClickHouseOutput::encode_alerts(const std::vector<Alert>& alerts, std::vector<Batch>& out) {
  if (alerts.empty()) return;
  std::string rows;
  for (const Alert& a : alerts) append_alert_row(rows, a);
  Batch b;
  b.alerts = true;
  b.rows = alerts.size();
  b.gzipped = o_.gzip;
  b.body = o_.gzip ? gzip(rows, 1) : std::move(rows);
  out.push_back(std::move(b));
}

void ClickHouseOutput::deliver(Batch& b) {
  // Behind a spooled batch, or in back-off: to the spool, so that order is kept.
  if (!spool_.empty() || wall_clock_ms() < retry_at_ms_ || !send(b, false)) spool(b);
}

void ClickHouseOutput::replay(int64_t until_ms) {
  while (!spool_.empty()) {
    const int64_t now = wall_clock_ms();
    if (now < retry_at_ms_ || now > until_ms) return;
    Batch& b = spool_.front();
    if (!load_body(b)) {
      (b.alerts ? counts_.dropped_alerts : counts_.dropped_flows) += b.rows;
      ++counts_.errors;
      counts_.last_error =
          fmt::format("clickhouse: spool file {} is unreadable (dropped)", spool_path(b));
    } else if (!send(b, true)) {
      b.body.clear();  // back on disk only
      return;
    } else {
      ++counts_.replayed_batches;
    }
    std::error_code ec;
    fs::remove(spool_path(b), ec);
    spool_bytes_ -= std::min(spool_bytes_, b.bytes);
    spool_.pop_front();
  }
}

bool ClickHouseOutput::send(const Batch& b, bool check_first) {
  std::string error;
  if (!schema_ok_) {
    if (!client_.create_schema(error)) {
      failed(error);
      return false;
    }
    schema_ok_ = true;
  }
  if (check_first && !b.alerts) {
    // Its insert may have landed with the answer lost: the batch id within its minutes
    // (the table's order key) tells.
    auto found = client_.query(fmt::format("SELECT count() FROM {}.flows WHERE "
                                           "intDiv(ts_start, 60000) BETWEEN {} AND {} AND "
                                           "batch = {}",
                                           o_.server.database, b.minute_lo, b.minute_hi, b.id),
                               error);
    if (!found) {
      failed(error);
      return false;
    }
    if (std::strtoull(found->c_str(), nullptr, 10) != 0) {
      ++counts_.duplicate_batches;
      counts_.flows_sent += b.rows;
      return true;
    }
  }
  if (!client_.insert_body(b.alerts ? "alerts" : "flows",
                           b.alerts ? alert_columns() : flow_columns(), b.body, b.gzipped, error)) {
    failed(error);
    return false;
  }
  (b.alerts ? counts_.alerts_sent : counts_.flows_sent) += b.rows;
  ++counts_.inserts;
  counts_.last_insert_ms = wall_clock_ms();
  backoff_ms_ = 0;
  return true;
}

void ClickHouseOutput::failed(const std::string& error) {
  ++counts_.errors;
  counts_.last_error = error;
  schema_ok_ = false;  // the server may have lost it (a new data directory)
  backoff_ms_ = backoff_ms_ == 0 ? o_.backoff_ms : std::min(backoff_ms_ * 2, o_.max_backoff_ms);
  retry_at_ms_ = wall_clock_ms() + backoff_ms_;
  publish();
}

std::string ClickHouseOutput::spool_path(const Batch& b) const {
  return (fs::path(o_.spool_dir) / fmt::format("{:020}.batch", b.seq)).string();
}

bool ClickHouseOutput::spool(Batch& b) {
  const std::string header =
      fmt::format("{} {} {} {} {} {} {}\n", kMagic, b.alerts ? "alerts" : "flows", b.rows, b.id,
                  b.minute_lo, b.minute_hi, b.gzipped ? "gzip" : "none");
  b.bytes = header.size() + b.body.size();
  auto lost = [&](const std::string& why) {
    (b.alerts ? counts_.dropped_alerts : counts_.dropped_flows) += b.rows;
    ++counts_.errors;
    counts_.last_error = why;
    b.body.clear();
    return false;
  };
  if (b.bytes > o_.max_spool_bytes)
    return lost(
        fmt::format("clickhouse: a batch of {} bytes is larger than max_spool (dropped)", b.bytes));
  while (!spool_.empty() && spool_bytes_ + b.bytes > o_.max_spool_bytes) drop_oldest();
  b.seq = next_seq_++;
  const std::string path = spool_path(b);
  {
    std::ofstream f(path + ".tmp", std::ios::binary | std::ios::trunc);
    f << header;
    f.write(b.body.data(), static_cast<std::streamsize>(b.body.size()));
    if (!f.flush()) return lost(fmt::format("clickhouse: spool {}: cannot write (dropped)", path));
  }
  std::error_code ec;
  fs::rename(path + ".tmp", path, ec);
  if (ec) return lost(fmt::format("clickhouse: spool {}: {} (dropped)", path, ec.message()));
  b.body.clear();
  spool_bytes_ += b.bytes;
  ++counts_.spooled_batches;
  spool_.push_back(std::move(b));
  return true;
}

void ClickHouseOutput::drop_oldest() {
  const Batch& b = spool_.front();
  (b.alerts ? counts_.dropped_alerts : counts_.dropped_flows) += b.rows;
  counts_.last_error = fmt::format(
      "clickhouse: the spool is full ({} bytes): oldest batch "
      "dropped",
      o_.max_spool_bytes);
  std::error_code ec;
  fs::remove(spool_path(b), ec);
  spool_bytes_ -= std::min(spool_bytes_, b.bytes);
  spool_.pop_front();
}

bool ClickHouseOutput::load_body(Batch& b) {
  std::ifstream f(spool_path(b), std::ios::binary);
  std::string header;
  if (!f || !std::getline(f, header) || !header.starts_with(kMagic)) return false;
  std::istringstream in(header.substr(kMagic.size()));
  std::string t, compression;
  uint64_t rows = 0, id = 0;
  int64_t lo = 0, hi = 0;
  if (!(in >> t >> rows >> id >> lo >> hi >> compression) || (t != "flows" && t != "alerts") ||
      (compression != "gzip" && compression != "none"))
    return false;
  b.gzipped = compression == "gzip";
  b.alerts = t == "alerts";
  b.rows = rows;
  b.id = id;
  b.minute_lo = lo;
  b.minute_hi = hi;
  b.body.assign(std::istreambuf_iterator<char>(f), {});
  b.bytes = header.size() + 1 + b.body.size();
  return !b.body.empty();
}

}  // namespace orbwatch::sink
