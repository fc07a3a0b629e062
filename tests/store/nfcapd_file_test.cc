// NfcapdReader against real nfdump files: nfcapd (Debian's nfdump 1.7.1) collects NetFlow v5,
// v9 and IPFIX sent from here over loopback, nfdump converts the file to every compression it
// writes, and every record the reader returns must equal what `nfdump -o raw` prints for it,
// field by field. zstd files (nfdump >= 1.7.2) are made here from nfcapd's blocks. Layout 1
// (nfdump 1.6) files are built byte by byte from the documented layout, then checked against
// expectations and against nfdump 1.7.1's own reader of layout 1. Damaged files: truncated,
// impossible block sizes, a bad compressed block, too few records.
#include <arpa/inet.h>
#include <bzlib.h>
#include <gtest/gtest.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zstd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/nfcapd_file.h"
#include "util/child_process.h"
#include "util/export_builder.h"
#include "util/loopback.h"
#include "util/peer_tools.h"
#include "util/run_command.h"

namespace orbwatch::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::run_command;

constexpr uint32_t kUnixSecs = 1'776'672'000;  // 2026-04-20T08:00:00Z
constexpr uint32_t kUptime = 3'600'000;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

uint32_t get32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  std::memcpy(b.data() + at, &v, 2);
}
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  std::memcpy(b.data() + at, &v, 4);
}
void put64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  std::memcpy(b.data() + at, &v, 8);
}

struct ReadResult {
  FlowBatch batch;
  NfcapdStats stats;
  NfcapdInfo info;
  std::vector<std::string> problems;
};

ReadResult read_all(NfcapdReader& r) {
  ReadResult out;
  while (r.next_block(out.batch)) {
  }
  out.stats = r.stats();
  out.info = r.info();
  out.problems = r.problems();
  return out;
}

ReadResult read_file(const std::string& path) {
  std::string error;
  auto r = NfcapdReader::open(path, error);
  EXPECT_TRUE(r.has_value()) << error;
  if (!r) return {};
  return read_all(*r);
}

ReadResult read_memory(const std::vector<uint8_t>& bytes) {
  std::string error;
  auto r = NfcapdReader::open_memory("mem.nf", bytes, error);
  EXPECT_TRUE(r.has_value()) << error;
  if (!r) return {};
  return read_all(*r);
}

// ---- nfdump's view ---------------------------------------------------------------------------

// One record of `nfdump -o raw`: key -> first word of the value.
using RawRecord = std::map<std::string, std::string>;

std::vector<RawRecord> nfdump_raw(const std::string& file) {
  std::vector<RawRecord> out;
  auto r = run_command("TZ=UTC nfdump -q -r " + file + " -o raw");
  EXPECT_EQ(r.rc, 0) << r.out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Flow Record:", 0) == 0) {
      out.emplace_back();
      continue;
    }
    const size_t eq = line.find(" = ");
    if (out.empty() || eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    key.erase(0, key.find_first_not_of(' '));
    key.erase(key.find_last_not_of(' ') + 1);
    std::istringstream value(line.substr(eq + 3));
    std::string word;
    value >> word;
    out.back()[key] = word;
  }
  return out;
}

// TCP flags per record from `nfdump -o csv`: -o raw and -o fmt show 0 for non-TCP flows, csv
// shows what the file holds ("...AP.SF": CWR ECE URG ACK PSH RST SYN FIN).
std::vector<uint8_t> nfdump_flags(const std::string& file) {
  std::vector<uint8_t> out;
  auto r = run_command("nfdump -q -r " + file + " -o csv");
  EXPECT_EQ(r.rc, 0) << r.out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream cols(line);
    std::string col;
    for (int i = 0; i <= 8 && std::getline(cols, col, ','); ++i) {
    }
    if (col.size() != 8) continue;
    uint8_t v = 0;
    for (int i = 0; i < 8; ++i) {
      if (col[i] != '.') v |= static_cast<uint8_t>(0x80 >> i);
    }
    out.push_back(v);
  }
  return out;
}

struct NfdumpExporter {
  std::string ip;
  uint32_t version = 0;
  uint32_t id = 0;
  uint32_t rate = 0;  // (interval + space) / interval of its sampler
};

// `nfdump -E`: exporters by sysid, with their sampler.
std::map<uint16_t, NfdumpExporter> nfdump_exporters(const std::string& file) {
  std::map<uint16_t, NfdumpExporter> out;
  auto r = run_command("nfdump -E " + file);
  EXPECT_EQ(r.rc, 0) << r.out;
  std::regex exp(R"(SysID: (\d+), IP: +(\S+), version: (\d+), ID: +(\d+))");
  std::regex smp(R"(packet interval: (\d+), packet space: (\d+))");
  std::istringstream in(r.out);
  std::string line;
  uint16_t last = 0;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, exp)) {
      last = static_cast<uint16_t>(std::stoul(m[1]));
      out[last] = {m[2], static_cast<uint32_t>(std::stoul(m[3])),
                   static_cast<uint32_t>(std::stoul(m[4])), 0};
    } else if (std::regex_search(line, m, smp) && out.count(last) != 0) {
      const uint32_t interval = static_cast<uint32_t>(std::stoul(m[1]));
      if (interval > 0) {
        out[last].rate = (interval + static_cast<uint32_t>(std::stoul(m[2]))) / interval;
      }
    }
  }
  return out;
}

