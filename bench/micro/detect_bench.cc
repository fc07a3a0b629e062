// The detect stage per flow, on batches of 4096 flows:
//  - BM_DetectIntel: enrichment (intel lookups of both addresses and the server name, internal
//    side, initiator) and the intel detector against a feed of 100k addresses and prefixes plus
//    10k domains;
//  - BM_DetectModel: every detector (intel, allowlist, segmentation, exposure) and the edge
//    inventory, through a network model of 1,000 zones and 10,000 assets with allow-lists.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/snapshot.h"
#include "detect/engine.h"
#include "detect/intel_detector.h"
#include "detect/registry.h"
#include "netmodel/inventory.h"
#include "netmodel/model.h"

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

// 1,000 zones (10.Z.Y.0/24 for Z in 0..9, Y in 0..99), 10,000 assets (ten per zone) whose
// services tcp/22 and tcp/443 only their own zone and a partners list may reach, and one deny
// rule from every zone to the next.
std::shared_ptr<const netmodel::ModelIndex> make_model() {
  netmodel::Model m;
  m.internal.push_back(*Prefix::parse("10.0.0.0/8"));
  m.lists.push_back({"partners", {*Prefix::parse("198.51.100.0/24")}, 0});
  for (int z = 0; z < 1000; ++z) {
    netmodel::Zone zone;
    zone.name = "z" + std::to_string(z);
    zone.prefixes.push_back(
        Prefix::make(IpAddr::v4(0x0a000000u | (z / 100) << 16 | (z % 100) << 8), 120));
    m.zones.push_back(zone);
    for (int a = 0; a < 10; ++a) {
      netmodel::Asset asset;
      asset.name = zone.name + "-a" + std::to_string(a);
      asset.addresses.push_back(
          Prefix::make(IpAddr::v4(0x0a000000u | (z / 100) << 16 | (z % 100) << 8 | (a + 1)), 128));
      asset.services = {{6, 22}, {6, 443}};
      netmodel::AllowRule rule;
      rule.from.push_back({netmodel::SourceRef::Kind::kZone, {}, zone.name});
      rule.from.push_back({netmodel::SourceRef::Kind::kList, {}, "partners"});
      asset.allow.push_back(rule);
      m.assets.push_back(asset);
    }
    m.segmentation.push_back({zone.name, "z" + std::to_string((z + 1) % 1000), {}, false, 0});
  }
  return netmodel::ModelIndex::build(std::move(m));
}

void BM_DetectModel(benchmark::State& state) {
  auto model = make_model();
  SnapshotHolder<intel::IntelSet> holder(make_intel());
  Discard sink;
  std::vector<std::unique_ptr<Detector>> d;
  std::string error;
  for (const auto& info : all_detectors()) d.push_back(info.make({}, error));
  netmodel::EdgeInventory inventory;
  EngineOptions eo;
  eo.model = model;
  eo.inventory = &inventory;
  Engine engine(eo, std::move(d), holder, sink);
  std::mt19937 rng(9);
  FlowBatch b;
  auto internal = [&] {
    return IpAddr::v4(0x0a000000u | (rng() % 10) << 16 | (rng() % 100) << 8 | (rng() % 40));
  };
  for (int i = 0; i < 4096; ++i) {
    FlowRecord& r = b.add();
    // Benign (Arg 0): inside one zone, partners to assets, inside to outside. Hostile (Arg 1):
    // across zones, anyone to assets, inside to outside: most flows violate something.
    const bool hostile = state.range(0) != 0;
    switch (i % 3) {
      case 0:
        r.src = internal();
        r.dst = hostile ? internal() : IpAddr::v4(r.src.v4_value() ^ 1);
        break;
      case 1:
        r.src = hostile ? IpAddr::v4(rng()) : IpAddr::v4(0xc6336400u | (rng() & 0xff));
        r.dst = internal();
        break;
      default:
        r.src = internal();
        r.dst = IpAddr::v4(rng());
    }
    r.src_port = static_cast<uint16_t>(32768 + rng() % 28000);
    r.dst_port = i % 2 == 0 ? 443 : 22;
    r.proto = 6;
    r.tcp_flags = 0x1a;
    r.bytes = 1500;
    r.packets = 3;
    r.start_ms = r.end_ms = kT0;
  }
  for (auto _ : state) {
    for (auto& r : b.records) r.start_ms = r.end_ms += 1;
    engine.process(b);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 4096);
  state.counters["alerts"] = static_cast<double>(sink.n);
}
BENCHMARK(BM_DetectModel)->Arg(0)->Arg(1);

}  // namespace
}  // namespace orbwatch::detect
BENCHMARK_MAIN();
