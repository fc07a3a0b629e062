// End-to-end: `orbwatch analyze --store DIR` archives a capture, `orbwatch hunt` finds which
// internal hosts touched a feed's indicators in that archive (exact rows: hosts, indicators,
// directions, counts, bytes), `--alerts` records them once as retro alerts however often it
// runs, and a damaged segment is reported by name while the rest is still hunted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "util/json_field.h"
#include "util/pcap_writer.h"
#include "util/run_command.h"

#ifndef ORBWATCH_BINARY
#error "ORBWATCH_BINARY must name the orbwatch executable"
#endif

namespace {

namespace fs = std::filesystem;
using orbwatch::test::ipv4_bytes;
using orbwatch::test::json_field;
using orbwatch::test::PcapWriter;
using orbwatch::test::run_command;

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kPsh = 0x08, kFin = 0x01;
constexpr int64_t kT0 = 1776672000000;  // 2026-04-20T08:00:00Z

class HuntE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("orbwatch_hunt_e2e_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    feed_ = (dir_ / "covert.txt").string();
    std::ofstream(feed_) << "# test feed\n198.51.100.7\n198.51.100.8\n203.0.113.0/24\n"
                            "c2.example.net\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string store() const { return (dir_ / "store").string(); }
  std::string bin() const { return ORBWATCH_BINARY; }

  // Archives a capture written by `fill`.
  template <typename F>
  void archive(const std::string& name, int64_t base_ms, F&& fill) {
    const std::string pcap = (dir_ / name).string();
    {
      PcapWriter w(pcap, base_ms);
      ASSERT_TRUE(w.ok());
      fill(w);
    }
    auto r = run_command(bin() + " analyze -q --store " + store() + " " + pcap);
    ASSERT_EQ(r.rc, 0) << r.out;
  }

  // JSON lines of a hunt, keyed "internal_ip indicator direction".
  std::map<std::string, std::string> hunt_rows(const std::string& extra, int want_rc = 0) {
    auto r = run_command(bin() + " hunt -q --store " + store() + " --feed " + feed_ +
                         " --format jsonl " + extra);
    EXPECT_EQ(r.rc, want_rc) << r.out;
    std::map<std::string, std::string> rows;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] != '{') continue;  // problems on stderr come through too
      const std::string key = json_field(line, "internal_ip") + " " +
                              json_field(line, "indicator") + " " + json_field(line, "direction");
      EXPECT_TRUE(rows.emplace(key, line).second) << "duplicate row " << line;
    }
    return rows;
  }

  fs::path dir_;
  std::string feed_;
};

// The camera talks TLS-port traffic with a listed C2 and gets data back (two flows: 420 bytes
// out in 3 packets, 1320 back in 3).
void camera_talks_to_c2(PcapWriter& w) {
  auto cam = ipv4_bytes("10.1.0.5"), c2 = ipv4_bytes("198.51.100.7");
  w.packet(0, false, cam.data(), c2.data(), 6, 50000, 443, kSyn, 0);
  w.packet(10, false, c2.data(), cam.data(), 6, 443, 50000, kSyn | kAck, 0);
  w.packet(20, false, cam.data(), c2.data(), 6, 50000, 443, kAck | kPsh, 300);
  w.packet(30, false, c2.data(), cam.data(), 6, 443, 50000, kAck | kPsh, 1200);
  w.packet(40, false, cam.data(), c2.data(), 6, 50000, 443, kAck | kFin, 0);
  w.packet(50, false, c2.data(), cam.data(), 6, 443, 50000, kAck | kFin, 0);
}

// The NAS tries the second C2 three times from three ports; nobody answers (40 bytes each).
void nas_tries_c2(PcapWriter& w) {
  auto nas = ipv4_bytes("10.1.0.6"), c2b = ipv4_bytes("198.51.100.8");
  for (int i = 0; i < 3; ++i) {
    w.packet(100 + i * 1000, false, nas.data(), c2b.data(), 6, static_cast<uint16_t>(50001 + i),
             443, kSyn, 0);
  }
}

