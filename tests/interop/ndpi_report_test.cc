// Metered flows compared with nDPI's golden flow reports: /work/shared/testdata/nDPI/**/*.out,
// the output of ndpiReader on the capture next to it (one line per bidirectional flow:
// `1	TCP 10.3.29.101:56309 <-> 104.161.127.22:80 [proto: 7/HTTP]...[21 pkts/1592 bytes <-> 37
// pkts/48623 bytes]...[Hostname/SNI: fkl.co.ke]...`). No tool runs at test time: the reports
// are the goldens. Skips when the shared data is missing.
//
// How ndpiReader forms flows, and the meter settings that match it:
//  - one flow per (proto, lower ip:port, upper ip:port, vlan) for the whole file: ndpiReader
//    scans for idle flows only on live captures (ndpiReader.c, "Idle flows cleanup":
//    `if(live_capture)`), and neither FIN nor RST ends a flow. The golden icmp-tunnel flow lasts
//    1122 s with gaps of 145 s, so no timeout applied. Our meter therefore runs with timeouts far
//    beyond any capture and with tcp_end_expiry off: one unidirectional flow per 5-tuple
//    direction, and two of them (paired here by their 5-tuple) make one nDPI flow;
//  - ICMP, ICMPv6 and other non-TCP/UDP protocols have ports 0 in nDPI; the meter keys ICMP by
//    type/code (NetFlow convention), so its ICMP flows are summed per address pair first;
//  - packets: exact, per direction;
//  - bytes: nDPI adds the captured frame length (reader_util.c: packet_processing(...,
//    header->caplen, ...)), link header and Ethernet padding included; the meter counts the IP
//    length. Checked per direction: theirs == ours + link header x packets + trailer, where the
//    link header is 14 for Ethernet (+4 per VLAN tag), 16 for Linux SLL, 4 for DLT_NULL, and the
//    trailer (Ethernet padding of short frames) is measured from the capture;
//  - Hostname/SNI: compared when it came from TLS SNI, the HTTP Host header or a DNS question
//    (the nDPI master protocol is TLS, HTTP or DNS), which is what the meter extracts into
//    server_name. nDPI also shows names from NetBIOS, SMB, DHCP, SMTP and FTP banners, which we
//    do not extract: those are counted as skipped, by protocol.
// Differences with a reason are listed in kKnownDifferences, next to the file and flow; a listed
// difference that no longer occurs fails the test, so the list stays true.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ingest/capture_ingest.h"
#include "ingest/export_decoder.h"
#include "ingest/packet.h"
#include "ingest/pcap_source.h"
#include "util/interop.h"

