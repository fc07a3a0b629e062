// `orbwatch feeds`: threat-intel feeds.
//   lint FILE...            parse, report every problem with its line, print counts
//   check --feed FILE... VALUE...   which indicators cover an address or a domain
//   list [--config FILE] [--json]   the configured feeds and their state (from the cache)
//   update [--config FILE] [NAME...]  read the configured feeds now and write the cache
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.h"
#include "core/json.h"
#include "core/time.h"
#include "intel/domain_table.h"
#include "intel/feed_cache.h"
#include "intel/feed_config.h"
#include "intel/feed_manager.h"
#include "intel/feed_parser.h"
#include "intel/prefix_table.h"

namespace orbwatch::cli {

namespace {

struct FeedsOptions {
  std::vector<std::string> files;
  std::vector<std::string> feeds;
  std::vector<std::string> values;
  std::string format = "auto";
  bool quiet = false;
  std::string config;
  bool json = false;
  std::vector<std::string> names;
};

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return true;
}

bool load(const std::string& path, const std::string& format, intel::ParsedFeed& feed) {
  intel::FeedFormat fmt;
  if (!intel::parse_feed_format(format, fmt)) {
    fmt::print(stderr, "orbwatch feeds: unknown --format '{}'\n", format);
    return false;
  }
  std::string text, error;
  if (!read_file(path, text, error)) {
    fmt::print(stderr, "orbwatch feeds: {}\n", error);
    return false;
  }
  feed = intel::parse_feed(text, fmt, path);
  return true;
}

std::string value_of(const intel::Indicator& ind) {
  return ind.kind == intel::IndicatorKind::kDomain ? ind.domain : ind.prefix.to_string();
}

int run_lint(const FeedsOptions& o) {
  int rc = 0;
  for (const auto& path : o.files) {
    intel::ParsedFeed feed;
    if (!load(path, o.format, feed)) {
      rc = 1;
      continue;
    }
    size_t prefixes = 0, domains = 0;
    for (const auto& ind : feed.indicators) {
      (ind.kind == intel::IndicatorKind::kDomain ? domains : prefixes) += 1;
    }
    fmt::print(
        "{}: {} ({}), {} indicators ({} addresses/prefixes, {} domains), {} errors, "
        "{} warnings, {} skipped\n",
        path, intel::feed_format_name(feed.format), feed.meta.name.empty() ? "-" : feed.meta.name,
        feed.indicators.size(), prefixes, domains, feed.bad, feed.warnings, feed.skipped);
    if (!o.quiet) {
      for (const auto& issue : feed.issues) {
        fmt::print("  {}:{}: {}: {}\n", path, issue.line,
                   issue.level == intel::ParseIssue::Level::kError ? "error" : "warning",
                   issue.message);
      }
      size_t listed = feed.issues.size();
      if (feed.bad + feed.warnings > listed) {
        fmt::print("  ... {} more not listed\n", feed.bad + feed.warnings - listed);
      }
    }
    if (feed.format == intel::FeedFormat::kAuto || (feed.indicators.empty() && feed.bad != 0)) {
      rc = 1;
    }
  }
  return rc;
}

int run_check(const FeedsOptions& o) {
  if (o.feeds.empty()) {
    fmt::print(stderr, "orbwatch feeds check: give at least one --feed FILE\n");
    return 2;
  }
  // Every indicator of every feed, with the feed it came from.
  std::vector<std::pair<size_t, intel::Indicator>> all;
  intel::PrefixTable::Builder prefixes;
  intel::DomainTable::Builder domains;
  for (size_t f = 0; f < o.feeds.size(); ++f) {
    intel::ParsedFeed feed;
    if (!load(o.feeds[f], o.format, feed)) return 1;
    for (auto& ind : feed.indicators) {
      auto id = static_cast<uint32_t>(all.size());
      if (ind.kind == intel::IndicatorKind::kDomain) {
        domains.add(ind.domain, id);
      } else {
        prefixes.add(ind.prefix, id);
      }
      all.emplace_back(f, std::move(ind));
    }
  }
  auto ptable = prefixes.build();
  auto dtable = domains.build();
  int rc = 1;  // 1 when nothing matched, like grep
  for (const auto& v : o.values) {
    std::span<const uint32_t> ids;
    if (auto addr = IpAddr::parse(v)) {
      ids = ptable->lookup(*addr);
    } else {
      ids = dtable->lookup(v);
    }
    if (ids.empty()) {
      fmt::print("{}: no indicator\n", v);
      continue;
    }
    rc = 0;
    for (uint32_t id : ids) {
      const auto& [f, ind] = all[id];
      std::string tags;
      for (const auto& t : ind.tags) tags += (tags.empty() ? "" : ",") + t;
      fmt::print("{}: {} line {}: {}{}{}{}\n", v, o.feeds[f], ind.line, value_of(ind),
                 tags.empty() ? "" : " [" + tags + "]", ind.ref.empty() ? "" : " ref " + ind.ref,
                 ind.valid_until_ms == 0 ? "" : " valid until " + rfc3339_ms(ind.valid_until_ms));
    }
  }
  return rc;
}

// The config named with --config, else the first default that exists. Problems are printed.
std::optional<intel::IntelConfig> load_config(const std::string& given, const char* command) {
  std::string path = given;
  if (path.empty()) {
    for (const char* candidate : {"orbwatch.toml", "/etc/orbwatch/orbwatch.toml"}) {
      if (std::filesystem::exists(candidate)) {
        path = candidate;
        break;
      }
    }
  }
  if (path.empty()) {
    fmt::print(stderr,
               "orbwatch feeds {}: no config file: give --config FILE (there is no "
               "./orbwatch.toml and no /etc/orbwatch/orbwatch.toml)\n",
               command);
    return std::nullopt;
  }
  std::vector<std::string> errors;
  auto config = intel::load_intel_config(path, errors);
  for (const auto& e : errors) fmt::print(stderr, "orbwatch feeds {}: {}\n", command, e);
  return config;
}

// "12s ago", "3h5m ago", "never": seconds under an hour, minutes under a day, then hours.
std::string age(int64_t then_ms, int64_t now_ms) {
  if (then_ms == 0) return "never";
  const int64_t a = std::max<int64_t>(now_ms - then_ms, 0);
  const int64_t unit = a < 3'600'000 ? 1000 : a < 86'400'000 ? 60'000 : 3'600'000;
  return format_duration_ms(a / unit * unit) + " ago";
}

void append_time(std::string& out, int64_t ms) {
  if (ms == 0) {
    out += "null";
  } else {
    json::append_string(out, rfc3339_ms(ms));
  }
}

// One JSON object per feed (documented in docs/configuration.md).
std::string feed_json(const intel::FeedConfig& f, const intel::FeedStatus* cached) {
  const intel::FeedStatus s = cached != nullptr ? *cached : intel::FeedStatus{};
  std::string out;
  auto key = [&out](const char* k) {
    out += out.empty() ? "{" : ",";
    json::append_string(out, k);
    out += ':';
  };
  auto str = [&](const char* k, const std::string& v) {
    key(k);
    json::append_string(out, v);
  };
  auto num = [&](const char* k, uint64_t v) {
    key(k);
    json::append_int(out, v);
  };
  auto time = [&](const char* k, int64_t v) {
    key(k);
    append_time(out, v);
  };
  str("name", f.name);
  str("source", f.source);
  str("format", intel::config_format_name(f));
  str("detected_format", s.format);
  key("enabled");
  out += f.enabled ? "true" : "false";
  str("refresh", format_duration_ms(f.refresh_ms));
  str("ttl", format_duration_ms(f.ttl_ms));
  str("severity", severity_name(f.severity));
  key("cached");
  out += cached != nullptr ? "true" : "false";
  num("entries", s.entries);
  num("bytes", s.bytes);
  str("version", s.etag);
  time("fetched", s.fetched_ms);
  time("last_attempt", s.last_attempt_ms);
  time("last_success", s.last_success_ms);
  str("last_error", s.last_error);
  num("consecutive_failures", s.consecutive_failures);
  num("rejected_updates", s.rejected_updates);
  return out + "}";
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += c + 1 == row.size() ? row[c] : fmt::format("{:<{}}  ", row[c], width[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  }
}

int run_list(const FeedsOptions& o) {
  auto config = load_config(o.config, "list");
  if (!config) return 2;
  const intel::FeedCache cache(config->cache_dir);
  const int64_t now = wall_clock_ms();
  std::vector<std::vector<std::string>> rows = {{"NAME", "SOURCE", "FORMAT", "ENABLED", "REFRESH",
                                                 "TTL", "SEVERITY", "ENTRIES", "LAST SUCCESS",
                                                 "LAST ERROR"}};
  for (const auto& f : config->feeds) {
    auto s = cache.read_status(f);
    if (o.json) {
      fmt::print("{}\n", feed_json(f, s ? &*s : nullptr));
      continue;
    }
    std::string format = intel::config_format_name(f);
    if (s && !s->format.empty() && !f.taxii && s->format != format)
      format += " (" + s->format + ")";
    const std::string error = s ? s->last_error : "";  // last column: never cut
    rows.push_back({f.name, f.source, format, f.enabled ? "yes" : "no",
                    format_duration_ms(f.refresh_ms), format_duration_ms(f.ttl_ms),
                    severity_name(f.severity),
                    s && s->last_success_ms != 0 ? std::to_string(s->entries) : "-",
                    s ? age(s->last_success_ms, now) : "never", error.empty() ? "-" : error});
  }
  if (o.json) return 0;
  if (config->feeds.empty()) {
    fmt::print("{}: no [[feeds]] configured\n", config->path);
    return 0;
  }
  print_table(rows);
  if (config->cache_dir.empty()) {
    fmt::print(
        "note: no cache directory ([intel] cache_dir or [store] path), so no feed state is "
        "kept\n");
  }
  return 0;
}

// One line per feed: what happened and what is live now.
bool report_update(const intel::FeedConfig& f, intel::RefreshOutcome outcome,
                   const intel::FeedStatus& s, bool has_version, int64_t now) {
  using intel::RefreshOutcome;
  const char* what = intel::refresh_outcome_name(outcome);
  if (outcome == RefreshOutcome::kDisabled) {
    fmt::print("{}: disabled, not read\n", f.name);
    return true;
  }
  std::string line = fmt::format("{}: {}", f.name, what);
  if (!s.last_error.empty()) line += ": " + s.last_error;
  if (outcome == RefreshOutcome::kUpdated || outcome == RefreshOutcome::kUnchanged) {
    line += fmt::format(" ({} indicators, {}, {} bytes)", s.entries, s.format, s.bytes);
  } else if (has_version) {
    line += fmt::format("; keeping the version read {} ({} indicators)",
                        age(s.last_success_ms, now), s.entries);
  } else {
    line += "; no version to keep";
  }
  fmt::print("{}\n", line);
  return s.last_error.empty() &&
         (outcome == RefreshOutcome::kUpdated || outcome == RefreshOutcome::kUnchanged);
}

int run_update(const FeedsOptions& o) {
  auto config = load_config(o.config, "update");
  if (!config) return 2;
  for (const auto& name : o.names) {
    if (std::none_of(config->feeds.begin(), config->feeds.end(),
                     [&](const intel::FeedConfig& f) { return f.name == name; })) {
      fmt::print(stderr, "orbwatch feeds update: no feed named '{}' in {}\n", name, config->path);
      return 2;
    }
  }
  intel::FeedManager manager(config->feeds, config->cache_dir);
  int rc = 0;
  for (size_t i = 0; i < config->feeds.size(); ++i) {
    const auto& f = config->feeds[i];
    if (!o.names.empty() && std::find(o.names.begin(), o.names.end(), f.name) == o.names.end()) {
      continue;
    }
    const int64_t now = wall_clock_ms();
    const auto outcome = manager.refresh(f.name, now);
    const auto live = manager.feeds();
    const bool has_version = std::any_of(live.begin(), live.end(),
                                         [&](const auto& l) { return l->config.name == f.name; });
    if (!report_update(f, outcome, manager.status()[i], has_version, now)) rc = 1;
  }
  if (config->cache_dir.empty()) {
    fmt::print("note: no cache directory ([intel] cache_dir or [store] path): nothing was kept\n");
  }
  return rc;
}

}  // namespace

void add_feeds_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<FeedsOptions>();
  CLI::App* feeds =
      app.add_subcommand("feeds", "Threat-intelligence feeds: lint, check, list, update");
  feeds->require_subcommand(1);
  const std::string formats = "plain, drop, drop-json, firehol, csv, stix, misp, advisory, auto";