uint64_t num(const RawRecord& raw, const std::string& key) {
  auto it = raw.find(key);
  return it == raw.end() ? 0 : std::stoull(it->second, nullptr, 0);
}

FlowSource source_of(uint32_t version) {
  switch (version) {
    case 5:
      return FlowSource::kNetflow5;
    case 9:
      return FlowSource::kNetflow9;
    case 10:
      return FlowSource::kIpfix;
    default:
      return FlowSource::kUnknown;
  }
}

// Field by field: the reader's record against nfdump's. `check_sampling`: nfdump 1.7.1 drops
// layout 1's "sampled" flag when it converts records, so there it has nothing to compare.
void expect_same(const FlowRecord& r, const RawRecord& raw, uint8_t tcp_flags,
                 const std::map<uint16_t, NfdumpExporter>& exporters, bool check_sampling,
                 size_t i) {
  SCOPED_TRACE("record " + std::to_string(i));
  EXPECT_EQ(r.start_ms, static_cast<int64_t>(num(raw, "first")));
  EXPECT_EQ(r.end_ms, static_cast<int64_t>(num(raw, "last")));
  EXPECT_EQ(r.proto, num(raw, "proto"));
  EXPECT_EQ(r.tcp_flags, tcp_flags);
  if (raw.count("ICMP") != 0) {
    const std::string& tc = raw.at("ICMP");  // "type.code"
    const size_t dot = tc.find('.');
    EXPECT_EQ(r.dst_port, std::stoul(tc.substr(0, dot)) << 8 | std::stoul(tc.substr(dot + 1)));
  } else {
    EXPECT_EQ(r.src_port, num(raw, "src port"));
    EXPECT_EQ(r.dst_port, num(raw, "dst port"));
  }
  EXPECT_EQ(r.tos, num(raw, "src tos"));
  EXPECT_EQ(r.packets, num(raw, "in packets"));
  EXPECT_EQ(r.bytes, num(raw, "in bytes"));
  EXPECT_EQ(r.src, IpAddr::parse(raw.at("src addr")));
  EXPECT_EQ(r.dst, IpAddr::parse(raw.at("dst addr")));
  EXPECT_EQ(r.in_if, num(raw, "input"));
  EXPECT_EQ(r.out_if, num(raw, "output"));
  EXPECT_EQ(r.src_mask, num(raw, "src mask"));
  EXPECT_EQ(r.dst_mask, num(raw, "dst mask"));
  EXPECT_EQ(r.direction,
            num(raw, "direction") == 1 ? FlowDirection::kEgress : FlowDirection::kUnknown);
  const uint64_t vlan = num(raw, "src vlan");
  EXPECT_EQ(r.vlan, vlan != 0 ? vlan : num(raw, "dst vlan"));
  EXPECT_EQ(r.src_as, num(raw, "src as"));
  EXPECT_EQ(r.dst_as, num(raw, "dst as"));
  const uint16_t sysid = static_cast<uint16_t>(num(raw, "export sysid"));
  auto e = exporters.find(sysid);
  ASSERT_NE(e, exporters.end()) << "nfdump -E lists no exporter " << sysid;
  const std::string exporter = raw.count("ip exporter") != 0 ? raw.at("ip exporter") : e->second.ip;
  EXPECT_EQ(r.exporter, IpAddr::parse(exporter));
  EXPECT_EQ(r.obs_domain, e->second.id);
  EXPECT_EQ(r.source, source_of(e->second.version));
  if (check_sampling) {
    const bool sampled = (num(raw, "Flags") & 0x2) != 0;
    EXPECT_EQ((r.flags & flow_flags::kSampled) != 0, sampled);
    EXPECT_EQ(r.sampling_rate, sampled && e->second.rate > 1 ? e->second.rate : 0u);
  }
}

void expect_matches_nfdump(const std::string& file, bool check_sampling = true) {
  SCOPED_TRACE(file);
  const auto raw = nfdump_raw(file);
  const auto exporters = nfdump_exporters(file);
  const auto flags = nfdump_flags(file);
  const ReadResult got = read_file(file);
  ASSERT_EQ(got.batch.size(), raw.size());
  ASSERT_EQ(flags.size(), raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    expect_same(got.batch.records[i], raw[i], flags[i], exporters, check_sampling, i);
  }
  EXPECT_TRUE(got.problems.empty()) << got.problems.front();
  EXPECT_EQ(got.stats.records, raw.size());
  EXPECT_EQ(got.stats.damaged_blocks, 0u);
  EXPECT_EQ(got.stats.damaged_records, 0u);
}

// ---- layout 2 surgery ------------------------------------------------------------------------

// A layout 2 file split into its header, data blocks and appendix blocks (each block with its
// 12-byte header), to build multi-block, recompressed and damaged variants.
struct V2File {
  std::vector<uint8_t> header;
  std::vector<std::vector<uint8_t>> blocks, appendix;

  static V2File parse(const std::vector<uint8_t>& b) {
    V2File f;
    f.header.assign(b.begin(), b.begin() + 40);
    uint64_t app;
    std::memcpy(&app, b.data() + 24, 8);
    size_t pos = 40;
    while (pos + 12 <= b.size()) {
      const size_t end = pos + 12 + get32(b, pos + 4);
      (pos < app ? f.blocks : f.appendix).emplace_back(b.begin() + pos, b.begin() + end);
      pos = end;
    }
    return f;
  }
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out = header;
    for (const auto& b : blocks) out.insert(out.end(), b.begin(), b.end());
    put64(out, 24, out.size());
    put16(out, 18, static_cast<uint16_t>(appendix.size()));
    put32(out, 36, static_cast<uint32_t>(blocks.size()));
    for (const auto& b : appendix) out.insert(out.end(), b.begin(), b.end());
    return out;
  }
};

