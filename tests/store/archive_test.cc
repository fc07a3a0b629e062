#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/archive.h"
#include "store/archive_scan.h"
#include "store/archive_thread.h"
#include "store/archive_writer.h"
#include "store/filter.h"

namespace orbwatch::store {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kT0 = 1'776'672'000'000;  // 2026-04-20T08:00:00Z

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("orbwatch_archive_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

// Flow i: starts at kT0 + i seconds, from 10.0.(i/256).(i%256) to 192.0.2.(i%200), 100 + i bytes.
FlowBatch flows(uint32_t first, uint32_t n) {
  FlowBatch b;
  for (uint32_t i = first; i < first + n; ++i) {
    FlowRecord& r = b.add();
    r.start_ms = kT0 + int64_t{i} * 1000;
    r.end_ms = r.start_ms + 500;
    r.src = IpAddr::v4(0x0a000000u + i);
    r.dst = IpAddr::v4(0xc0000200u + i % 200);
    r.src_port = static_cast<uint16_t>(10000 + i % 1000);
    r.dst_port = i % 2 == 0 ? 443 : 53;
    r.proto = i % 2 == 0 ? 6 : 17;
    r.bytes = 100 + i;
    r.packets = 1 + i % 10;
  }
  return b;
}

std::vector<uint64_t> scan_bytes(const std::string& dir, ScanSpec spec,
                                 ScanStats* stats = nullptr) {
  std::vector<uint64_t> out;
  std::mutex mu;
  auto s = scan(dir, spec, [&](unsigned, FlowBatch& b) {
    std::lock_guard lock(mu);
    for (const auto& r : b.records) out.push_back(r.bytes);
    return true;
  });
  if (stats != nullptr) *stats = std::move(s);
  return out;
}

ArchiveWriterOptions small_blocks() {
  ArchiveWriterOptions o;
  o.segment.block_records = 100;
  return o;
}

TEST_F(ArchiveTest, WritesSealedTimeNamedSegmentsAndScansThemInOrder) {
  auto o = small_blocks();
  o.rotate_records = 1000;
  ArchiveWriter w(dir_, o);
  for (uint32_t i = 0; i < 3500; i += 500) w.append(flows(i, 500), kT0);
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;
  EXPECT_EQ(w.stats().flows_stored, 3500u);
  EXPECT_EQ(w.stats().segments_sealed, 4u);  // 1000, 1000, 1000, 500

  std::vector<std::string> problems;
  const auto files = archive::list(dir_, problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(files.size(), 4u);
  EXPECT_TRUE(files[0].sealed);
  EXPECT_EQ(files[0].first_ms, kT0);
  EXPECT_EQ(files[0].last_ms, kT0 + 999'000 + 500);
  EXPECT_NE(files[0].path.find("/flows/2026-04-20/"), std::string::npos) << files[0].path;
  EXPECT_TRUE(fs::is_empty(archive::open_dir(dir_)));

  ScanSpec spec;
  spec.ordered = true;
  spec.threads = 2;
  const auto all = scan_bytes(dir_, spec);
  ASSERT_EQ(all.size(), 3500u);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], 100 + i);
  EXPECT_EQ(archive::newest_ms(dir_), kT0 + 3'499'000 + 500);
}

TEST_F(ArchiveTest, ArchiveThreadStoresEverythingInOrderAndSealsOnClose) {
  // The writer thread gets the flows in staging batches of a block's size, with ticks between;
  // a queue of one makes the caller wait for it (back-pressure) most of the time.
  auto o = small_blocks();
  o.rotate_records = 1000;
  ArchiveThread w(dir_, o, /*writers=*/1, /*max_queued=*/1);
  for (uint32_t i = 0; i < 3500; i += 70) {
    w.append(flows(i, 70), kT0);
    if (i % 700 == 0) w.tick(kT0);
  }
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;
  EXPECT_EQ(w.stats().flows_stored, 3500u);
  EXPECT_EQ(w.stats().segments_sealed, 4u);  // rotated after the appends that reach 1000
  EXPECT_TRUE(fs::is_empty(archive::open_dir(dir_)));
  ScanSpec spec;
  spec.ordered = true;
  const auto all = scan_bytes(dir_, spec);
  ASSERT_EQ(all.size(), 3500u);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], 100 + i);
  ASSERT_TRUE(w.close(error)) << error;  // again: nothing more to do
}