namespace orbwatch::ingest {
namespace {

namespace fs = std::filesystem;

fs::path ndpi_dir() {
  return test::testdata() / "nDPI";
}

std::string rel(const fs::path& p) {
  return fs::relative(p, ndpi_dir()).string();
}

// Reports (*.out) next to their capture, sorted.
std::vector<fs::path> reports_under(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".out") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

uint8_t proto_number(const std::string& name) {
  if (name == "TCP") return 6;
  if (name == "UDP") return 17;
  if (name == "ICMP") return 1;
  if (name == "ICMPV6") return 58;
  if (name == "IGMP") return 2;
  if (name == "VRRP") return 112;
  return static_cast<uint8_t>(std::atoi(name.c_str()));
}

bool has_ports(uint8_t proto) {
  return proto == 6 || proto == 17;
}

// A flow's identity without direction: "proto a:pa b:pb" with (a, pa) <= (b, pb). `forward` is
// set when (src, sport) is the first endpoint.
struct BiKey {
  std::string key;
  bool forward = true;
};

BiKey bi_key(uint8_t proto, const std::string& src, uint16_t sport, const std::string& dst,
             uint16_t dport) {
  if (!has_ports(proto)) sport = dport = 0;
  auto a = std::make_pair(src, sport), b = std::make_pair(dst, dport);
  bool fwd = a <= b;
  if (!fwd) std::swap(a, b);
  return {std::to_string(proto) + " " + a.first + ":" + std::to_string(a.second) + " " + b.first +
              ":" + std::to_string(b.second),
          fwd};
}

struct Direction {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

struct NdpiFlow {
  std::string line;  // "12" (the report's flow number; undetected flows restart at 1)
  BiKey key;
  std::string app;   // "DNS.Facebook"
  Direction dir[2];  // by BiKey order: [0] first endpoint -> second
  std::string host;  // Hostname/SNI, "" when none
};

std::optional<std::string> bracket(const std::string& line, const std::string& tag) {
  size_t at = line.find("[" + tag);
  if (at == std::string::npos) return std::nullopt;
  at += tag.size() + 1;
  size_t end = line.find(']', at);
  if (end == std::string::npos) return std::nullopt;
  return line.substr(at, end - at);
}

// "10.0.0.1:80" or "[2001:db8::1]:443".
bool split_endpoint(const std::string& s, std::string& addr, uint16_t& port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  addr = s.substr(0, colon);
  if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') {
    addr = addr.substr(1, addr.size() - 2);
  }
  port = static_cast<uint16_t>(std::atoi(s.c_str() + colon + 1));
  return true;
}

// Flow lines: "\t<n>\t<PROTO> <src> <->|-> <dst> [proto: ...]". Other tab-indented lines (JA3
// host stats) do not have that shape.
std::vector<NdpiFlow> parse_report(const fs::path& file, std::string& error) {
  std::vector<NdpiFlow> flows;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 3 || line[0] != '\t' || !std::isdigit(static_cast<unsigned char>(line[1])))
      continue;
    size_t tab = line.find('\t', 1);
    if (tab == std::string::npos) continue;
    std::string num = line.substr(1, tab - 1);
    size_t sp1 = line.find(' ', tab + 1);
    size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
    size_t sp3 = sp2 == std::string::npos ? sp2 : line.find(' ', sp2 + 1);
    size_t sp4 = sp3 == std::string::npos ? sp3 : line.find(' ', sp3 + 1);
    if (sp4 == std::string::npos) continue;
    std::string arrow = line.substr(sp2 + 1, sp3 - sp2 - 1);
    if (arrow != "<->" && arrow != "->") continue;
    std::string proto_name = line.substr(tab + 1, sp1 - tab - 1);
    std::string src, dst;
    uint16_t sport = 0, dport = 0;
    if (!split_endpoint(line.substr(sp1 + 1, sp2 - sp1 - 1), src, sport) ||
        !split_endpoint(line.substr(sp3 + 1, sp4 - sp3 - 1), dst, dport)) {
      error = "bad endpoints: " + line;
      return {};
    }
    NdpiFlow f;
    f.line = num;
    uint8_t proto = proto_number(proto_name);
    f.key = bi_key(proto, src, sport, dst, dport);
    if (auto p = bracket(line, "proto: ")) {
      size_t slash = p->find('/');
      f.app = slash == std::string::npos ? *p : p->substr(slash + 1);
    }
    // "[21 pkts/1592 bytes <-> 37 pkts/48623 bytes]"
    size_t at = line.find(" pkts/");
    size_t open = at == std::string::npos ? at : line.rfind('[', at);
    unsigned long long p1 = 0, b1 = 0, p2 = 0, b2 = 0;
    char arr[4] = {};
    if (open == std::string::npos ||
        std::sscanf(line.c_str() + open, "[%llu pkts/%llu bytes %3s %llu pkts/%llu bytes]", &p1,
                    &b1, arr, &p2, &b2) != 5) {
      error = "no packet counters: " + line;
      return {};
    }
    Direction c2s{p1, b1}, s2c{p2, b2};
    f.dir[0] = f.key.forward ? c2s : s2c;
    f.dir[1] = f.key.forward ? s2c : c2s;
    if (auto h = bracket(line, "Hostname/SNI: ")) f.host = *h;
    flows.push_back(std::move(f));
  }
  return flows;
}

// Link header length ndpiReader counts beside the IP packet; nullopt for link types we do not
// account for here.
std::optional<uint32_t> link_header(const PacketView& v) {
  switch (v.link) {
    case LinkType::kEthernet: {
      uint32_t off = 12;
      while (off + 2 <= v.caplen) {
        uint16_t type = static_cast<uint16_t>(v.data[off] << 8 | v.data[off + 1]);
        if (type != 0x8100 && type != 0x88a8 && type != 0x9100) return off + 2;
        off += 4;
      }
      return std::nullopt;
    }
    case LinkType::kLinuxSll:
      return 16;
    case LinkType::kLinuxSll2:
      return 20;
    case LinkType::kNull:
    case LinkType::kLoop:
      return 4;
    case LinkType::kRaw:
    case LinkType::kIpv4:
    case LinkType::kIpv6:
      return 0;
  }
  return std::nullopt;
}

