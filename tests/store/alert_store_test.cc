#include "store/alert_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace orbwatch::store {
namespace {

Alert alert(const std::string& id, const std::string& detector, Severity s, int64_t ts,
            uint64_t count = 1) {
  Alert a;
  a.id = id;
  a.detector = detector;
  a.severity = s;
  a.ts_ms = ts;
  a.first_seen_ms = ts - 10;
  a.last_seen_ms = ts;
  a.count = count;
  a.summary = detector + " " + id;
  a.src = *IpAddr::parse("10.0.0.1");
  a.dst = *IpAddr::parse("192.0.2.1");
  return a;
}

TEST(AlertStore, UpsertsKeepStatusAndNoteAndQueriesFilter) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("orbwatch_alert_store_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "state.db").string();
  std::string error;
  {
    AlertStore s;
    ASSERT_TRUE(s.open(db, true, error)) << error;
    ASSERT_TRUE(s.begin(error));
    ASSERT_TRUE(s.put(alert("a1", "intel", Severity::kHigh, 1000), error)) << error;
    ASSERT_TRUE(s.put(alert("a2", "allowlist", Severity::kMedium, 2000), error));
    ASSERT_TRUE(s.put(alert("a3", "intel", Severity::kLow, 3000), error));
    ASSERT_TRUE(s.commit(error));
    ASSERT_TRUE(s.set_status("a1", "ack", "known scanner", error)) << error;
    EXPECT_FALSE(s.set_status("zz", "ack", "", error));
    EXPECT_EQ(error, "no alert with id zz");
    // A later version of a1 (more flows, higher severity) keeps its status and note.
    ASSERT_TRUE(s.put(alert("a1", "intel", Severity::kCritical, 4000, 7), error));
  }
  AlertStore s;
  ASSERT_TRUE(s.open(db, false, error)) << error;
  auto all = s.find({}, error);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, "a1");  // newest first
  EXPECT_EQ(all[0].severity, Severity::kCritical);
  EXPECT_EQ(all[0].status, "ack");
  EXPECT_EQ(all[0].note, "known scanner");
  EXPECT_NE(all[0].json.find("\"count\":7"), std::string::npos) << all[0].json;
  AlertQuery q;
  q.detector = "intel";
  EXPECT_EQ(s.find(q, error).size(), 2u);
  q.min_severity = Severity::kHigh;
  EXPECT_EQ(s.find(q, error).size(), 1u);
  AlertQuery t;
  t.since_ms = 1500;
  t.until_ms = 3500;
  t.status = "new";
  auto mid = s.find(t, error);
  ASSERT_EQ(mid.size(), 2u);
  EXPECT_EQ(mid[0].id, "a3");
  AlertQuery one;
  one.limit = 1;
  EXPECT_EQ(s.find(one, error).size(), 1u);
  AlertQuery by_id;
  by_id.id = "a2";
  auto a2 = s.find(by_id, error);
  ASSERT_EQ(a2.size(), 1u);
  EXPECT_EQ(a2[0].detector, "allowlist");
  // Counts by severity, status, detector and per 2-second bucket, with the query's filters.
  error.clear();
  auto sum = s.summarize({}, 2000, error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(sum.by_severity, (std::array<uint64_t, 4>{1, 1, 0, 1}));
  EXPECT_EQ(sum.by_status["ack"], 1u);
  EXPECT_EQ(sum.by_status["new"], 2u);
  EXPECT_EQ(sum.by_detector["intel"], 2u);
  ASSERT_EQ(sum.buckets.size(), 2u);  // [2000, 4000): a2, a3; [4000, 6000): a1
  EXPECT_EQ(sum.buckets[1], (std::array<uint64_t, 4>{1, 1, 0, 0}));
  EXPECT_EQ(sum.buckets[2], (std::array<uint64_t, 4>{0, 0, 0, 1}));
  AlertQuery intel;
  intel.detector = "intel";
  EXPECT_EQ(s.summarize(intel, 2000, error).by_detector.size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(AlertStore, KeepsTheRetroFlagAndFiltersByIt) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("orbwatch_alert_store_retro_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "state.db").string();
  std::string error;
  AlertStore s;
  ASSERT_TRUE(s.open(db, true, error)) << error;
  Alert retro = alert("r1", "intel", Severity::kHigh, 1000);
  retro.retro = true;
  ASSERT_TRUE(s.put(retro, error)) << error;
  ASSERT_TRUE(s.put(alert("l1", "intel", Severity::kHigh, 2000), error)) << error;
  // Hunting again replaces the retro alert (same id), not adds one.
  retro.count = 5;
  ASSERT_TRUE(s.put(retro, error)) << error;
  auto all = s.find({}, error);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_FALSE(all[0].retro);
  EXPECT_TRUE(all[1].retro);
  EXPECT_NE(all[1].json.find("\"count\":5,\"retro\":true}"), std::string::npos) << all[1].json;
  AlertQuery q;
  q.retro = true;
  auto only = s.find(q, error);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].id, "r1");
  q.retro = false;
  only = s.find(q, error);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].id, "l1");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace orbwatch::store
