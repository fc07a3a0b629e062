#include "intel/taxii_accumulate.h"

#include <algorithm>
#include <climits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/time.h"

namespace orbwatch::intel {

namespace {

std::string value_key(const Indicator& ind) {
  return ind.kind == IndicatorKind::kDomain ? "d " + ind.domain : "p " + ind.prefix.to_string();
}

// Indicators without their own end live TTL from arrival (or from valid_from, when later).
void stamp(Indicator& ind, int64_t now_ms, int64_t ttl_ms) {
  if (ind.valid_until_ms != 0) return;
  const int64_t start = std::max(now_ms, ind.valid_from_ms);
  ind.valid_until_ms = ttl_ms > INT64_MAX - start ? INT64_MAX : start + ttl_ms;
}

void append_time(std::string& out, const char* key, int64_t ms) {
  if (ms == 0) return;
  out += ",\"";
  out += key;
  out += "\":\"" + rfc3339_ms(ms) + "\"";
}

}  // namespace

ParsedFeed accumulate_taxii(const ParsedFeed& previous, ParsedFeed poll, int64_t now_ms,
                            int64_t ttl_ms) {
  ParsedFeed out = std::move(poll);
  out.format = FeedFormat::kStix;
  std::vector<Indicator> live;
  std::unordered_set<std::string> seen;
  // Newest first: within a poll later objects were added later; the poll is newer than before.
  for (auto it = out.indicators.rbegin(); it != out.indicators.rend(); ++it) {
    stamp(*it, now_ms, ttl_ms);
    if (it->valid_until_ms > now_ms && seen.insert(value_key(*it)).second) {
      live.push_back(std::move(*it));
    }
  }
  for (const Indicator& old : previous.indicators) {
    Indicator ind = old;
    stamp(ind, now_ms, ttl_ms);
    if (ind.valid_until_ms > now_ms && seen.insert(value_key(ind)).second) {
      live.push_back(std::move(ind));
    }
  }
  if (live.size() > kMaxTaxiiIndicators) {
    std::nth_element(
        live.begin(), live.begin() + kMaxTaxiiIndicators, live.end(),
        [](const Indicator& a, const Indicator& b) { return a.valid_until_ms > b.valid_until_ms; });
    live.resize(kMaxTaxiiIndicators);
  }
  out.indicators = std::move(live);
  return out;
}

std::string to_stix_lines(const ParsedFeed& feed) {
  std::string out;
  for (size_t i = 0; i < feed.indicators.size(); ++i) {
    const Indicator& ind = feed.indicators[i];
    out += R"({"type":"indicator","spec_version":"2.1","id":)";
    orbwatch::json::append_string(
        out, ind.ref.empty() ? "indicator--orbwatch-" + std::to_string(i) : ind.ref);
    const std::string pattern =
        ind.kind == IndicatorKind::kDomain
            ? "[domain-name:value = '" + ind.domain + "']"
            : std::string(ind.prefix.addr.is_v4() ? "[ipv4-addr" : "[ipv6-addr") + ":value = '" +
                  ind.prefix.to_string() + "']";
    out += R"(,"pattern_type":"stix","pattern":)";
    orbwatch::json::append_string(out, pattern);
    append_time(out, "valid_from", ind.valid_from_ms);
    append_time(out, "valid_until", ind.valid_until_ms);
    append_time(out, "created", ind.first_seen_ms);
    append_time(out, "modified", ind.last_seen_ms);
    if (ind.confidence != 0) {
      out += ",\"confidence\":";
      orbwatch::json::append_int(out, ind.confidence);
    }
    if (!ind.tags.empty()) {
      out += ",\"labels\":[";
      for (size_t t = 0; t < ind.tags.size(); ++t) {
        if (t != 0) out += ',';
        orbwatch::json::append_string(out, ind.tags[t]);
      }
      out += ']';
    }
    out += "}\n";
  }
  return out;
}

}  // namespace orbwatch::intel
