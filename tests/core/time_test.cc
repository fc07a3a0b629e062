#include "core/time.h"

#include <gtest/gtest.h>

namespace orbwatch {
namespace {

TEST(Time, FormatsRfc3339WithMilliseconds) {
  EXPECT_EQ(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339_ms(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(rfc3339_ms(951782400000), "2000-02-29T00:00:00.000Z");  // leap day
  EXPECT_EQ(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Time, ParsesWhatItFormats) {
  for (int64_t ms :
       {int64_t{0}, int64_t{1700000000123}, int64_t{951782400000}, int64_t{4102444799999}}) {
    EXPECT_EQ(parse_rfc3339_ms(rfc3339_ms(ms)), ms);
  }
  EXPECT_EQ(parse_rfc3339_ms("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(parse_rfc3339_ms("2023-11-14T23:13:20.5+01:00"), 1700000000500);
  EXPECT_EQ(parse_rfc3339_ms("2023-11-14"), 1699920000000);
  EXPECT_FALSE(parse_rfc3339_ms("2023-13-14"));
  EXPECT_FALSE(parse_rfc3339_ms("2023-11-14T25:00:00Z"));
  EXPECT_FALSE(parse_rfc3339_ms("yesterday"));
  EXPECT_FALSE(parse_rfc3339_ms("2023-11-14T22:13:20Zjunk"));
}

TEST(Time, ParsesDurations) {
  EXPECT_EQ(parse_duration_ms("90s"), 90'000);
  EXPECT_EQ(parse_duration_ms("90"), 90'000);
  EXPECT_EQ(parse_duration_ms("15m"), 900'000);
  EXPECT_EQ(parse_duration_ms("1h30m"), 5'400'000);
  EXPECT_EQ(parse_duration_ms("30d"), 2'592'000'000);
  EXPECT_EQ(parse_duration_ms("2w"), 1'209'600'000);
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_EQ(parse_duration_ms(""), std::nullopt);
  EXPECT_EQ(parse_duration_ms("-5m"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("5 m"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("5y"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("m"), std::nullopt);
  EXPECT_EQ(parse_duration_ms("99999999999999999999s"), std::nullopt);
  EXPECT_EQ(format_duration_ms(5'400'000), "1h30m");
  EXPECT_EQ(format_duration_ms(0), "0s");
  EXPECT_EQ(format_duration_ms(2'592'000'000), "4w2d");
  EXPECT_EQ(parse_duration_ms(format_duration_ms(123'456'789)), 123'456'789);
}

}  // namespace
}  // namespace orbwatch
