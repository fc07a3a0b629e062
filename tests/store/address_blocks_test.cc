#include "store/address_blocks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/segment_writer.h"

namespace orbwatch::store {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kT0 = 1'776'672'000'000;

Prefix P(const char* text) {
  return *Prefix::parse(text);
}

class AddressBlocksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() /
             ("orbwatch_address_blocks_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".seg"))
                .string();
  }
  void TearDown() override { fs::remove(path_); }

  // Writes one block per entry of `blocks` (its flows: src -> dst pairs) and opens the file.
  SegmentReader write(const std::vector<std::vector<std::pair<IpAddr, IpAddr>>>& blocks) {
    SegmentWriterOptions o;
    o.block_records = 1'000'000;
    SegmentWriter w(o);
    std::string error;
    EXPECT_TRUE(w.open(path_, error)) << error;
    for (const auto& flows : blocks) {
      FlowBatch b;
      for (const auto& [src, dst] : flows) {
        FlowRecord& r = b.add();
        r.start_ms = kT0;
        r.end_ms = kT0 + 1;
        r.src = src;
        r.dst = dst;
        r.packets = 1;
        r.bytes = 40;
      }
      EXPECT_TRUE(w.append(b, error)) << error;
      EXPECT_TRUE(w.flush(error)) << error;
    }
    EXPECT_TRUE(w.close(error)) << error;
    auto r = SegmentReader::open(path_, error);
    EXPECT_TRUE(r.has_value()) << error;
    return std::move(*r);
  }
  std::string path_;
};

IpAddr v4(const std::string& s) {
  return *IpAddr::parse(s);
}

// Block 0: 10.0.0.x <-> 192.0.2.(even); block 1: 10.0.1.x -> 198.51.100.x; block 2: IPv6.
std::vector<std::vector<std::pair<IpAddr, IpAddr>>> three_blocks() {
  std::vector<std::vector<std::pair<IpAddr, IpAddr>>> blocks(3);
  for (int i = 0; i < 50; ++i) {
    blocks[0].emplace_back(v4("10.0.0." + std::to_string(i)),
                           v4("192.0.2." + std::to_string(2 * i)));
    blocks[1].emplace_back(v4("10.0.1." + std::to_string(i)),
                           v4("198.51.100." + std::to_string(i)));
    blocks[2].emplace_back(*IpAddr::parse("2001:db8::" + std::to_string(i + 1)),
                           *IpAddr::parse("2001:db8:1::" + std::to_string(i + 1)));
  }
  return blocks;
}

TEST_F(AddressBlocksTest, SkipsBlocksByAddressBoundsAndBloomFilter) {
  const SegmentReader r = write(three_blocks());
  ASSERT_EQ(r.blocks().size(), 3u);
  {
    // Present in block 0 only; the other blocks' bounds rule it out.
    const std::vector<Prefix> ind = {P("192.0.2.10")};
    AddressBlockSelector s(ind);
    EXPECT_TRUE(s.may_match(r, 0));
    EXPECT_FALSE(s.may_match(r, 1));
    EXPECT_FALSE(s.may_match(r, 2));
    const auto st = s.stats();
    EXPECT_EQ(st.blocks, 3u);
    EXPECT_EQ(st.skipped_by_range, 2u);
    EXPECT_EQ(st.skipped_by_bloom, 0u);
  }
  {
    // Odd addresses lie inside block 0's bounds but are not in it: the filter answers, exactly as
    // SegmentReader::may_contain does for each.
    std::vector<Prefix> ind;
    for (int i = 1; i < 20; i += 2) ind.push_back(P(("192.0.2." + std::to_string(i)).c_str()));
    bool reference = false;
    for (const auto& p : ind) reference = reference || r.may_contain(0, p.addr);
    AddressBlockSelector s(ind);
    EXPECT_EQ(s.may_match(r, 0), reference);
    EXPECT_EQ(s.stats().skipped_by_range, 0u);
    if (!reference) {
      EXPECT_EQ(s.stats().probes, ind.size());
      EXPECT_EQ(s.stats().skipped_by_bloom, 1u);
    }
  }
  {
    // IPv6 hosts, and the source side of a block.
    const std::vector<Prefix> ind = {P("2001:db8::7"), P("10.0.1.3")};
    AddressBlockSelector s(ind);
    EXPECT_FALSE(s.may_match(r, 0));
    EXPECT_TRUE(s.may_match(r, 1));
    EXPECT_TRUE(s.may_match(r, 2));
  }
}

