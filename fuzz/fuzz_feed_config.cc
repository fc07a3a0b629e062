// Fuzzes the [[feeds]] / [intel] TOML config reader (toml++ and the key checks after it). A
// config either loads, with every feed valid, or fails with at least one message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "intel/feed_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch::intel;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  auto config = parse_intel_config(text, "/etc/orbwatch/orbwatch.toml", errors);
  if (config.has_value() != errors.empty()) __builtin_trap();
  if (!config) return 0;
  for (const FeedConfig& f : config->feeds) {
    if (f.name.empty() || f.source.empty() || f.refresh_ms < 1000 || f.ttl_ms < 1000) {
      __builtin_trap();
    }
    if (!(f.max_bad_share >= 0.0 && f.max_bad_share <= 1.0)) __builtin_trap();
    if (f.taxii && !is_url(f.source)) __builtin_trap();
  }
  return 0;
}