void everything_else(PcapWriter& w) {
  auto vpn = ipv4_bytes("10.1.0.7"), laptop = ipv4_bytes("10.1.0.8"),
       clean = ipv4_bytes("10.1.0.9");
  auto scan1 = ipv4_bytes("203.0.113.9"), scan2 = ipv4_bytes("203.0.113.10");
  auto web = ipv4_bytes("192.0.2.10"), shop = ipv4_bytes("192.0.2.55");
  // Two addresses of the listed /24 knock on the VPN gateway's SSH; it stays silent.
  w.packet(5000, false, scan1.data(), vpn.data(), 6, 41000, 22, kSyn, 0);
  w.packet(5500, false, scan2.data(), vpn.data(), 6, 41001, 22, kSyn, 0);
  // The laptop fetches a page from a listed domain's subdomain over HTTP (an unlisted address).
  const std::string get = "GET / HTTP/1.1\r\nHost: www.c2.example.net\r\n\r\n";
  w.packet(6000, false, laptop.data(), shop.data(), 6, 50100, 80, kSyn, 0);
  w.packet(6010, false, shop.data(), laptop.data(), 6, 80, 50100, kSyn | kAck, 0);
  w.packet(6020, false, laptop.data(), shop.data(), 6, 50100, 80, kAck | kPsh,
           std::vector<uint8_t>(get.begin(), get.end()));
  w.packet(6030, false, shop.data(), laptop.data(), 6, 80, 50100, kAck | kPsh, 500);
  // Ordinary traffic: no row.
  w.packet(7000, false, clean.data(), web.data(), 6, 50003, 443, kSyn, 0);
  w.packet(7010, false, web.data(), clean.data(), 6, 443, 50003, kSyn | kAck, 0);
  w.packet(7020, false, clean.data(), web.data(), 6, 50003, 443, kAck | kPsh, 100);
}

