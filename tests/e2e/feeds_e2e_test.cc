// End-to-end: `orbwatch feeds lint` and `orbwatch feeds check` on feed files the test writes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "util/interop.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

struct Result {
  int rc = -1;
  std::string out;
};

Result orbwatch(const std::string& args) {
  Result r;
  std::string cmd = std::string(ORBWATCH_BINARY) + " " + args + " 2>&1; echo \"rc=$?\"";
  orbwatch::test::for_each_output_line(cmd, [&](const std::string& line) {
    if (line.rfind("rc=", 0) == 0) {
      r.rc = std::stoi(line.substr(3));
    } else {
      r.out += line + "\n";
    }
  });
  return r;
}

class FeedsE2e : public testing::Test {
 protected:
  void SetUp() override {
    path_ = "/tmp/orbwatch_feeds_e2e_" + std::to_string(getpid()) + ".txt";
    std::ofstream(path_) << "# covert nodes\n192.0.2.0/24\nk3121.com ; C2\n10.0.0.1/33\n"
                            "198.51.100.1-198.51.100.4\n";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(FeedsE2e, LintCountsAndNamesTheBadLine) {
  Result r = orbwatch("feeds lint --format plain " + path_);
  EXPECT_EQ(r.rc, 0) << r.out;
  // 192.0.2.0/24, k3121.com, and the range as 198.51.100.1/32, .2/31, .4/32.
  EXPECT_NE(r.out.find("5 indicators (4 addresses/prefixes, 1 domains), 1 errors"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(path_ + ":4: error:"), std::string::npos) << r.out;
}

TEST_F(FeedsE2e, CheckFindsAddressesAndSubdomains) {
  Result hit = orbwatch("feeds check --format plain --feed " + path_ +
                        " 192.0.2.77 api.K3121.com 198.51.100.3");
  EXPECT_EQ(hit.rc, 0) << hit.out;
  EXPECT_NE(hit.out.find("192.0.2.77: " + path_ + " line 2: 192.0.2.0/24"), std::string::npos)
      << hit.out;
  EXPECT_NE(hit.out.find("api.K3121.com: " + path_ + " line 3: k3121.com"), std::string::npos)
      << hit.out;
  EXPECT_NE(hit.out.find("198.51.100.3: " + path_ + " line 5: 198.51.100.2/31"), std::string::npos)
      << hit.out;
  Result miss =
      orbwatch("feeds check --format plain --feed " + path_ + " 8.8.8.8 k3121.com.example");
  EXPECT_EQ(miss.rc, 1) << miss.out;
  EXPECT_NE(miss.out.find("8.8.8.8: no indicator"), std::string::npos) << miss.out;
}

TEST_F(FeedsE2e, UnreadableFeedFailsWithReason) {
  Result r = orbwatch("feeds lint /nonexistent/feed.txt");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("/nonexistent/feed.txt: cannot open"), std::string::npos) << r.out;
}

}  // namespace