TEST_F(AddressBlocksTest, PrefixesAreAnsweredByTheBounds) {
  const SegmentReader r = write(three_blocks());
  auto answers = [&](std::vector<Prefix> ind) {
    AddressBlockSelector s(ind);
    std::string out;
    for (size_t i = 0; i < 3; ++i) out += s.may_match(r, i) ? '1' : '0';
    return out;
  };
  EXPECT_EQ(answers({P("198.51.100.0/24")}), "010");
  {
    const std::vector<Prefix> ind = {P("198.51.100.0/24")};
    AddressBlockSelector s(ind);
    s.may_match(r, 1);
    EXPECT_EQ(s.stats().prefix_overlap, 1u);
  }
  EXPECT_EQ(answers({P("192.0.2.128/25")}), "000");  // block 0's hosts stop at .98
  EXPECT_EQ(answers({P("10.0.0.0/8")}), "110");
  EXPECT_EQ(answers({P("2001:db8:1::/48")}), "001");
  EXPECT_EQ(answers({P("2001:db8:2::/48")}), "000");
  // An IPv6 prefix covering the IPv4-mapped space covers every IPv4 block.
  EXPECT_EQ(answers({P("::/0")}), "111");
  EXPECT_EQ(answers({Prefix::make(IpAddr::v4(0), 96)}), "110");  // all of IPv4 (::ffff:0:0/96)
  EXPECT_EQ(answers({P("0.0.0.0/0")}), "110");
  // Overlapping and adjacent prefixes merge.
  AddressBlockSelector merged(std::vector<Prefix>{P("203.0.113.0/25"), P("203.0.113.128/25"),
                                                  P("203.0.113.0/24"), P("192.0.2.1"),
                                                  P("192.0.2.1")});
  EXPECT_EQ(merged.intervals(), 1u);
  EXPECT_EQ(merged.hosts(), 1u);
}

TEST_F(AddressBlocksTest, TooManyCandidatesAreReadUnprobed) {
  const SegmentReader r = write(three_blocks());
  std::vector<Prefix> ind;
  for (int i = 1; i < 20; i += 2) ind.push_back(P(("192.0.2." + std::to_string(i)).c_str()));
  AddressBlockSelector s(ind, {.max_probes = 4});
  EXPECT_TRUE(s.may_match(r, 0));
  EXPECT_FALSE(s.may_match(r, 1));  // no candidate inside its bounds: still skipped
  const auto st = s.stats();
  EXPECT_EQ(st.over_cap, 1u);
  EXPECT_EQ(st.probes, 0u);
  EXPECT_EQ(st.skipped_by_range, 1u);
}

// Random blocks and random indicators (some present): never a false negative, and under the
// probe cap the answer is exactly "some indicator may be there" as the reader tells it.
TEST_F(AddressBlocksTest, NoFalseNegativesAndSameAnswerAsTheReader) {
  std::mt19937 rng(7);
  std::vector<std::vector<std::pair<IpAddr, IpAddr>>> blocks(40);
  std::vector<std::set<IpAddr>> present(blocks.size());
  for (size_t k = 0; k < blocks.size(); ++k) {
    // Each block spans a narrow slice of the space, as time-ordered blocks of one site's
    // traffic with a few peers do.
    const uint32_t base = 0x0a000000u + static_cast<uint32_t>(k) * 0x10000u;
    for (int i = 0; i < 200; ++i) {
      const IpAddr a = IpAddr::v4(base + rng() % 4096);
      const IpAddr b = IpAddr::v4(base + 0x8000u + rng() % 4096);
      blocks[k].emplace_back(a, b);
      present[k].insert(a);
      present[k].insert(b);
    }
  }
  const SegmentReader r = write(blocks);
  ASSERT_EQ(r.blocks().size(), blocks.size());
  for (int round = 0; round < 20; ++round) {
    std::vector<Prefix> ind;
    for (int j = 0; j < 30; ++j) {
      ind.push_back(Prefix::make(IpAddr::v4(0x0a000000u + rng() % (40u << 16)), 128));
    }
    if (round % 2 == 0) {  // plant one present address
      const auto& p = present[rng() % present.size()];
      ind.push_back(Prefix::make(*std::next(p.begin(), static_cast<long>(rng() % p.size())), 128));
    }
    AddressBlockSelector s(ind);
    for (size_t k = 0; k < blocks.size(); ++k) {
      bool truly = false, reference = false;
      for (const auto& p : ind) {
        truly = truly || present[k].count(p.addr) != 0;
        reference = reference || r.may_contain(k, p.addr);
      }
      const bool got = s.may_match(r, k);
      if (truly) {
        EXPECT_TRUE(got) << "false negative: block " << k << " round " << round;
      }
      EXPECT_EQ(got, reference) << "block " << k << " round " << round;
    }
    const auto st = s.stats();
    EXPECT_EQ(st.over_cap, 0u);
  }
}

}  // namespace
}  // namespace orbwatch::store