TEST_F(HuntE2e, FindsExactlyTheHostsThatTouchedTheFeedAndRecordsRetroAlertsOnce) {
  archive("site.pcap", kT0, [](PcapWriter& w) {
    camera_talks_to_c2(w);
    nas_tries_c2(w);
    everything_else(w);
  });

  auto rows = hunt_rows("");
  ASSERT_EQ(rows.size(), 4u);

  const auto& cam = rows["10.1.0.5 198.51.100.7 outbound"];
  EXPECT_EQ(json_field(cam, "feed"), "covert");
  EXPECT_EQ(json_field(cam, "match"), "address");
  EXPECT_EQ(json_field(cam, "answered"), "true");
  EXPECT_EQ(json_field(cam, "host_internal"), "true");
  EXPECT_EQ(json_field(cam, "peer_ip"), "198.51.100.7");
  EXPECT_EQ(json_field(cam, "dst_port"), "443");
  EXPECT_EQ(json_field(cam, "flows"), "2");
  EXPECT_EQ(json_field(cam, "packets"), "6");
  EXPECT_EQ(json_field(cam, "bytes"), std::to_string(420 + 1320));
  EXPECT_EQ(json_field(cam, "bytes_out"), "420");
  EXPECT_EQ(json_field(cam, "bytes_in"), "1320");
  EXPECT_EQ(json_field(cam, "first_seen"), "2026-04-20T08:00:00.000Z");
  EXPECT_EQ(json_field(cam, "last_seen"), "2026-04-20T08:00:00.050Z");

  const auto& nas = rows["10.1.0.6 198.51.100.8 outbound"];
  EXPECT_EQ(json_field(nas, "answered"), "false");
  EXPECT_EQ(json_field(nas, "flows"), "3");
  EXPECT_EQ(json_field(nas, "packets"), "3");
  EXPECT_EQ(json_field(nas, "bytes"), "120");
  EXPECT_EQ(json_field(nas, "first_seen"), "2026-04-20T08:00:00.100Z");
  EXPECT_EQ(json_field(nas, "last_seen"), "2026-04-20T08:00:02.100Z");

  const auto& vpn = rows["10.1.0.7 203.0.113.0/24 inbound"];
  EXPECT_EQ(json_field(vpn, "answered"), "false");
  EXPECT_EQ(json_field(vpn, "peer_ip"), "203.0.113.9");
  EXPECT_EQ(json_field(vpn, "peers"), "2");
  EXPECT_EQ(json_field(vpn, "dst_port"), "22");
  EXPECT_EQ(json_field(vpn, "flows"), "2");
  EXPECT_EQ(json_field(vpn, "bytes"), "80");

  // The name travels on the laptop's own flow; the handshake in it shows the server answered.
  const auto& laptop = rows["10.1.0.8 c2.example.net outbound"];
  EXPECT_EQ(json_field(laptop, "match"), "server_name");
  EXPECT_EQ(json_field(laptop, "server_name"), "www.c2.example.net");
  EXPECT_EQ(json_field(laptop, "peer_ip"), "192.0.2.55");
  EXPECT_EQ(json_field(laptop, "dst_port"), "80");
  EXPECT_EQ(json_field(laptop, "answered"), "true");
  EXPECT_EQ(json_field(laptop, "flows"), "1");

  // Rows come oldest first.
  auto r =
      run_command(bin() + " hunt -q --store " + store() + " --feed " + feed_ + " --format jsonl");
  std::vector<std::string> order;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) order.push_back(json_field(line, "internal_ip"));
  EXPECT_EQ(order, (std::vector<std::string>{"10.1.0.5", "10.1.0.6", "10.1.0.7", "10.1.0.8"}));

  // CSV: a header and one line per row; the table names the columns.
  auto csv =
      run_command(bin() + " hunt -q --store " + store() + " --feed " + feed_ + " --format csv");
  EXPECT_EQ(csv.rc, 0);
  EXPECT_EQ(csv.out.rfind("internal_ip,host_internal,indicator,feed,tags,match,direction,", 0), 0u)
      << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 5);
  auto table = run_command(bin() + " hunt --store " + store() + " --feed " + feed_);
  EXPECT_EQ(table.rc, 0) << table.out;
  EXPECT_NE(table.out.find("first_seen"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("4 rows: 4 hosts touched 4 of 4 indicators"), std::string::npos)
      << table.out;

  // The network model decides what is internal: with another inside range the same hosts are
  // reported, marked external.
  auto other_model = hunt_rows("--internal 172.16.0.0/12");
  ASSERT_EQ(other_model.size(), 4u);
  EXPECT_EQ(json_field(other_model["10.1.0.5 198.51.100.7 outbound"], "host_internal"), "false");

  // A range that ends before the capture finds nothing and still exits 0.
  EXPECT_TRUE(hunt_rows("--until 2026-04-19T00:00:00Z").empty());

  // --alerts twice: one retro alert per row, same ids, no duplicates.
  for (int i = 0; i < 2; ++i) {
    auto a = run_command(bin() + " hunt --store " + store() + " --feed " + feed_ + " --alerts");
    ASSERT_EQ(a.rc, 0) << a.out;
    EXPECT_NE(a.out.find("4 retro alerts recorded"), std::string::npos) << a.out;
  }
  auto listed =
      run_command(bin() + " alerts --store " + store() + " --format jsonl --detector intel");
  ASSERT_EQ(listed.rc, 0) << listed.out;
  std::map<std::string, std::string> by_host;
  std::istringstream alerts(listed.out);
  size_t lines = 0;
  for (std::string line; std::getline(alerts, line); ++lines) {
    EXPECT_EQ(json_field(line, "retro"), "true") << line;
    EXPECT_TRUE(by_host.emplace(json_field(line, "host"), line).second) << line;
  }
  EXPECT_EQ(lines, 4u) << listed.out;
  ASSERT_EQ(by_host.size(), 4u) << listed.out;
  EXPECT_EQ(json_field(by_host["10.1.0.5"], "severity"), "critical");
  EXPECT_EQ(json_field(by_host["10.1.0.5"], "value"), "198.51.100.7");
  EXPECT_EQ(json_field(by_host["10.1.0.5"], "count"), "2");
  EXPECT_EQ(json_field(by_host["10.1.0.6"], "severity"), "high");
  EXPECT_EQ(json_field(by_host["10.1.0.7"], "severity"), "medium");
  EXPECT_EQ(json_field(by_host["10.1.0.7"], "src_ip"), "203.0.113.9");
  EXPECT_EQ(json_field(by_host["10.1.0.8"], "severity"), "critical");
  EXPECT_EQ(json_field(by_host["10.1.0.8"], "value"), "c2.example.net");
  // The table marks them, and --retro selects them.
  auto marked = run_command(bin() + " alerts --store " + store() + " --retro");
  EXPECT_EQ(std::count(marked.out.begin(), marked.out.end(), '\n'), 4) << marked.out;
  EXPECT_NE(marked.out.find("[retro] 10.1.0.5 exchanged traffic with 198.51.100.7:443/tcp"),
            std::string::npos)
      << marked.out;
}