// `in` compressed as nfdump does for a file of compression `method` (1 LZO, 2 bz2, 3 LZ4, 4 zstd).
std::vector<uint8_t> compress(int method, const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(in.size() + in.size() / 8 + 1024);
  size_t n = 0;
  if (method == 1) {
    EXPECT_EQ(lzo_init(), LZO_E_OK);
    std::vector<uint8_t> work(LZO1X_1_MEM_COMPRESS);
    lzo_uint len = out.size();
    EXPECT_EQ(lzo1x_1_compress(in.data(), in.size(), out.data(), &len, work.data()), LZO_E_OK);
    n = len;
  } else if (method == 2) {
    unsigned len = static_cast<unsigned>(out.size());
    EXPECT_EQ(BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &len,
                                       const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                       static_cast<unsigned>(in.size()), 9, 0, 0),
              BZ_OK);
    n = len;
  } else if (method == 3) {
    n = static_cast<size_t>(LZ4_compress_default(
        reinterpret_cast<const char*>(in.data()), reinterpret_cast<char*>(out.data()),
        static_cast<int>(in.size()), static_cast<int>(out.size())));
  } else {
    n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
    EXPECT_FALSE(ZSTD_isError(n));
  }
  out.resize(n);
  return out;
}

// A block (with its header) recompressed.
std::vector<uint8_t> compress_block(int method, const std::vector<uint8_t>& block) {
  std::vector<uint8_t> out(block.begin(), block.begin() + 12);
  const auto c = compress(method, std::vector<uint8_t>(block.begin() + 12, block.end()));
  out.insert(out.end(), c.begin(), c.end());
  put32(out, 4, static_cast<uint32_t>(c.size()));
  return out;
}
std::vector<uint8_t> zstd_block(const std::vector<uint8_t>& block) {
  return compress_block(4, block);
}

// ---- the collector ---------------------------------------------------------------------------

void send_to(uint16_t port, const std::vector<uint8_t>& datagram) {
  int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_storage ss;
  socklen_t len = test::loopback(false, port, ss);  // 127.0.0.1 only
  ASSERT_EQ(::sendto(s, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&ss), len),
            static_cast<ssize_t>(datagram.size()));
  ::close(s);
}

