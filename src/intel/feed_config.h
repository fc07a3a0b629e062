// How one threat feed is configured: the `[[feeds]]` tables of the config file (parsed by the
// feed manager) or a `--feed FILE` on the command line (defaults for everything but the source).
#pragma once

#include <cstdint>
#include <string>

#include "core/alert.h"
#include "intel/indicator.h"

namespace orbwatch::intel {

struct FeedConfig {
  std::string name;    // unique; the `indicator.feed` of alerts
  std::string source;  // a file path, or an http:// / https:// URL
  FeedFormat format = FeedFormat::kAuto;
  int64_t refresh_ms = 3'600'000;       // how often the source is read again
  int64_t ttl_ms = 30LL * 86'400'000;   // indicator lifetime when the feed gives none
  Severity severity = Severity::kHigh;  // base severity of this feed's alerts
  bool enabled = true;
  double max_bad_share = 0.10;  // reject an update with more bad lines than this
  uint32_t config_line = 0;     // where it was declared (0: not from a file)
};

}  // namespace orbwatch::intel
