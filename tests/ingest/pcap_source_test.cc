#include "ingest/pcap_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ingest/capture_ingest.h"
#include "util/wire_builder.h"

namespace orbwatch::ingest {
namespace {

using test::WireBuilder;

// Writes integers in the file's byte order (pcap and pcapng are written in the writer's order).
struct FileWriter {
  bool big_endian = false;
  WireBuilder b;
  FileWriter& u16(uint16_t v) {
    big_endian ? b.be16(v) : b.le16(v);
    return *this;
  }
  FileWriter& u32(uint32_t v) {
    big_endian ? b.be32(v) : b.le32(v);
    return *this;
  }
};

WireBuilder udp_frame(std::string_view src, std::string_view dst, uint16_t sport, uint16_t dport,
                      std::span<const uint8_t> payload) {
  WireBuilder f;
  f.mac({2, 0, 0, 0, 0, 1}).mac({2, 0, 0, 0, 0, 2}).be16(0x0800);
  f.u8(0x45).u8(0).be16(static_cast<uint16_t>(28 + payload.size())).be16(1).be16(0);
  f.u8(64).u8(17).be16(0).ipv4(src).ipv4(dst);
  f.be16(sport).be16(dport).be16(static_cast<uint16_t>(8 + payload.size())).be16(0);
  f.bytes(payload);
  return f;
}

WireBuilder tcp_frame(std::string_view src, std::string_view dst, uint16_t sport, uint16_t dport,
                      uint8_t flags) {
  WireBuilder f;
  f.mac({2, 0, 0, 0, 0, 1}).mac({2, 0, 0, 0, 0, 2}).be16(0x0800);
  f.u8(0x45).u8(0).be16(40).be16(1).be16(0).u8(64).u8(6).be16(0).ipv4(src).ipv4(dst);
  f.be16(sport).be16(dport).be32(1).be32(0).u8(0x50).u8(flags).be16(1024).be16(0).be16(0);
  return f;
}

struct Rec {
  uint32_t sec;
  uint32_t frac;  // micro- or nanoseconds
  WireBuilder frame;
  uint32_t wire_len = 0;  // 0: frame size
};

std::vector<uint8_t> classic_pcap(const std::vector<Rec>& recs, bool be, bool nano,
                                  uint32_t link = 1) {
  FileWriter w{be, {}};
  w.u32(nano ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(link);
  for (const Rec& r : recs) {
    auto len = static_cast<uint32_t>(r.frame.size());
    w.u32(r.sec).u32(r.frac).u32(len).u32(r.wire_len ? r.wire_len : len);
    w.b.append(r.frame);
  }
  return w.b.vec();
}

// One section, one interface (nanosecond if_tsresol when `nano`), enhanced packet blocks.
std::vector<uint8_t> pcapng(const std::vector<Rec>& recs, bool be, bool nano) {
  FileWriter w{be, {}};
  w.u32(0x0A0D0D0A).u32(28).u32(0x1A2B3C4D).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff);
  w.u32(28);
  uint32_t idb_len = nano ? 32 : 20;
  w.u32(1).u32(idb_len).u16(1).u16(0).u32(65535);
  if (nano) {
    w.u16(9).u16(1);
    w.b.u8(9).zeros(3);
    w.u16(0).u16(0);
  }
  w.u32(idb_len);
  for (const Rec& r : recs) {
    uint64_t ts = uint64_t{r.sec} * (nano ? 1000000000ull : 1000000ull) + r.frac;
    auto cap = static_cast<uint32_t>(r.frame.size());
    uint32_t padded = (cap + 3) & ~3u;
    uint32_t len = 32 + padded;
    w.u32(6).u32(len).u32(0).u32(static_cast<uint32_t>(ts >> 32)).u32(static_cast<uint32_t>(ts));
    w.u32(cap).u32(r.wire_len ? r.wire_len : cap);
    w.b.append(r.frame);
    w.b.pad_to(4);
    w.u32(len);
  }
  return w.b.vec();
}

class PcapFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("orbwatch_pcap_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
    return path;
  }
  std::vector<Rec> two_packets(bool nano) {
    std::vector<Rec> r;
    r.push_back({1700000000, nano ? 123456789u : 123456u,
                 tcp_frame("10.0.0.1", "10.0.0.2", 1234, 80, 0x02), 0});
    r.push_back(
        {1700000001, nano ? 5u : 5u, tcp_frame("10.0.0.2", "10.0.0.1", 80, 1234, 0x12), 1514});
    return r;
  }
  void expect_two(const std::string& path, bool nano) {
    auto o = PacketSource::open_file(path);
    ASSERT_TRUE(o.source) << o.error;
    PacketView v;
    ASSERT_EQ(o.source->next(v), PacketSource::Next::kPacket);
    EXPECT_EQ(v.link, LinkType::kEthernet);
    EXPECT_EQ(v.ts_ns, 1700000000LL * 1000000000 + (nano ? 123456789 : 123456000));
    EXPECT_EQ(v.ts_ms(), 1700000000123);
    EXPECT_EQ(v.caplen, 54u);
    EXPECT_EQ(v.wire_len, 54u);
    ASSERT_EQ(o.source->next(v), PacketSource::Next::kPacket);
    EXPECT_EQ(v.ts_ns, 1700000001LL * 1000000000 + (nano ? 5 : 5000));
    EXPECT_EQ(v.wire_len, 1514u);
    EXPECT_EQ(v.data[12], 0x08);
    EXPECT_EQ(o.source->next(v), PacketSource::Next::kEnd);
    EXPECT_EQ(o.source->next(v), PacketSource::Next::kEnd);
    EXPECT_EQ(o.source->packets(), 2u);
    EXPECT_TRUE(o.source->error().empty());
  }
  std::filesystem::path dir_;
};

TEST_F(PcapFiles, ClassicBothByteOrdersAndPrecisions) {
  for (bool be : {false, true}) {
    for (bool nano : {false, true}) {
      SCOPED_TRACE(std::string(be ? "big" : "little") + (nano ? " nano" : " micro"));
      // The name says nothing: the format comes from the magic number.
      expect_two(write("x.pcapng", classic_pcap(two_packets(nano), be, nano)), nano);
    }
  }
}

TEST_F(PcapFiles, PcapngBothByteOrdersAndResolutions) {
  for (bool be : {false, true}) {
    for (bool nano : {false, true}) {
      SCOPED_TRACE(std::string(be ? "big" : "little") + (nano ? " nano" : " micro"));
      expect_two(write("x.pcap", pcapng(two_packets(nano), be, nano)), nano);
    }
  }
}

TEST_F(PcapFiles, FileCutMidPacketKeepsEarlierPackets) {
  for (bool ng : {false, true}) {
    auto bytes = ng ? pcapng(two_packets(false), false, false)
                    : classic_pcap(two_packets(false), false, false);
    bytes.resize(bytes.size() - 20);
    std::string path = write(ng ? "cut.pcapng" : "cut.pcap", bytes);
    auto o = PacketSource::open_file(path);
    ASSERT_TRUE(o.source) << o.error;
    PacketView v;
    EXPECT_EQ(o.source->next(v), PacketSource::Next::kPacket);
    EXPECT_EQ(o.source->next(v), PacketSource::Next::kError);
    EXPECT_TRUE(o.source->truncated()) << o.source->error();
    EXPECT_NE(o.source->error().find(path), std::string::npos);
    EXPECT_NE(o.source->error().find("packet 2"), std::string::npos) << o.source->error();
    EXPECT_EQ(o.source->next(v), PacketSource::Next::kError);
  }
}

// Regression (fuzz_pcap): a pcapng timestamp near 2^64 overflowed the nanosecond conversion.
TEST_F(PcapFiles, HugeTimestampsSaturate) {
  auto bytes = pcapng(two_packets(true), false, true);
  for (size_t i = 72; i < 80; ++i) bytes[i] = 0xff;  // first EPB: timestamp high and low
  std::string path = write("future.pcapng", bytes);
  auto o = PacketSource::open_file(path);
  ASSERT_TRUE(o.source) << o.error;
  PacketView v;
  ASSERT_EQ(o.source->next(v), PacketSource::Next::kPacket);
  EXPECT_EQ(v.ts_ns, INT64_MAX);
  EXPECT_EQ(v.ts_ms(), INT64_MAX / 1000000);
  CaptureIngest ingest({}, nullptr, nullptr);
  auto again = PacketSource::open_file(path);
  ASSERT_TRUE(again.source);
  EXPECT_TRUE(ingest.run(*again.source));
  ingest.finish();
  EXPECT_EQ(ingest.stats().flows, 2u);
}

// Fuzz crash inputs, replayed through the whole capture path.
TEST(PcapFuzzRegressions, CrashInputsRunThrough) {
  std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path() / "data";
  for (const char* name : {"fuzz_pcap_huge_timestamp.pcapng"}) {
    SCOPED_TRACE(name);
    auto o = PacketSource::open_file((dir / name).string());
    ASSERT_TRUE(o.source) << o.error;
    CaptureIngest ingest(
        {}, [](const Datagram&) {}, [](FlowBatch&) {});
    (void)ingest.run(*o.source);
    ingest.finish();
    EXPECT_GT(ingest.stats().packets, 0u);
  }
}

TEST(PacketViewTime, FloorsToMilliseconds) {
  PacketView v;
  v.ts_ns = -1;
  EXPECT_EQ(v.ts_ms(), -1);
  v.ts_ns = -1000000;
  EXPECT_EQ(v.ts_ms(), -1);
  v.ts_ns = 1999999;
  EXPECT_EQ(v.ts_ms(), 1);
  v.ts_ns = INT64_MIN;
  EXPECT_EQ(v.ts_ms(), INT64_MIN / 1000000 - 1);
}

TEST_F(PcapFiles, UnknownLinkTypeNamesFileAndDlt) {
  std::string path = write("usb.pcap", classic_pcap(two_packets(false), false, false, 189));
  auto o = PacketSource::open_file(path);
  ASSERT_FALSE(o.source);
  EXPECT_NE(o.error.find(path), std::string::npos);
  EXPECT_NE(o.error.find("189"), std::string::npos) << o.error;
}

TEST_F(PcapFiles, NotACaptureOrMissing) {
  auto o = PacketSource::open_file(write("junk.pcap", {'h', 'e', 'l', 'l', 'o', 0, 0, 0}));
  EXPECT_FALSE(o.source);
  EXPECT_NE(o.error.find("junk.pcap"), std::string::npos);
  o = PacketSource::open_file((dir_ / "missing.pcap").string());
  EXPECT_FALSE(o.source);
  EXPECT_NE(o.error.find("missing.pcap"), std::string::npos);
}

TEST(PcapLinkTypes, MapsKnownDlts) {
  EXPECT_EQ(link_type_from_dlt(0), LinkType::kNull);
  EXPECT_EQ(link_type_from_dlt(1), LinkType::kEthernet);
  EXPECT_EQ(link_type_from_dlt(12), LinkType::kRaw);
  EXPECT_EQ(link_type_from_dlt(14), LinkType::kRaw);
  EXPECT_EQ(link_type_from_dlt(101), LinkType::kRaw);
  EXPECT_EQ(link_type_from_dlt(108), LinkType::kLoop);
  EXPECT_EQ(link_type_from_dlt(113), LinkType::kLinuxSll);
  EXPECT_EQ(link_type_from_dlt(276), LinkType::kLinuxSll2);
  EXPECT_EQ(link_type_from_dlt(228), LinkType::kIpv4);
  EXPECT_EQ(link_type_from_dlt(229), LinkType::kIpv6);
  EXPECT_FALSE(link_type_from_dlt(105));
}

WireBuilder netflow5_datagram() {
  WireBuilder b;
  b.be16(5).be16(1).be32(1000).be32(1700000000).be32(0).be32(1).u8(0).u8(0).be16(0);
  b.ipv4("10.1.1.1").ipv4("10.2.2.2").ipv4("0.0.0.0").be16(1).be16(2);
  b.be32(10).be32(1000).be32(0).be32(500).be16(1000).be16(80).u8(0).u8(0x1b).u8(6).u8(0);
  b.be16(0).be16(0).u8(24).u8(24).be16(0);
  return b;
}

TEST_F(PcapFiles, CaptureIngestSplitsExportsFromTraffic) {
  WireBuilder nf = netflow5_datagram();
  std::vector<Rec> recs;
  recs.push_back({1700000000, 0, udp_frame("192.0.2.9", "192.0.2.1", 3000, 2055, nf.view()), 0});
  recs.push_back({1700000000, 1000, tcp_frame("10.0.0.1", "10.0.0.2", 1234, 80, 0x02), 0});
  WireBuilder arp;
  arp.mac({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).mac({2, 0, 0, 0, 0, 1}).be16(0x0806).zeros(28);
  recs.push_back({1700000000, 2000, arp, 0});
  std::string path = write("mixed.pcap", classic_pcap(recs, false, false));

  for (bool force : {false, true}) {
    std::vector<Datagram> got;
    std::vector<FlowRecord> flows;
    CaptureOptions opt;
    opt.force_meter = force;
    CaptureIngest ingest(
        opt, [&](const Datagram& d) { got.push_back(d); },
        [&](FlowBatch& b) { flows.insert(flows.end(), b.records.begin(), b.records.end()); });
    auto o = PacketSource::open_file(path);
    ASSERT_TRUE(o.source) << o.error;
    EXPECT_TRUE(ingest.run(*o.source));
    ingest.finish();
    const CaptureStats& st = ingest.stats();
    EXPECT_EQ(st.packets, 3u);
    EXPECT_EQ(st.non_ip, 1u);
    if (!force) {
      ASSERT_EQ(got.size(), 1u);
      EXPECT_EQ(got[0].exporter, *IpAddr::parse("192.0.2.9"));
      EXPECT_EQ(got[0].exporter_port, 3000);
      EXPECT_EQ(got[0].local_port, 2055);
      EXPECT_EQ(got[0].recv_ms, 1700000000000);
      EXPECT_EQ(st.exports[static_cast<size_t>(ExportKind::kNetflow5)], 1u);
      ASSERT_EQ(flows.size(), 1u);
      EXPECT_EQ(flows[0].dst_port, 80);
    } else {
      EXPECT_TRUE(got.empty());
      EXPECT_EQ(flows.size(), 2u);
      EXPECT_EQ(st.metered, 2u);
    }
    EXPECT_EQ(st.flows, flows.size());
  }
}

TEST_F(PcapFiles, CaptureIngestCountsTruncatedFileAndKeepsFlows) {
  std::vector<Rec> recs = two_packets(false);
  auto bytes = classic_pcap(recs, false, false);
  bytes.resize(bytes.size() - 10);
  std::string path = write("cut.pcap", bytes);
  std::vector<FlowRecord> flows;
  CaptureIngest ingest({}, nullptr, [&](FlowBatch& b) {
    flows.insert(flows.end(), b.records.begin(), b.records.end());
  });
  auto o = PacketSource::open_file(path);
  ASSERT_TRUE(o.source);
  EXPECT_FALSE(ingest.run(*o.source));
  ingest.finish();
  EXPECT_EQ(flows.size(), 1u);
  const CaptureStats& st = ingest.stats();
  EXPECT_EQ(st.error(CaptureError::kFileTruncated), 1u);
  EXPECT_EQ(st.last_error_packet, 2u);
  EXPECT_NE(st.last_error_text().find("cut.pcap: packet 2: file_truncated"), std::string::npos)
      << st.last_error_text();
}

TEST_F(PcapFiles, OpenStreamReadsFromMemory) {
  auto bytes = pcapng(two_packets(true), false, true);
  FILE* f = fmemopen(bytes.data(), bytes.size(), "rb");
  ASSERT_NE(f, nullptr);
  auto o = PacketSource::open_stream(f, "memory");
  ASSERT_TRUE(o.source) << o.error;
  PacketView v;
  EXPECT_EQ(o.source->next(v), PacketSource::Next::kPacket);
  EXPECT_EQ(v.ts_ns % 1000000000, 123456789);
}

// An IPv4 total length beyond the frame's wire length is a corrupt header (Wireshark's fuzz
// capture has 26 such frames, e.g. 43690 claimed bytes in a 508-byte frame): counted malformed,
// not metered. A snaplen cut (caplen < wire_len) keeps the header's length.
TEST(CaptureIngestLengths, IpLengthBeyondTheFrameIsMalformed) {
  std::vector<FlowRecord> flows;
  CaptureIngest ingest({}, nullptr, [&](FlowBatch& b) {
    flows.insert(flows.end(), b.records.begin(), b.records.end());
  });
  auto view = [](const WireBuilder& f, uint32_t caplen, uint32_t wire_len) {
    PacketView v;
    v.ts_ns = 1700000000000000000;
    v.data = f.view().data();
    v.caplen = caplen;
    v.wire_len = wire_len;
    return v;
  };
  std::vector<uint8_t> payload(100, 'x');
  WireBuilder ok = udp_frame("10.0.0.1", "10.0.0.2", 1000, 53, payload);  // IP length 128
  ingest.on_packet(view(ok, 142, 142), "t");
  ingest.on_packet(view(ok, 60, 142), "t");  // snaplen 60: still 128 IP bytes on the wire
  WireBuilder corrupt = udp_frame("10.0.0.3", "10.0.0.4", 1000, 53, payload);
  std::vector<uint8_t> bytes(corrupt.view().begin(), corrupt.view().end());
  bytes[16] = 0xaa, bytes[17] = 0xaa;  // total length 43690 in a 142-byte frame
  PacketView bad;
  bad.ts_ns = 1700000000000000000;
  bad.data = bytes.data();
  bad.caplen = bad.wire_len = static_cast<uint32_t>(bytes.size());
  ingest.on_packet(bad, "t");
  bytes[16] = 0, bytes[17] = 129;  // one byte more than the frame holds after Ethernet
  ingest.on_packet(bad, "t");
  bytes[17] = 128;  // exactly the frame: fine
  ingest.on_packet(bad, "t");
  ingest.finish();
  const CaptureStats& st = ingest.stats();
  EXPECT_EQ(st.error(CaptureError::kMalformedPacket), 2u);
  EXPECT_EQ(st.metered, 3u);
  ASSERT_EQ(flows.size(), 2u);
  uint64_t bytes_total = 0, packets = 0;
  for (const auto& r : flows) bytes_total += r.bytes, packets += r.packets;
  EXPECT_EQ(packets, 3u);
  EXPECT_EQ(bytes_total, 3u * 128);
}

}  // namespace
}  // namespace orbwatch::ingest
