// Fuzzes the text feed parsers: the input is parsed as every text format and with detection.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "intel/feed_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch::intel;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  volatile size_t sink = 0;
  for (FeedFormat f : {FeedFormat::kPlain, FeedFormat::kDrop, FeedFormat::kDropJson,
                       FeedFormat::kFirehol, FeedFormat::kCsv, FeedFormat::kAdvisory}) {
    ParsedFeed p = parse_feed(text, f, "");
    sink = sink + p.indicators.size() + p.issues.size();
    if (p.issues.size() > ParsedFeed::kMaxIssues) __builtin_trap();
  }
  sink = sink + static_cast<size_t>(detect_feed_format(text, "feed.txt"));
  return 0;
}
