// `orbwatch hunt`: retro-hunt. Which hosts touched which indicators of the given feeds in the
// archived flows: when, how much and in which direction, one row per (host, feed, indicator,
// direction); with --alerts also as retro intel alerts in DIR/state.db. docs/hunt.md.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/archive_args.h"
#include "cli/commands.h"
#include "cli/detect_setup.h"
#include "core/json.h"
#include "core/proto.h"
#include "core/time.h"
#include "detect/retro_hunt.h"
#include "sink/clickhouse_query.h"
#include "store/address_blocks.h"
#include "store/alert_store.h"
#include "store/archive_scan.h"
#include "store/inventory_store.h"
#include "store/segment_columns.h"

namespace orbwatch::cli {

namespace {

struct HuntOptions {
  ArchiveRange range;
  BackendArgs backend;
  std::vector<std::string> feeds;
  std::string format = "table";
  std::string order = "first_seen";
  bool alerts = false;
  std::string config;
  std::vector<std::string> internal;
  unsigned threads = 0;
  bool no_domains = false;
  size_t max_rows = 1'000'000;
  bool quiet = false;
};

// The record fields RetroHunt reads (retro_hunt.h): the rest of each block is not decoded.
namespace column = store::segment::column;
constexpr uint32_t kHuntColumns = column::kStart | column::kEnd | column::kSrc | column::kDst |
                                  column::kBytes | column::kPackets | column::kSrcPort |
                                  column::kDstPort | column::kProto | column::kTcpFlags |
                                  column::kFlags | column::kNames;

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

struct RowText {
  std::string host, indicator, feed, tags, direction, peer, service;
};

RowText row_text(const detect::HuntRow& r, const intel::IntelSet& set) {
  const auto& ind = set.indicator(r.indicator);
  return {r.host.to_string(),
          detect::indicator_text(ind),
          set.feed_of(r.indicator).name,
          join(ind.tags, ";"),
          detect::hunt_direction_name(r.direction),
          r.peer.to_string(),
          fmt::format("{}/{}", r.port, proto_text(r.proto))};
}

constexpr const char* kCsvHeader =
    "internal_ip,host_internal,indicator,feed,tags,match,direction,answered,peer_ip,peers,"
    "dst_port,proto,server_name,first_seen,last_seen,flows,packets,bytes,bytes_out,bytes_in\n";

void append_jsonl(std::string& out, const detect::HuntRow& r, const intel::IntelSet& set) {
  const RowText t = row_text(r, set);
  auto str = [&](const char* key, std::string_view v) {
    out += fmt::format(",\"{}\":", key);
    json::append_string(out, v);
  };
  auto num = [&](const char* key, uint64_t v) { out += fmt::format(",\"{}\":{}", key, v); };
  auto flag = [&](const char* key, bool v) {
    out += fmt::format(",\"{}\":{}", key, v ? "true" : "false");
  };
  out += "{\"internal_ip\":";
  json::append_string(out, t.host);
  flag("host_internal", r.host_internal);
  str("indicator", t.indicator);
  str("feed", t.feed);
  out += ",\"tags\":[";
  const auto& tags = set.indicator(r.indicator).tags;
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i != 0) out += ',';
    json::append_string(out, tags[i]);
  }
  out += ']';
  str("match", detect::hunt_match_name(r.matches));
  str("direction", t.direction);
  flag("answered", r.answered);
  str("peer_ip", t.peer);
  num("peers", r.peers.size());
  num("dst_port", r.port);
  num("proto", r.proto);
  if (!r.server_name.empty()) str("server_name", r.server_name);
  str("first_seen", rfc3339_ms(r.first_ms));
  str("last_seen", rfc3339_ms(r.last_ms));
  num("flows", r.flows);
  num("packets", r.packets);
  num("bytes", r.bytes);
  num("bytes_out", r.bytes_out);
  num("bytes_in", r.bytes_in);
  out += "}\n";
}

