// The daemon's pipeline in-process: simulated exports over loopback UDP into one and into
// several detect shards, and the state it leaves in state.db for the next start.
#include "server/pipeline.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "detect/registry.h"
#include "intel/feed_parser.h"
#include "netmodel/model.h"
#include "sim/export_encoder.h"
#include "sim/simulator.h"
#include "store/inventory_store.h"

namespace orbwatch::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Traffic {
  std::vector<std::vector<uint8_t>> datagrams;
  uint64_t flows = 0;
  std::shared_ptr<const netmodel::ModelIndex> model;
  std::shared_ptr<const intel::IntelSet> intel;
};

const Traffic& traffic() {
  static const Traffic traffic_once = [] {
    Traffic t;
    sim::SimOptions o;
    o.world.seed = 5;
    o.world.hosts = 40;
    o.days = 2;
    sim::Simulator s(o);
    std::vector<std::string> errors;
    auto model = netmodel::parse_model(s.world().model_toml(), "model.toml", errors);
    t.model = netmodel::ModelIndex::build(std::move(*model));
    auto feed = std::make_shared<intel::LoadedFeed>();
    feed->parsed = intel::parse_feed(s.feed_text(), intel::FeedFormat::kAuto);
    feed->config.name = "covert";
    std::vector<std::shared_ptr<const intel::LoadedFeed>> feeds{feed};
    t.intel = intel::IntelSet::build(feeds, o.start_ms);
    sim::ExportEncoder enc;
    FlowBatch b;
    while (s.next(b)) {
      t.flows += b.size();
      enc.encode(b.records, [&](std::span<const uint8_t> d, int64_t) {
        t.datagrams.emplace_back(d.begin(), d.end());
      });
      b.clear();
    }
    return t;
  }();
  return traffic_once;
}

struct RunResult {
  PipelineStats stats;
  std::set<std::string> ids;
  std::set<std::string> keys;  // detector src dst port of alerts >= medium
};

RunResult run(const fs::path& dir, unsigned shards) {
  const Traffic& t = traffic();
  SnapshotHolder<intel::IntelSet> intel(t.intel);
  Pipeline::Options o;
  o.config.listen = {"udp://127.0.0.1:0"};
  o.config.store_path = (dir / "data").string();
  o.config.detect_threads = shards;
  OutputConfig out;
  out.type = OutputConfig::Type::kJsonl;
  out.path = (dir / "alerts.jsonl").string();
  out.label = "outputs[1] (jsonl)";
  o.config.outputs.push_back(out);
  o.model = t.model;
  o.intel = &intel;
  o.make_detectors = [](std::vector<std::unique_ptr<detect::Detector>>& ds, std::string& error) {
    for (const auto& info : detect::all_detectors()) {
      detect::DetectorParams p;
      if (info.name == "beacon") p["learning"] = "0";
      ds.push_back(info.make(p, error));
      if (!ds.back()) return false;
    }
    return true;
  };
  Pipeline p(std::move(o));
  std::string error;
  EXPECT_TRUE(p.open(error)) << error;
  p.start();
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(p.port(0));
  size_t n = 0;
  for (const auto& d : t.datagrams) {
    sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    // Stay under the socket buffer however slow this build is (sanitizers): let the receive
    // thread catch up every 50 datagrams (at most 100, 140 kB, in flight).
    if (++n % 50 == 0) {
      const auto until = std::chrono::steady_clock::now() + 10s;
      while (p.stats().udp.datagrams + 50 < n && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(1ms);
    }
  }
  close(fd);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (p.stats().decode.records < t.flows && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  p.stop();
  EXPECT_TRUE(p.save_state(error)) << error;
  RunResult r;
  r.stats = p.stats();
  EXPECT_EQ(r.stats.udp.kernel_drops, 0u) << "the test sent faster than the pipeline read";
  std::ifstream in(dir / "alerts.jsonl");
  std::string line;
  const std::regex fields(
      R"re("id":"([0-9a-f]+)","detector":"([a-z]+)","severity":"([a-z]+)".*"src_ip":"([^"]*)","dst_ip":"([^"]*)","dst_port":(\d+))re");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, fields)) {
      ADD_FAILURE() << line;
      continue;
    }
    r.ids.insert(m[1]);
    if (m[3] != "low")
      r.keys.insert(m[2].str() + " " + m[4].str() + " " + m[5].str() + " " + m[6].str());
  }
  return r;
}

class PipelineTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("orbwatch_pipeline_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// Sharding by internal host keeps each host's state in one place: three shards find what one
// finds, every flow reaches a detector and the archive.
TEST_F(PipelineTest, ShardsFindWhatOneShardFinds) {
  const RunResult one = run(dir_ / "one", 1);
  const RunResult three = run(dir_ / "three", 3);
  const uint64_t flows = traffic().flows;
  for (const RunResult* r : {&one, &three}) {
    EXPECT_EQ(r->stats.decode.records, flows);
    uint64_t detected = 0, shed = 0;
    for (const auto& s : r->stats.shards) {
      detected += s.flows;
      shed += s.shed;
    }
    EXPECT_EQ(detected, flows);
    EXPECT_EQ(shed, 0u);
    EXPECT_EQ(r->stats.archive.flows_stored, flows);
    EXPECT_EQ(r->stats.alerts_shed, 0u);
    EXPECT_GT(r->keys.size(), 10u);
  }
  EXPECT_EQ(three.stats.shards.size(), 3u);
  for (const auto& s : three.stats.shards) EXPECT_GT(s.flows, 0u);  // the hash spreads hosts
  std::vector<std::string> missing, extra;
  std::set_difference(one.keys.begin(), one.keys.end(), three.keys.begin(), three.keys.end(),
                      std::back_inserter(missing));
  std::set_difference(three.keys.begin(), three.keys.end(), one.keys.begin(), one.keys.end(),
                      std::back_inserter(extra));
  std::string m;
  for (const auto& k : missing) m += "\n  missing " + k;
  for (const auto& k : extra) m += "\n  extra " + k;
  EXPECT_TRUE(missing.empty() && extra.empty()) << m;
  // The same watermark between the same flows: the very same alerts, ids included.
  EXPECT_EQ(one.ids, three.ids);
}

// What a run learned is in state.db for the next one, also with another shard count.
TEST_F(PipelineTest, InventoryAndBaselinesCarryOverToTheNextStart) {
  const RunResult first = run(dir_, 1);
  ASSERT_GT(first.stats.inventory_services, 0u);
  const std::string db = store::state_db_path((dir_ / "data").string());
  std::string text, error;
  ASSERT_TRUE(store::load_detector_state(db, "baseline", text, error)) << error;
  EXPECT_NE(text.find("asset "), std::string::npos);

  SnapshotHolder<intel::IntelSet> intel(intel::IntelSet::empty());
  Pipeline::Options o;
  o.config.listen = {};
  o.config.store_path = (dir_ / "data").string();
  o.config.detect_threads = 2;
  o.model = traffic().model;
  o.intel = &intel;
  o.make_detectors = [](std::vector<std::unique_ptr<detect::Detector>>& ds, std::string& e) {
    for (const auto& info : detect::all_detectors()) ds.push_back(info.make({}, e));
    return true;
  };
  Pipeline again(std::move(o));
  ASSERT_TRUE(again.open(error)) << error;
  EXPECT_TRUE(again.warnings().empty()) << again.warnings().front();
  const netmodel::EdgeInventory inv = again.inventory();
  EXPECT_EQ(inv.services().size(), first.stats.inventory_services);
  EXPECT_EQ(inv.devices().size(), first.stats.inventory_devices);
  again.start();
  again.stop();
  ASSERT_TRUE(again.save_state(error)) << error;
  // Each of the two shards saved its own row, both started from the single-shard one.
  ASSERT_TRUE(store::load_detector_state(db, "baseline@0/2", text, error));
  EXPECT_FALSE(text.empty());
}

}  // namespace
}  // namespace orbwatch::server
