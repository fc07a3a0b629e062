// End-to-end faults of the flow archive with the real binary: `orbwatch collect --store` killed
// with SIGKILL while flows arrive leaves a readable archive that lost at most the last second;
// `orbwatch store check` reports a damaged segment by name, queries still answer from the rest,
// and `orbwatch store repair` seals crash leftovers and keeps a damaged file's intact blocks.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>

#include "util/child_process.h"
#include "util/run_command.h"
#include "util/v5_stream.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

using orbwatch::test::Child;
using orbwatch::test::run_command;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kBin = ORBWATCH_BINARY;

class ArchiveE2e : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("orbwatch_archive_e2e_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = (dir_ / "store").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Flows in the archive by `orbwatch query`, with its exit code.
  size_t count(int& rc) {
    const std::string out = (dir_ / "query.csv").string();
    const std::string err = (dir_ / "query.err").string();
    // A subshell: run_command appends its own 2>&1.
    const auto r = run_command("(" + kBin + " query -q --format csv --store " + store_ + " > " +
                               out + " 2> " + err + ")");
    rc = r.rc;
    std::ifstream e(err);
    problems_.assign(std::istreambuf_iterator<char>(e), {});
    std::ifstream in(out);
    size_t lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    return lines == 0 ? 0 : lines - 1;  // the header
  }
  std::string problems_;  // stderr of the last count()

  fs::path dir_;
  std::string store_;
};

TEST_F(ArchiveE2e, KillNineWhileCollectingLosesAtMostTheLastSecond) {
  Child ow({kBin, "collect", "--listen", "udp://127.0.0.1:0", "--store", store_, "--store-writers",
            "1", "--stats-interval", "0", "--flush-interval", "1s"});
  std::smatch m;
  ASSERT_TRUE(ow.wait_for(std::regex(R"(listening on udp://127\.0\.0\.1:(\d+))"), m, 10s))
      << ow.err();
  const uint16_t port = static_cast<uint16_t>(std::stoi(m[1]));
  // 1,500 flows, then 2.5 s for the flush, then 600 more right before the kill.
  const auto stream = orbwatch::test::make_v5_stream(70);
  std::vector<std::vector<uint8_t>> first(stream.begin(), stream.begin() + 50);
  std::vector<std::vector<uint8_t>> last(stream.begin() + 50, stream.end());
  orbwatch::test::send_v5_stream(first, port);
  std::this_thread::sleep_for(2500ms);
  orbwatch::test::send_v5_stream(last, port);
  std::this_thread::sleep_for(100ms);
  ow.stop(SIGKILL, 10s);

  int rc = -1;
  const size_t kept = count(rc);
  EXPECT_EQ(rc, 0) << problems_;
  EXPECT_GE(kept, 1500u);  // everything older than a second
  EXPECT_LE(kept, 2100u);

  // The segment is open (no footer): check says so, repair seals it, nothing is lost.
  auto r = run_command(kBin + " store check --store " + store_);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("(1 open)"), std::string::npos) << r.out;
  std::this_thread::sleep_for(1100ms);  // repair leaves files younger than a second alone
  r = run_command(kBin + " store repair --store " + store_);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("1 open segments sealed"), std::string::npos) << r.out;
  r = run_command(kBin + " store check --store " + store_);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("(0 open)"), std::string::npos) << r.out;
  EXPECT_EQ(count(rc), kept);
}

TEST_F(ArchiveE2e, FullDiskIsReportedCountedAndWhatWasStoredStaysReadable) {
  if (std::system("command -v prlimit > /dev/null 2>&1") != 0) GTEST_SKIP() << "no prlimit";
  // A 256 KiB file size limit stands in for a full disk: writes past it fail (EFBIG) as they
  // fail with ENOSPC on a full file system.
  Child ow({"prlimit", "--fsize=262144", kBin, "collect", "--listen", "udp://127.0.0.1:0",
            "--store", store_, "--store-writers", "1", "--stats-interval", "0", "--codec", "lz4"});
  std::smatch m;
  ASSERT_TRUE(ow.wait_for(std::regex(R"(listening on udp://127\.0\.0\.1:(\d+))"), m, 10s))
      << ow.err();
  const uint16_t port = static_cast<uint16_t>(std::stoi(m[1]));
  // 4,500 flows (~160 KB) flushed after a second, then 25,500 more that do not fit.
  const auto stream = orbwatch::test::make_v5_stream(1000);
  orbwatch::test::send_v5_stream({stream.begin(), stream.begin() + 150}, port);
  std::this_thread::sleep_for(1500ms);
  orbwatch::test::send_v5_stream({stream.begin() + 150, stream.end()}, port);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(ow.stop(SIGTERM, 10s), 1) << ow.err();  // flows were lost: exit 1
  std::smatch n;
  const std::string err = ow.err();
  ASSERT_TRUE(std::regex_search(err, n, std::regex(R"((\d+) flows stored .*, (\d+) NOT stored: )")))
      << err;
  const size_t stored = std::stoul(n[1]), lost = std::stoul(n[2]);
  EXPECT_EQ(stored + lost, 30000u) << err;
  EXPECT_EQ(stored, 4500u) << err;
  EXPECT_EQ(lost, 25500u) << err;
  EXPECT_NE(err.find("File too large"), std::string::npos) << err;
  // Everything counted as stored is there (after sealing what the error left open).
  auto r = run_command(kBin + " store repair --store " + store_);
  EXPECT_EQ(r.rc, 0) << r.out;
  int rc = -1;
  EXPECT_EQ(count(rc), stored);
  EXPECT_EQ(rc, 0) << problems_;
}

TEST_F(ArchiveE2e, DamagedSegmentIsNamedSkippedAndRepaired) {
  Child ow({kBin, "collect", "--listen", "udp://127.0.0.1:0", "--store", store_, "--store-writers",
            "1", "--stats-interval", "0"});
  std::smatch m;
  ASSERT_TRUE(ow.wait_for(std::regex(R"(listening on udp://127\.0\.0\.1:(\d+))"), m, 10s))
      << ow.err();
  const uint16_t port = static_cast<uint16_t>(std::stoi(m[1]));
  // Two flushes a second apart: two blocks in one segment.
  const auto stream = orbwatch::test::make_v5_stream(40);
  orbwatch::test::send_v5_stream({stream.begin(), stream.begin() + 20}, port);
  std::this_thread::sleep_for(1500ms);
  orbwatch::test::send_v5_stream({stream.begin() + 20, stream.end()}, port);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(ow.stop(SIGTERM, 10s), 0) << ow.err();
  int rc = -1;
  ASSERT_EQ(count(rc), 1200u);
  ASSERT_EQ(rc, 0);

  std::string segment;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(store_) / "flows")) {
    if (e.path().extension() == ".seg") segment = e.path().string();
  }
  ASSERT_FALSE(segment.empty());
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(32 + 144 + 300);  // inside the first block
    f.put('\x7f');
  }
  auto r = run_command(kBin + " store check --store " + store_);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find(segment + ": block 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("checksum"), std::string::npos) << r.out;

  // The query answers from the intact block and names the damaged one.
  EXPECT_EQ(count(rc), 600u);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(problems_.find(segment + ": block 0"), std::string::npos) << problems_;

  r = run_command(kBin + " store repair --store " + store_);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("1 files rewritten"), std::string::npos) << r.out;
  r = run_command(kBin + " store check --store " + store_);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(count(rc), 600u);
  EXPECT_EQ(rc, 0);
}

}  // namespace
