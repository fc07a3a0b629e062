// `orbwatch query`: flows from the archive by time and nfdump filter, listed or aggregated
// (group-by, top-N), on all cores.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/archive_args.h"
#include "cli/commands.h"
#include "core/flow_json.h"
#include "core/proto.h"
#include "core/time.h"
#include "sink/clickhouse_query.h"
#include "store/archive_scan.h"
#include "store/flow_aggregate.h"

namespace orbwatch::cli {

namespace {

struct QueryOptions {
  ArchiveRange range;
  BackendArgs backend;
  std::vector<std::string> filter_words;
  std::string format = "table";
  std::string group_by;
  std::string top;
  std::string order;
  size_t limit = 0;
  bool limit_set = false;
  size_t max_groups = 10'000'000;
  unsigned threads = 0;
  bool quiet = false;
};

// nfdump's flag letters, most significant bit first; '.' where unset.
std::string tcp_flags_text(uint8_t f) {
  static constexpr char kLetters[] = "CEUAPRSF";
  std::string s(8, '.');
  for (int i = 0; i < 8; ++i) {
    if ((f & (0x80 >> i)) != 0) s[static_cast<size_t>(i)] = kLetters[i];
  }
  return s;
}

std::string endpoint(const IpAddr& a, uint16_t port) {
  return a.is_v4() ? fmt::format("{}:{}", a.to_string(), port)
                   : fmt::format("[{}]:{}", a.to_string(), port);
}

constexpr const char* kCsvHeader =
    "ts_start,ts_end,src_ip,dst_ip,src_port,dst_port,proto,tcp_flags,packets,bytes,exporter,"
    "in_if,out_if,src_as,dst_as,sampling_rate\n";

void append_record(std::string& out, const std::string& format, const FlowBatch& b, size_t i) {
  const FlowRecord& r = b.records[i];
  if (format == "jsonl") {
    append_flow_json(out, b, i);
  } else if (format == "csv") {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", rfc3339_ms(r.start_ms),
                       rfc3339_ms(r.end_ms), r.src.to_string(), r.dst.to_string(), r.src_port,
                       r.dst_port, r.proto, r.tcp_flags, r.packets, r.bytes, r.exporter.to_string(),
                       r.in_if, r.out_if, r.src_as, r.dst_as, r.sampling_rate);
  } else {
    out +=
        fmt::format("{} {:>9.3f} {:<5} {:>45} -> {:<45} {} {:>10} {:>12}\n", rfc3339_ms(r.start_ms),
                    static_cast<double>(r.end_ms - r.start_ms) / 1000, proto_text(r.proto),
                    endpoint(r.src, r.src_port), endpoint(r.dst, r.dst_port),
                    tcp_flags_text(r.tcp_flags), r.packets, r.bytes);
  }
}

std::string value_text(const store::GroupSpec& spec, const store::GroupKey& key, size_t i) {
  const auto v = store::group_value(spec, key, i);
  if (store::is_address_field(spec.fields[i])) return v.addr.to_string();
  if (spec.fields[i] == store::GroupField::kProto) {
    return proto_text(static_cast<uint8_t>(v.number));
  }
  return std::to_string(v.number);
}

std::string percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? "0.0"
                    : fmt::format("{:.1f}",
                                  100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

void print_groups(const store::GroupSpec& spec,
                  const std::vector<std::pair<store::GroupKey, store::GroupTotals>>& rows,
                  const store::GroupTotals& total, const std::string& format) {
  std::string out;
  if (format == "csv") {
    for (auto f : spec.fields) out += fmt::format("{},", store::group_field_name(f));
    out += "flows,packets,bytes,first_seen,last_seen\n";
  } else if (format == "table") {
    for (auto f : spec.fields) {
      out +=
          fmt::format("{:<{}} ", store::group_field_name(f), store::is_address_field(f) ? 39 : 8);
    }
    out += fmt::format("{:>12} {:>6} {:>14} {:>6} {:>16} {:>6}  {:<24} {}\n", "flows", "%",
                       "packets", "%", "bytes", "%", "first_seen", "last_seen");
  }
  for (const auto& [key, t] : rows) {
    if (format == "jsonl") {
      store::append_group_json(out, spec, key, t);
    } else if (format == "csv") {
      for (size_t i = 0; i < spec.fields.size(); ++i) {
        out += store::is_address_field(spec.fields[i])
                   ? value_text(spec, key, i) + ","
                   : std::to_string(store::group_value(spec, key, i).number) + ",";
      }
      out += fmt::format("{},{},{},{},{}\n", t.flows, t.packets, t.bytes, rfc3339_ms(t.first_ms),
                         rfc3339_ms(t.last_ms));
    } else {
      for (size_t i = 0; i < spec.fields.size(); ++i) {
        out += fmt::format("{:<{}} ", value_text(spec, key, i),
                           store::is_address_field(spec.fields[i]) ? 39 : 8);
      }
      out += fmt::format("{:>12} {:>6} {:>14} {:>6} {:>16} {:>6}  {:<24} {}\n", t.flows,
                         percent(t.flows, total.flows), t.packets,
                         percent(t.packets, total.packets), t.bytes, percent(t.bytes, total.bytes),
                         rfc3339_ms(t.first_ms), rfc3339_ms(t.last_ms));
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

// The same query answered by ClickHouse: the filter and range as WHERE, a top-N as GROUP BY.
int query_clickhouse(const QueryOptions& o, const sink::ClickHouseOptions& ch,
                     const store::Filter& filter, const std::optional<store::GroupSpec>& spec,
                     store::GroupOrder order, size_t top_n) {
  sink::ClickHouseClient client(ch);
  store::ScanSpec range;
  if (!resolve_clickhouse_range(o.range, client, "query", range)) return 2;
  sink::FlowSelect select;
  select.from_ms = range.from_ms;
  select.to_ms = range.to_ms;
  select.filter = &filter;
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  uint64_t matched = 0;
  if (spec) {
    const auto top = sink::top_flows(client, select, *spec, order, top_n, error);
    if (!top) {
      fmt::print(stderr, "orbwatch query: {}\n", error);
      return 1;
    }
    print_groups(*spec, top->rows, top->total, o.format);
    matched = top->total.flows;
  } else {
    if (o.format == "csv") std::fputs(kCsvHeader, stdout);
    std::string out;
    // -n 0 lists nothing, as over the archive (LIMIT 0 would be every flow).
    const bool ok =
        (o.limit_set && o.limit == 0) || sink::select_flows(
                                             client, select, o.limit_set ? o.limit : 0,
                                             [&](FlowBatch& b) {
                                               for (size_t i = 0; i < b.size(); ++i)
                                                 append_record(out, o.format, b, i);
                                               std::fwrite(out.data(), 1, out.size(), stdout);
                                               out.clear();
                                               return true;
                                             },
                                             matched, error);
    std::fflush(stdout);
    if (!ok) {
      fmt::print(stderr, "orbwatch query: {}\n", error);
      return 1;
    }
  }
  if (!o.quiet) {
    fmt::print(stderr, "orbwatch query: {} flows matched in ClickHouse {} ({}) in {:.2f} s\n",
               matched, ch.url, ch.database,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 0;
}

int run_query(QueryOptions& o) {
  if (o.format != "table" && o.format != "jsonl" && o.format != "csv") {
    fmt::print(stderr, "orbwatch query: --format {}: expected table, jsonl or csv\n", o.format);
    return 2;
  }
  std::optional<store::GroupSpec> spec;
  std::string error;
  if (!o.group_by.empty() && !o.top.empty()) {
    fmt::print(stderr, "orbwatch query: give --group-by or --top, not both\n");
    return 2;
  }
  if (!o.group_by.empty() || !o.top.empty()) {
    const std::string& text = o.top.empty() ? o.group_by : o.top;
    spec = store::parse_group_by(text, error);
    if (!spec) {
      fmt::print(stderr, "orbwatch query: {} {}: {}\n", o.top.empty() ? "--group-by" : "--top",
                 text, error);
      return 2;
    }
  }
  store::GroupOrder order = store::GroupOrder::kFlows;
  if (!o.order.empty()) {
    auto parsed = store::parse_group_order(o.order);
    if (!parsed) {
      fmt::print(stderr, "orbwatch query: --order {}: expected flows, packets or bytes\n", o.order);
      return 2;
    }
    order = *parsed;
  }
  std::string filter_text;
  for (const auto& w : o.filter_words) filter_text += (filter_text.empty() ? "" : " ") + w;
  store::FilterError ferr;
  auto filter = store::Filter::parse(filter_text, ferr);
  if (!filter) {
    fmt::print(stderr, "orbwatch query: filter '{}': {}\n", filter_text, ferr.to_string());
    return 2;
  }
  bool failed = false;
  const auto clickhouse = clickhouse_backend(o.backend, "query", failed);
  if (failed) return 2;
  // --top defaults to nfdump's ten rows; --group-by to every group.
  const size_t top_n = o.limit_set ? o.limit : (o.top.empty() ? 0 : 10);
  if (clickhouse) return query_clickhouse(o, *clickhouse, *filter, spec, order, top_n);

  store::ScanSpec scan;
  if (!resolve_range(o.range, "query", scan)) return 2;
  scan.filter = &*filter;
  scan.threads = o.threads;

  const auto t0 = std::chrono::steady_clock::now();
  store::ScanStats stats;
  uint64_t printed = 0;
  if (spec) {
    std::vector<store::Aggregator> parts;
    const unsigned workers = store::scan_threads(scan);
    for (unsigned w = 0; w < workers; ++w) parts.emplace_back(*spec, o.max_groups);
    scan.columns = spec->columns();
    stats = store::scan(o.range.store, scan, [&](unsigned w, FlowBatch& b) {
      parts[w].add(b.records.data(), b.records.size());
      return true;
    });
    for (unsigned w = 1; w < workers; ++w) parts[0].merge(parts[w]);
    print_groups(*spec, parts[0].top(order, top_n), parts[0].total(), o.format);
    if (parts[0].overflowed()) {
      fmt::print(stderr,
                 "orbwatch query: more than {} groups; the result counts only the first ones "
                 "(narrow the filter or raise --max-groups)\n",
                 o.max_groups);
    }
  } else {
    scan.ordered = true;
    if (o.format == "csv") std::fputs(kCsvHeader, stdout);
    std::string out;
    stats = store::scan(o.range.store, scan, [&](unsigned, FlowBatch& b) {
      for (size_t i = 0; i < b.records.size() && !(o.limit_set && printed >= o.limit); ++i) {
        append_record(out, o.format, b, i);
        ++printed;
      }
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
      return !(o.limit_set && printed >= o.limit);
    });
  }
  std::fflush(stdout);
  report_scan(stats, "query", o.quiet, t0);
  return stats.problems.empty() ? 0 : 1;
}

}  // namespace

void add_query_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<QueryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "query",
      "Flows from the archive that match an nfdump-style filter, listed or aggregated "
      "(--group-by, --top). Example: orbwatch query --since 1h --top src_ip --order bytes "
      "'proto tcp and dst port 443'");
  add_range_options(*cmd, o->range);
  add_backend_options(*cmd, o->backend);
  cmd->add_option("filter", o->filter_words,
                  "nfdump filter, e.g. 'src net 10.0.0.0/8 and not port 53' (docs/query.md); "
                  "the words may also be given unquoted");
  cmd->add_option("--format", o->format, "table (default), jsonl or csv");
  cmd->add_option("--group-by", o->group_by,
                  "aggregate by these fields, e.g. src_ip,dst_port (src_ip dst_ip ip src_port "
                  "dst_port port proto src_as dst_as as exporter in_if out_if tos)");
  cmd->add_option("--top", o->top,
                  "top-N of one field (like nfdump -s srcip): src_ip, ip, dst_port, ...");
  cmd->add_option("--order", o->order, "rank groups by flows (default), packets or bytes");
  cmd->add_option("-n", o->limit,
                  "rows: flows listed (default all), top-N rows (default 10), groups (default all)")
      ->each([o](const std::string&) { o->limit_set = true; });
  cmd->add_option("--max-groups", o->max_groups,
                  "most groups held while aggregating (default 10,000,000)");
  cmd->add_option("--threads", o->threads, "scan threads (default: one per core)");
  cmd->add_flag("--quiet,-q", o->quiet, "no summary line on stderr");
  cmd->callback([o, &exit_code] { exit_code = run_query(*o); });
}

}  // namespace orbwatch::cli
