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

}  // namespace
}  // namespace orbwatch