struct Ours {
  Direction dir[2];
  uint64_t header_bytes[2] = {};   // link header bytes of those packets
  uint64_t trailer_bytes[2] = {};  // frame bytes after the IP packet (Ethernet padding)
  std::set<std::string> names;     // server_name of either direction, lowercased
};

struct Metered {
  std::map<std::string, Ours> flows;
  uint64_t packets = 0;
  uint64_t unaccounted = 0;  // packets whose link header or trailer we could not measure
};

// Timeouts beyond any capture: ndpiReader never expires a flow of a file (see the top).
constexpr int64_t kForever = int64_t{1} << 50;

Metered meter_capture(const fs::path& file, std::string& error) {
  Metered m;
  auto opened = PacketSource::open_file(file.string());
  if (!opened.source) {
    error = opened.error;
    return m;
  }
  CaptureOptions opt;
  opt.force_meter = true;  // nDPI reports export datagrams as UDP flows too
  opt.meter.active_timeout_ms = kForever;
  opt.meter.inactive_timeout_ms = kForever;
  opt.meter.tcp_end_expiry = false;
  CaptureIngest ingest(opt, nullptr, [&](FlowBatch& b) {
    for (const auto& r : b.records) {
      BiKey k = bi_key(r.proto, r.src.to_string(), r.src_port, r.dst.to_string(), r.dst_port);
      Ours& o = m.flows[k.key];
      Direction& d = o.dir[k.forward ? 0 : 1];
      d.packets += r.packets;
      d.bytes += r.bytes;
      if (auto name = b.name(r.name_ref); !name.empty()) o.names.insert(lower(std::string(name)));
    }
  });
  PacketView v;
  while (opened.source->next(v) == PacketSource::Next::kPacket) {
    ++m.packets;
    ingest.on_packet(v, rel(file));
    PacketInfo info;
    if (parse_packet(v.data, v.caplen, v.link, info) != PacketStatus::kOk) continue;
    if (info.is_fragment && !info.first_fragment) continue;  // counted under the first's ports
    auto hdr = link_header(v);
    if (!hdr || v.caplen < *hdr + info.ip_len) {
      ++m.unaccounted;
      continue;
    }
    BiKey k = bi_key(info.proto, info.src.to_string(), info.src_port, info.dst.to_string(),
                     info.dst_port);
    Ours& o = m.flows[k.key];
    o.header_bytes[k.forward ? 0 : 1] += *hdr;
    o.trailer_bytes[k.forward ? 0 : 1] += v.caplen - *hdr - info.ip_len;
  }
  ingest.finish();
  return m;
}

// Differences we accept, by file and nDPI flow ("*": every flow of the file), with the reason.
struct Known {
  const char* file;
  const char* flow;  // BiKey text, or "*"
  const char* reason;
};
const Known kKnownDifferences[] = {
    {"attacks-tunnels/4in6tunnel.pcap", "*",
     "nDPI decapsulates IPv4-in-IPv6 and reports the inner flow; the meter keys tunnelled "
     "packets by the outer header (proto 4), as NetFlow exporters do"},
    {"attacks-tunnels/6in4tunnel.pcap", "*",
     "nDPI decapsulates IPv6-in-IPv4 (proto 41) and reports inner flows; the meter keys them by "
     "the outer header, as NetFlow exporters do"},
    {"malformed-fuzz/fuzz-2006-06-26-2594.pcap", "*",
     "Wireshark fuzz file, 175 corrupted frames. DNS names: query and response carry different "
     "corrupted bytes; the meter keeps the first question of each direction, nDPI the last one "
     "it parsed in the flow. Headers: corrupted fragment bits make non-first IPv4 fragments, "
     "which ndpiReader drops and the meter counts (on a ports-0 flow when the first fragment "
     "is unknown); corrupted protocol numbers and short L4 headers key packets differently"},
    {"malformed-fuzz/fuzz-2021-10-13.pcap", "*",
     "oss-fuzz DLT_NULL packet whose IPv6 addresses nDPI prints as '302e::3d00::8001' (two '::', "
     "not an address); the file is cut mid-record"},
};

