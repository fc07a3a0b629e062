#include "core/ip_addr.h"

#include <gtest/gtest.h>

namespace orbwatch {
namespace {

TEST(IpAddr, ParsesAndPrintsV4Mapped) {
  auto a = IpAddr::parse("192.0.2.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_value(), 0xC0000201u);
  EXPECT_EQ(a->to_string(), "192.0.2.1");
  EXPECT_EQ(IpAddr::v4(0xC0000201u), *a);
  EXPECT_EQ(IpAddr::v4(0).to_string(), "0.0.0.0");
  EXPECT_EQ(IpAddr::v4(0xFFFFFFFFu).to_string(), "255.255.255.255");
  EXPECT_EQ(IpAddr::v4(0x0A00640Au).to_string(), "10.0.100.10");
}

TEST(IpAddr, ParsesAndPrintsV6) {
  auto a = IpAddr::parse("2001:db8::1");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->is_v4());
  EXPECT_EQ(a->to_string(), "2001:db8::1");
  EXPECT_EQ(IpAddr::parse("::")->to_string(), "::");
  EXPECT_TRUE(IpAddr::parse("::")->is_zero());
  // An explicitly mapped address is the same value as the IPv4 form.
  EXPECT_EQ(*IpAddr::parse("::ffff:10.1.2.3"), *IpAddr::parse("10.1.2.3"));
}

TEST(IpAddr, RejectsGarbage) {
  for (const char* s :
       {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "hello", "1.2.3.4 ", "::g", "2001:db8:::1"}) {
    EXPECT_FALSE(IpAddr::parse(s)) << s;
  }
  EXPECT_FALSE(IpAddr::parse(std::string(200, '1')));
}

TEST(Prefix, ParsesMasksAndContains) {
  auto p = Prefix::parse("10.1.2.3/8");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "10.0.0.0/8");
  EXPECT_EQ(p->display_len(), 8u);
  EXPECT_TRUE(p->contains(*IpAddr::parse("10.255.0.1")));
  EXPECT_FALSE(p->contains(*IpAddr::parse("11.0.0.1")));
  EXPECT_FALSE(p->contains(*IpAddr::parse("2001:db8::1")));

  auto v6 = Prefix::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*IpAddr::parse("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(*IpAddr::parse("2001:db9::1")));

  auto host = Prefix::parse("192.0.2.7");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->display_len(), 32u);
  EXPECT_EQ(Prefix::parse("0.0.0.0/0")->to_string(), "0.0.0.0/0");
  EXPECT_TRUE(Prefix::parse("0.0.0.0/0")->contains(*IpAddr::parse("8.8.8.8")));

  for (const char* s : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::/129", "10.0.0.0/8x"}) {
    EXPECT_FALSE(Prefix::parse(s)) << s;
  }
}

}  // namespace
}  // namespace orbwatch