// The exports: v5 with 1-in-10 sampling in its header; v9 with IPv4 (VLAN, direction, AS,
// masks), ICMP and IPv6 templates; IPFIX with 64-bit counters and absolute times.
std::vector<std::vector<uint8_t>> exports() {
  std::vector<std::vector<uint8_t>> out;
  test::V5Builder v5(kUptime, kUnixSecs, 0, 1, 0x4000 | 10, 1, 7);
  v5.record("10.0.0.1", "192.0.2.2", 12345, 443, 6, 10, 1500, kUptime - 5000, kUptime - 1000, 0x1b,
            3, 4, 64500, 15169)
      .record("10.0.0.2", "198.51.100.7", 5353, 53, 17, 1, 80, kUptime - 3000, kUptime - 3000, 0, 1,
              2)
      .record("10.0.0.3", "203.0.113.9", 0, 0x0303, 1, 2, 112, kUptime - 900, kUptime - 800);
  out.push_back(v5.finish());

  test::V9Builder t(kUptime, kUnixSecs, 1, 42);
  t.begin_set(0)
      .template_record(256, {{8, 4},
                             {12, 4},
                             {7, 2},
                             {11, 2},
                             {4, 1},
                             {6, 1},
                             {5, 1},
                             {2, 4},
                             {1, 4},
                             {22, 4},
                             {21, 4},
                             {10, 4},
                             {14, 4},
                             {16, 4},
                             {17, 4},
                             {9, 1},
                             {13, 1},
                             {61, 1},
                             {58, 2}})
      .template_record(257, {{8, 4}, {12, 4}, {4, 1}, {2, 4}, {1, 4}, {22, 4}, {21, 4}, {32, 2}})
      .template_record(258, {{27, 16},
                             {28, 16},
                             {7, 2},
                             {11, 2},
                             {4, 1},
                             {6, 1},
                             {2, 4},
                             {1, 4},
                             {22, 4},
                             {21, 4},
                             {10, 4},
                             {14, 4},
                             {29, 1},
                             {30, 1}})
      .end_set();
  out.push_back(t.finish());

  test::V9Builder d(kUptime, kUnixSecs, 2, 42);
  d.begin_set(256);
  d.w.ipv4("10.1.0.1").ipv4("198.51.100.1").be16(40000).be16(443).u8(6).u8(0x12).u8(0x28);
  d.w.be32(7).be32(900).be32(kUptime - 4000).be32(kUptime - 500).be32(5).be32(6);
  d.w.be32(65001).be32(4200000000u).u8(24).u8(16).u8(1).be16(100);
  d.w.ipv4("10.1.0.2").ipv4("198.51.100.2").be16(40001).be16(80).u8(6).u8(0x02).u8(0);
  d.w.be32(1).be32(60).be32(kUptime - 2000).be32(kUptime - 2000).be32(5).be32(7);
  d.w.be32(65001).be32(65003).u8(25).u8(8).u8(0).be16(0);
  d.end_set();
  d.begin_set(257);
  for (uint16_t type_code : {0x0800, 0x0301}) {
    d.w.ipv4("10.1.0.3").ipv4("10.1.0.4").u8(1).be32(1).be32(84).be32(kUptime - 10);
    d.w.be32(kUptime - 5).be16(type_code);
  }
  d.end_set(2);
  d.begin_set(258);
  d.w.ipv6("2001:db8::1").ipv6("2001:db8:ffff::ab:cdef").be16(5000).be16(80).u8(6).u8(0x1b);
  d.w.be32(3).be32(300).be32(kUptime - 3000).be32(kUptime - 100).be32(9).be32(10).u8(48).u8(64);
  d.end_set();
  out.push_back(d.finish(5));

  test::IpfixBuilder ix(kUnixSecs, 1, 99);
  ix.begin_set(2)
      .template_record(
          300, {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {2, 8}, {1, 8}, {152, 8}, {153, 8}})
      .end_set();
  ix.begin_set(300);
  ix.w.ipv4("172.16.0.1").ipv4("172.16.0.2").be16(1024).be16(22).u8(6).be64(5'000'000'000ull);
  ix.w.be64(6'000'000'000'000ull).be64(uint64_t{kUnixSecs} * 1000 - 7000);
  ix.w.be64(uint64_t{kUnixSecs} * 1000 - 2);
  ix.end_set();
  out.push_back(ix.finish());
  return out;
}

class NfcapdFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orbwatch_nfcapd_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static bool have(const char* tool) { return test::have_tool(tool); }
  // nfcapd's file of exports(); empty after a failure.
  std::string collect() {
    const fs::path out = dir_ / "nfcapd";
    fs::create_directories(out);
    const uint16_t port = test::free_udp_port();
    test::Child nf({"nfcapd", "-w", out.string(), "-p", std::to_string(port), "-b", "127.0.0.1",
                    "-I", "orbwatch-test"});
    std::smatch m;
    if (!nf.wait_for(std::regex("Startup"), m, 10s)) {
      ADD_FAILURE() << "nfcapd did not start: " << nf.err();
      return {};
    }
    std::this_thread::sleep_for(200ms);  // "Startup" comes just before the receive loop
    for (const auto& d : exports()) send_to(port, d);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(nf.stop(SIGTERM, 10s), 0) << nf.err();
    for (const auto& e : fs::directory_iterator(out)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("nfcapd.2", 0) == 0) return e.path().string();
    }
    ADD_FAILURE() << "nfcapd wrote no file: " << nf.err();
    return {};
  }
  // nfdump's copy of `file` with `flags` (-z, -y, -j or none).
  std::string convert(const std::string& file, const std::string& flag, const std::string& name) {
    const std::string out = path(name);
    auto r = run_command("nfdump -r " + file + " " + flag + " -w " + out);
    EXPECT_EQ(r.rc, 0) << r.out;
    return out;
  }

  fs::path dir_;
};

#define SKIP_WITHOUT_NFDUMP()                                                              \
  if (!have("nfcapd") || !have("nfdump")) {                                                \
    GTEST_SKIP() << "nfcapd/nfdump not installed (Debian package nfdump): no real nfdump " \
                    "files to read";                                                       \
  }

TEST_F(NfcapdFileTest, NfcapdFileMatchesNfdumpInEveryCompression) {
  SKIP_WITHOUT_NFDUMP();
  const std::string file = collect();
  if (file.empty()) return;

  const ReadResult plain = read_file(file);
  EXPECT_EQ(plain.info.layout, 2);
  EXPECT_EQ(plain.info.compression, "none");
  EXPECT_EQ(plain.info.ident, "orbwatch-test");
  EXPECT_EQ(plain.info.nfd_version >> 8, 0x010701u) << std::hex << plain.info.nfd_version;
  ASSERT_EQ(plain.batch.size(), 9u);  // 3 v5, 5 v9, 1 IPFIX
  EXPECT_TRUE(plain.info.has_stat);
  EXPECT_EQ(plain.info.stat_flows, 9u);
  int64_t first = INT64_MAX, last = 0;
  uint64_t packets = 0;
  for (const auto& r : plain.batch.records) {
    first = std::min(first, r.start_ms);
    last = std::max(last, r.end_ms);
    packets += r.packets;
  }
  EXPECT_EQ(plain.info.first_ms, first);
  EXPECT_EQ(plain.info.last_ms, last);
  EXPECT_EQ(plain.info.stat_packets, packets);
  // What the exports exercise, so the comparison below cannot pass on zeros.
  const FlowRecord& v5 = plain.batch.records[0];
  EXPECT_EQ(v5.source, FlowSource::kNetflow5);
  EXPECT_EQ(v5.sampling_rate, 10u);
  EXPECT_EQ(v5.packets, 100u);  // nfcapd scales sampled counters
  bool egress = false, icmp = false, v6 = false, vlan = false, big = false;
  for (const auto& r : plain.batch.records) {
    egress |= r.direction == FlowDirection::kEgress;
    icmp |= r.proto == 1 && r.dst_port == 0x0301;
    v6 |= !r.src.is_v4();
    vlan |= r.vlan == 100;
    big |= r.source == FlowSource::kIpfix && r.bytes == 6'000'000'000'000ull;
  }
  EXPECT_TRUE(egress && icmp && v6 && vlan && big);

  expect_matches_nfdump(file);
  for (const auto& [flag, name] : std::vector<std::pair<std::string, std::string>>{
           {"", "none.nf"}, {"-z", "lzo.nf"}, {"-y", "lz4.nf"}, {"-j", "bz2.nf"}}) {
    const std::string copy = convert(file, flag, name);
    expect_matches_nfdump(copy);
    const ReadResult r = read_file(copy);
    EXPECT_EQ(r.info.compression, name.substr(0, name.find('.')));
    // The records equal the original's whole, not only in the fields nfdump prints.
    ASSERT_EQ(r.batch.size(), plain.batch.size());
    for (size_t i = 0; i < r.batch.size(); ++i) {
      EXPECT_EQ(std::memcmp(&r.batch.records[i], &plain.batch.records[i], sizeof(FlowRecord)), 0)
          << name << " record " << i;
    }
  }

  // zstd: nfdump 1.7.1 cannot write it; nfcapd's blocks recompressed here.
  V2File z = V2File::parse(read_bytes(file));
  for (auto& b : z.blocks) b = zstd_block(b);
  for (auto& b : z.appendix) b = zstd_block(b);
  z.header[16] = 4;
  const ReadResult zr = read_memory(z.bytes());
  EXPECT_EQ(zr.info.compression, "zstd");
  EXPECT_EQ(zr.info.ident, "orbwatch-test");
  EXPECT_TRUE(zr.problems.empty());
  ASSERT_EQ(zr.batch.size(), plain.batch.size());
  for (size_t i = 0; i < zr.batch.size(); ++i) {
    EXPECT_EQ(std::memcmp(&zr.batch.records[i], &plain.batch.records[i], sizeof(FlowRecord)), 0);
  }
}

