// orbwatch-detect-flood: every detector (with a network model and ASN data) under a flood of
// distinct external sources, to measure that memory stays bounded: N flows from N distinct
// spoofed residential and hosting sources to the edge's services (scanning, spraying), plus an
// internal host sweeping N destinations, over a simulated day. Prints peak RSS and each
// detector's held state, caps and refusals.
//   orbwatch-detect-flood [--flows 10000000]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/snapshot.h"
#include "detect/engine.h"
#include "detect/registry.h"
#include "enrich/geo_db.h"
#include "netmodel/inventory.h"
#include "netmodel/model.h"

using namespace orbwatch;

namespace {

constexpr const char* kModel = R"(
[network]
internal = ["10.0.0.0/8"]
[zones]
dmz = ["10.20.1.0/24"]
corp = ["10.21.0.0/16"]
[[assets]]
name = "vpn-gw"
address = "10.20.1.1"
kind = "vpn"
services = ["tcp/443"]
[[assets]]
name = "fw"
address = "10.20.1.254"
kind = "firewall"
services = ["tcp/22"]
allow_from = ["10.21.0.0/24"]
[[assets]]
name = "cam"
address = "10.20.1.50"
kind = "camera"
)";

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t flows = 10'000'000;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--flows") == 0) flows = std::stoull(argv[i + 1]);
  std::vector<std::string> errors;
  auto m = netmodel::parse_model(kModel, "flood.toml", errors);
  enrich::GeoDb::Builder gb;
  std::vector<std::string> warnings;
  std::string error;
  // Half the space hosting, half residential.
  gb.add_csv(
      "0.0.0.0,127.255.255.255,64600,Flood Hosting Ltd\n"
      "128.0.0.0,255.255.255.255,64601,Flood Broadband\n",
      "flood.csv", warnings, error);
  std::vector<std::unique_ptr<detect::Detector>> detectors;
  for (const auto& info : detect::all_detectors()) detectors.push_back(info.make({}, error));
  netmodel::EdgeInventory inventory;
  detect::EngineOptions eo;
  eo.model = netmodel::ModelIndex::build(std::move(*m));
  eo.geo = gb.build();
  eo.inventory = &inventory;
  SnapshotHolder<intel::IntelSet> intel{intel::IntelSet::empty()};
  struct Null final : AlertSink {
    uint64_t n = 0;
    void emit(const Alert&) override { ++n; }
  } sink;
  detect::Engine engine(eo, std::move(detectors), intel, sink);
  const long rss0 = peak_rss_kb();

  const int64_t t0 = 1'776'643'200'000;
  const auto start = std::chrono::steady_clock::now();
  FlowBatch b;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  const IpAddr targets[] = {*IpAddr::parse("10.20.1.1"), *IpAddr::parse("10.20.1.254"),
                            *IpAddr::parse("10.20.1.50"), *IpAddr::parse("10.21.0.7")};
  for (uint64_t i = 0; i < flows; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    FlowRecord& r = b.add();
    r.start_ms = t0 + static_cast<int64_t>(i * 86'400'000 / flows);
    r.end_ms = r.start_ms + 100;
    // Distinct sources: i spread over the space (never 10/8).
    auto src = static_cast<uint32_t>(i * 2654435761u);
    if ((src >> 24) == 10) src ^= 0x80000000u;
    r.proto = 6;
    r.bytes = 60 + (x >> 59);
    r.packets = 1;
    if (i % 4 == 3) {
      // An internal host sweeping distinct destinations (scan, beacon, anomaly state).
      r.src = targets[3];
      r.dst = IpAddr::v4(src);
      r.src_port = static_cast<uint16_t>(32768 + (x >> 40) % 28000);
      r.dst_port = static_cast<uint16_t>(1 + (x >> 20) % 1024);
      r.tcp_flags = 0x02;
    } else {
      r.src = IpAddr::v4(src);
      r.dst = targets[(x >> 33) % 3];
      r.src_port = static_cast<uint16_t>(32768 + (x >> 40) % 28000);
      r.dst_port = (x >> 35) % 2 ? 443 : 22;
      r.tcp_flags = (x >> 36) % 3 ? 0x1b : 0x02;
    }
    if (b.size() == 4096) {
      engine.process(b);
      b.clear();
    }
  }
  engine.process(b);
  engine.finish();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "flows %llu distinct external addresses ~%llu in %.1f s (%.2f M flows/s), alerts %llu\n",
      static_cast<unsigned long long>(flows), static_cast<unsigned long long>(flows), secs,
      static_cast<double>(flows) / secs / 1e6, static_cast<unsigned long long>(sink.n));
  std::printf("peak RSS %ld MB (%ld MB before the flood)\n", peak_rss_kb() / 1024, rss0 / 1024);
  std::printf("%-13s %12s %12s %12s  counters\n", "detector", "state", "state MB", "refused");
  for (const auto& d : engine.detectors()) {
    const auto s = d->stats();
    std::string counters;
    for (const auto& [k, v] : s.counters) counters += k + "=" + std::to_string(v) + " ";
    std::printf("%-13s %12llu %12.1f %12llu  %s\n", std::string(d->name()).c_str(),
                static_cast<unsigned long long>(s.state_entries),
                static_cast<double>(s.state_bytes) / 1e6,
                static_cast<unsigned long long>(s.evicted), counters.c_str());
  }
  std::printf("inventory: %zu services, %zu devices, %llu past the cap\n",
              inventory.services().size(), inventory.devices().size(),
              static_cast<unsigned long long>(inventory.dropped()));
  return 0;
}