TEST_F(ArchiveTest, ArchiveThreadWithSeveralWritersStoresEveryFlowOnce) {
  // Three writers share the blocks, each in segments of its own; together they hold every flow
  // exactly once, and close() seals them all.
  auto o = small_blocks();
  o.rotate_records = 1000;
  ArchiveThread w(dir_, o, /*writers=*/3, /*max_queued=*/2);
  for (uint32_t i = 0; i < 7000; i += 70) {
    w.append(flows(i, 70), kT0);
    if (i % 1400 == 0) w.tick(kT0);
  }
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;
  EXPECT_EQ(w.stats().flows_stored, 7000u);
  EXPECT_GE(w.stats().segments_sealed, 7u);
  EXPECT_TRUE(fs::is_empty(archive::open_dir(dir_)));
  auto all = scan_bytes(dir_, {});
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 7000u);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], 100 + i);
}

TEST_F(ArchiveTest, ArchiveThreadFlushesWhatATickHandsOver) {
  // Flows staged below a block's size reach the disk on the next tick (the flush interval is
  // what a crash may lose), while the writer is still open.
  ArchiveWriterOptions o;  // 16,384-record blocks
  o.flush_interval_ms = 0;
  ArchiveThread w(dir_, o, /*writers=*/2);
  w.append(flows(0, 300), kT0);
  w.tick(kT0 + 1000);
  uint64_t seen = 0;
  for (int tries = 0; tries < 500 && seen < 300; ++tries) {
    seen = scan_bytes(dir_, {}).size();
    if (seen < 300) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(seen, 300u);
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;
  EXPECT_EQ(w.stats().flows_stored, 300u);
}

TEST_F(ArchiveTest, TimeRangeAndAddressesSkipFilesAndBlocks) {
  auto o = small_blocks();
  o.rotate_records = 1000;
  ArchiveWriter w(dir_, o);
  for (uint32_t i = 0; i < 4000; i += 1000) w.append(flows(i, 1000), kT0);
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;

  ScanSpec spec;
  spec.from_ms = kT0 + 1'499'600;  // flows 1500..2499: 1499 ended at +1'499'500
  spec.to_ms = kT0 + 2'499'000;
  ScanStats stats;
  auto got = scan_bytes(dir_, spec, &stats);
  std::sort(got.begin(), got.end());
  ASSERT_EQ(got.size(), 1000u);
  EXPECT_EQ(got.front(), 100u + 1500);
  EXPECT_EQ(got.back(), 100u + 2499);
  EXPECT_EQ(stats.files_skipped, 2u);  // the first and the last 1000 by name
  EXPECT_EQ(stats.files, 2u);
  EXPECT_GE(stats.blocks_skipped, 9u);  // the blocks of 1000..1399 and 2500..2999 by time

  // One source address: the bloom filters leave (almost) only its block.
  auto f = Filter::parse("src ip 10.0.12.34", *std::make_unique<FilterError>());
  ASSERT_TRUE(f);
  ScanSpec by_addr;
  by_addr.filter = &*f;
  got = scan_bytes(dir_, by_addr, &stats);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], 100u + 0x0c22);
  EXPECT_EQ(stats.blocks, 40u);
  EXPECT_GE(stats.blocks_skipped, 38u);
  EXPECT_EQ(stats.records_read, (stats.blocks - stats.blocks_skipped) * 100);
}

TEST_F(ArchiveTest, ScansDecodeOnlyTheColumnsAskedForAndTheFiltersNeed) {
  ArchiveWriter w(dir_, small_blocks());
  w.append(flows(0, 2000), kT0);
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;
  FilterError fe;
  auto f = Filter::parse("dst port 443 and bytes > 1000 and net 10.0.4.0/22", fe);
  ASSERT_TRUE(f);
  ScanSpec spec;
  spec.filter = &*f;
  spec.columns = segment::column::kPackets;
  spec.threads = 1;
  std::vector<FlowRecord> got;
  scan(dir_, spec, [&](unsigned, FlowBatch& b) {
    got.insert(got.end(), b.records.begin(), b.records.end());
    return true;
  });
  // Flows 1024..1999 with an even index and bytes > 1000 (index > 900): 488 of them.
  ASSERT_EQ(got.size(), 488u);
  for (const auto& r : got) {
    EXPECT_EQ(r.dst_port, 443);
    EXPECT_GT(r.bytes, 1000u);
    EXPECT_EQ(r.packets, 1 + (r.bytes - 100) % 10);  // asked for
    EXPECT_EQ(r.start_ms, 0);                        // not asked for: left zero
    EXPECT_EQ(r.proto, 0);
  }
}

