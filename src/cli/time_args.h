// --since / --until values of the listing commands: a duration back from the newest record
// (offline captures keep their own clock, so "the last day" means the capture's) or an
// RFC 3339 time.
#pragma once

#include <cstdint>
#include <string>

#include "core/time.h"

namespace orbwatch::cli {

inline bool parse_time_arg(const std::string& text, int64_t newest_ms, int64_t& out) {
  if (auto d = parse_duration_ms(text)) {
    out = newest_ms - *d;
    return true;
  }
  if (auto t = parse_rfc3339_ms(text)) {
    out = *t;
    return true;
  }
  return false;
}

}  // namespace orbwatch::cli
