// End-to-end: `orbwatch feeds list` and `orbwatch feeds update` with a config file the test
// writes (file feeds only; the HTTP paths are covered by the unit tests' local server).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "util/interop.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

namespace fs = std::filesystem;

struct Result {
  int rc = -1;
  std::string out;
};

// Runs orbwatch in `dir` (stdout and stderr together).
Result orbwatch(const fs::path& dir, const std::string& args) {
  Result r;
  std::string cmd = "cd '" + dir.string() + "' && " + std::string(ORBWATCH_BINARY) + " " + args +
                    " 2>&1; echo \"rc=$?\"";
  orbwatch::test::for_each_output_line(cmd, [&](const std::string& line) {
    if (line.rfind("rc=", 0) == 0) {
      r.rc = std::stoi(line.substr(3));
    } else {
      r.out += line + "\n";
    }
  });
  return r;
}

bool has(const Result& r, const std::string& s) {
  return r.out.find(s) != std::string::npos;
}

class FeedsManagerE2e : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orbwatch_feeds_manager_e2e_" + std::to_string(getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "feeds");
    write("feeds/covert.txt", "# covert nodes\n192.0.2.0/24\nk3121.com\n198.51.100.7\n");
    write("orbwatch.toml", R"([network]
internal = ["10.0.0.0/8"]

[store]
path = "state"

[[feeds]]
name = "covert"
source = "feeds/covert.txt"
format = "plain"
refresh = "15m"
severity = "critical"

[[feeds]]
name = "gone"
source = "feeds/missing.txt"

[[feeds]]
name = "off"
source = "feeds/covert.txt"
enabled = false
)");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << text;
  }
  fs::path dir_;
};

TEST_F(FeedsManagerE2e, ListBeforeAndAfterUpdate) {
  Result before = orbwatch(dir_, "feeds list --config orbwatch.toml");
  EXPECT_EQ(before.rc, 0) << before.out;
  EXPECT_TRUE(has(before, "NAME")) << before.out;
  EXPECT_TRUE(has(before, "never")) << before.out;

  Result update = orbwatch(dir_, "feeds update --config orbwatch.toml");
  EXPECT_EQ(update.rc, 1) << update.out;  // "gone" failed
  EXPECT_TRUE(has(update, "covert: updated (3 indicators, plain, ")) << update.out;
  EXPECT_TRUE(has(update, "gone: failed: " + (dir_ / "feeds/missing.txt").string() +
                              ": No such file or directory; no version to keep"))
      << update.out;
  EXPECT_TRUE(has(update, "off: disabled, not read")) << update.out;
  EXPECT_TRUE(fs::exists(dir_ / "state/feeds/covert.feed"));

  Result only = orbwatch(dir_, "feeds update --config orbwatch.toml covert");
  EXPECT_EQ(only.rc, 0) << only.out;
  EXPECT_TRUE(has(only, "covert: unchanged (3 indicators")) << only.out;
  EXPECT_FALSE(has(only, "gone")) << only.out;

  // Found as ./orbwatch.toml without --config.
  Result after = orbwatch(dir_, "feeds list");
  EXPECT_EQ(after.rc, 0) << after.out;
  EXPECT_TRUE(has(after, "covert")) << after.out;
  EXPECT_TRUE(has(after, "critical")) << after.out;
  EXPECT_TRUE(has(after, "s ago")) << after.out;
  EXPECT_TRUE(has(after, "No such file or directory")) << after.out;

  Result json = orbwatch(dir_, "feeds list --json");
  EXPECT_EQ(json.rc, 0) << json.out;
  EXPECT_TRUE(has(json, R"({"name":"covert","source":")" + (dir_ / "feeds/covert.txt").string() +
                            R"(","format":"plain","detected_format":"plain","enabled":true,)"
                            R"("refresh":"15m",)"))
      << json.out;
  EXPECT_TRUE(has(json, R"("cached":true,"entries":3,)")) << json.out;
  EXPECT_TRUE(has(json, R"("consecutive_failures":1,)")) << json.out;
}

TEST_F(FeedsManagerE2e, ConfigErrorsNameFileLineAndKey) {
  write("bad.toml", "[[feeds]]\nname = \"x\"\nsource = \"x.txt\"\nrefresh = \"soon\"\n");
  Result r = orbwatch(dir_, "feeds list --config bad.toml");
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_TRUE(has(r,
                  "orbwatch feeds list: bad.toml:4: feeds[1].refresh: expected a duration "
                  "like \"15m\", got \"soon\""))
      << r.out;
  Result unknown = orbwatch(dir_, "feeds update --config orbwatch.toml nosuch");
  EXPECT_EQ(unknown.rc, 2) << unknown.out;
  EXPECT_TRUE(has(unknown, "no feed named 'nosuch' in orbwatch.toml")) << unknown.out;
}

TEST_F(FeedsManagerE2e, NoConfigFileIsSaidClearly) {
  if (fs::exists("/etc/orbwatch/orbwatch.toml")) GTEST_SKIP() << "this machine has a config";
  fs::remove(dir_ / "orbwatch.toml");
  Result r = orbwatch(dir_, "feeds list");
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_TRUE(has(r, "no config file: give --config FILE")) << r.out;
}

TEST_F(FeedsManagerE2e, HelpForListAndUpdate) {
  Result list = orbwatch(dir_, "feeds list --help");
  EXPECT_EQ(list.rc, 0) << list.out;
  EXPECT_TRUE(has(list, "--config")) << list.out;
  EXPECT_TRUE(has(list, "--json")) << list.out;
  Result update = orbwatch(dir_, "feeds update --help");
  EXPECT_EQ(update.rc, 0) << update.out;
  EXPECT_TRUE(has(update, "max_bad_share")) << update.out;
}

}  // namespace
