#include "intel/intel_set.h"

#include <algorithm>
#include <climits>

namespace orbwatch::intel {

std::shared_ptr<const IntelSet> IntelSet::build(
    std::span<const std::shared_ptr<const LoadedFeed>> feeds, int64_t now_ms) {
  std::shared_ptr<IntelSet> set(new IntelSet());
  set->built_ms_ = now_ms;
  PrefixTable::Builder prefixes;
  DomainTable::Builder domains;
  for (const auto& feed : feeds) {
    if (!feed || !feed->config.enabled) continue;
    const auto feed_index = static_cast<uint32_t>(set->feeds_.size());
    set->feeds_.push_back(feed);
    const int64_t ttl_end = feed->config.ttl_ms > INT64_MAX - feed->loaded_ms
                                ? INT64_MAX
                                : feed->loaded_ms + feed->config.ttl_ms;
    const auto& inds = feed->parsed.indicators;
    for (size_t i = 0; i < inds.size(); ++i) {
      const Indicator& ind = inds[i];
      const int64_t expires = ind.valid_until_ms != 0 ? ind.valid_until_ms : ttl_end;
      if (expires <= now_ms) {
        ++set->stats_.expired;
        continue;
      }
      if (ind.valid_from_ms > now_ms) {
        ++set->stats_.not_yet_valid;
        set->next_change_ms_ = std::min(set->next_change_ms_, ind.valid_from_ms);
        continue;
      }
      set->next_change_ms_ = std::min(set->next_change_ms_, expires);
      const auto id = static_cast<uint32_t>(set->entries_.size());
      set->entries_.push_back({feed_index, static_cast<uint32_t>(i), expires});
      if (ind.kind == IndicatorKind::kPrefix) {
        prefixes.add(ind.prefix, id);
      } else {
        domains.add(ind.domain, id);
      }
    }
  }
  set->stats_.live = set->entries_.size();
  set->prefixes_ = prefixes.build();
  set->domains_ = domains.build();
  return set;
}

std::shared_ptr<const IntelSet> IntelSet::empty() {
  return build({}, 0);
}

}  // namespace orbwatch::intel