TEST_F(NfcapdFileTest, DamagedFilesKeepTheGoodBlocks) {
  SKIP_WITHOUT_NFDUMP();
  const std::string file = collect();
  if (file.empty()) return;
  const size_t n = read_file(file).batch.size();
  ASSERT_GT(n, 0u);
  V2File f = V2File::parse(read_bytes(file));
  ASSERT_EQ(f.blocks.size(), 1u);
  f.blocks = {f.blocks[0], f.blocks[0], f.blocks[0]};
  const std::vector<uint8_t> three = f.bytes();
  const size_t block_len = f.blocks[0].size();
  EXPECT_EQ(read_memory(three).batch.size(), 3 * n);

  {  // Cut inside the third block: the appendix offset now lies past the end too.
    std::vector<uint8_t> cut(three.begin(), three.begin() + 40 + 2 * block_len + block_len / 2);
    const ReadResult r = read_memory(cut);
    EXPECT_EQ(r.batch.size(), 2 * n);
    EXPECT_EQ(r.stats.damaged_blocks, 1u);
    ASSERT_EQ(r.problems.size(), 2u);
    EXPECT_NE(r.problems[0].find("appendix offset"), std::string::npos) << r.problems[0];
    EXPECT_EQ(r.problems[1], "mem.nf: block 2 at offset " + std::to_string(40 + 2 * block_len) +
                                 ": block size " + std::to_string(block_len - 12) +
                                 " runs past the end of the data; stopped reading");
  }
  {  // An impossible size in the second block: the first is kept, then reading stops.
    std::vector<uint8_t> bad = three;
    put32(bad, 40 + block_len + 4, 0x7fffffff);
    const ReadResult r = read_memory(bad);
    EXPECT_EQ(r.batch.size(), n);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].find("block 1 at offset " + std::to_string(40 + block_len) +
                                 ": block size 2147483647 too large"),
              std::string::npos)
        << r.problems[0];
  }
  {  // A block declaring more records than it holds: its records are kept, the block reported.
    std::vector<uint8_t> more = three;
    put32(more, 40, get32(more, 40) + 5);
    const ReadResult r = read_memory(more);
    EXPECT_EQ(r.batch.size(), 3 * n);
    EXPECT_EQ(r.stats.damaged_blocks, 1u);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].find("mem.nf: block 0 at offset 40: record"), std::string::npos);
  }
  {  // A record whose size runs past its block.
    std::vector<uint8_t> rec = three;
    put16(rec, 40 + 12 + 2, 0xfff0);
    const ReadResult r = read_memory(rec);
    EXPECT_EQ(r.batch.size(), 2 * n);
    EXPECT_EQ(r.stats.damaged_blocks, 1u);
  }

  // LZO: the middle block's compressed bytes zeroed; the other two still read.
  V2File lzo = V2File::parse(read_bytes(convert(file, "-z", "lzo.nf")));
  ASSERT_EQ(lzo.blocks.size(), 1u);
  lzo.blocks = {lzo.blocks[0], lzo.blocks[0], lzo.blocks[0]};
  std::fill(lzo.blocks[1].begin() + 12, lzo.blocks[1].end(), 0);
  const ReadResult r = read_memory(lzo.bytes());
  EXPECT_EQ(r.batch.size(), 2 * n);
  EXPECT_EQ(r.stats.blocks, 3u);
  EXPECT_EQ(r.stats.damaged_blocks, 1u);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], "mem.nf: block 1 at offset " +
                               std::to_string(40 + lzo.blocks[0].size()) +
                               ": lzo decompression failed; block skipped");

  // A block stored uncompressed in an LZO file says so in its flags (newer nfdump writes them).
  V2File mixed = V2File::parse(read_bytes(convert(file, "-z", "lzo2.nf")));
  mixed.blocks = {f.blocks[0]};
  put16(mixed.blocks[0], 10, 1);
  EXPECT_EQ(read_memory(mixed.bytes()).batch.size(), n);
}