TEST_F(HuntE2e, DamagedSegmentIsReportedByNameAndTheRestIsHunted) {
  archive("first.pcap", kT0, camera_talks_to_c2);
  std::vector<fs::path> first;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(store()) / "flows")) {
    if (e.path().extension() == ".seg") first.push_back(e.path());
  }
  ASSERT_EQ(first.size(), 1u);
  archive("second.pcap", kT0 + 3'600'000, nas_tries_c2);

  // One byte inside the first segment's only block: its data checksum no longer holds.
  {
    std::fstream f(first[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(32 + 144 + 20);
    char c = 0;
    f.read(&c, 1);
    f.seekp(32 + 144 + 20);
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  auto r =
      run_command(bin() + " hunt -q --store " + store() + " --feed " + feed_ + " --format jsonl");
  EXPECT_EQ(r.rc, 1);
  auto rows = hunt_rows("", 1);
  ASSERT_EQ(rows.size(), 1u) << r.out;
  EXPECT_EQ(json_field(rows["10.1.0.6 198.51.100.8 outbound"], "flows"), "3");
  EXPECT_NE(r.out.find("orbwatch hunt: " + first[0].string() + ": block 0"), std::string::npos)
      << r.out;
}

TEST_F(HuntE2e, BadArgumentsExitTwo) {
  archive("site.pcap", kT0, nas_tries_c2);
  const std::string base = bin() + " hunt --store " + store();
  auto no_feed = run_command(base);
  EXPECT_EQ(no_feed.rc, 2) << no_feed.out;
  EXPECT_NE(no_feed.out.find("--feed"), std::string::npos) << no_feed.out;
  EXPECT_EQ(run_command(base + " --feed " + feed_ + " --format xml").rc, 2);
  EXPECT_EQ(run_command(base + " --feed " + feed_ + " --order size").rc, 2);
  EXPECT_EQ(run_command(base + " --feed " + feed_ + " --since yesterday").rc, 2);
  EXPECT_EQ(run_command(base + " --feed /nonexistent/feed.txt").rc, 2);
  EXPECT_EQ(run_command(base + " --feed " + feed_ + " --internal 10.0.0.0/33").rc, 2);
  auto no_store =
      run_command(bin() + " hunt --store " + (dir_ / "nope").string() + " --feed " + feed_);
  EXPECT_EQ(no_store.rc, 2) << no_store.out;
  auto help = run_command(bin() + " hunt --help");
  EXPECT_EQ(help.rc, 0);
  for (const char* opt : {"--feed", "--store", "--since", "--until", "--format", "--alerts",
                          "--config", "--internal", "--threads", "--order", "--no-domains"}) {
    EXPECT_NE(help.out.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
