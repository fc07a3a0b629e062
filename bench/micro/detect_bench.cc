// The detect stage per flow: enrichment (intel lookups of both addresses and the server name,
// internal side, initiator) and the intel detector, on batches of 4096 flows against a feed of
// 100k addresses and prefixes plus 10k domains. Hit rates: none, and 1 flow in 1000.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/snapshot.h"
#include "detect/engine.h"
#include "detect/intel_detector.h"

namespace orbwatch::detect {
namespace {

constexpr int64_t kT0 = 1'776'672'000'000;

std::shared_ptr<const intel::IntelSet> make_intel() {
  std::mt19937 rng(42);
  auto f = std::make_shared<intel::LoadedFeed>();
  f->config.name = "bench";
  f->loaded_ms = kT0;
  for (int i = 0; i < 100'000; ++i) {
    intel::Indicator ind;
    // 90% host addresses, 10% /16../24 prefixes, all outside 10/8.
    uint32_t a = (rng() | 0x01000000u) & 0xdfffffffu;
    if ((a >> 24) == 10) a ^= 0x01000000u;
    unsigned len = i % 10 == 0 ? 16 + rng() % 9 : 32;
    ind.prefix = Prefix::make(IpAddr::v4(a), 96 + len);
    f->parsed.indicators.push_back(ind);
  }
  for (int i = 0; i < 10'000; ++i) {
    intel::Indicator ind;
    ind.kind = intel::IndicatorKind::kDomain;
    ind.domain = "c2-" + std::to_string(i) + ".example";
    f->parsed.indicators.push_back(ind);
  }
  return intel::IntelSet::build(std::vector<std::shared_ptr<const intel::LoadedFeed>>{f}, kT0);
}

class Discard final : public AlertSink {
 public:
  void emit(const Alert&) override { ++n; }
  uint64_t n = 0;
};

void BM_DetectIntel(benchmark::State& state) {
  const int hit_every = static_cast<int>(state.range(0));  // 0: no hits
  auto set = make_intel();
  SnapshotHolder<intel::IntelSet> holder(set);
  Discard sink;
  std::vector<std::unique_ptr<Detector>> d;
  d.push_back(std::make_unique<IntelDetector>(IntelDetectorOptions{}));
  Engine engine(EngineOptions{}, std::move(d), holder, sink);
  // An indicator address to hit: the first host indicator.
  IpAddr bad;
  for (uint32_t id = 0; id < set->size(); ++id) {
    if (set->indicator(id).prefix.len == 128) {
      bad = set->indicator(id).prefix.addr;
      break;
    }
  }
  std::mt19937 rng(7);
  FlowBatch b;
  for (int i = 0; i < 4096; ++i) {
    FlowRecord& r = b.add();
    r.src = IpAddr::v4(0x0a000000u | (rng() & 0xffff));
    r.dst = hit_every != 0 && i % hit_every == 0 ? bad : IpAddr::v4(rng());
    r.src_port = static_cast<uint16_t>(32768 + rng() % 28000);
    r.dst_port = 443;
    r.proto = 6;
    r.tcp_flags = 0x1a;
    r.bytes = 1500;
    r.packets = 3;
    r.start_ms = r.end_ms = kT0;
    if (i % 8 == 0) r.name_ref = b.add_name("www.site" + std::to_string(i) + ".example.org");
  }
  for (auto _ : state) {
    for (auto& r : b.records) r.start_ms = r.end_ms += 1;
    engine.process(b);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 4096);
  state.counters["alerts"] = static_cast<double>(sink.n);
}
BENCHMARK(BM_DetectIntel)->Arg(0)->Arg(1000);

}  // namespace
}  // namespace orbwatch::detect
BENCHMARK_MAIN();