bool is_known(const std::string& file, const std::string& flow, std::set<size_t>& used) {
  for (size_t i = 0; i < std::size(kKnownDifferences); ++i) {
    const Known& k = kKnownDifferences[i];
    if (file == k.file && (std::string(k.flow) == "*" || flow == k.flow)) {
      used.insert(i);
      return true;
    }
  }
  return false;
}

// nDPI keeps host names in char host_server_name[80]: ndpi_hostname_sni_set() copies the last
// 79 characters of a longer name (lowercased). A 79-character name of theirs matches the end of
// ours.
constexpr size_t kNdpiHostMax = 79;

bool names_match(const std::set<std::string>& ours, const std::string& theirs) {
  if (ours.count(theirs)) return true;
  if (theirs.size() != kNdpiHostMax) return false;
  return std::any_of(ours.begin(), ours.end(), [&](const std::string& n) {
    return n.size() > theirs.size() && n.ends_with(theirs);
  });
}

// nDPI master protocols whose Hostname/SNI is what the meter puts into server_name.
bool name_from_meter_protocol(const std::string& app) {
  std::string master = app.substr(0, app.find('.'));
  return master == "DNS" || master == "HTTP" || master == "TLS";
}

class NdpiReport : public ::testing::Test {
 protected:
  void SetUp() override { ORBWATCH_SKIP_WITHOUT_TESTDATA(); }
};

TEST_F(NdpiReport, MeteredFlowsMatchNdpiReader) {
  auto reports = reports_under(ndpi_dir());
  ASSERT_FALSE(reports.empty());
  uint64_t compared = 0, compared_packets = 0, padded_directions = 0, padding_bytes = 0;
  uint64_t names_compared = 0, listed = 0;
  std::map<std::string, uint64_t> names_skipped;  // by nDPI protocol
  std::set<size_t> used;
  for (const auto& report : reports) {
    fs::path capture = report;
    capture.replace_extension();  // x.pcap.out -> x.pcap
    std::string name = rel(capture);
    SCOPED_TRACE(name);
    std::string error;
    auto theirs = parse_report(report, error);
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_FALSE(theirs.empty()) << "no flow lines in " << rel(report);
    Metered ours = meter_capture(capture, error);
    ASSERT_TRUE(error.empty()) << error;

    std::vector<std::string> diffs;
    std::set<std::string> seen;
    for (const NdpiFlow& t : theirs) {
      seen.insert(t.key.key);
      auto it = ours.flows.find(t.key.key);
      std::string where = "nDPI flow " + t.line + " " + t.key.key + ": ";
      std::vector<std::string> here;
      if (it == ours.flows.end()) {
        here.push_back(where + "not metered");
      } else {
        const Ours& o = it->second;
        for (int d = 0; d < 2; ++d) {
          uint64_t expect = o.dir[d].bytes + o.header_bytes[d] + o.trailer_bytes[d];
          if (o.dir[d].packets != t.dir[d].packets || expect != t.dir[d].bytes) {
            here.push_back(
                where + (d == 0 ? "a->b" : "b->a") + " ours " + std::to_string(o.dir[d].packets) +
                " pkts/" + std::to_string(o.dir[d].bytes) + " IP bytes (+" +
                std::to_string(o.header_bytes[d]) + " link +" + std::to_string(o.trailer_bytes[d]) +
                " trailer), nDPI " + std::to_string(t.dir[d].packets) + " pkts/" +
                std::to_string(t.dir[d].bytes) + " bytes");
          }
          if (o.trailer_bytes[d] != 0) ++padded_directions;
          padding_bytes += o.trailer_bytes[d];
        }
        if (!t.host.empty()) {
          if (!name_from_meter_protocol(t.app)) {
            ++names_skipped[t.app];
          } else if (!names_match(o.names, lower(t.host))) {
            std::string mine;
            for (const auto& n : o.names) mine += (mine.empty() ? "" : ",") + n;
            here.push_back(where + "name ours '" + mine + "' nDPI '" + t.host + "'");
          } else {
            ++names_compared;
          }
        }
      }
      if (here.empty()) {
        ++compared;
        compared_packets += t.dir[0].packets + t.dir[1].packets;
      } else if (is_known(name, t.key.key, used)) {
        ++listed;
        for (const auto& h : here) std::printf("[ known ] %s: %s\n", name.c_str(), h.c_str());
      } else {
        diffs.insert(diffs.end(), here.begin(), here.end());
      }
    }
    // Metered flows nDPI does not report at all.
    for (const auto& [key, o] : ours.flows) {
      if (seen.count(key) || o.dir[0].packets + o.dir[1].packets == 0) continue;
      std::string d = "only ours: " + key + " " + std::to_string(o.dir[0].packets) + "+" +
                      std::to_string(o.dir[1].packets) + " pkts";
      if (is_known(name, key, used)) {
        ++listed;
        std::printf("[ known ] %s: %s\n", name.c_str(), d.c_str());
      } else {
        diffs.push_back(d);
      }
    }
    std::string detail;
    for (size_t i = 0; i < diffs.size() && i < 20; ++i) detail += "\n  " + diffs[i];
    EXPECT_TRUE(diffs.empty()) << diffs.size() << " differences from " << rel(report) << detail;
  }
  for (size_t i = 0; i < std::size(kKnownDifferences); ++i) {
    EXPECT_TRUE(used.count(i)) << kKnownDifferences[i].file << " " << kKnownDifferences[i].flow
                               << ": listed as differing but matches nDPI now; remove it";
  }
  std::printf(
      "nDPI flows matching: %llu (%llu packets); names matching: %llu; listed differences: "
      "%llu; directions with Ethernet padding: %llu (%llu bytes)\n",
      static_cast<unsigned long long>(compared), static_cast<unsigned long long>(compared_packets),
      static_cast<unsigned long long>(names_compared), static_cast<unsigned long long>(listed),
      static_cast<unsigned long long>(padded_directions),
      static_cast<unsigned long long>(padding_bytes));
  for (const auto& [app, n] : names_skipped) {
    std::printf("  Hostname/SNI not compared, %s (not extracted by the meter): %llu\n", app.c_str(),
                static_cast<unsigned long long>(n));
  }
  // Not vacuous: the reports hold about 2,300 flows, 2,000 of them in synscan.pcap.
  EXPECT_GE(compared, 2200u);
  EXPECT_GE(names_compared, 120u);
}

