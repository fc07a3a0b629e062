// Fuzzes the STIX 2.1 and MISP parsers (and the STIX pattern parser through them) on one input.
// The input is also read as a bare STIX pattern so the pattern grammar is reached directly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "intel/json_feeds.h"
#include "intel/stix_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch::intel;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  volatile size_t sink = 0;
  ParsedFeed s = parse_stix(text);
  ParsedFeed m = parse_misp(text);
  sink = sink + s.indicators.size() + s.issues.size() + m.indicators.size() + m.issues.size();
  sink = sink + misp_manifest_events(text).size();
  StixPattern p = parse_stix_pattern(text);
  sink = sink + p.comparisons.size() + p.reason.size();
  for (const auto& i : s.indicators) {
    // Indicators are well formed: a domain is non-empty, a prefix has no host bits.
    if (i.kind == IndicatorKind::kDomain && i.domain.empty()) __builtin_trap();
    if (i.kind == IndicatorKind::kPrefix &&
        orbwatch::Prefix::make(i.prefix.addr, i.prefix.len) != i.prefix) {
      __builtin_trap();
    }
  }
  return 0;
}