  CLI::App* lint = feeds->add_subcommand(
      "lint", "Parse feed files and report every problem with its line (exit 1 on unusable ones)");
  lint->add_option("files", o->files, "feed files")->required();
  lint->add_option("--format", o->format, "format (" + formats + "; default: detected)");
  lint->add_flag("--quiet,-q", o->quiet, "counts only, no problem list");
  lint->callback([o, &exit_code] { exit_code = run_lint(*o); });

  CLI::App* check = feeds->add_subcommand(
      "check", "Which feed indicators cover each address or domain (exit 1 when none does)");
  check->add_option("--feed", o->feeds, "feed file (repeatable)")
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);  // one file per --feed: the values follow
  check->add_option("values", o->values, "addresses or domains")->required();
  check->add_option("--format", o->format, "format of the feeds (" + formats + ")");
  check->callback([o, &exit_code] { exit_code = run_check(*o); });

  CLI::App* list = feeds->add_subcommand(
      "list", "The configured [[feeds]] and their state (entries, last success, last error)");
  list->add_option("--config", o->config,
                   "config file (default: ./orbwatch.toml, else /etc/orbwatch/orbwatch.toml)");
  list->add_flag("--json", o->json, "one JSON object per feed instead of a table");
  list->footer(
      "The state comes from the feed cache ([intel] cache_dir, default <[store] path>/feeds), "
      "written by the daemon and by `orbwatch feeds update`. See docs/configuration.md.");
  list->callback([o, &exit_code] { exit_code = run_list(*o); });

  CLI::App* update = feeds->add_subcommand(
      "update",
      "Read the configured feeds now and keep good versions in the cache (exit 1 when "
      "one failed or was rejected)");
  update->add_option("--config", o->config,
                     "config file (default: ./orbwatch.toml, else /etc/orbwatch/orbwatch.toml)");
  update->add_option("names", o->names, "feeds to read (default: every enabled feed)");
  update->footer(
      "Files are read again when changed; URLs are asked with the cached version's ETag and "
      "Last-Modified. An update with more bad lines than max_bad_share, or with no indicators "
      "where the cached version had some, is rejected and the cached version kept.");
  update->callback([o, &exit_code] { exit_code = run_update(*o); });
}

}  // namespace orbwatch::cli