TEST_F(NfcapdFileTest, HighlyCompressibleBlocksInEveryCompression) {
  SKIP_WITHOUT_NFDUMP();
  const std::string file = collect();
  if (file.empty()) return;
  const ReadResult plain = read_file(file);
  const size_t n = plain.batch.size();
  V2File f = V2File::parse(read_bytes(file));
  ASSERT_EQ(f.blocks.size(), 1u);
  // nfcapd's block repeated 3000 times (about 3 MiB) shrinks far more than 16 times, beyond the
  // reader's first guess of the decompressed size.
  const std::vector<uint8_t> one = f.blocks[0];
  std::vector<uint8_t> big(one.begin(), one.begin() + 12);
  for (int i = 0; i < 3000; ++i) big.insert(big.end(), one.begin() + 12, one.end());
  put32(big, 0, get32(one, 0) * 3000);
  put32(big, 4, static_cast<uint32_t>(big.size() - 12));
  f.appendix.clear();
  for (int method : {1, 2, 3, 4}) {
    SCOPED_TRACE("compression " + std::to_string(method));
    f.blocks = {compress_block(method, big)};
    EXPECT_LT(f.blocks[0].size() * 16, big.size());
    f.header[16] = static_cast<uint8_t>(method);
    const ReadResult r = read_memory(f.bytes());
    EXPECT_TRUE(r.problems.empty()) << r.problems.front();
    ASSERT_EQ(r.batch.size(), 3000 * n);
    for (size_t i = 0; i < r.batch.size(); i += 997) {
      EXPECT_EQ(std::memcmp(&r.batch.records[i], &plain.batch.records[i % n], sizeof(FlowRecord)),
                0);
    }
  }
  // More than 16 MiB decompressed is refused, the block skipped.
  std::vector<uint8_t> huge(one.begin(), one.begin() + 12);
  while (huge.size() <= NfcapdReader::kMaxBlockBytes + 12) {
    huge.insert(huge.end(), one.begin() + 12, one.end());
  }
  put32(huge, 4, static_cast<uint32_t>(huge.size() - 12));
  f.blocks = {compress_block(4, huge), compress_block(4, one)};
  f.header[16] = 4;
  const ReadResult r = read_memory(f.bytes());
  EXPECT_EQ(r.batch.size(), n);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0],
            "mem.nf: block 0 at offset 40: zstd decompression failed: more than 16777216 bytes; "
            "block skipped");
}

TEST(NfcapdFile, RefusesWhatIsNotAnNfdumpFile) {
  std::string error;
  EXPECT_FALSE(NfcapdReader::open_memory("x.nf", {'h', 'e', 'l', 'l', 'o'}, error));
  EXPECT_EQ(error, "x.nf: too short for an nfdump file header");
  std::vector<uint8_t> b(300, 0);
  EXPECT_FALSE(NfcapdReader::open_memory("x.nf", b, error));
  EXPECT_EQ(error, "x.nf: not an nfdump file (bad magic)");
  b[0] = 0xa5;
  b[1] = 0x0c;
  EXPECT_FALSE(NfcapdReader::open_memory("x.nf", b, error));
  EXPECT_EQ(error, "x.nf: a big-endian nfdump file (not supported)");
  put16(b, 0, 0xa50c);
  put16(b, 2, 3);
  EXPECT_FALSE(NfcapdReader::open_memory("x.nf", b, error));
  EXPECT_EQ(error, "x.nf: unknown nfdump file layout 3");
  put16(b, 2, 2);
  b[16] = 9;
  EXPECT_FALSE(NfcapdReader::open_memory("x.nf", b, error));
  EXPECT_EQ(error, "x.nf: unknown compression 9");
  b[16] = 0;
  b[17] = 1;
  EXPECT_FALSE(NfcapdReader::open_memory("x.nf", b, error));
  EXPECT_EQ(error, "x.nf: encrypted nfdump files are not supported");
  EXPECT_FALSE(NfcapdReader::open("/nonexistent/nfcapd.202604200800", error));
  EXPECT_EQ(error, "/nonexistent/nfcapd.202604200800: No such file or directory");
  EXPECT_FALSE(NfcapdReader::open("/tmp", error));
  EXPECT_EQ(error, "/tmp: not a regular file");
}

// ---- layout 1 (nfdump 1.6), built byte by byte -------------------------------------------

// Little-endian writer for layout 1 structures.
struct Le {
  std::vector<uint8_t> b;
  Le& u8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Le& u16(uint16_t v) { return u8(static_cast<uint8_t>(v)).u8(static_cast<uint8_t>(v >> 8)); }
  Le& u32(uint32_t v) { return u16(static_cast<uint16_t>(v)).u16(static_cast<uint16_t>(v >> 16)); }
  Le& u64(uint64_t v) { return u32(static_cast<uint32_t>(v)).u32(static_cast<uint32_t>(v >> 32)); }
  // An IPv4 address as a host-order word; IPv6 as two host-order 64-bit words.
  Le& v4(const char* text) { return u32(IpAddr::parse(text)->v4_value()); }
  Le& v6(const char* text) {
    const IpAddr a = *IpAddr::parse(text);
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i) hi = hi << 8 | a.b[i];
    for (int i = 8; i < 16; ++i) lo = lo << 8 | a.b[i];
    return u64(hi).u64(lo);
  }
  Le& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  Le& append(const Le& o) {
    b.insert(b.end(), o.b.begin(), o.b.end());
    return *this;
  }
  size_t size() const { return b.size(); }
};

