// Decoder throughput from memory: records/s for NetFlow v5, v9 and IPFIX datagrams of
// realistic size (v5: 30 records; v9/IPFIX: ~1400-byte datagrams of a typical router
// template). The datagrams are built once; each iteration decodes one into a reused batch.
#include <benchmark/benchmark.h>

#include "core/flow_json.h"
#include "ingest/export_decoder.h"
#include "ingest/flow_meter.h"
#include "ingest/packet.h"
#include "util/export_builder.h"
#include "util/packet_builder.h"
#include "util/sflow_builder.h"

namespace orbwatch {
namespace {

using ingest::Datagram;
using ingest::ExportDecoder;

std::vector<uint8_t> v5_datagram() {
  test::V5Builder b(3600000, 1700000000, 0, 0);
  for (int i = 0; i < 30; ++i) {
    b.record("10.0.0.1", "198.51.100.2", static_cast<uint16_t>(1024 + i), 443, 6, 10, 4000, 3500000,
             3599000, 0x1b);
  }
  return b.finish();
}

// The fields a Cisco IOS-XE / Juniper v4 template typically carries (18 fields, 53 bytes).
const std::vector<test::FieldSpec> kFields = {{8, 4},  {12, 4}, {15, 4}, {7, 2},  {11, 2}, {4, 1},
                                              {6, 1},  {5, 1},  {10, 4}, {14, 4}, {1, 8},  {2, 8},
                                              {16, 4}, {17, 4}, {9, 1},  {13, 1}, {22, 4}, {21, 4}};

void write_record(test::WireBuilder& w, int i) {
  w.ipv4("10.0.0.1")
      .ipv4("198.51.100.2")
      .ipv4("192.0.2.254")
      .be16(static_cast<uint16_t>(1024 + i))
      .be16(443)
      .u8(6)
      .u8(0x1b)
      .u8(0)
      .be32(3)
      .be32(4)
      .be64(4000)
      .be64(10)
      .be32(64500)
      .be32(15169)
      .u8(24)
      .u8(16)
      .be32(3500000)
      .be32(3599000);
}

constexpr int kRecordsPerDatagram = 25;  // 25 * 61 + headers ~ 1550 bytes, like a real MTU

std::pair<std::vector<uint8_t>, std::vector<uint8_t>> v9_datagrams() {
  test::V9Builder t(3600000, 1700000000, 0, 1);
  t.begin_set(0).template_record(256, kFields).end_set();
  test::V9Builder d(3600000, 1700000000, 1, 1);
  d.begin_set(256);
  for (int i = 0; i < kRecordsPerDatagram; ++i) write_record(d.w, i);
  d.end_set(3);
  return {t.finish(), d.finish(kRecordsPerDatagram)};
}

std::pair<std::vector<uint8_t>, std::vector<uint8_t>> ipfix_datagrams() {
  auto fields = kFields;
  fields.resize(fields.size() - 2);
  fields.push_back({152, 8});
  fields.push_back({153, 8});
  test::IpfixBuilder t(1700000000, 0, 1);
  t.begin_set(2).template_record(256, fields).end_set();
  test::IpfixBuilder d(1700000000, 0, 1);
  d.begin_set(256);
  for (int i = 0; i < kRecordsPerDatagram; ++i) {
    test::WireBuilder w;
    write_record(w, i);
    auto& v = w.vec();
    v.resize(v.size() - 8);
    d.w.bytes(v).be64(1699999990000).be64(1699999999000);
  }
  d.end_set();
  return {t.finish(), d.finish()};
}

void run(benchmark::State& state, const std::vector<uint8_t>* tpl,
         const std::vector<uint8_t>& data) {
  ExportDecoder dec;
  FlowBatch batch;
  IpAddr exporter = *IpAddr::parse("192.0.2.1");
  if (tpl != nullptr) dec.decode(Datagram{*tpl, exporter, 2055, 2055, 0}, batch);
  batch.clear();
  batch.records.reserve(64);
  for (auto _ : state) {
    batch.clear();
    dec.decode(Datagram{data, exporter, 2055, 2055, 0}, batch);
    benchmark::DoNotOptimize(batch.records.data());
  }
  if (batch.size() == 0 || dec.stats().total_errors() != 0) state.SkipWithError("decode failed");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}

void BM_DecodeNetflow5(benchmark::State& state) {
  run(state, nullptr, v5_datagram());
}
void BM_DecodeNetflow9(benchmark::State& state) {
  auto [t, d] = v9_datagrams();
  run(state, &t, d);
}
void BM_DecodeIpfix(benchmark::State& state) {
  auto [t, d] = ipfix_datagrams();
  run(state, &t, d);
}

void BM_FlowJson(benchmark::State& state) {
  ExportDecoder dec;
  FlowBatch batch;
  auto [t, d] = ipfix_datagrams();
  dec.decode(Datagram{t, *IpAddr::parse("192.0.2.1"), 1, 1, 0}, batch);
  dec.decode(Datagram{d, *IpAddr::parse("192.0.2.1"), 1, 1, 0}, batch);
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (size_t i = 0; i < batch.size(); ++i) append_flow_json(out, batch, i);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}

// sFlow: a datagram of 7 flow samples, each with a 128-byte sampled Ethernet/IPv4/TCP header,
// as switches send them (records/s counts flow samples decoded into records).
void BM_DecodeSflow(benchmark::State& state) {
  using namespace test::sflow;
  auto frame = test::eth_ipv4_tcp("10.0.0.1", "198.51.100.2", 51000, 443, 0x18, 74);
  auto sample = [&](uint32_t seq) {
    FlowSampleFields f;
    f.seq = seq;
    return flow_sample(f, {header_record(1, 1518, 4, frame)});
  };
  auto dg = datagram("192.0.2.1", 0, 1,
                     {sample(1), sample(2), sample(3), sample(4), sample(5), sample(6), sample(7)});
  run(state, nullptr, dg.vec());
}

// The flow meter alone: parsed packets of 65536 flows in a fixed pseudo-random order.
void BM_FlowMeter(benchmark::State& state) {
  constexpr size_t kFlows = 1 << 16;
  std::vector<ingest::PacketInfo> pkts(kFlows);
  uint64_t x = 42;
  for (auto& p : pkts) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    p.src = IpAddr::v4(0x0a000000u | static_cast<uint32_t>(x >> 48));
    p.dst = IpAddr::v4(0xc6336400u | static_cast<uint32_t>((x >> 40) & 0xff));
    p.src_port = static_cast<uint16_t>(x >> 20);
    p.dst_port = 443;
    p.proto = 6;
    p.ip_version = 4;
    p.ip_len = 1000;
    p.tcp_flags = 0x10;
    p.l4_valid = true;
  }
  ingest::FlowMeterConfig cfg;
  cfg.extract_names = false;
  ingest::FlowMeter meter(cfg);
  FlowBatch out;
  int64_t t = 1700000000000;
  size_t i = 0;
  for (auto _ : state) {
    meter.process(ingest::PacketStatus::kOk, pkts[i++ & (kFlows - 1)], t, out);
    if ((i & 1023) == 0) {
      ++t;
      out.clear();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_DecodeNetflow5);
BENCHMARK(BM_DecodeNetflow9);
BENCHMARK(BM_DecodeIpfix);
BENCHMARK(BM_DecodeSflow);
BENCHMARK(BM_FlowMeter);
BENCHMARK(BM_FlowJson);

}  // namespace
}  // namespace orbwatch

BENCHMARK_MAIN();
