#include "server/flow_source.h"

#include <chrono>

#include "core/time.h"
#include "sink/clickhouse_query.h"
#include "store/archive.h"

namespace orbwatch::server {

namespace {

class ArchiveSource final : public FlowSource {
 public:
  explicit ArchiveSource(std::string dir) : dir_(std::move(dir)) {}
  int64_t newest_ms() const override { return store::archive::newest_ms(dir_); }
  store::ScanStats scan(const store::ScanSpec& spec, size_t,
                        const store::ScanConsumer& consume) const override {
    return store::scan(dir_, spec, consume);
  }
  unsigned workers(const store::ScanSpec& spec) const override { return store::scan_threads(spec); }

 private:
  std::string dir_;
};

sink::FlowSelect select_of(const store::ScanSpec& spec) {
  sink::FlowSelect s;
  s.from_ms = spec.from_ms;
  s.to_ms = spec.to_ms;
  s.filter = spec.filter;
  return s;
}

class ClickHouseSource final : public FlowSource {
 public:
  explicit ClickHouseSource(sink::ClickHouseOptions o) : o_(std::move(o)) {}

  int64_t newest_ms() const override {
    // Every view asks first; a second's staleness is fine for "since 24h".
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (now - newest_at_ < std::chrono::seconds(1)) return newest_;
    sink::ClickHouseClient client(o_);
    std::string error;
    newest_ = sink::newest_flow_ms(client, error).value_or(wall_clock_ms());
    newest_at_ = now;
    return newest_;
  }

  store::ScanStats scan(const store::ScanSpec& spec, size_t limit,
                        const store::ScanConsumer& consume) const override {
    store::ScanStats stats;
    sink::ClickHouseClient client(o_);
    std::string error;
    if (!sink::select_flows(
            client, select_of(spec), limit, [&](FlowBatch& b) { return consume(0, b); },
            stats.records_read, error))
      stats.problems.push_back(error);
    stats.records_matched = stats.records_read;
    return stats;
  }
  unsigned workers(const store::ScanSpec&) const override { return 1; }

  Top top(const store::ScanSpec& spec, const store::GroupSpec& group, store::GroupOrder order,
          size_t n, size_t) const override {
    Top out;
    sink::ClickHouseClient client(o_);
    std::string error;
    auto t = sink::top_flows(client, select_of(spec), group, order, n, error);
    if (!t) {
      out.stats.problems.push_back(error);
      return out;
    }
    out.rows = std::move(t->rows);
    out.total = t->total;
    out.stats.records_read = out.stats.records_matched = t->total.flows;
    return out;
  }

  std::vector<Bucket> buckets(const store::ScanSpec& spec, int64_t step, int64_t first,
                              int64_t last, store::ScanStats& stats) const override {
    std::vector<Bucket> out(static_cast<size_t>(last - first + 1));
    sink::ClickHouseClient client(o_);
    std::string error;
    const auto b = sink::flow_buckets(client, select_of(spec), step, first, last, error);
    if (!b) {
      stats.problems.push_back(error);
      return out;
    }
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = {(*b)[i].flows, (*b)[i].packets, (*b)[i].bytes};
      stats.records_matched += (*b)[i].flows;
    }
    stats.records_read = stats.records_matched;
    return out;
  }

 private:
  sink::ClickHouseOptions o_;
  mutable std::mutex mu_;
  mutable int64_t newest_ = 0;
  mutable std::chrono::steady_clock::time_point newest_at_{};
};

}  // namespace

FlowSource::Top FlowSource::top(const store::ScanSpec& spec, const store::GroupSpec& group,
                                store::GroupOrder order, size_t n, size_t max_groups) const {
  store::ScanSpec s = spec;
  s.columns = group.columns();
  std::vector<store::Aggregator> parts;
  const unsigned w = workers(s);
  parts.reserve(w);
  for (unsigned i = 0; i < w; ++i) parts.emplace_back(group, max_groups);
  Top out;
  out.stats = scan(s, 0, [&](unsigned worker, FlowBatch& b) {
    parts[worker].add(b.records.data(), b.records.size());
    return true;
  });
  for (unsigned i = 1; i < w; ++i) parts[0].merge(parts[i]);
  out.rows = parts[0].top(order, n);
  out.total = parts[0].total();
  out.overflowed = parts[0].overflowed();
  return out;
}

std::vector<FlowSource::Bucket> FlowSource::buckets(const store::ScanSpec& spec, int64_t step,
                                                    int64_t first, int64_t last,
                                                    store::ScanStats& stats) const {
  namespace col = store::segment::column;
  store::ScanSpec s = spec;
  s.columns = col::kStart | col::kBytes | col::kPackets;
  const auto n = static_cast<size_t>(last - first + 1);
  std::vector<std::vector<Bucket>> parts(workers(s), std::vector<Bucket>(n));
  stats = scan(s, 0, [&](unsigned w, FlowBatch& b) {
    for (const FlowRecord& r : b.records) {
      const int64_t k = floor_div(r.start_ms, step);
      if (k < first || k > last) continue;  // began before the range, overlaps it
      Bucket& t = parts[w][static_cast<size_t>(k - first)];
      ++t.flows;
      t.packets += r.packets;
      t.bytes += r.bytes;
    }
    return true;
  });
  for (size_t w = 1; w < parts.size(); ++w) {
    for (size_t i = 0; i < n; ++i) {
      parts[0][i].flows += parts[w][i].flows;
      parts[0][i].packets += parts[w][i].packets;
      parts[0][i].bytes += parts[w][i].bytes;
    }
  }
  return std::move(parts[0]);
}

std::unique_ptr<FlowSource> archive_source(std::string store_path) {
  return std::make_unique<ArchiveSource>(std::move(store_path));
}

std::unique_ptr<FlowSource> clickhouse_source(sink::ClickHouseOptions options) {
  return std::make_unique<ClickHouseSource>(std::move(options));
}

}  // namespace orbwatch::server
