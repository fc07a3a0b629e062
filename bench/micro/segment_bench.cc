// Flow archive segments: write and read throughput (flows/s) and bytes per flow on disk, per
// codec. The workload is 1,048,576 synthetic edge flows in time order (1,000 flows/s of event
// time): 5,000 inside hosts talking to 200,000 outside addresses with a skewed popularity,
// common service ports, log-normal byte counts, three exporters, a server name on 1 flow in 5.
//   BM_SegmentWrite/codec/level: SegmentWriter::append + close (to /dev/shm when it exists);
//   BM_SegmentRead/codec/level: SegmentReader::open + read_block of every block;
//   BM_ArchiveThread/writers: the collector's write path (zstd-1) with 1..N writer threads: the
//     caller stages the batches, the writers encode and write blocks to an archive directory
//     (wall-clock time, so more writers show how the path scales with spare cores).
// Codec: 0 none, 1 zstd (at the given level), 2 lz4. Both check their answer (record count).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "store/archive_thread.h"
#include "store/segment_reader.h"
#include "store/segment_writer.h"

namespace orbwatch::store {
namespace {

constexpr int64_t kT0 = 1'776'672'000'000;
constexpr size_t kFlows = 1 << 20;

const FlowBatch& workload() {
  static const FlowBatch batch = [] {
    FlowBatch b;
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> bytes(7.0, 2.0);
    std::exponential_distribution<double> gap(1.0);  // ms between flow starts
    static constexpr uint16_t kPorts[] = {443, 443, 443, 80, 53, 53, 123, 22, 25, 993, 8443, 3389};
    double t = 0;
    for (size_t i = 0; i < kFlows; ++i) {
      FlowRecord& r = b.add();
      t += gap(rng);
      r.start_ms = kT0 + static_cast<int64_t>(t);
      r.end_ms = r.start_ms + static_cast<int64_t>(rng() % 4 == 0 ? rng() % 60'000 : rng() % 50);
      r.src = IpAddr::v4(0x0a140000u + static_cast<uint32_t>(rng() % 5000));
      // Skewed popularity: squaring a uniform favours low indexes.
      const double u = static_cast<double>(rng() % 1'000'000) / 1e6;
      const auto outside = static_cast<uint32_t>(u * u * 200'000);
      r.dst = IpAddr::v4(0x5d000000u + outside * 7919u % 0x00ffffffu);
      if (i % 2 == 1) std::swap(r.src, r.dst);  // replies
      r.exporter = IpAddr::v4(0xc0000201u + static_cast<uint32_t>(rng() % 3));
      r.bytes = 40 + static_cast<uint64_t>(bytes(rng));
      r.packets = 1 + r.bytes / 1200;
      r.in_if = 1 + static_cast<uint32_t>(rng() % 4);
      r.out_if = 1 + static_cast<uint32_t>(rng() % 4);
      r.src_as = i % 2 == 1 ? 64512 + outside % 3000 : 0;
      r.dst_as = i % 2 == 0 ? 64512 + outside % 3000 : 0;
      r.dst_port = kPorts[rng() % std::size(kPorts)];
      r.src_port = static_cast<uint16_t>(32768 + rng() % 28000);
      if (i % 2 == 1) std::swap(r.src_port, r.dst_port);
      r.proto = r.dst_port == 53 || r.src_port == 53 || r.dst_port == 123 ? 17 : 6;
      r.tcp_flags = r.proto == 6 ? 0x1b : 0;
      r.source = FlowSource::kIpfix;
      r.direction = FlowDirection::kIngress;
      if (i % 5 == 0) r.name_ref = b.add_name("cdn" + std::to_string(outside % 500) + ".example");
    }
    return b;
  }();
  return batch;
}

std::string bench_path() {
  const std::filesystem::path dir =
      std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  return (dir / "orbwatch_segment_bench.seg").string();
}

SegmentWriterOptions options(const benchmark::State& state) {
  SegmentWriterOptions o;
  o.codec = static_cast<segment::Codec>(state.range(0));
  o.zstd_level = static_cast<int>(state.range(1));
  return o;
}

// The workload in batches of 4096, as the collector hands them on.
const std::vector<FlowBatch>& batches() {
  static const std::vector<FlowBatch> parts = [] {
    const FlowBatch& all = workload();
    std::vector<FlowBatch> v;
    for (size_t i = 0; i < all.size(); i += 4096) {
      FlowBatch& part = v.emplace_back();
      for (size_t k = i; k < std::min(all.size(), i + 4096); ++k) part.append_from(all, k);
    }
    return v;
  }();
  return parts;
}

uint64_t write_segment(const std::string& path, const SegmentWriterOptions& o) {
  SegmentWriter w(o);
  std::string error;
  if (!w.open(path, error)) return 0;
  for (const auto& part : batches()) {
    if (!w.append(part, error)) return 0;
  }
  if (!w.close(error)) return 0;
  return w.stats().bytes;
}

void BM_SegmentWrite(benchmark::State& state) {
  const std::string path = bench_path();
  const auto o = options(state);
  batches();
  uint64_t bytes = 0;
  for (auto _ : state) {
    bytes = write_segment(path, o);
    if (bytes == 0) state.SkipWithError("write failed");
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kFlows));
  state.counters["bytes_per_flow"] = static_cast<double>(bytes) / kFlows;
}

void BM_SegmentRead(benchmark::State& state) {
  const std::string path = bench_path();
  if (write_segment(path, options(state)) == 0) state.SkipWithError("write failed");
  FlowBatch out;
  out.records.reserve(kFlows);
  uint64_t bloom_bytes = 0;
  for (auto _ : state) {
    std::string error;
    auto r = SegmentReader::open(path, error);
    if (!r) {
      state.SkipWithError(error.c_str());
      break;
    }
    out.clear();
    bloom_bytes = 0;
    for (const auto& b : r->blocks()) bloom_bytes += b.header.bloom_bytes;
    for (size_t i = 0; i < r->blocks().size(); ++i) {
      if (!r->read_block(i, out, error)) state.SkipWithError(error.c_str());
    }
    if (out.size() != kFlows) state.SkipWithError("wrong record count");
    benchmark::DoNotOptimize(out.records.data());
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kFlows));
  state.counters["bloom_bytes_per_flow"] = static_cast<double>(bloom_bytes) / kFlows;
}

void BM_ArchiveThread(benchmark::State& state) {
  const std::string dir = bench_path() + ".archive";
  batches();
  ArchiveWriterOptions o;
  o.segment.codec = segment::Codec::kZstd;
  o.segment.zstd_level = 1;
  for (auto _ : state) {
    std::filesystem::remove_all(dir);
    ArchiveThread w(dir, o, static_cast<size_t>(state.range(0)));
    for (const auto& part : batches()) w.append(part, kT0);
    std::string error;
    if (!w.close(error)) state.SkipWithError(error.c_str());
    if (w.stats().flows_stored != kFlows) state.SkipWithError("wrong record count");
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kFlows));
}

void codecs(benchmark::internal::Benchmark* b) {
  b->Args({0, 0})->Args({1, 1})->Args({1, 2})->Args({1, 3})->Args({1, 6})->Args({2, 0});
  b->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_SegmentWrite)->Apply(codecs);
BENCHMARK(BM_SegmentRead)->Apply(codecs);
BENCHMARK(BM_ArchiveThread)->Arg(1)->Arg(2)->Arg(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace orbwatch::store

BENCHMARK_MAIN();
