#include "sink/clickhouse_query.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "core/time.h"

namespace orbwatch::sink {

namespace {

// Little-endian RowBinary reads from the front of a buffer.
class Row {
 public:
  explicit Row(std::string_view d) : d_(d) {}
  template <typename T>
  bool num(T& v) {
    if (d_.size() - pos_ < sizeof(T)) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      x |= uint64_t(static_cast<uint8_t>(d_[pos_ + i])) << (8 * i);
    v = static_cast<T>(x);
    pos_ += sizeof(T);
    return true;
  }
  bool addr(IpAddr& a) {
    if (d_.size() - pos_ < 16) return false;
    std::memcpy(a.b.data(), d_.data() + pos_, 16);
    pos_ += 16;
    return true;
  }
  bool str(std::string_view& s) {
    uint64_t n = 0;
    for (int shift = 0;; shift += 7) {  // LEB128 length
      if (pos_ >= d_.size() || shift > 63) return false;
      const auto byte = static_cast<uint8_t>(d_[pos_++]);
      n |= uint64_t(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
    if (d_.size() - pos_ < n) return false;
    s = d_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

constexpr uint64_t kMaxStringBytes = 1 << 20;  // a server_name longer than this is not a name

// The SQL of a group field: the column, or both sides through arrayJoin (a flow counts once
// for each, as Aggregator does).
const char* group_sql(store::GroupField f) {
  using F = store::GroupField;
  switch (f) {
    case F::kSrcIp:
      return "src_ip";
    case F::kDstIp:
      return "dst_ip";
    case F::kIp:
      return "arrayJoin([src_ip, dst_ip])";
    case F::kSrcPort:
      return "toUInt32(src_port)";
    case F::kDstPort:
      return "toUInt32(dst_port)";
    case F::kPort:
      return "toUInt32(arrayJoin([src_port, dst_port]))";
    case F::kProto:
      return "toUInt32(proto)";
    case F::kSrcAs:
      return "src_as";
    case F::kDstAs:
      return "dst_as";
    case F::kAs:
      return "arrayJoin([src_as, dst_as])";
    case F::kExporter:
      return "exporter";
    case F::kInIf:
      return "in_if";
    case F::kOutIf:
      return "out_if";
    case F::kTos:
      return "toUInt32(tos)";
  }
  return "0";
}

}  // namespace

size_t read_flow_row(std::string_view data, FlowBatch& out) {
  Row row(data);
  FlowRecord r;
  uint64_t start = 0, end = 0;
  uint8_t source = 0, direction = 0, biflow = 0;
  std::string_view name;
  if (!row.num(start) || !row.num(end) || !row.addr(r.src) || !row.addr(r.dst) ||
      !row.num(r.src_port) || !row.num(r.dst_port) || !row.num(r.proto) || !row.num(r.tcp_flags) ||
      !row.num(r.bytes) || !row.num(r.packets) || !row.addr(r.exporter) || !row.num(r.in_if) ||
      !row.num(r.out_if) || !row.num(r.src_as) || !row.num(r.dst_as) || !row.num(r.sampling_rate) ||
      !row.num(r.obs_domain) || !row.num(source) || !row.num(direction) || !row.num(r.vlan) ||
      !row.num(r.tos) || !row.num(r.src_mask) || !row.num(r.dst_mask) || !row.num(biflow) ||
      !row.str(name)) {
    return 0;
  }
  r.start_ms = static_cast<int64_t>(std::min<uint64_t>(start, INT64_MAX));
  r.end_ms = static_cast<int64_t>(std::min<uint64_t>(end, INT64_MAX));
  r.source = source <= static_cast<uint8_t>(FlowSource::kMeter) ? static_cast<FlowSource>(source)
                                                                : FlowSource::kUnknown;
  r.direction = direction <= 2 ? static_cast<FlowDirection>(direction) : FlowDirection::kUnknown;
  r.flags = biflow == 1 ? flow_flags::kBiflowForward : biflow == 2 ? flow_flags::kBiflowReverse : 0;
  if (!name.empty()) r.name_ref = out.add_name(name);
  out.records.push_back(r);
  return row.pos();
}

std::string flow_where(const FlowSelect& s) {
  std::string w;
  auto add = [&](const std::string& cond) { w += (w.empty() ? "" : " AND ") + cond; };
  // Overlap, as the archive's scans: started by the end, ended since the start.
  if (s.to_ms != std::numeric_limits<int64_t>::max())
    add(s.to_ms < 0 ? "0" : fmt::format("ts_start <= {}", s.to_ms));
  if (s.from_ms > 0)  // ts_end is unsigned: a start at or before 0 bounds nothing
    add(fmt::format("ts_end >= {}", s.from_ms));
  if (s.filter != nullptr && !s.filter->matches_all()) add(s.filter->to_sql());
  if (!s.extra_where.empty()) add("(" + s.extra_where + ")");
  return w.empty() ? "1" : w;
}

bool select_flows(ClickHouseClient& client, const FlowSelect& s, size_t limit,
                  const std::function<bool(FlowBatch&)>& consume, uint64_t& rows,
                  std::string& error) {
  const auto table = client.table("flows", error);
  if (!table) return false;
  const std::string sql = fmt::format(
      "SELECT {} FROM {} WHERE {} ORDER BY ts_start, src_ip, dst_ip, src_port, dst_port{} "
      "FORMAT RowBinary",
      flow_read_columns(), *table, flow_where(s),
      limit != 0 ? fmt::format(" LIMIT {}", limit) : "");
  std::string pending;  // a row cut between two chunks
  FlowBatch batch;
  bool bad = false;
  rows = 0;
  auto flush = [&] {
    const bool more = batch.empty() || consume(batch);
    batch.clear();
    return more;
  };
  const bool ok = client.select(
      sql,
      [&](std::string_view chunk) {
        pending.append(chunk);
        size_t at = 0;
        while (at < pending.size()) {
          const size_t n = read_flow_row(std::string_view(pending).substr(at), batch);
          if (n == 0) break;
          at += n;
          ++rows;
        }
        pending.erase(0, at);
        // A row never needs more than its fixed part and one name.
        if (pending.size() > 256 + kMaxStringBytes) {
          bad = true;
          return false;
        }
        return batch.size() < 4096 || flush();
      },
      error);
  if (bad) {
    error = fmt::format("ClickHouse {}: an answer row does not decode", client.options().url);
    return false;
  }
  if (!ok) return false;
  if (!pending.empty()) {
    error = fmt::format("ClickHouse {}: the answer ends inside a row", client.options().url);
    return false;
  }
  flush();
  return true;
}

std::optional<TopFlows> top_flows(ClickHouseClient& client, const FlowSelect& s,
                                  const store::GroupSpec& spec, store::GroupOrder order, size_t n,
                                  std::string& error) {
  const auto table = client.table("flows", error);
  if (!table) return std::nullopt;
  const std::string where = flow_where(s);
  TopFlows out;
  // The total: every matching flow once (a flow of an ip/port/as group counts once here too).
  auto total = client.query(fmt::format("SELECT count(), sum(packets), sum(bytes), "
                                        "min(ts_start), max(ts_end) FROM {} WHERE {} "
                                        "FORMAT RowBinary",
                                        *table, where),
                            error);
  if (!total) return std::nullopt;
  {
    Row row(*total);
    uint64_t first = 0, last = 0;
    if (!row.num(out.total.flows) || !row.num(out.total.packets) || !row.num(out.total.bytes) ||
        !row.num(first) || !row.num(last)) {
      error = fmt::format("ClickHouse {}: the totals do not decode", client.options().url);
      return std::nullopt;
    }
    out.total.first_ms = static_cast<int64_t>(first);
    out.total.last_ms = static_cast<int64_t>(last);
  }
  // Keys: addresses first, then numbers (GroupKey's layout and Aggregator's tie order).
  std::string keys, addr_keys, num_keys;
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    keys += fmt::format("{}{} AS k{}", i ? ", " : "", group_sql(spec.fields[i]), i);
    std::string& to = store::is_address_field(spec.fields[i]) ? addr_keys : num_keys;
    to += fmt::format(", k{}", i);
  }
  const char* metric = order == store::GroupOrder::kBytes     ? "g_bytes"
                       : order == store::GroupOrder::kPackets ? "g_packets"
                                                              : "g_flows";
  std::string group_by;
  for (size_t i = 0; i < spec.fields.size(); ++i)
    group_by += fmt::format("{}k{}", i ? ", " : "", i);
  const std::string sql = fmt::format(
      "SELECT {}, count() AS g_flows, sum(packets) AS g_packets, sum(bytes) AS g_bytes, "
      "min(ts_start), max(ts_end) FROM {} WHERE {} GROUP BY {} ORDER BY {} DESC{}{}{} "
      "FORMAT RowBinary",
      keys, *table, where, group_by, metric, addr_keys, num_keys,
      n != 0 ? fmt::format(" LIMIT {}", n) : "");
  const auto answer = client.query(sql, error);
  if (!answer) return std::nullopt;
  Row row(*answer);
  while (row.pos() < answer->size()) {
    store::GroupKey key;
    store::GroupTotals t;
    size_t a = 0, k = 0;
    bool ok = true;
    for (store::GroupField f : spec.fields)
      ok = ok && (store::is_address_field(f) ? row.addr(key.ip[a++]) : row.num(key.n[k++]));
    uint64_t first = 0, last = 0;
    if (!ok || !row.num(t.flows) || !row.num(t.packets) || !row.num(t.bytes) || !row.num(first) ||
        !row.num(last)) {
      error = fmt::format("ClickHouse {}: a group does not decode", client.options().url);
      return std::nullopt;
    }
    t.first_ms = static_cast<int64_t>(first);
    t.last_ms = static_cast<int64_t>(last);
    out.rows.emplace_back(key, t);
  }
  return out;
}

std::optional<std::vector<BucketTotals>> flow_buckets(ClickHouseClient& client, const FlowSelect& s,
                                                      int64_t step_ms, int64_t first, int64_t last,
                                                      std::string& error) {
  const auto table = client.table("flows", error);
  if (!table) return std::nullopt;
  if (step_ms <= 0 || last < first || last - first > 10'000'000) {
    error = "ClickHouse: bad bucket query";
    return std::nullopt;
  }
  std::vector<BucketTotals> out(static_cast<size_t>(last - first + 1));
  // ts_start is unsigned: buckets before the epoch hold nothing.
  const int64_t lo = std::max<int64_t>(first, 0), hi = last;
  if (hi < 0) return out;
  const auto answer = client.query(
      fmt::format("SELECT intDiv(ts_start, {0}) AS k, count(), sum(packets), sum(bytes) FROM {1} "
                  "WHERE {2} AND ts_start >= {3} AND ts_start < {4} GROUP BY k FORMAT RowBinary",
                  step_ms, *table, flow_where(s), lo * step_ms, (hi + 1) * step_ms),
      error);
  if (!answer) return std::nullopt;
  Row row(*answer);
  while (row.pos() < answer->size()) {
    uint64_t k = 0;
    BucketTotals t;
    if (!row.num(k) || !row.num(t.flows) || !row.num(t.packets) || !row.num(t.bytes) ||
        static_cast<int64_t>(k) < first || static_cast<int64_t>(k) > last) {
      error = fmt::format("ClickHouse {}: a bucket does not decode", client.options().url);
      return std::nullopt;
    }
    out[static_cast<size_t>(static_cast<int64_t>(k) - first)] = t;
  }
  return out;
}

std::optional<int64_t> newest_flow_ms(ClickHouseClient& client, std::string& error) {
  const auto table = client.table("flows", error);
  if (!table) return std::nullopt;
  auto answer = client.query(
      fmt::format("SELECT count(), max(ts_end) FROM {} FORMAT RowBinary", *table), error);
  if (!answer) return std::nullopt;
  Row row(*answer);
  uint64_t count = 0, newest = 0;
  if (!row.num(count) || !row.num(newest)) {
    error = fmt::format("ClickHouse {}: the newest flow does not decode", client.options().url);
    return std::nullopt;
  }
  return count == 0 ? wall_clock_ms() : static_cast<int64_t>(newest);
}

}  // namespace orbwatch::sink
