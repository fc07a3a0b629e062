// Event time: milliseconds since the Unix epoch (UTC) as int64. Detectors and windows run on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orbwatch {

// Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars) into buf; returns the length written.
size_t format_rfc3339_ms(int64_t unix_ms, char* buf);
std::string rfc3339_ms(int64_t unix_ms);

// Parses RFC 3339 / ISO 8601 UTC timestamps ("2024-01-02T03:04:05Z", optional fraction and
// +hh:mm offset) into unix ms.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

int64_t wall_clock_ms();

// a / b rounded down (b > 0): the bucket of a time, before the epoch too.
inline int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && a < 0 ? 1 : 0);
}

// Parses a duration such as "90s", "15m", "1h30m", "30d", "2w", "500ms" (units ms, s, m, h, d, w;
// several terms add up; a bare number is seconds) into milliseconds. nullopt when malformed,
// negative or over ~290 million years.
std::optional<int64_t> parse_duration_ms(std::string_view text);

// A point in time as users write it (--since, since=): an RFC 3339 time, or a duration counted
// back from `reference_ms` ("24h"). Offline data keeps its own clock, so callers choose the
// reference: the newest record, or now.
bool parse_time_arg(std::string_view text, int64_t reference_ms, int64_t& out);

// The shortest exact form of a duration in the units above: "15m", "1h30m", "0s".
std::string format_duration_ms(int64_t ms);

}  // namespace orbwatch