TEST_F(ArchiveTest, OrderedScanStopsWhenTheConsumerSaysSo) {
  ArchiveWriter w(dir_, small_blocks());
  w.append(flows(0, 5000), kT0);
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;
  ScanSpec spec;
  spec.ordered = true;
  spec.threads = 2;
  size_t seen = 0;
  scan(dir_, spec, [&](unsigned, FlowBatch& b) {
    seen += b.size();
    return seen < 250;
  });
  EXPECT_EQ(seen, 300u);  // three blocks of 100
}

TEST_F(ArchiveTest, CrashLeavesEveryFlushedBlockReadableAndRecoverySealsIt) {
  auto o = small_blocks();
  o.flush_interval_ms = 1000;
  {
    ArchiveWriter w(dir_, o);
    w.append(flows(0, 250), kT0);          // two blocks written, 50 pending
    w.append(flows(250, 10), kT0 + 1000);  // a second later: flushed (block of 60)
    w.append(flows(260, 5), kT0 + 1500);   // pending: lost with the "crash"
  }                                        // destroyed without close(), as a killed process
  std::vector<std::string> problems;
  auto files = archive::list(dir_, problems);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_FALSE(files[0].sealed);
  // Cut into the middle of a block, as a crash during a write would.
  fs::resize_file(files[0].path, files[0].bytes + 0);
  { std::ofstream(files[0].path, std::ios::app | std::ios::binary) << "OWBK partial block"; }
  ScanStats stats;
  EXPECT_EQ(scan_bytes(dir_, {}, &stats).size(), 260u);
  EXPECT_TRUE(stats.problems.empty()) << stats.problems[0];

  // Young files are left alone (a writer may be about to lock it), quiet ones sealed.
  EXPECT_EQ(archive::recover(dir_, 60'000).sealed, 0u);
  auto r = archive::recover(dir_, 0);
  EXPECT_TRUE(r.problems.empty()) << r.problems[0];
  EXPECT_EQ(r.sealed, 1u);
  files = archive::list(dir_, problems);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].sealed);
  EXPECT_EQ(files[0].first_ms, kT0);
  EXPECT_EQ(files[0].last_ms, kT0 + 259'000 + 500);
  auto reader = SegmentReader::open(files[0].path, *std::make_unique<std::string>());
  ASSERT_TRUE(reader);
  EXPECT_TRUE(reader->has_footer());
  EXPECT_EQ(reader->records(), 260u);
  EXPECT_EQ(scan_bytes(dir_, {}).size(), 260u);
}

TEST_F(ArchiveTest, RecoveryLeavesALiveWritersSegmentAlone) {
  ArchiveWriter w(dir_, small_blocks());
  w.append(flows(0, 150), kT0);
  w.tick(kT0 + 5000);  // flushed
  const auto r = archive::recover(dir_, 0);
  EXPECT_EQ(r.sealed + r.removed, 0u);
  std::vector<std::string> problems;
  auto files = archive::list(dir_, problems);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_FALSE(files[0].sealed);
  std::string error;
  EXPECT_FALSE(archive::seal(dir_, files[0].path, error));
  EXPECT_NE(error.find("a writer holds it"), std::string::npos) << error;
  // A reader sees the live segment's flushed blocks.
  EXPECT_EQ(scan_bytes(dir_, {}).size(), 150u);
  ASSERT_TRUE(w.close(error)) << error;
  EXPECT_TRUE(archive::list(dir_, problems)[0].sealed);
}

TEST_F(ArchiveTest, RotatesByTimeAndFlushesEverySecond) {
  auto o = small_blocks();
  o.rotate_interval_ms = 60'000;
  ArchiveWriter w(dir_, o);
  w.append(flows(0, 10), kT0);
  std::vector<std::string> problems;
  EXPECT_EQ(scan_bytes(dir_, {}).size(), 0u);  // pending
  w.tick(kT0 + 999);
  EXPECT_EQ(scan_bytes(dir_, {}).size(), 0u);
  w.tick(kT0 + 1000);
  EXPECT_EQ(scan_bytes(dir_, {}).size(), 10u);  // flushed after a second
  w.tick(kT0 + 60'000);
  auto files = archive::list(dir_, problems);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].sealed);
  w.tick(kT0 + 120'000);  // nothing new: no empty segment
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;
  EXPECT_EQ(archive::list(dir_, problems).size(), 1u);
  EXPECT_TRUE(fs::is_empty(archive::open_dir(dir_)));
}

TEST_F(ArchiveTest, RetentionByAgeThenBySize) {
  auto o = small_blocks();
  o.rotate_records = 100;
  ArchiveWriter w(dir_, o);
  for (uint32_t i = 0; i < 1000; i += 100) w.append(flows(i, 100), kT0);  // ten of 100 s
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;
  std::vector<std::string> problems;
  ASSERT_EQ(archive::list(dir_, problems).size(), 10u);

  // Older than 500 s at kT0 + 1000 s: the segments ending before kT0 + 500 s (0..4).
  auto r = archive::apply_retention(dir_, {500'000, 0}, kT0 + 1'000'000);
  EXPECT_EQ(r.files, 5u);
  auto files = archive::list(dir_, problems);
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(files[0].first_ms, kT0 + 500'000);

  uint64_t two = files[3].bytes + files[4].bytes;
  r = archive::apply_retention(dir_, {0, two}, kT0);
  EXPECT_EQ(r.files, 3u);
  files = archive::list(dir_, problems);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].first_ms, kT0 + 800'000);
  EXPECT_TRUE(r.problems.empty());
}

TEST_F(ArchiveTest, DamagedSegmentIsReportedByNameAndTheRestQueries) {
  auto o = small_blocks();
  o.rotate_records = 500;
  ArchiveWriter w(dir_, o);
  w.append(flows(0, 500), kT0);
  w.append(flows(500, 500), kT0);
  std::string error;
  ASSERT_TRUE(w.close(error)) << error;
  std::vector<std::string> problems;
  const auto files = archive::list(dir_, problems);
  ASSERT_EQ(files.size(), 2u);
  {
    // Flip a byte in the first block's payload.
    std::fstream f(files[0].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(32 + 144 + 200);
    f.put('\x5a');
  }
  ScanStats stats;
  EXPECT_EQ(scan_bytes(dir_, {}, &stats).size(), 900u);
  ASSERT_EQ(stats.problems.size(), 1u);
  EXPECT_NE(stats.problems[0].find(files[0].path), std::string::npos) << stats.problems[0];
  EXPECT_NE(stats.problems[0].find("checksum"), std::string::npos) << stats.problems[0];
}

TEST_F(ArchiveTest, FullDiskCountsWhatWasNotStoredAndKeepsWhatWas) {
  // A child process with a 16 KiB file size limit stands in for a full disk: writes past it
  // fail with EFBIG (SIGXFSZ ignored), as they fail with ENOSPC on a full file system.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{16 << 10, 16 << 10};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    auto o = small_blocks();
    o.segment.codec = segment::Codec::kNone;  // ~30 bytes a flow: the limit comes fast
    ArchiveWriter w(dir_, o);
    for (uint32_t i = 0; i < 2000; i += 100) w.append(flows(i, 100), kT0);
    std::string error;
    const bool closed = w.close(error);
    const auto& s = w.stats();
    const std::string msg = std::to_string(closed) + " " + std::to_string(s.flows_stored) + " " +
                            std::to_string(s.flows_not_stored) + " " +
                            std::to_string(s.write_errors) + " " + error;
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[512] = {};
  const ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_GT(n, 0);
  unsigned closed = 9, stored = 0, not_stored = 0, errors = 0;
  ASSERT_EQ(std::sscanf(buf, "%u %u %u %u", &closed, &stored, &not_stored, &errors), 4) << buf;
  EXPECT_EQ(closed, 0u) << buf;
  EXPECT_EQ(stored + not_stored, 2000u) << buf;
  EXPECT_GT(not_stored, 0u) << buf;
  EXPECT_GT(stored, 0u) << buf;
  EXPECT_GE(errors, 1u) << buf;
  EXPECT_NE(std::string(buf).find("flows not stored"), std::string::npos) << buf;
  // What was stored is readable after recovery (here, with no limit).
  archive::recover(dir_, 0);
  EXPECT_EQ(scan_bytes(dir_, {}).size(), stored);
}

}  // namespace
}  // namespace orbwatch::store