// The flow-export captures: ndpiReader reports the export datagrams themselves as one UDP flow
// (compared above, metered). Decoded instead, every datagram of that flow must reach the export
// decoder, none may be metered, and decoding must run through.
TEST_F(NdpiReport, FlowExportCapturesDecode) {
  auto reports = reports_under(ndpi_dir() / "flow-export");
  ASSERT_EQ(reports.size(), 3u);
  for (const auto& report : reports) {
    fs::path capture = report;
    capture.replace_extension();
    SCOPED_TRACE(rel(capture));
    std::string error;
    auto theirs = parse_report(report, error);
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_EQ(theirs.size(), 1u);
    uint64_t export_packets = theirs[0].dir[0].packets + theirs[0].dir[1].packets;
    auto opened = PacketSource::open_file(capture.string());
    ASSERT_TRUE(opened.source) << opened.error;
    ExportDecoder dec;
    FlowBatch decoded;
    uint64_t datagrams = 0, metered = 0;
    CaptureIngest ingest(
        {},
        [&](const Datagram& d) {
          ++datagrams;
          dec.decode(d, decoded);
        },
        [&](FlowBatch& b) { metered += b.size(); });
    EXPECT_TRUE(ingest.run(*opened.source));
    ingest.finish();
    EXPECT_EQ(datagrams, export_packets);
    EXPECT_EQ(ingest.stats().exports_total(), export_packets);
    EXPECT_EQ(metered, 0u);
    // PROVENANCE: netflow-fritz holds templates only, netflowv9 data without its templates,
    // sflow one flow sample beside 8 counter samples.
    static const std::map<std::string, size_t> kFlows = {{"flow-export/netflow-fritz.pcap", 0},
                                                         {"flow-export/netflowv9.pcap", 0},
                                                         {"flow-export/sflow.pcap", 1}};
    EXPECT_EQ(decoded.size(), kFlows.at(rel(capture)));
    std::printf("%s: %llu datagrams decoded into %zu flows\n", rel(capture).c_str(),
                static_cast<unsigned long long>(datagrams), decoded.size());
  }
}

}  // namespace
}  // namespace orbwatch::ingest
