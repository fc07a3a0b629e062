#include "intel/feed_manager.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <utility>

#include "intel/feed_parser.h"
#include "intel/json_feeds.h"
#include "intel/taxii.h"
#include "intel/taxii_accumulate.h"

namespace orbwatch::intel {

const char* refresh_outcome_name(RefreshOutcome o) {
  switch (o) {
    case RefreshOutcome::kUpdated:
      return "updated";
    case RefreshOutcome::kUnchanged:
      return "unchanged";
    case RefreshOutcome::kFailed:
      return "failed";
    case RefreshOutcome::kRejected:
      return "rejected";
    case RefreshOutcome::kDisabled:
      return "disabled";
    case RefreshOutcome::kUnknown:
      return "unknown feed";
  }
  return "?";
}

// What one read of a source produced, before it is applied to the feed's state.
struct FeedManager::Update {
  RefreshOutcome outcome = RefreshOutcome::kFailed;
  std::shared_ptr<const LoadedFeed> next;  // kUpdated
  std::string text;                        // kUpdated: the last good copy for the cache
  std::string etag, last_modified;         // kUpdated: the version read
  std::string added_after;                 // TAXII: the next poll's, when it moved
  std::string error;  // kFailed, kRejected, or a TAXII poll that stopped part way
  int64_t retry_after_ms = 0;
};

namespace {

constexpr int64_t kFirstRetryMs = 60'000;
constexpr uint64_t kMaxTaxiiCacheBytes = uint64_t{1} << 30;

std::shared_ptr<const LoadedFeed> make_loaded(const FeedConfig& config, ParsedFeed parsed,
                                              int64_t loaded_ms) {
  auto feed = std::make_shared<LoadedFeed>();
  feed->config = config;
  feed->parsed = std::move(parsed);
  feed->loaded_ms = loaded_ms;
  return feed;
}

// Why a parsed update must not replace the current version; nullopt when it may. `incremental`
// (TAXII): an update holds only what is new, so an empty one is normal.
std::optional<std::string> reject_reason(const ParsedFeed& p, const LoadedFeed* current,
                                         double max_bad_share, bool incremental) {
  if (p.format == FeedFormat::kAuto) return "cannot detect the format (set format)";
  const uint64_t lines = std::max<uint64_t>({p.lines, p.bad, 1});
  if (static_cast<double>(p.bad) > max_bad_share * static_cast<double>(lines)) {
    char share[64];
    std::snprintf(share, sizeof(share), "%g%%", max_bad_share * 100);
    std::string why = std::to_string(p.bad) + " of " + std::to_string(lines) +
                      " lines are bad (more than max_bad_share " + share + ")";
    auto first = std::find_if(p.issues.begin(), p.issues.end(), [](const ParseIssue& i) {
      return i.level == ParseIssue::Level::kError;
    });
    if (first != p.issues.end()) why += "; first: " + first->message;
    return why;
  }
  if (!incremental && p.indicators.empty() && current && !current->parsed.indicators.empty()) {
    return "no indicators, the current version has " +
           std::to_string(current->parsed.indicators.size());
  }
  return std::nullopt;
}

// 1 min, 2 min, 4 min, ... after consecutive failures, never more than the refresh interval;
// a server's Retry-After is honoured when longer.
int64_t retry_delay_ms(uint32_t failures, int64_t refresh_ms, int64_t retry_after_ms) {
  const uint32_t shift = std::min<uint32_t>(failures == 0 ? 0 : failures - 1, 16);
  return std::max(std::min(refresh_ms, kFirstRetryMs << shift), retry_after_ms);
}

ParsedFeed parse_cached(const FeedConfig& config, const std::string& text) {
  if (!config.taxii) return parse_feed(text, config.format, config.source);
  if (!text.empty()) return parse_stix(text);
  ParsedFeed empty;
  empty.format = FeedFormat::kStix;
  return empty;
}

}  // namespace

FeedManager::FeedManager(std::vector<FeedConfig> feeds, std::string cache_dir)
    : configs_(std::move(feeds)), cache_(std::move(cache_dir)), states_(configs_.size()) {
  for (size_t i = 0; i < configs_.size(); ++i) {
    FeedStatus& s = states_[i].status;
    s.name = configs_[i].name;
    s.source = configs_[i].source;
    s.config_format = config_format_name(configs_[i]);
    if (configs_[i].enabled) load_cached(i);
  }
  generation_ = 1;
}

void FeedManager::load_cached(size_t i) {
  const FeedConfig& config = configs_[i];
  auto cached = cache_.read_status(config);
  if (!cached) return;
  State& state = states_[i];
  state.status = std::move(*cached);
  if (state.status.last_success_ms == 0) return;
  auto text = cache_.read_text(config.name, config.taxii ? kMaxTaxiiCacheBytes : config.max_bytes);
  // The size check catches a copy and a status from different writes (a crash between them).
  if (!text || text->size() != state.status.bytes) {
    state.status.entries = state.status.bytes = 0;  // no version held
    state.status.format.clear();
    return;
  }
  state.current = make_loaded(config, parse_cached(config, *text), state.status.last_success_ms);
  state.status.entries = state.current->parsed.indicators.size();
  state.status.from_cache = true;
}

size_t FeedManager::refresh_due(int64_t now_ms) {
  std::lock_guard run(refresh_mutex_);
  size_t changed = 0;
  for (size_t i = 0; i < configs_.size() && !cancel_.cancelled(); ++i) {
    if (!configs_[i].enabled) continue;
    {
      std::lock_guard lock(mutex_);
      if (states_[i].status.next_attempt_ms > now_ms) continue;
    }
    if (refresh_index(i, now_ms) == RefreshOutcome::kUpdated) ++changed;
  }
  return changed;
}

RefreshOutcome FeedManager::refresh(std::string_view name, int64_t now_ms) {
  auto it = std::find_if(configs_.begin(), configs_.end(),
                         [&](const FeedConfig& c) { return c.name == name; });
  if (it == configs_.end()) return RefreshOutcome::kUnknown;
  if (!it->enabled) return RefreshOutcome::kDisabled;
  std::lock_guard run(refresh_mutex_);
  return refresh_index(static_cast<size_t>(it - configs_.begin()), now_ms);
}

RefreshOutcome FeedManager::refresh_index(size_t i, int64_t now_ms) {
  State state;
  {
    std::lock_guard lock(mutex_);
    state = states_[i];
  }
  const FeedConfig& config = configs_[i];
  Update update =
      config.taxii ? read_taxii(config, state, now_ms) : read_document(config, state, now_ms);
  return apply(i, std::move(state), std::move(update), now_ms);
}

FeedManager::Update FeedManager::read_document(const FeedConfig& config, const State& state,
                                               int64_t now_ms) {
  Update u;
  FetchRequest req{config.source,   {}, {}, config.bearer_token, config.headers, config.timeout_ms,
                   config.max_bytes};
  if (state.current) {  // "changed since?" only about a version still held
    req.etag = state.status.etag;
    req.last_modified = state.status.last_modified;
  }
  FetchResult r = fetch_feed(req, &cancel_);
  if (r.kind == FetchResult::Kind::kFailed) {
    u.error = std::move(r.error);
    u.retry_after_ms = r.retry_after_ms;
    return u;
  }
  if (r.kind == FetchResult::Kind::kNotModified) {
    u.outcome = RefreshOutcome::kUnchanged;
    return u;
  }
  ParsedFeed parsed = parse_feed(r.body, config.format, config.source);
  if (auto why = reject_reason(parsed, state.current.get(), config.max_bad_share, false)) {
    u.outcome = RefreshOutcome::kRejected;
    u.error = "update rejected: " + *why;
    return u;
  }
  u.outcome = RefreshOutcome::kUpdated;
  u.next = make_loaded(config, std::move(parsed), now_ms);
  u.text = std::move(r.body);
  u.etag = std::move(r.etag);
  u.last_modified = std::move(r.last_modified);
  return u;
}

FeedManager::Update FeedManager::read_taxii(const FeedConfig& config, const State& state,
                                            int64_t now_ms) {
  Update u;
  TaxiiRequest req;
  req.collection_url = config.source;
  if (state.current) req.added_after = state.status.taxii_added_after;
  req.bearer_token = config.bearer_token;
  req.max_bytes = config.max_bytes;
  req.timeout_s = static_cast<int>((config.timeout_ms + 999) / 1000);
  req.max_total_ms = config.timeout_ms * 10;
  req.cancel = &cancel_;
  TaxiiPoll poll = poll_taxii(req);
  if (!poll.error.empty()) u.error = config.source + ": " + poll.error;
  if (poll.pages == 0 && !poll.error.empty()) return u;
  if (auto why = reject_reason(poll.feed, nullptr, config.max_bad_share, true)) {
    u.outcome = RefreshOutcome::kRejected;
    u.error = "update rejected: " + *why;
    return u;
  }
  // Pages before a failure are complete: keep them and continue after them next time.
  u.added_after = poll.added_last;
  if (poll.feed.indicators.empty() && state.current) {
    u.outcome = u.error.empty() ? RefreshOutcome::kUnchanged : RefreshOutcome::kFailed;
    return u;
  }
  ParsedFeed merged = accumulate_taxii(state.current ? state.current->parsed : ParsedFeed{},
                                       std::move(poll.feed), now_ms, config.ttl_ms);
  u.outcome = RefreshOutcome::kUpdated;
  u.text = to_stix_lines(merged);
  u.next = make_loaded(config, std::move(merged), now_ms);
  return u;
}

RefreshOutcome FeedManager::apply(size_t i, State state, Update u, int64_t now_ms) {
  const FeedConfig& config = configs_[i];
  FeedStatus& s = state.status;
  s.last_attempt_ms = now_ms;
  if (!u.added_after.empty()) s.taxii_added_after = u.added_after;
  bool changed = false;
  if (u.outcome == RefreshOutcome::kUpdated) {
    state.current = std::move(u.next);
    s.format = feed_format_name(state.current->parsed.format);
    s.entries = state.current->parsed.indicators.size();
    s.bytes = u.text.size();
    s.etag = std::move(u.etag);
    s.last_modified = std::move(u.last_modified);
    s.fetched_ms = now_ms;
    changed = true;
  } else if (u.outcome == RefreshOutcome::kUnchanged && state.current &&
             now_ms - state.current->loaded_ms >= config.ttl_ms / 10) {
    // Confirmed: the TTL counts from now. Re-stamping copies the indicators, so it is done
    // once per tenth of the TTL, not at every confirmation (docs/intel.md).
    state.current = make_loaded(config, state.current->parsed, now_ms);
    changed = true;
  }
  if (u.outcome == RefreshOutcome::kUpdated || u.outcome == RefreshOutcome::kUnchanged) {
    s.last_success_ms = now_ms;
    s.from_cache = false;
  }
  if (u.error.empty()) {
    s.last_error.clear();
    s.consecutive_failures = 0;
    s.next_attempt_ms = now_ms + config.refresh_ms;
  } else {
    s.last_error = std::move(u.error);
    ++s.consecutive_failures;
    if (u.outcome == RefreshOutcome::kRejected) ++s.rejected_updates;
    s.next_attempt_ms =
        now_ms + retry_delay_ms(s.consecutive_failures, config.refresh_ms, u.retry_after_ms);
  }
  std::string cache_error;
  const bool cached = (u.outcome != RefreshOutcome::kUpdated ||
                       cache_.write_text(config.name, u.text, cache_error)) &&
                      cache_.write_status(config.name, s, cache_error);
  if (!cached) s.last_error += (s.last_error.empty() ? "" : "; ") + ("cache: " + cache_error);
  {
    std::lock_guard lock(mutex_);
    states_[i] = std::move(state);
  }
  if (changed) generation_.fetch_add(1, std::memory_order_acq_rel);
  return u.outcome;
}

std::vector<std::shared_ptr<const LoadedFeed>> FeedManager::feeds() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<const LoadedFeed>> out;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (configs_[i].enabled && states_[i].current) out.push_back(states_[i].current);
  }
  return out;
}

std::vector<FeedStatus> FeedManager::status() const {
  std::lock_guard lock(mutex_);
  std::vector<FeedStatus> out;
  out.reserve(states_.size());
  for (const State& s : states_) out.push_back(s.status);
  return out;
}

int64_t FeedManager::next_due_ms() const {
  std::lock_guard lock(mutex_);
  int64_t next = INT64_MAX;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (configs_[i].enabled) next = std::min(next, states_[i].status.next_attempt_ms);
  }
  return next;
}

}  // namespace orbwatch::intel
