#include "intel/indicator.h"

#include <array>
#include <utility>

namespace orbwatch::intel {

namespace {
constexpr std::array<std::pair<FeedFormat, const char*>, 9> kNames = {{
    {FeedFormat::kAuto, "auto"},
    {FeedFormat::kPlain, "plain"},
    {FeedFormat::kDrop, "drop"},
    {FeedFormat::kDropJson, "drop-json"},
    {FeedFormat::kFirehol, "firehol"},
    {FeedFormat::kCsv, "csv"},
    {FeedFormat::kStix, "stix"},
    {FeedFormat::kMisp, "misp"},
    {FeedFormat::kAdvisory, "advisory"},
}};
}  // namespace

const char* feed_format_name(FeedFormat f) {
  for (const auto& [k, n] : kNames) {
    if (k == f) return n;
  }
  return "unknown";
}

bool parse_feed_format(std::string_view name, FeedFormat& out) {
  for (const auto& [k, n] : kNames) {
    if (name == n) {
      out = k;
      return true;
    }
  }
  return false;
}

}  // namespace orbwatch::intel