void append_csv(std::string& out, const detect::HuntRow& r, const intel::IntelSet& set) {
  const RowText t = row_text(r, set);
  out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", t.host,
                     r.host_internal ? 1 : 0, csv_field(t.indicator), csv_field(t.feed),
                     csv_field(t.tags), detect::hunt_match_name(r.matches), t.direction,
                     r.answered ? 1 : 0, t.peer, r.peers.size(), r.port, r.proto,
                     csv_field(r.server_name), rfc3339_ms(r.first_ms), rfc3339_ms(r.last_ms),
                     r.flows, r.packets, r.bytes, r.bytes_out, r.bytes_in);
}

// Aligned columns for people; numbers right-aligned.
std::string table(const std::vector<detect::HuntRow>& rows, const intel::IntelSet& set) {
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"first_seen", "last_seen", "host", "direction", "answered", "indicator", "feed",
                   "peer", "service", "flows", "packets", "bytes", "tags"});
  for (const auto& r : rows) {
    RowText t = row_text(r, set);
    std::string indicator = t.indicator;
    if (!r.server_name.empty() && r.server_name != indicator) {
      indicator += " (" + r.server_name + ")";
    }
    cells.push_back(
        {rfc3339_ms(r.first_ms), rfc3339_ms(r.last_ms), t.host + (r.host_internal ? "" : " (ext)"),
         t.direction, r.answered ? "yes" : "no", indicator, t.feed, t.peer, t.service,
         std::to_string(r.flows), std::to_string(r.packets), std::to_string(r.bytes), t.tags});
  }
  std::vector<size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const bool number = c >= 9 && c <= 11;
      if (c + 1 == row.size()) {
        line += row[c];
      } else {
        line += number ? fmt::format("{:>{}}  ", row[c], width[c])
                       : fmt::format("{:<{}}  ", row[c], width[c]);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? "0.0"
                    : fmt::format("{:.1f}",
                                  100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

int run_hunt(const HuntOptions& o) {
  if (o.format != "table" && o.format != "jsonl" && o.format != "csv") {
    fmt::print(stderr, "orbwatch hunt: --format {}: expected table, jsonl or csv\n", o.format);
    return 2;
  }
  detect::HuntOrder order;
  if (o.order == "first_seen") {
    order = detect::HuntOrder::kFirstSeen;
  } else if (o.order == "bytes") {
    order = detect::HuntOrder::kBytes;
  } else if (o.order == "flows") {
    order = detect::HuntOrder::kFlows;
  } else {
    fmt::print(stderr, "orbwatch hunt: --order {}: expected first_seen, bytes or flows\n", o.order);
    return 2;
  }
  if (o.feeds.empty()) {
    fmt::print(stderr, "orbwatch hunt: give at least one --feed FILE to hunt\n");
    return 2;
  }
  if (o.max_rows == 0) {
    fmt::print(stderr, "orbwatch hunt: --max-rows: expected at least 1\n");
    return 2;
  }
  // Feeds and the network model: configuration errors stop here, before the archive is read.
  std::string error;
  std::vector<std::shared_ptr<const intel::LoadedFeed>> feeds;
  std::vector<std::string> warnings;
  std::shared_ptr<const netmodel::ModelIndex> model;
  const int64_t now = wall_clock_ms();
  if (!load_feed_files(o.feeds, now, feeds, warnings, error) ||
      !load_network_model(o.config, o.internal, model, error)) {
    fmt::print(stderr, "orbwatch hunt: {}\n", error);
    return 2;
  }
  for (const auto& w : warnings) fmt::print(stderr, "orbwatch hunt: warning: {}\n", w);
  bool failed = false;
  const auto ch = clickhouse_backend(o.backend, "hunt", failed);
  if (failed) return 2;
  std::optional<sink::ClickHouseClient> client;
  if (ch) client.emplace(*ch);
  store::ScanSpec spec;
  if (client ? !resolve_clickhouse_range(o.range, *client, "hunt", spec)
             : !resolve_range(o.range, "hunt", spec))
    return 2;
  spec.threads = o.threads;
  spec.columns = kHuntColumns;

  std::shared_ptr<const intel::IntelSet> intel = intel::IntelSet::build(feeds, now);
  std::vector<Prefix> addresses;
  size_t domains = 0;
  for (uint32_t id = 0; id < intel->size(); ++id) {
    const auto& ind = intel->indicator(id);
    if (ind.kind == intel::IndicatorKind::kPrefix) {
      addresses.push_back(ind.prefix);
    } else {
      ++domains;
    }
  }
  const bool match_domains = domains != 0 && !o.no_domains;
  // Server names are not summarised per block: with domains to match, every block is read.
  store::AddressBlockSelector selector(addresses);
  if (!match_domains) {
    spec.block_may_match = [&selector](const store::SegmentReader& r, size_t i) {
      return selector.may_match(r, i);
    };
  }

  const auto t0 = std::chrono::steady_clock::now();
  detect::HuntOptions ho;
  ho.match_domains = match_domains;
  ho.max_rows = o.max_rows;
  std::vector<detect::RetroHunt> parts;
  const unsigned workers = client ? 1 : store::scan_threads(spec);
  for (unsigned w = 0; w < workers; ++w) parts.emplace_back(intel, model, ho);
  store::ScanStats stats;
  if (client) {
    // ClickHouse sends only flows that may touch an indicator; RetroHunt decides as ever.
    sink::FlowSelect select;
    select.from_ms = spec.from_ms;
    select.to_ms = spec.to_ms;
    select.extra_where = store::prefixes_sql("src_ip", addresses) + " OR " +
                         store::prefixes_sql("dst_ip", addresses) +
                         (match_domains ? " OR server_name != ''" : "");
    if (!sink::select_flows(
            *client, select, 0,
            [&](FlowBatch& b) {
              parts[0].add(b);
              return true;
            },
            stats.records_read, error)) {
      fmt::print(stderr, "orbwatch hunt: {}\n", error);
      return 1;
    }
  } else {
    stats = store::scan(o.range.store, spec, [&](unsigned w, FlowBatch& b) {
      parts[w].add(b);
      return true;
    });
  }
  for (unsigned w = 1; w < workers; ++w) parts[0].merge(parts[w]);
  const detect::RetroHunt& hunt = parts[0];
  const auto rows = hunt.rows(order);
  // The summary's "matched": flows that touched an indicator, not just the time range.
  stats.records_matched = hunt.flows_matched();

  std::string out;
  if (o.format == "csv") out = kCsvHeader;
  if (o.format == "table") {
    out = rows.empty() ? "no hits\n" : table(rows, *intel);
  } else {
    for (const auto& r : rows) {
      if (o.format == "jsonl") {
        append_jsonl(out, r, *intel);
      } else {
        append_csv(out, r, *intel);
      }
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);

  int rc = stats.problems.empty() ? 0 : 1;
  size_t stored = 0;
  if (o.alerts && !rows.empty()) {
    store::AlertStore db;
    bool ok = db.open(store::state_db_path(o.range.store), true, error) && db.begin(error);
    for (size_t i = 0; ok && i < rows.size(); ++i) {
      ok = db.put(detect::make_hunt_alert(rows[i], *intel), error);
      stored += ok ? 1 : 0;
    }
    if (ok) ok = db.commit(error);
    if (!ok) {
      fmt::print(stderr, "orbwatch hunt: --alerts: {}: {}\n", store::state_db_path(o.range.store),
                 error);
      stored = 0;
      rc = 1;
    }
  }

  if (client && !o.quiet) {
    fmt::print(stderr,
               "orbwatch hunt: {} flows matched of {} sent by ClickHouse {} ({}) in {:.2f} s\n",
               stats.records_matched, stats.records_read, ch->url, ch->database,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  } else {
    report_scan(stats, "hunt", o.quiet, t0);
  }
  if (!o.quiet) {
    std::set<IpAddr> hosts;
    std::set<uint32_t> indicators;
    for (const auto& r : rows) {
      hosts.insert(r.host);
      indicators.insert(r.indicator);
    }
    std::string expired;
    if (intel->stats().expired != 0 || intel->stats().not_yet_valid != 0) {
      expired = fmt::format(" ({} expired and {} not yet valid left out)", intel->stats().expired,
                            intel->stats().not_yet_valid);
    }
    fmt::print(stderr,
               "orbwatch hunt: {} rows: {} hosts touched {} of {} indicators ({} addresses and "
               "prefixes, {} domains{}) from {} feeds{}\n",
               rows.size(), hosts.size(), indicators.size(), intel->size(), addresses.size(),
               domains, match_domains || domains == 0 ? "" : " not hunted: --no-domains",
               feeds.size(), expired);
    if (client) {
      // No block test to report: ClickHouse narrowed by the indicators' addresses.
    } else if (match_domains) {
      fmt::print(stderr,
                 "orbwatch hunt: block test off: server names are not summarised per block, so "
                 "domain indicators need every block read (--no-domains hunts addresses only)\n");
    } else {
      const auto s = selector.stats();
      fmt::print(stderr,
                 "orbwatch hunt: block test: {}% of {} blocks skipped ({} by address bounds, {} "
                 "by bloom filter after {} probes; read: {} overlapping a prefix, {} with too many "
                 "candidates to probe)\n",
                 percent(s.skipped_by_range + s.skipped_by_bloom, s.blocks), s.blocks,
                 s.skipped_by_range, s.skipped_by_bloom, s.probes, s.prefix_overlap, s.over_cap);
    }
    if (o.alerts) {
      fmt::print(stderr, "orbwatch hunt: {} retro alerts recorded in {}\n", stored,
                 store::state_db_path(o.range.store));
    }
  }
  if (hunt.flows_not_kept() != 0) {
    fmt::print(stderr,
               "orbwatch hunt: more than {} rows; {} matching flows of further rows were not "
               "counted (narrow --since/--until or raise --max-rows)\n",
               o.max_rows, hunt.flows_not_kept());
  }
  return rc;
}

}  // namespace

void add_hunt_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<HuntOptions>();
  CLI::App* cmd = app.add_subcommand(
      "hunt",
      "Retro-hunt: which hosts touched the indicators of these feeds in the archived flows, "
      "when, how much and in which direction. Example: orbwatch hunt --store /var/lib/orbwatch "
      "--since 90d --feed Raptor_Train_IOCs.txt");
  add_range_options(*cmd, o->range);
  add_backend_options(*cmd, o->backend);
  cmd->add_option("--feed", o->feeds,
                  "threat feed FILE to hunt (repeatable; any format `orbwatch feeds lint` reads; "
                  "its addresses, prefixes and domains)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--format", o->format,
                  "table (default), jsonl (one object per row) or csv (with a header)");
  cmd->add_option("--order", o->order,
                  "row order: first_seen (default, oldest first), bytes or flows (most first)");
  cmd->add_flag("--alerts", o->alerts,
                "also record each row as a retro intel alert in DIR/state.db (orbwatch alerts "
                "--retro); hunting again updates the same alerts");
  cmd->add_option("--config", o->config,
                  "orbwatch config FILE: its network model says which addresses are internal");
  cmd->add_option("--internal", o->internal,
                  "internal prefixes (comma-separated; replaces the config's; default RFC 1918, "
                  "CGNAT, ULA, link-local)")
      ->delimiter(',');
  cmd->add_flag("--no-domains", o->no_domains,
                "hunt addresses and prefixes only: lets the block test skip blocks (domain "
                "indicators need every block read)");
  cmd->add_option("--max-rows", o->max_rows,
                  "most rows held (default 1,000,000); flows of further rows are counted only");
  cmd->add_option("--threads", o->threads, "scan threads (default: one per core)");
  cmd->add_flag("--quiet,-q", o->quiet, "no summary lines on stderr (problems still)");
  cmd->callback([o, &exit_code] { exit_code = run_hunt(*o); });
}

}  // namespace orbwatch::cli
