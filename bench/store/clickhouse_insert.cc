// The ClickHouse output's own rate: synthetic flows handed to sink::ClickHouseOutput as fast as
// it takes them (add_flows waits when 4 x batch_size are staged), until ClickHouse holds them
// all. Run by bench/store/run_clickhouse_bench.sh against a server of its own.
//
// usage: orbwatch-clickhouse-insert URL DATABASE FLOWS [BATCH_ROWS [gzip|none]]
// prints: flows= seconds= flows_per_s= inserts=
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "sink/clickhouse_output.h"

int main(int argc, char** argv) {
  using namespace orbwatch;
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s URL DATABASE FLOWS [BATCH_ROWS [gzip|none]]\n", argv[0]);
    return 2;
  }
  const uint64_t total = std::strtoull(argv[3], nullptr, 10);
  sink::ClickHouseOutput::Options o;
  o.server.url = argv[1];
  o.server.database = argv[2];
  o.spool_dir = (std::filesystem::temp_directory_path() / "orbwatch-insert-bench-spool").string();
  if (argc > 4) o.batch_rows = std::strtoull(argv[4], nullptr, 10);
  if (argc > 5) o.gzip = std::string(argv[5]) != "none";
  sink::ClickHouseOutput out(o);
  std::string error;
  if (!out.start(error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  // 4,096-flow batches, as the receive threads hand them over; addresses and counters vary.
  std::mt19937_64 rng(7);
  FlowBatch b;
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t start = 1'775'000'000'000;
  for (uint64_t sent = 0; sent < total;) {
    b.clear();
    for (int i = 0; i < 4096 && sent < total; ++i, ++sent) {
      const uint64_t x = rng();
      FlowRecord r;
      r.start_ms = start + static_cast<int64_t>(sent / 100);
      r.end_ms = r.start_ms + static_cast<int64_t>(x % 30'000);
      r.src = IpAddr::v4(0x0a000000u | static_cast<uint32_t>(x & 0xffff));
      r.dst = IpAddr::v4(0xc6120000u | static_cast<uint32_t>((x >> 16) & 0xffffff));
      r.src_port = static_cast<uint16_t>(x >> 40);
      r.dst_port = (x >> 56) % 4 == 0 ? 443 : 53;
      r.proto = (x >> 58) % 2 ? 6 : 17;
      r.bytes = 40 + (x >> 20) % 100'000;
      r.packets = 1 + (x >> 30) % 100;
      r.exporter = IpAddr::v4(0xc0000201u);
      r.in_if = 1;
      r.out_if = 2;
      r.src_as = 64512;
      r.dst_as = 64496 + static_cast<uint32_t>(x % 16);
      b.records.push_back(r);
    }
    out.add_flows(b);
  }
  out.stop();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto st = out.stats();
  std::printf("flows=%llu seconds=%.2f flows_per_s=%.0f inserts=%llu spooled=%llu\n",
              static_cast<unsigned long long>(st.flows_sent), s,
              static_cast<double>(st.flows_sent) / s, static_cast<unsigned long long>(st.inserts),
              static_cast<unsigned long long>(st.spooled_batches));
  return st.flows_sent == total ? 0 : 1;
}
