#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "store/segment_reader.h"
#include "store/segment_writer.h"

namespace orbwatch::store {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kT0 = 1'776'672'000'000;  // 2026-04-20

class SegmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orbwatch_segment_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// A record with every field set from `i`; every 3rd one IPv6, every 4th with a server name.
FlowRecord make_record(uint32_t i, FlowBatch& batch) {
  FlowRecord r;
  r.start_ms = kT0 + i * 10 + (i % 7);
  r.end_ms = r.start_ms + (i % 5) * 1000;
  if (i % 3 == 0) {
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
    v6[14] = static_cast<uint8_t>(i >> 8);
    v6[15] = static_cast<uint8_t>(i);
    r.src = IpAddr::v6_bytes(v6);  // 2001:db8::XXXX
    v6[5] = 0xff;
    v6[14] = static_cast<uint8_t>(i % 1000 >> 8);
    v6[15] = static_cast<uint8_t>(i % 1000);
    r.dst = IpAddr::v6_bytes(v6);  // 2001:db8:ff::XXX
  } else {
    r.src = IpAddr::v4(0x0a000000u + i);
    r.dst = IpAddr::v4(0xc6336400u + i % 256);
  }
  r.exporter = IpAddr::v4(0xc0000201u + i % 3);
  r.bytes = 40 + uint64_t{i} * 977;
  r.packets = 1 + i % 100;
  r.obs_domain = i % 4;
  r.in_if = i % 10;
  r.out_if = 100 + i % 9;
  r.src_as = 64500 + i % 20;
  r.dst_as = 15169;
  r.sampling_rate = i % 2 == 0 ? 0 : 1000;
  r.src_port = static_cast<uint16_t>(1024 + i);
  r.dst_port = static_cast<uint16_t>(i % 2 == 0 ? 443 : 53);
  r.proto = i % 2 == 0 ? 6 : 17;
  r.tcp_flags = static_cast<uint8_t>(i & 0x3f);
  r.direction = static_cast<FlowDirection>(i % 3);
  r.source = static_cast<FlowSource>(i % 6);
  r.vlan = static_cast<uint16_t>(i % 4095);
  r.tos = static_cast<uint8_t>(i);
  r.flags = static_cast<uint8_t>(i % 16);
  r.src_mask = static_cast<uint8_t>(i % 33);
  r.dst_mask = static_cast<uint8_t>(i % 129);
  if (i % 4 == 0) r.name_ref = batch.add_name("host" + std::to_string(i % 50) + ".example");
  return r;
}

FlowBatch make_batch(uint32_t first, uint32_t n) {
  FlowBatch b;
  for (uint32_t i = first; i < first + n; ++i) b.records.push_back(make_record(i, b));
  return b;
}

void expect_same(const FlowBatch& a, size_t ai, const FlowBatch& b, size_t bi) {
  const FlowRecord& x = a.records[ai];
  const FlowRecord& y = b.records[bi];
  EXPECT_EQ(x.start_ms, y.start_ms);
  EXPECT_EQ(x.end_ms, y.end_ms);
  EXPECT_EQ(x.src, y.src);
  EXPECT_EQ(x.dst, y.dst);
  EXPECT_EQ(x.exporter, y.exporter);
  EXPECT_EQ(x.bytes, y.bytes);
  EXPECT_EQ(x.packets, y.packets);
  EXPECT_EQ(x.obs_domain, y.obs_domain);
  EXPECT_EQ(x.in_if, y.in_if);
  EXPECT_EQ(x.out_if, y.out_if);
  EXPECT_EQ(x.src_as, y.src_as);
  EXPECT_EQ(x.dst_as, y.dst_as);
  EXPECT_EQ(x.sampling_rate, y.sampling_rate);
  EXPECT_EQ(x.src_port, y.src_port);
  EXPECT_EQ(x.dst_port, y.dst_port);
  EXPECT_EQ(x.proto, y.proto);
  EXPECT_EQ(x.tcp_flags, y.tcp_flags);
  EXPECT_EQ(x.direction, y.direction);
  EXPECT_EQ(x.source, y.source);
  EXPECT_EQ(x.vlan, y.vlan);
  EXPECT_EQ(x.tos, y.tos);
  EXPECT_EQ(x.flags, y.flags);
  EXPECT_EQ(x.src_mask, y.src_mask);
  EXPECT_EQ(x.dst_mask, y.dst_mask);
  EXPECT_EQ(a.name(x.name_ref), b.name(y.name_ref));
  EXPECT_EQ(x.name_ref == 0, y.name_ref == 0);
}

// Writes `n` records from make_batch in batches of 1000 into `file`.
void write_file(const std::string& file, uint32_t n, SegmentWriterOptions o, bool close = true) {
  SegmentWriter w(o);
  std::string error;
  ASSERT_TRUE(w.open(file, error)) << error;
  for (uint32_t i = 0; i < n; i += 1000) {
    ASSERT_TRUE(w.append(make_batch(i, std::min<uint32_t>(1000, n - i)), error)) << error;
  }
  if (close) {
    ASSERT_TRUE(w.close(error)) << error;
  } else {
    ASSERT_TRUE(w.flush(error)) << error;
  }
}

FlowBatch read_all(SegmentReader& r) {
  FlowBatch out;
  for (size_t i = 0; i < r.blocks().size(); ++i) {
    std::string error;
    EXPECT_TRUE(r.read_block(i, out, error)) << error;
  }
  return out;
}

std::vector<uint8_t> slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void spit(const std::string& file, const std::vector<uint8_t>& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

TEST(SegmentFormat, ChecksumIsCrc32c) {
  const auto* p = reinterpret_cast<const uint8_t*>("123456789");
  EXPECT_EQ(segment::crc32c(0, p, 9), 0xE3069283u);  // the CRC-32C check value
  EXPECT_EQ(segment::crc32c(segment::crc32c(0, p, 4), p + 4, 5), 0xE3069283u);
  EXPECT_EQ(segment::crc32c(0, p, 0), 0u);
  const std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(segment::crc32c(0, zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
}

TEST_F(SegmentTest, RoundTripsEveryFieldAcrossBlocksAndCodecs) {
  for (auto codec : {segment::Codec::kZstd, segment::Codec::kLz4, segment::Codec::kNone}) {
    const std::string file = path("rt.seg");
    SegmentWriterOptions o;
    o.block_records = 2500;  // 10,000 records -> 4 blocks, batches straddle blocks
    o.codec = codec;
    write_file(file, 10'000, o);
    std::string error;
    auto r = SegmentReader::open(file, error);
    ASSERT_TRUE(r) << error;
    EXPECT_TRUE(r->has_footer());
    ASSERT_EQ(r->blocks().size(), 4u);
    EXPECT_EQ(r->records(), 10'000u);
    EXPECT_TRUE(r->problems().empty());
    const FlowBatch got = read_all(*r);
    const FlowBatch want = make_batch(0, 10'000);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) expect_same(want, i, got, i);
    // Names are interned per block: 25 distinct names (host0, host2, ... host48) in each block,
    // not one per named record.
    EXPECT_EQ(got.names.size(), 4u * 25);
  }
}

TEST_F(SegmentTest, ExtremeValuesRoundTrip) {
  FlowBatch b;
  FlowRecord& r = b.add();
  r.start_ms = INT64_MAX;
  r.end_ms = INT64_MIN;
  r.bytes = UINT64_MAX;
  r.packets = UINT64_MAX;
  r.in_if = UINT32_MAX;
  r.name_ref = b.add_name(std::string(70'000, 'x'));  // truncated to 65,535 bytes
  FlowRecord& r2 = b.add();
  r2.start_ms = INT64_MIN;
  r2.end_ms = INT64_MAX;
  const std::string file = path("x.seg");
  SegmentWriter w;
  std::string error;
  ASSERT_TRUE(w.open(file, error)) << error;
  ASSERT_TRUE(w.append(b, error)) << error;
  ASSERT_TRUE(w.close(error)) << error;
  EXPECT_EQ(w.stats().names_truncated, 1u);
  auto rd = SegmentReader::open(file, error);
  ASSERT_TRUE(rd) << error;
  FlowBatch got;
  ASSERT_TRUE(rd->read_block(0, got, error)) << error;
  ASSERT_EQ(got.size(), 2u);  // in start time order
  EXPECT_EQ(got.records[1].start_ms, INT64_MAX);
  EXPECT_EQ(got.records[1].end_ms, INT64_MIN);
  EXPECT_EQ(got.records[1].bytes, UINT64_MAX);
  EXPECT_EQ(got.records[0].start_ms, INT64_MIN);
  EXPECT_EQ(got.records[0].end_ms, INT64_MAX);
  EXPECT_EQ(got.name(got.records[1].name_ref).size(), segment::kMaxNameBytes);
  EXPECT_EQ(got.records[0].name_ref, 0u);
}

TEST_F(SegmentTest, ColumnsOfEqualValuesAreStoredOnce) {
  FlowBatch b;
  for (int i = 0; i < 5000; ++i) b.add();
  const std::string file = path("z.seg");
  SegmentWriter w;
  std::string error;
  ASSERT_TRUE(w.open(file, error)) << error;
  ASSERT_TRUE(w.append(b, error)) << error;
  ASSERT_TRUE(w.close(error)) << error;
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  ASSERT_EQ(r->blocks().size(), 1u);
  // One value per column: five 1-byte varints, three 16-byte addresses, the fixed widths
  // (6 x 4, 3 x 2, 8 x 1) and the names column's count.
  EXPECT_EQ(r->blocks()[0].header.raw_bytes, 5u + 48 + 38 + 1);
  const FlowBatch got = read_all(*r);
  ASSERT_EQ(got.size(), 5000u);
  for (size_t i = 0; i < got.size(); ++i) expect_same(b, i, got, i);
}

// The column directory of block `i` of `file`.
segment::ColumnDir column_dir(const std::string& file, size_t i) {
  std::string error;
  auto r = SegmentReader::open(file, error);
  EXPECT_TRUE(r) << error;
  const auto& b = r->blocks().at(i);
  const auto bytes = slurp(file);
  segment::ColumnDir dir;
  const char* why = nullptr;
  EXPECT_TRUE(segment::decode_column_dir(
      bytes.data() + b.offset + segment::kBlockHeaderSize + b.header.bloom_bytes, b.header, dir,
      why))
      << why;
  return dir;
}

TEST_F(SegmentTest, IPv4ColumnsTakeFourBytesAnAddress) {
  const std::string file = path("v4.seg");
  SegmentWriterOptions o;
  o.block_records = 1000;
  o.codec = segment::Codec::kNone;
  FlowBatch b = make_batch(1, 1000);  // block 0: record 1..1000, a third IPv6
  FlowBatch v4;
  for (uint32_t i = 1; i <= 1000; ++i) {
    if (i % 3 != 0) v4.records.push_back(make_record(i, v4));  // block 1: IPv4 only
  }
  SegmentWriter w(o);
  std::string error;
  ASSERT_TRUE(w.open(file, error)) << error;
  ASSERT_TRUE(w.append(b, error) && w.flush(error)) << error;
  ASSERT_TRUE(w.append(v4, error) && w.close(error)) << error;
  const auto mixed = column_dir(file, 0), only4 = column_dir(file, 1);
  EXPECT_EQ(mixed[2].encoding, segment::Encoding::kPlain);
  EXPECT_EQ(mixed[2].raw_bytes, 1000u * 16);
  EXPECT_EQ(only4[2].encoding, segment::Encoding::kIpv4);
  EXPECT_EQ(only4[2].raw_bytes, v4.size() * 4);
  EXPECT_EQ(only4[4].encoding, segment::Encoding::kIpv4);  // three exporters
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  const FlowBatch got = read_all(*r);
  ASSERT_EQ(got.size(), b.size() + v4.size());
  for (size_t i = 0; i < b.size(); ++i) expect_same(b, i, got, i);
  for (size_t i = 0; i < v4.size(); ++i) expect_same(v4, i, got, b.size() + i);
}

TEST_F(SegmentTest, RecordsAreStoredInStartTimeOrder) {
  // Arrival order is not start order (exporters flush flows as they expire): a block is sorted,
  // stably, so that start times delta-encode small.
  FlowBatch b;
  for (uint32_t i = 0; i < 3000; ++i) {
    FlowRecord r = make_record(i, b);
    r.start_ms = kT0 + ((i * 7919) % 1000) * 60'000;  // minutes apart, shuffled, repeated
    r.end_ms = r.start_ms + i;
    b.records.push_back(r);
  }
  const std::string file = path("sorted.seg");
  SegmentWriter w;
  std::string error;
  ASSERT_TRUE(w.open(file, error) && w.append(b, error) && w.close(error)) << error;
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  const FlowBatch got = read_all(*r);
  ASSERT_EQ(got.size(), b.size());
  std::vector<size_t> want(b.size());
  for (size_t i = 0; i < want.size(); ++i) want[i] = i;
  std::stable_sort(want.begin(), want.end(), [&](size_t x, size_t y) {
    return b.records[x].start_ms < b.records[y].start_ms;
  });
  for (size_t i = 0; i < want.size(); ++i) expect_same(b, want[i], got, i);
}

TEST_F(SegmentTest, ChosenRowsDecodeAsTheWholeBlock) {
  // Queries decode the filter's columns first, then the rest for the matching rows only.
  const std::string file = path("rows.seg");
  write_file(file, 5000, {});
  std::string error;
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  const FlowBatch all = read_all(*r);
  std::vector<uint32_t> rows;
  for (uint32_t i = 0; i < 4990; i += 1 + i % 7) rows.push_back(i);
  rows.push_back(4999);
  BlockScratch scratch;
  FlowBatch some;
  // The proto column loaded first (as a filter would), the rest on the second call.
  ASSERT_TRUE(r->load_columns(0, scratch, error, segment::column::kProto)) << error;
  ASSERT_TRUE(r->read_block(0, some, scratch, error, segment::column::kAll, &rows)) << error;
  ASSERT_EQ(some.size(), rows.size());
  for (size_t k = 0; k < rows.size(); ++k) expect_same(all, rows[k], some, k);
  const std::vector<uint32_t> beyond = {3, 5000};
  EXPECT_FALSE(r->read_block(0, some, scratch, error, segment::column::kAll, &beyond));
  EXPECT_NE(error.find("rows not ascending within the block"), std::string::npos) << error;
  const std::vector<uint32_t> twice = {3, 3};
  EXPECT_FALSE(r->read_block(0, some, scratch, error, segment::column::kAll, &twice));
}

TEST_F(SegmentTest, OnlyTheColumnsReadAreCheckedAndDecompressed) {
  const std::string file = path("cols.seg");
  write_file(file, 3000, {});
  const auto dir = column_dir(file, 0);
  uint64_t dst_at = 0;
  {
    std::string error;
    auto r = SegmentReader::open(file, error);
    ASSERT_TRUE(r) << error;
    const auto& b = r->blocks()[0];
    dst_at = b.offset + segment::kBlockHeaderSize + b.header.bloom_bytes + dir[3].offset;
  }
  auto bytes = slurp(file);
  bytes[dst_at + dir[3].stored_bytes / 2] ^= 0x10;  // inside the dst column
  spit(file, bytes);
  std::string error;
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  FlowBatch got;
  BlockScratch scratch;
  namespace col = segment::column;
  ASSERT_TRUE(r->read_block(0, got, scratch, error, col::kSrc | col::kBytes | col::kEnd)) << error;
  const FlowBatch want = make_batch(0, 3000);
  ASSERT_EQ(got.size(), 3000u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got.records[i].src, want.records[i].src);
    EXPECT_EQ(got.records[i].bytes, want.records[i].bytes);
    EXPECT_EQ(got.records[i].start_ms, want.records[i].start_ms);  // end_ms needs it
    EXPECT_EQ(got.records[i].end_ms, want.records[i].end_ms);
    EXPECT_TRUE(got.records[i].dst.is_zero());  // not read
    EXPECT_EQ(got.records[i].dst_port, 0);
  }
  got.clear();
  EXPECT_FALSE(r->read_block(0, got, scratch, error, col::kDst));
  EXPECT_EQ(error, file + ": block 0 at offset 32: column 3: checksum mismatch");
  EXPECT_TRUE(got.empty());
}

TEST_F(SegmentTest, SkipsBlocksByTime) {
  const std::string file = path("t.seg");
  SegmentWriterOptions o;
  o.block_records = 1000;
  write_file(file, 5000, o);  // block k holds start times kT0 + [10000 k, 10000 k + 9996]
  std::string error;
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  ASSERT_EQ(r->blocks().size(), 5u);
  std::vector<size_t> hit;
  for (size_t i = 0; i < 5; ++i) {
    if (r->may_contain_time(i, kT0 + 25'000, kT0 + 31'000)) hit.push_back(i);
  }
  EXPECT_EQ(hit, (std::vector<size_t>{2, 3}));
  EXPECT_FALSE(r->may_contain_time(0, kT0 + 100'000, kT0 + 200'000));
  EXPECT_TRUE(r->may_contain_time(4, kT0, kT0 + 100'000));
  EXPECT_FALSE(r->may_contain_time(0, kT0 - 10, kT0 - 1));
}

TEST_F(SegmentTest, SkipsBlocksByAddressAndPrefixWithoutFalseNegatives) {
  const std::string file = path("a.seg");
  SegmentWriterOptions o;
  o.block_records = 4096;
  write_file(file, 40'960, o);
  std::string error;
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  ASSERT_EQ(r->blocks().size(), 10u);
  // No false negatives: every address of every block is answered by its block.
  const FlowBatch all = make_batch(0, 40'960);
  for (size_t i = 0; i < all.size(); ++i) {
    const size_t block = i / 4096;
    ASSERT_TRUE(r->may_contain(block, all.records[i].src)) << i;
    ASSERT_TRUE(r->may_contain(block, all.records[i].dst)) << i;
  }
  // A source address of block 3 only: the bounds alone rule out most blocks.
  const IpAddr a = IpAddr::v4(0x0a000000u + 3 * 4096 + 1);
  size_t hits = 0;
  for (size_t b = 0; b < 10; ++b) hits += r->may_contain(b, a) ? 1 : 0;
  EXPECT_EQ(hits, 1u);
  EXPECT_TRUE(r->may_contain(3, a));
  // Prefixes use the bounds: 10.0.0.0/20 covers block 0 only (sources 10.0.0.1..10.0.15.255).
  const Prefix p = *Prefix::parse("10.0.0.0/20");
  EXPECT_TRUE(r->may_contain(0, p));
  EXPECT_FALSE(r->may_contain(5, p));
  EXPECT_TRUE(r->may_contain(9, *Prefix::parse("198.51.100.0/24")));  // every block's dst
  EXPECT_FALSE(r->may_contain(9, *Prefix::parse("172.16.0.0/12")));
  EXPECT_TRUE(r->may_contain(9, *Prefix::parse("2001:db8::/32")));
  // Dual-stack blocks keep per-family bounds: IPv6 addresses do not widen the IPv4 range.
  EXPECT_FALSE(r->may_contain(9, *Prefix::parse("2001:db9::/32")));
  EXPECT_FALSE(r->may_contain(9, *Prefix::parse("11.0.0.0/8")));
  EXPECT_TRUE(r->may_contain(9, *Prefix::parse("::/0")));
  EXPECT_TRUE(r->may_contain(9, *Prefix::parse("0.0.0.0/0")));
  EXPECT_FALSE(r->may_contain(9, IpAddr::v4(0x0b000001)));
}

TEST_F(SegmentTest, BloomFalsePositiveRateIsAboutOnePercent) {
  // Random addresses inside the block's bounds, so only the bloom filter can answer.
  const std::string file = path("b.seg");
  FlowBatch b;
  std::mt19937 rng(7);
  for (int i = 0; i < 65'536; ++i) {
    FlowRecord& r = b.add();
    r.src = IpAddr::v4(0x0a000000u | (rng() & 0x00ffffffu));
    r.dst = IpAddr::v4(0x0a000000u | (rng() & 0x00ffffffu));
  }
  SegmentWriterOptions o;
  o.block_records = 65'536;
  SegmentWriter w(o);
  std::string error;
  ASSERT_TRUE(w.open(file, error)) << error;
  ASSERT_TRUE(w.append(b, error)) << error;
  ASSERT_TRUE(w.close(error)) << error;
  auto rd = SegmentReader::open(file, error);
  ASSERT_TRUE(rd) << error;
  ASSERT_EQ(rd->blocks().size(), 1u);
  std::vector<IpAddr> present;
  for (const auto& r : b.records) {
    present.push_back(r.src);
    present.push_back(r.dst);
  }
  std::sort(present.begin(), present.end());
  int probes = 0;
  int fp = 0;
  while (probes < 200'000) {
    const IpAddr a = IpAddr::v4(0x0a000000u | (rng() & 0x00ffffffu));
    if (std::binary_search(present.begin(), present.end(), a)) continue;
    ++probes;
    fp += rd->may_contain(0, a) ? 1 : 0;
  }
  const double rate = static_cast<double>(fp) / probes;
  std::printf("bloom: %u bytes for 131072 addresses, false-positive rate %.4f\n",
              rd->blocks()[0].header.bloom_bytes, rate);
  EXPECT_LT(rate, 0.015);  // 10 bits per address, 7 probes: 0.8% in theory
}

TEST_F(SegmentTest, WritesTmpThenRenamesOnClose) {
  const std::string file = path("r.seg");
  SegmentWriter w;
  std::string error;
  ASSERT_TRUE(w.open(file, error)) << error;
  ASSERT_TRUE(w.append(make_batch(0, 100), error)) << error;
  EXPECT_TRUE(fs::exists(file + ".tmp"));
  EXPECT_FALSE(fs::exists(file));
  ASSERT_TRUE(w.flush(error)) << error;
  EXPECT_FALSE(fs::exists(file));
  ASSERT_TRUE(w.close(error)) << error;
  EXPECT_TRUE(fs::exists(file));
  EXPECT_FALSE(fs::exists(file + ".tmp"));
  EXPECT_EQ(fs::file_size(file), w.stats().bytes);
}

TEST_F(SegmentTest, MissingFooterAfterCrashIsReadByScanning) {
  const std::string file = path("c.seg");
  SegmentWriterOptions o;
  o.block_records = 1000;
  {
    SegmentWriter w(o);
    std::string error;
    ASSERT_TRUE(w.open(file, error)) << error;
    ASSERT_TRUE(w.append(make_batch(0, 3500), error)) << error;   // 3 blocks written, 500 pending
    ASSERT_TRUE(w.flush(error)) << error;                         // 4th block
    ASSERT_TRUE(w.append(make_batch(3500, 10), error)) << error;  // lost: never flushed
  }  // destroyed without close(): as after a crash
  EXPECT_FALSE(fs::exists(file));
  std::string error;
  auto r = SegmentReader::open(file + ".tmp", error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->has_footer());
  EXPECT_TRUE(r->problems().empty());
  ASSERT_EQ(r->blocks().size(), 4u);
  const FlowBatch got = read_all(*r);
  const FlowBatch want = make_batch(0, 3500);
  ASSERT_EQ(got.size(), 3500u);
  for (size_t i = 0; i < want.size(); i += 7) expect_same(want, i, got, i);
}

TEST_F(SegmentTest, TruncatedFileKeepsItsWholeBlocks) {
  const std::string file = path("tr.seg");
  SegmentWriterOptions o;
  o.block_records = 1000;
  write_file(file, 4000, o);
  std::string error;
  uint64_t third_block_end = 0;
  {
    auto r = SegmentReader::open(file, error);
    ASSERT_TRUE(r) << error;
    third_block_end = r->blocks()[2].offset + r->blocks()[2].header.total_bytes();
  }
  auto bytes = slurp(file);
  bytes.resize(third_block_end + 100);  // a piece of the 4th block, no footer
  spit(file, bytes);
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->has_footer());
  EXPECT_EQ(r->blocks().size(), 3u);
  // The cut block is what a live or crashed writer leaves: not damage.
  EXPECT_TRUE(r->problems().empty());
  EXPECT_EQ(r->partial_tail_bytes(), 100u);
  EXPECT_EQ(r->blocks_end(), third_block_end);
  EXPECT_EQ(read_all(*r).size(), 3000u);

  bytes.resize(10);
  spit(file, bytes);
  EXPECT_FALSE(SegmentReader::open(file, error));
  EXPECT_NE(error.find(file), std::string::npos);
}

TEST_F(SegmentTest, FlippedByteInABlockSkipsThatBlockOnly) {
  const std::string file = path("f.seg");
  SegmentWriterOptions o;
  o.block_records = 1000;
  write_file(file, 4000, o);
  std::string error;
  uint64_t at = 0;
  {
    auto r = SegmentReader::open(file, error);
    ASSERT_TRUE(r) << error;
    const auto& b = r->blocks()[1];
    at = b.offset + b.header.total_bytes() - 10;  // inside block 1's payload
  }
  auto bytes = slurp(file);
  bytes[at] ^= 0x20;
  spit(file, bytes);
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->has_footer());  // the footer is intact: the damage shows on reading
  FlowBatch out;
  EXPECT_TRUE(r->read_block(0, out, error)) << error;
  EXPECT_FALSE(r->read_block(1, out, error));
  EXPECT_NE(error.find(file + ": block 1 at offset"), std::string::npos) << error;
  EXPECT_NE(error.find("checksum"), std::string::npos) << error;
  EXPECT_TRUE(r->read_block(2, out, error)) << error;
  EXPECT_TRUE(r->read_block(3, out, error)) << error;
  EXPECT_EQ(out.size(), 3000u);
  EXPECT_EQ(r->damaged_blocks(), 1u);
  ASSERT_EQ(r->problems().size(), 1u);
}

TEST_F(SegmentTest, DamagedHeaderWithoutFooterResynchronises) {
  const std::string file = path("h.seg");
  SegmentWriterOptions o;
  o.block_records = 1000;
  write_file(file, 4000, o, /*close=*/false);
  const std::string tmp = file + ".tmp";
  std::string error;
  uint64_t at = 0;
  {
    auto r = SegmentReader::open(tmp, error);
    ASSERT_TRUE(r) << error;
    ASSERT_EQ(r->blocks().size(), 4u);
    at = r->blocks()[1].offset + 10;  // block 1's header (record count)
  }
  auto bytes = slurp(tmp);
  bytes[at] ^= 0x01;
  spit(tmp, bytes);
  auto r = SegmentReader::open(tmp, error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->blocks().size(), 3u);  // 0, 2, 3
  EXPECT_EQ(r->damaged_blocks(), 1u);
  ASSERT_EQ(r->problems().size(), 1u);
  EXPECT_NE(r->problems()[0].find("header checksum"), std::string::npos) << r->problems()[0];
  EXPECT_EQ(read_all(*r).size(), 3000u);
}

TEST_F(SegmentTest, DamagedFooterFallsBackToScanning) {
  const std::string file = path("df.seg");
  SegmentWriterOptions o;
  o.block_records = 1000;
  write_file(file, 3000, o);
  auto bytes = slurp(file);
  bytes[bytes.size() - 30] ^= 0xff;  // inside the footer's last index entry
  spit(file, bytes);
  std::string error;
  auto r = SegmentReader::open(file, error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->has_footer());
  EXPECT_EQ(r->blocks().size(), 3u);
  ASSERT_EQ(r->problems().size(), 1u);
  EXPECT_NE(r->problems()[0].find("footer"), std::string::npos) << r->problems()[0];
  EXPECT_EQ(read_all(*r).size(), 3000u);
}

TEST_F(SegmentTest, HostileHeadersAreRejectedBeforeAllocating) {
  std::vector<uint8_t> file(segment::kFileHeaderSize + segment::kBlockHeaderSize + 200);
  segment::FileHeader().encode(file.data());
  segment::BlockHeader h;
  h.records = segment::kMaxBlockRecords;
  h.bloom_bytes = 8;
  h.payload_bytes = h.raw_bytes = 100;  // less than a column directory
  h.encode(file.data() + segment::kFileHeaderSize);
  std::string error;
  auto r = SegmentReader::open_memory("hostile", file, error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->blocks().empty());
  ASSERT_EQ(r->problems().size(), 1u);
  EXPECT_EQ(r->problems()[0],
            "hostile: offset 32: payload smaller than the column directory; 344 bytes skipped");

  // Many fake headers, each claiming the rest of the file with a wrong data checksum: the scan
  // stays linear (bounded re-reading) instead of checking every candidate's claimed data.
  std::vector<uint8_t> fakes(segment::kFileHeaderSize);
  segment::FileHeader().encode(fakes.data());
  const size_t n = 20'000;
  fakes.resize(segment::kFileHeaderSize + 1 + n * segment::kBlockHeaderSize);
  for (size_t i = 0; i < n; ++i) {
    const size_t at = segment::kFileHeaderSize + 1 + i * segment::kBlockHeaderSize;
    segment::BlockHeader f;
    f.records = 1;
    f.bloom_bytes = 8;
    f.raw_bytes = 1000;
    f.payload_bytes = static_cast<uint32_t>(fakes.size() - at - segment::kBlockHeaderSize - 8);
    f.encode(fakes.data() + at);
  }
  auto rf = SegmentReader::open_memory("fakes", fakes, error);
  ASSERT_TRUE(rf) << error;
  EXPECT_TRUE(rf->blocks().empty());
  EXPECT_FALSE(rf->problems().empty());
  EXPECT_NE(rf->problems().back().find("too much damage"), std::string::npos)
      << rf->problems().back();
}

TEST_F(SegmentTest, NotASegmentFile) {
  std::string error;
  EXPECT_FALSE(SegmentReader::open(path("missing.seg"), error));
  EXPECT_NE(error.find("missing.seg"), std::string::npos);
  EXPECT_FALSE(SegmentReader::open(dir_.string(), error));
  EXPECT_EQ(error, dir_.string() + ": not a regular file");
  std::vector<uint8_t> junk(100, 'x');
  EXPECT_FALSE(SegmentReader::open_memory("junk", junk, error));
  EXPECT_EQ(error, "junk: not a segment file (bad magic)");
}

}  // namespace
}  // namespace orbwatch::store