// A record: type, size, then the body.
Le record(uint16_t type, const Le& body) {
  Le r;
  r.u16(type).u16(static_cast<uint16_t>(4 + body.size())).append(body);
  return r;
}

Le extension_map(uint16_t id, std::initializer_list<uint16_t> ids, uint16_t ext_size) {
  Le m;
  m.u16(id).u16(ext_size);
  for (uint16_t x : ids) m.u16(x);
  m.u16(0);
  while ((m.size() + 4) % 4 != 0) m.u16(0);
  return record(2, m);
}

constexpr uint32_t kT = kUnixSecs;

// Exporter 1 (192.0.2.10, v9, source id 77) with a 1-in-10 sampler; map 0: 2-byte interfaces,
// 4-byte AS, masks/direction, IPv4 next hop, VLAN, IPv4 router; map 1: 4-byte interfaces, 2-byte
// AS, IPv6 next hop, IPv6 router, router id, received time. An IPv4 record with 32-bit counters
// on map 0 and a sampled IPv6 record with 64-bit counters on map 1.
Le v1_block_records(int& count) {
  Le recs;
  Le exp;
  exp.u32(9).zeros(8).v4("192.0.2.10").zeros(4).u16(2).u16(1).u32(77);
  recs.append(record(7, exp));
  Le smp;
  smp.u32(static_cast<uint32_t>(-1)).u32(10).u16(0).u16(1);
  recs.append(record(9, smp));
  recs.append(extension_map(0, {4, 7, 8, 9, 13, 23}, 28));
  recs.append(extension_map(1, {5, 6, 10, 24, 25, 27}, 56));
  Le a;  // IPv4, map 0
  a.u16(0).u16(0).u16(250).u16(750).u32(kT).u32(kT + 4).u8(0).u8(0x1b).u8(6).u8(0x10);
  a.u16(40000).u16(443).u16(1).u16(0);
  a.v4("10.0.0.1").v4("192.0.2.2").u32(12).u32(3400);
  a.u16(3).u16(4).u32(64500).u32(4200000000u).u8(0).u8(1).u8(24).u8(16).v4("10.0.0.254");
  a.u16(100).u16(0).v4("192.0.2.99");
  recs.append(record(10, a));
  Le b;  // IPv6, 64-bit counters, sampled, map 1
  b.u16(1 | 2 | 4 | 128).u16(1).u16(5).u16(999).u32(kT + 1).u32(kT + 9).u8(0).u8(0x02);
  b.u8(17).u8(0).u16(5353).u16(53).u16(1).u16(0);
  b.v6("2001:db8::1").v6("2001:db8:ffff::ab:cdef").u64(5'000'000'000ull).u64(7'000'000'000'000ull);
  b.u32(70000).u32(80000).u16(64501).u16(64502).v6("2001:db8::fe").v6("2001:db8::99");
  b.u16(0).u8(2).u8(5).u64(uint64_t{kT} * 1000 + 10'000);
  recs.append(record(10, b));
  count = 6;
  return recs;
}

std::vector<uint8_t> v1_file(const Le& records, int count, bool lzo) {
  Le f;
  f.u16(0xa50c).u16(1).u32(lzo ? 1 : 0).u32(1);
  const std::string ident = "router-a";
  for (size_t i = 0; i < 128; ++i) f.u8(i < ident.size() ? static_cast<uint8_t>(ident[i]) : 0);
  // stat record: flows, bytes, packets, 12 per-protocol counters, first/last seen, msec, failures
  f.u64(2).u64(3400 + 7'000'000'000'000ull).u64(12 + 5'000'000'000ull).zeros(12 * 8);
  f.u32(kT).u32(kT + 9).u16(0).u16(999).u32(0);
  const std::vector<uint8_t> payload = lzo ? compress(1, records.b) : records.b;
  f.u32(static_cast<uint32_t>(count)).u32(static_cast<uint32_t>(payload.size())).u16(2).u16(0);
  f.b.insert(f.b.end(), payload.begin(), payload.end());
  return f.b;
}

void expect_v1_records(const ReadResult& r) {
  ASSERT_EQ(r.batch.size(), 2u);
  const FlowRecord& a = r.batch.records[0];
  EXPECT_EQ(a.start_ms, int64_t{kT} * 1000 + 250);
  EXPECT_EQ(a.end_ms, int64_t{kT + 4} * 1000 + 750);
  EXPECT_EQ(a.src, IpAddr::parse("10.0.0.1"));
  EXPECT_EQ(a.dst, IpAddr::parse("192.0.2.2"));
  EXPECT_EQ(a.src_port, 40000);
  EXPECT_EQ(a.dst_port, 443);
  EXPECT_EQ(a.proto, 6);
  EXPECT_EQ(a.tcp_flags, 0x1b);
  EXPECT_EQ(a.tos, 0x10);
  EXPECT_EQ(a.packets, 12u);
  EXPECT_EQ(a.bytes, 3400u);
  EXPECT_EQ(a.in_if, 3u);
  EXPECT_EQ(a.out_if, 4u);
  EXPECT_EQ(a.src_as, 64500u);
  EXPECT_EQ(a.dst_as, 4200000000u);
  EXPECT_EQ(a.direction, FlowDirection::kEgress);
  EXPECT_EQ(a.src_mask, 24);
  EXPECT_EQ(a.dst_mask, 16);
  EXPECT_EQ(a.vlan, 100);
  EXPECT_EQ(a.exporter, IpAddr::parse("192.0.2.99"));  // the router IP extension
  EXPECT_EQ(a.obs_domain, 77u);
  EXPECT_EQ(a.source, FlowSource::kNetflow9);
  EXPECT_EQ(a.sampling_rate, 0u);
  EXPECT_EQ(a.flags, 0);
  const FlowRecord& b = r.batch.records[1];
  EXPECT_EQ(b.start_ms, int64_t{kT + 1} * 1000 + 5);
  EXPECT_EQ(b.end_ms, int64_t{kT + 9} * 1000 + 999);
  EXPECT_EQ(b.src, IpAddr::parse("2001:db8::1"));
  EXPECT_EQ(b.dst, IpAddr::parse("2001:db8:ffff::ab:cdef"));
  EXPECT_EQ(b.proto, 17);
  EXPECT_EQ(b.src_port, 5353);
  EXPECT_EQ(b.dst_port, 53);
  EXPECT_EQ(b.packets, 5'000'000'000ull);
  EXPECT_EQ(b.bytes, 7'000'000'000'000ull);
  EXPECT_EQ(b.in_if, 70000u);
  EXPECT_EQ(b.out_if, 80000u);
  EXPECT_EQ(b.src_as, 64501u);
  EXPECT_EQ(b.dst_as, 64502u);
  EXPECT_EQ(b.direction, FlowDirection::kUnknown);
  EXPECT_EQ(b.exporter, IpAddr::parse("2001:db8::99"));
  EXPECT_EQ(b.sampling_rate, 10u);
  EXPECT_EQ(b.flags, flow_flags::kSampled);
}

TEST_F(NfcapdFileTest, Layout1FilesFromTheDocumentedLayout) {
  int count = 0;
  const Le recs = v1_block_records(count);
  for (bool lzo : {false, true}) {
    SCOPED_TRACE(lzo ? "lzo" : "uncompressed");
    const std::string file = path(lzo ? "v1-lzo.nf" : "v1.nf");
    write_bytes(file, v1_file(recs, count, lzo));
    const ReadResult r = read_file(file);
    EXPECT_EQ(r.info.layout, 1);
    EXPECT_EQ(r.info.compression, lzo ? "lzo" : "none");
    EXPECT_EQ(r.info.ident, "router-a");
    EXPECT_EQ(r.info.stat_flows, 2u);
    EXPECT_EQ(r.info.first_ms, int64_t{kT} * 1000);
    EXPECT_EQ(r.info.last_ms, int64_t{kT + 9} * 1000 + 999);
    EXPECT_TRUE(r.problems.empty()) << r.problems.front();
    expect_v1_records(r);
    // nfdump 1.7.1 reads layout 1 too: its view of the same bytes must be the reader's.
    if (have("nfdump")) expect_matches_nfdump(file, false);
  }
}

TEST(NfcapdFile, Layout1OddRecords) {
  int count = 0;
  Le recs = v1_block_records(count);
  // A record on an undefined map, a 1.6.0-style type 1 record on map 0, a port histogram.
  Le undefined;
  undefined.u16(0).u16(5).zeros(24).v4("10.9.9.9").v4("10.9.9.8").u32(1).u32(1);
  recs.append(record(10, undefined));
  Le v0;
  v0.u8(0).u8(1).u16(0).u16(1).u16(2).u32(kT + 2).u32(kT + 3).u8(0).u8(0).u8(1).u8(0);
  v0.u16(0).u16(0x0800).v4("10.5.5.5").v4("10.6.6.6").u32(4).u32(336);
  v0.u16(7).u16(8).u32(1).u32(2).u8(0).u8(0).u8(0).u8(0).v4("0.0.0.0").u16(0).u16(42).v4(
      "192.0.2.98");
  recs.append(record(1, v0));
  recs.append(record(3, Le().zeros(12)));
  const ReadResult r = read_memory(v1_file(recs, count + 3, false));
  ASSERT_EQ(r.batch.size(), 3u);
  const FlowRecord& v = r.batch.records[2];
  EXPECT_EQ(v.src, IpAddr::parse("10.5.5.5"));
  EXPECT_EQ(v.dst_port, 0x0800);
  EXPECT_EQ(v.proto, 1);
  EXPECT_EQ(v.start_ms, int64_t{kT + 2} * 1000 + 1);
  EXPECT_EQ(v.in_if, 7u);
  EXPECT_EQ(v.vlan, 42);
  EXPECT_EQ(v.exporter, IpAddr::parse("192.0.2.98"));
  EXPECT_EQ(v.obs_domain, 77u);            // exporter 1, an 8-bit sysid in type 1 records
  EXPECT_EQ(r.stats.skipped_records, 2u);  // the undefined map, the histogram
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0],
            "mem.nf: block 0 at offset 276: record 6 uses extension map 5, which the file did "
            "not define before it; record skipped");
}

}  // namespace
}  // namespace orbwatch::store
