// `orbwatch feeds`: work with threat-intel feed files offline.
//   lint FILE...            parse, report every problem with its line, print counts
//   check --feed FILE... VALUE...   which indicators cover an address or a domain
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.h"
#include "core/time.h"
#include "intel/domain_table.h"
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

}  // namespace

void add_feeds_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<FeedsOptions>();
  CLI::App* feeds = app.add_subcommand("feeds", "Threat-intelligence feed files: lint, check");
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
}

}  // namespace orbwatch::cli
