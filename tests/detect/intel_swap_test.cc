// Feed swaps under running matching: writers publish new IntelSets while engines on other
// threads match flows against whatever snapshot they loaded. No lookup may be lost or answered
// from a mix of generations, and every replaced set must be freed once no reader holds it.
// Built into orbwatch_concurrency_tests, which scripts/test.sh also runs under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/snapshot.h"
#include "detect/engine.h"
#include "detect/intel_detector.h"
#include "intel/feed_parser.h"

namespace orbwatch::detect {
namespace {

constexpr int64_t kT0 = 1'776'672'000'000;

// Generation g lists 198.51.100.7 (tag "g<g>") and 400 other addresses; the feed is named
// after the generation, so every alert says which snapshot answered.
std::shared_ptr<const intel::IntelSet> generation(uint32_t g) {
  std::string text = "198.51.100.7\n";
  for (uint32_t i = 0; i < 400; ++i) {
    text += "203.0." + std::to_string((g + i) % 256) + "." + std::to_string(i % 250) + "\n";
  }
  auto f = std::make_shared<intel::LoadedFeed>();
  f->config.name = "gen" + std::to_string(g);
  f->parsed = intel::parse_feed(text, intel::FeedFormat::kPlain);
  f->loaded_ms = kT0;
  return intel::IntelSet::build(std::vector<std::shared_ptr<const intel::LoadedFeed>>{f}, kT0);
}

class Count final : public AlertSink {
 public:
  void emit(const Alert& a) override {
    ++alerts;
    uint32_t g = static_cast<uint32_t>(std::stoul(a.indicator->feed.substr(3)));
    if (g < last_generation) ++went_back;
    last_generation = g;
  }
  uint64_t alerts = 0;
  uint64_t went_back = 0;
  uint32_t last_generation = 0;
};

TEST(IntelSwap, FeedSwapUnderConcurrentMatchingLosesNothingAndFreesOldSets) {
  constexpr uint32_t kGenerations = 40;
  SnapshotHolder<intel::IntelSet> holder(generation(1));
  std::vector<std::weak_ptr<const intel::IntelSet>> published{holder.load()};
  std::atomic<bool> done{false};
  constexpr int kReaders = 3;
  std::vector<Count> sinks(kReaders);
  std::vector<uint64_t> batches(kReaders, 0);
  auto reader = [&](int r) {
    IntelDetectorOptions o;
    o.window_ms = 1;  // every batch is a new case: one alert per flow that hits
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<IntelDetector>(o));
    EngineOptions eo;
    eo.lateness_ms = 0;
    Engine engine(eo, std::move(d), holder, sinks[r]);
    FlowBatch b;
    int64_t t = kT0;
    // Until the writer is done and this reader has matched against the last generation.
    while (!done.load(std::memory_order_acquire) || sinks[r].last_generation != kGenerations ||
           batches[r] < 50) {
      b.clear();
      for (int i = 0; i < 64; ++i) {
        FlowRecord& rec = b.add();
        rec.src = *IpAddr::parse("10.0.0.5");
        rec.dst = i == 0 ? *IpAddr::parse("198.51.100.7") : IpAddr::v4(0xC0000200u + i);
        rec.src_port = 50000;
        rec.dst_port = 443;
        rec.proto = 6;
        rec.tcp_flags = 0x02;
        rec.start_ms = rec.end_ms = t;
      }
      t += 1000;
      engine.process(b);
      ++batches[r];
    }
    engine.finish();
  };
  std::vector<std::thread> threads;
  for (int r = 0; r < kReaders; ++r) threads.emplace_back(reader, r);
  for (uint32_t g = 2; g <= kGenerations; ++g) {
    auto next = generation(g);
    published.push_back(next);
    holder.store(std::move(next));
    std::this_thread::yield();
  }
  done = true;
  for (auto& t : threads) t.join();

  for (int r = 0; r < kReaders; ++r) {
    // One flow per batch hits, and each is raised once (every batch opens a new case).
    EXPECT_EQ(sinks[r].alerts, batches[r]) << "reader " << r;
    EXPECT_EQ(sinks[r].went_back, 0u) << "reader " << r;
    EXPECT_EQ(sinks[r].last_generation, kGenerations) << "reader " << r;
  }
  // Only the live set remains; every replaced one was freed.
  for (size_t g = 0; g + 1 < published.size(); ++g) {
    EXPECT_TRUE(published[g].expired()) << "generation " << g + 1;
  }
  EXPECT_FALSE(published.back().expired());
}

}  // namespace
}  // namespace orbwatch::detect
