#include "intel/domain_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace orbwatch::intel {
namespace {

std::vector<uint32_t> ids(const DomainTable& t, std::string_view name) {
  auto s = t.lookup(name);
  return {s.begin(), s.end()};
}

TEST(DomainTable, ExactAndParentMatchesWithOverlaps) {
  DomainTable::Builder b;
  b.add("k3121.com", 1);
  b.add("W8510.COM.", 2);    // case and trailing dot do not matter
  b.add("c2.w8510.com", 3);  // a more specific indicator under another
  b.add("k3121.com", 4);     // the same domain from a second feed
  b.add("not a domain", 5);  // dropped
  auto t = b.build();
  EXPECT_EQ(t->domains(), 3u);
  EXPECT_EQ(ids(*t, "k3121.com"), (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(ids(*t, "api.K3121.com"), (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(ids(*t, "x.c2.w8510.com."), (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(ids(*t, "w8510.com"), (std::vector<uint32_t>{2}));
  EXPECT_TRUE(ids(*t, "k3121.com.evil").empty());  // suffixes, not substrings
  EXPECT_TRUE(ids(*t, "xk3121.com").empty());
  EXPECT_TRUE(ids(*t, "com").empty());
  EXPECT_TRUE(ids(*t, "").empty());
  EXPECT_TRUE(ids(*t, std::string(300, 'a')).empty());
}

TEST(DomainTable, NormalizeRejectsWhatIsNotAName) {
  EXPECT_EQ(normalize_domain("Example.COM."), "example.com");
  EXPECT_EQ(normalize_domain("_dmarc.example.com"), "_dmarc.example.com");
  for (const char* bad : {"", ".", "a..b", ".a", "a b.com", "exa\xff.com", "a/b.com"}) {
    EXPECT_EQ(normalize_domain(bad), "") << bad;
  }
  EXPECT_EQ(normalize_domain(std::string(64, 'a') + ".com"), "");
  EXPECT_EQ(normalize_domain(std::string(63, 'a') + ".com"), std::string(63, 'a') + ".com");
}

TEST(DomainTable, EmptyTableMatchesNothing) {
  auto t = DomainTable::Builder{}.build();
  EXPECT_TRUE(t->lookup("example.com").empty());
}

}  // namespace
}  // namespace orbwatch::intel
