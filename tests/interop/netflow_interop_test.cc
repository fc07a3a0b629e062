// NetFlow v5 / v9 / IPFIX decoders against real exports in /work/shared/testdata:
//  1. every logstash-codec-netflow .dat case (in the order elastic-beats' dat_tests.yaml feeds
//     them) decodes without crashing; malformed ones give counted errors;
//  2. the records match the elastic-beats goldens field by field (differences with a reason are
//     written next to each case);
//  3. record counts and per-record values match tshark's dissection of the same datagrams, for
//     the .dat cases (wrapped into a pcap here) and for every pcap holding flow exports;
//  4. totals match pmacct's nfacctd expected outputs where the aggregation allows.
// Skips when the shared data (or tshark, for the tshark checks) is missing.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/flow_batch.h"
#include "core/time.h"
#include "ingest/datagram.h"
#include "ingest/decode_stats.h"
#include "ingest/export_decoder.h"
#include "ingest/packet.h"
#include "ingest/pcap_source.h"
#include "util/interop.h"

namespace orbwatch::ingest {
namespace {

namespace fs = std::filesystem;

using test::testdata;
fs::path dat_dir() {
  return testdata() / "logstash-codec-netflow";
}

bool have_tshark() {
  static const bool ok = test::tool_works("tshark --version") && test::tool_works("mergecap -v");
  return ok;
}

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string temp_path(const std::string& name) {
  return (fs::path(testing::TempDir()) / ("orbwatch_nf_" + std::to_string(getpid()) + "_" + name))
      .string();
}

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// A .dat file is one UDP payload, except netflow5.dat / ipfix.dat which hold several messages
// back to back: split by the v5 count and the IPFIX length (a header that overruns the file
// keeps the rest as one message, so malformed files stay malformed).
std::vector<std::vector<uint8_t>> split_messages(const std::vector<uint8_t>& b) {
  std::vector<std::vector<uint8_t>> out;
  size_t at = 0;
  while (at < b.size()) {
    size_t left = b.size() - at, len = left;
    if (left >= 4) {
      uint16_t version = be16(&b[at]);
      if (version == 5) len = 24 + size_t{be16(&b[at + 2])} * 48;
      if (version == 10) len = be16(&b[at + 2]);
    }
    if (len == 0 || len > left) len = left;
    out.emplace_back(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + len));
    at += len;
  }
  return out;
}

// ---- dat_tests.yaml: test name -> ordered .dat files --------------------------------------

struct DatCase {
  std::string name;
  std::vector<std::string> files;
};

std::vector<DatCase> load_dat_cases() {
  std::ifstream in(testdata() / "elastic-beats" / "dat_tests.yaml");
  std::vector<DatCase> out;
  std::string line;
  bool in_files = false;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    std::string_view t = std::string_view(line).substr(indent);
    if (indent == 2 && t.back() == ':') {
      out.push_back({std::string(t.substr(0, t.size() - 1)), {}});
    } else if (indent == 4 && t.back() == ':') {
      in_files = t == "files:";
    } else if (in_files && !out.empty() && t.starts_with("- ")) {
      out.back().files.emplace_back(t.substr(2));
    }
  }
  return out;
}

// ---- decoding -------------------------------------------------------------------------------

struct Decoded {
  FlowBatch batch;
  DecodeStats stats;
  size_t reverse = 0;  // RFC 5103 reverse halves (records tshark shows as part of one flow)
};

const IpAddr kBeatsExporter = *IpAddr::parse("192.0.2.1");  // beats' harness address

// No held data sets: what a collector without RFC 7011 8 buffering (tshark) decodes.
const IngestLimits kNoPending{.max_pending_bytes_per_exporter = 0};

Decoded decode_dat_files(const std::vector<std::string>& files, const IngestLimits& limits = {}) {
  ExportDecoder dec(limits);
  Decoded d;
  for (const std::string& f : files) {
    for (const auto& msg : split_messages(read_file(dat_dir() / f))) {
      Datagram dg{msg, kBeatsExporter, 4444, 2055, 0};
      dec.decode(dg, d.batch);
    }
  }
  d.stats = dec.stats();
  for (const FlowRecord& r : d.batch.records)
    d.reverse += (r.flags & flow_flags::kBiflowReverse) != 0;
  return d;
}

// UDP payloads of a capture, in order, with their source address and capture time.
struct Captured {
  std::vector<uint8_t> payload;
  IpAddr src;
  uint16_t sport = 0, dport = 0;
  int64_t ts_ms = 0;
};

std::vector<Captured> udp_payloads(const fs::path& file, bool* truncated = nullptr) {
  std::vector<Captured> out;
  auto opened = PacketSource::open_file(file.string());
  if (!opened.source) {
    ADD_FAILURE() << opened.error;
    return out;
  }
  PacketView v;
  PacketSource::Next n;
  while ((n = opened.source->next(v)) == PacketSource::Next::kPacket) {
    PacketInfo info;
    if (parse_packet(v.data, v.caplen, v.link, info) != PacketStatus::kOk) continue;
    if (info.proto != 17 || !info.l4_valid || info.payload == nullptr) continue;
    out.push_back({{info.payload, info.payload + info.payload_len},
                   info.src,
                   info.src_port,
                   info.dst_port,
                   v.ts_ms()});
  }
  if (truncated != nullptr)
    *truncated = n == PacketSource::Next::kError && opened.source->truncated();
  return out;
}

Decoded decode_captures(const std::vector<fs::path>& files, bool* truncated = nullptr,
                        const IngestLimits& limits = {}) {
  ExportDecoder dec(limits);
  Decoded d;
  for (const fs::path& f : files) {
    for (const Captured& c : udp_payloads(f, truncated)) {
      if (sniff_export(c.payload) == ExportKind::kNone) continue;
      Datagram dg{c.payload, c.src, c.sport, c.dport, c.ts_ms};
      dec.decode(dg, d.batch);
    }
  }
  d.stats = dec.stats();
  for (const FlowRecord& r : d.batch.records)
    d.reverse += (r.flags & flow_flags::kBiflowReverse) != 0;
  return d;
}

std::string error_summary(const DecodeStats& s) {
  std::string out;
  for (size_t i = 0; i < s.errors.size(); ++i) {
    if (s.errors[i] == 0) continue;
    out += std::string(out.empty() ? "" : " ") + decode_error_name(static_cast<DecodeError>(i)) +
           "=" + std::to_string(s.errors[i]);
  }
  return out.empty() ? "none" : out;
}

// ---- tshark ---------------------------------------------------------------------------------

// Decode-as ports used by PROVENANCE.md to count the captures.
constexpr const char* kDecodeAs =
    " -d udp.port==2055,cflow -d udp.port==2057,cflow -d udp.port==2100,cflow"
    " -d udp.port==4739,cflow -d udp.port==8096,cflow -d udp.port==9500,cflow"
    " -d udp.port==9990,cflow -d udp.port==9991,cflow -d udp.port==9992,cflow"
    " -d udp.port==9995,cflow";

// One data record as tshark prints it (-V); fields it does not show stay empty.
struct TsRecord {
  std::optional<IpAddr> src, dst;
  std::optional<uint64_t> sport, dport, proto, octets, packets;
};

struct TsharkView {
  std::vector<TsRecord> flows;  // data records of flow templates (and v5 pdus)
  size_t options_records = 0;   // data records of options templates
  size_t undecoded_sets = 0;    // data sets tshark had no template for
};

std::string_view after(std::string_view line, std::string_view label) {
  return line.starts_with(label) ? line.substr(label.size()) : std::string_view{};
}
std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s[0] < '0' || s[0] > '9') return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// Reads `tshark -V` text: templates and options templates seen so far tell flow data sets from
// options data sets; "Flow N" (v9/IPFIX) and "pdu N/M" (v5) lines open a record.
TsharkView run_tshark(const std::string& pcap) {
  TsharkView view;
  std::string cmd = "tshark -n -r '" + pcap + "'" + kDecodeAs + " -V 2>/dev/null";
  // Options template ids, scoped like templates: exporter address, domain, id.
  std::set<std::string> options_ids;
  std::string exporter, domain;
  auto key = [&](uint64_t id) { return exporter + "/" + domain + "/" + std::to_string(id); };
  bool options_set = false;
  TsRecord* cur = nullptr;
  test::for_each_output_line(cmd, [&](const std::string& out_line) {
    std::string_view line(out_line);
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos) return;
    std::string_view t = line.substr(indent);
    if (indent == 0) {  // a new frame or protocol layer
      cur = nullptr;
      options_set = false;
      if (t.starts_with("Internet Protocol Version ") && t.find("Src: ") != t.npos) {
        std::string_view src = t.substr(t.find("Src: ") + 5);
        exporter = std::string(src.substr(0, src.find(',')));
      }
      return;
    }
    std::string_view v;
    auto is = [&](std::string_view label) {
      v = after(t, label);
      return !v.empty();
    };
    if (indent == 4 && (is("Observation Domain Id: ") || is("SourceId: "))) {
      domain = std::string(v);
    } else if (is("Options Template (Id = ")) {
      if (auto id = parse_u64(v)) options_ids.insert(key(*id));
      cur = nullptr;
    } else if (is("Template (Id = ")) {
      if (auto id = parse_u64(v)) options_ids.erase(key(*id));  // id reassigned to flows
      cur = nullptr;
    } else if ((t.starts_with("FlowSet ") || t.starts_with("Set ")) &&
               t.find("[id=") != std::string_view::npos) {
      cur = nullptr;
      auto id = parse_u64(t.substr(t.find("[id=") + 4));
      if (id && *id >= 256) {
        options_set = options_ids.count(key(*id)) != 0;
        if (t.find(" flows)") == std::string_view::npos) ++view.undecoded_sets;
      }
    } else if ((t.starts_with("Flow ") && parse_u64(t.substr(5)) && t.find(':') == t.npos) ||
               (t.starts_with("pdu ") && parse_u64(t.substr(4)))) {
      if (options_set) {
        ++view.options_records;
        cur = nullptr;
      } else {
        cur = &view.flows.emplace_back();
      }
    } else if (cur != nullptr) {
      // Key fields: the last occurrence wins, as in our decoder and nfacctd (Huawei/Swisscom
      // records carry the outer tunnel header first, then the inner flow). Dual-family
      // templates show "SrcAddr: ::" beside the real address: an all-zero one never wins.
      auto set_addr = [&](std::optional<IpAddr>& a) {
        auto parsed = IpAddr::parse(v.substr(0, v.find(' ')));
        bool zero = parsed && (parsed->is_zero() || (parsed->is_v4() && parsed->v4_value() == 0));
        bool have = a && !a->is_zero() && !(a->is_v4() && a->v4_value() == 0);
        if (parsed && (!zero || !have)) a = parsed;
      };
      auto set_last = [&](std::optional<uint64_t>& n, std::string_view text) {
        if (auto x = parse_u64(text)) n = x;
      };
      // Counters: the first occurrence (reverse counters, when shown, come after).
      auto set_first = [&](std::optional<uint64_t>& n) {
        if (!n) n = parse_u64(v);
      };
      if (is("SrcAddr: ")) {
        set_addr(cur->src);
      } else if (is("DstAddr: ")) {
        set_addr(cur->dst);
      } else if (is("SrcPort: ") && v.find('(') == v.npos) {  // "SrcPort: 0 (0)": IE 180-183
        set_last(cur->sport, v);
      } else if (is("DstPort: ") && v.find('(') == v.npos) {
        set_last(cur->dport, v);
      } else if (is("Octets: ")) {
        set_first(cur->octets);
      } else if (is("Packets: ")) {
        set_first(cur->packets);
      } else if (is("Protocol: ") && v.find('(') != v.npos) {
        set_last(cur->proto, v.substr(v.rfind('(') + 1));
      }
    }
  });
  return view;
}

// Wraps export messages into an Ethernet/IPv4/UDP pcap so tshark can dissect them.
void write_pcap(const std::string& path, const std::vector<std::vector<uint8_t>>& msgs) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  ASSERT_NE(d, nullptr) << pcap_geterr(dead);
  long sec = 1;
  for (const auto& m : msgs) {
    uint16_t dport = m.size() >= 2 && be16(m.data()) == 10 ? 4739 : 2055;
    std::vector<uint8_t> f(42, 0);
    f[12] = 0x08;  // IPv4
    uint8_t* ip = &f[14];
    ip[0] = 0x45;
    auto put16 = [](uint8_t* p, size_t v) {
      p[0] = static_cast<uint8_t>(v >> 8);
      p[1] = static_cast<uint8_t>(v);
    };
    put16(ip + 2, std::min<size_t>(28 + m.size(), 65535));
    ip[8] = 64;
    ip[9] = 17;
    const uint8_t src[4] = {192, 0, 2, 1}, dst[4] = {192, 0, 2, 2};
    std::memcpy(ip + 12, src, 4);
    std::memcpy(ip + 16, dst, 4);
    uint8_t* udp = ip + 20;
    put16(udp, 4444);
    put16(udp + 2, dport);
    put16(udp + 4, std::min<size_t>(8 + m.size(), 65535));
    f.insert(f.end(), m.begin(), m.end());
    pcap_pkthdr h{};
    h.ts.tv_sec = sec++;
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

// Result of matching our records with tshark's, record by record.
struct Comparison {
  size_t tshark_flows = 0, ours_forward = 0, matched = 0;
  std::vector<std::string> mismatches;  // first few, described
};

bool is_icmp(uint64_t proto) {
  return proto == 1 || proto == 58;
}

// Does our forward record `r` agree with every field tshark shows for `t`? Our counters are
// scaled by the sampling rate; tshark shows them as exported. ICMP: we may move the type/code
// into the destination port (NetFlow convention), so ports are not compared for ICMP.
bool agrees(const FlowRecord& r, const TsRecord& t) {
  if (t.src && *t.src != r.src) return false;
  if (t.dst && *t.dst != r.dst) return false;
  if (t.proto && *t.proto != r.proto) return false;
  if (!is_icmp(r.proto)) {
    if (t.sport && *t.sport != r.src_port) return false;
    if (t.dport && *t.dport != r.dst_port) return false;
  }
  uint64_t scale = (r.flags & flow_flags::kSampled) != 0 ? r.sampling_rate : 1;
  if (t.octets && *t.octets * scale != r.bytes) return false;
  if (t.packets && *t.packets * scale != r.packets) return false;
  return true;
}

std::string describe(const TsRecord& t) {
  auto n = [](const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "-"; };
  auto a = [](const std::optional<IpAddr>& v) { return v ? v->to_string() : "-"; };
  return a(t.src) + ":" + n(t.sport) + " > " + a(t.dst) + ":" + n(t.dport) + " p" + n(t.proto) +
         " " + n(t.octets) + "B " + n(t.packets) + "P";
}
std::string describe(const FlowRecord& r) {
  return r.src.to_string() + ":" + std::to_string(r.src_port) + " > " + r.dst.to_string() + ":" +
         std::to_string(r.dst_port) + " p" + std::to_string(r.proto) + " " +
         std::to_string(r.bytes) + "B " + std::to_string(r.packets) + "P rate " +
         std::to_string(r.sampling_rate);
}

Comparison compare(const Decoded& ours, const TsharkView& ts) {
  Comparison c;
  c.tshark_flows = ts.flows.size();
  std::vector<const FlowRecord*> fwd;
  for (const FlowRecord& r : ours.batch.records) {
    if ((r.flags & flow_flags::kBiflowReverse) == 0) fwd.push_back(&r);
  }
  c.ours_forward = fwd.size();
  std::vector<bool> used(fwd.size(), false);
  for (size_t i = 0; i < ts.flows.size(); ++i) {
    const TsRecord& t = ts.flows[i];
    size_t hit = fwd.size();
    if (i < fwd.size() && !used[i] && agrees(*fwd[i], t)) {
      hit = i;  // same position: the common case
    } else {
      for (size_t j = 0; j < fwd.size(); ++j) {
        if (!used[j] && agrees(*fwd[j], t)) {
          hit = j;
          break;
        }
      }
    }
    if (hit < fwd.size()) {
      used[hit] = true;
      ++c.matched;
    } else if (c.mismatches.size() < 3) {
      c.mismatches.push_back("tshark #" + std::to_string(i) + " {" + describe(t) + "} ours {" +
                             (i < fwd.size() ? describe(*fwd[i]) : std::string("none")) + "}");
    }
  }
  return c;
}

// ---- 1. every .dat case decodes; malformed ones are counted --------------------------------

TEST(NetflowDat, EveryBeatsCaseDecodesWithoutCrash) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  auto cases = load_dat_cases();
  ASSERT_EQ(cases.size(), 44u) << "dat_tests.yaml changed";
  for (const DatCase& c : cases) {
    SCOPED_TRACE(c.name);
    Decoded d = decode_dat_files(c.files);
    std::printf("[dat] %-60s records=%zu (reverse %zu) options=%llu errors: %s\n", c.name.c_str(),
                d.batch.size(), d.reverse, static_cast<unsigned long long>(d.stats.options_records),
                error_summary(d.stats).c_str());
    if (c.name == "Netflow 9 invalid 01") {
      // Only the header Count is wrong (see kDatDiffs): the two data records are well formed.
      EXPECT_EQ(d.batch.size(), 2u);
    }
    if (c.name == "IPFIX Netscaler with variable length fields, missing templates") {
      EXPECT_EQ(d.stats.error(DecodeError::kNoTemplate), 4u);  // held, counted, nothing invented
      EXPECT_EQ(d.batch.size(), 0u);
    }
  }
}

// Files no beats case uses, alone (and the Cisco ACI pair in order).
TEST(NetflowDat, FilesOutsideTheBeatsManifest) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  struct Expect {
    std::vector<std::string> files;
    size_t records;
    DecodeError error;  // kCount: none expected
  };
  const Expect cases[] = {
      // 12 softflowd datagrams of 2-4 records each.
      {{"netflow5.dat"}, 30, DecodeError::kCount},
      // Header count 55582 / 163 with 1464 bytes: the sniffer finds the header implausible and
      // counts the datagram as not a flow export (kBadVersion); no records.
      {{"netflow5_test_invalid01.dat"}, 0, DecodeError::kBadVersion},
      {{"netflow5_test_invalid02.dat"}, 0, DecodeError::kBadVersion},
      {{"netflow5_test_juniper_mx80.dat"}, 29, DecodeError::kCount},
      {{"netflow5_test_microtik.dat"}, 30, DecodeError::kCount},
      // Templates, then a 0-length flowset and 64 garbage bytes: stop there without an error.
      {{"netflow9_test_cisco_aci_tpl256-258.dat", "netflow9_test_cisco_aci_data256.dat"},
       3,
       DecodeError::kCount},
      {{"netflow9_test_cisco_asr9k_opttpl257.dat"}, 0, DecodeError::kCount},
      {{"netflow9_test_cisco_asr9k_opttpl334.dat"}, 0, DecodeError::kCount},
      {{"netflow9_test_cisco_asr9k_tpl266.dat"}, 0, DecodeError::kCount},
      {{"ipfix_test_ixia_tpldata256.dat"}, 1, DecodeError::kCount},
      {{"ipfix_test_ixia_tpldata271.dat"}, 2, DecodeError::kCount},
  };
  for (const Expect& e : cases) {
    SCOPED_TRACE(e.files.front());
    Decoded d = decode_dat_files(e.files);
    EXPECT_EQ(d.batch.size(), e.records);
    if (e.error == DecodeError::kCount) {
      EXPECT_EQ(d.stats.total_errors(), 0u) << error_summary(d.stats);
    } else {
      EXPECT_GT(d.stats.error(e.error), 0u) << error_summary(d.stats);
    }
  }
}

// Every .dat file alone (data files then lack their templates: held and counted, not lost).
TEST(NetflowDat, EveryFileAloneNeverCrashes) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dat_dir())) {
    if (e.path().extension() != ".dat") continue;
    ++files;
    Decoded d = decode_dat_files({e.path().filename().string()});
    // Each message is either decoded or produces a counted reason.
    EXPECT_TRUE(d.stats.datagrams > 0) << e.path();
  }
  EXPECT_EQ(files, 92u);
}

// ---- 3. records vs tshark ------------------------------------------------------------------

// Prints one line per case and checks our records against tshark's. `d` is decoded without held
// data sets (tshark does not buffer data that arrives before its template); `late` = the forward
// records we add when held sets are decoded once their template comes (RFC 7011 8).
// `extra` = forward records we produce beyond tshark's; `unmatched` = tshark records with no
// agreeing record of ours. Both are 0 unless a case below explains why not.
void check_against_tshark(const std::string& label, const Decoded& d, long late,
                          const TsharkView& ts, long extra, size_t unmatched, long want_late) {
  Comparison c = compare(d, ts);
  std::printf(
      "[tshark] %-58s tshark flows=%zu opt=%zu undecoded_sets=%zu | ours fwd=%zu "
      "reverse=%zu late=%ld matched=%zu errors: %s\n",
      label.c_str(), c.tshark_flows, ts.options_records, ts.undecoded_sets, c.ours_forward,
      d.reverse, late, c.matched, error_summary(d.stats).c_str());
  for (const std::string& m : c.mismatches) std::printf("           mismatch: %s\n", m.c_str());
  EXPECT_EQ(static_cast<long>(c.ours_forward) - static_cast<long>(c.tshark_flows), extra) << label;
  EXPECT_EQ(c.tshark_flows - c.matched, unmatched) << label;
  EXPECT_EQ(late, want_late) << label;
}

long forward(const Decoded& d) {
  return static_cast<long>(d.batch.size() - d.reverse);
}

struct KnownDiff {
  std::string_view name;
  long extra;        // our forward records minus tshark's flow records
  size_t unmatched;  // tshark records with no agreeing record of ours
  long late;         // records from data sets held until their template came
  std::string_view why;
};

// Where we and tshark 4.0 disagree, and why. Everything else must agree exactly.
constexpr KnownDiff kDatDiffs[] = {
    {"Netflow 9 invalid 01", 2, 0, 0,
     "The header Count says 2 but the packet holds 2 templates, an options template and 3 data "
     "records. tshark (and beats: 0 events) stop after Count records; we walk flowsets by their "
     "lengths (many exporters fill Count wrongly) and the two data records are well formed: an "
     "NTP flow over IPv6 and a DNS flow, so we keep them."},
    {"Netflow 9 H3C", 15, 0, 0,
     "H3C sends IPV4_ROUTER_SC (IE 43) in 2 bytes; tshark throws 'Malformed Packet' there and "
     "drops the other 15 flowsets. We skip a mis-sized field by its length."},
};

const KnownDiff* known(std::span<const KnownDiff> table, std::string_view name) {
  for (const KnownDiff& k : table) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

TEST(NetflowDat, RecordsMatchTshark) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  if (!have_tshark()) GTEST_SKIP() << "tshark/mergecap not installed";
  auto cases = load_dat_cases();
  // Plus the files no beats case uses.
  cases.push_back({"netflow5.dat", {"netflow5.dat"}});
  cases.push_back({"netflow5 juniper mx80", {"netflow5_test_juniper_mx80.dat"}});
  cases.push_back({"netflow5 microtik", {"netflow5_test_microtik.dat"}});
  cases.push_back(
      {"netflow9 cisco aci",
       {"netflow9_test_cisco_aci_tpl256-258.dat", "netflow9_test_cisco_aci_data256.dat"}});
  cases.push_back({"ipfix ixia 256", {"ipfix_test_ixia_tpldata256.dat"}});
  cases.push_back({"ipfix ixia 271", {"ipfix_test_ixia_tpldata271.dat"}});
  const std::string pcap = temp_path("dat.pcap");
  for (const DatCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::vector<uint8_t>> msgs;
    for (const std::string& f : c.files) {
      for (auto& m : split_messages(read_file(dat_dir() / f))) msgs.push_back(std::move(m));
    }
    write_pcap(pcap, msgs);
    TsharkView ts = run_tshark(pcap);
    Decoded d = decode_dat_files(c.files, kNoPending);
    long late = forward(decode_dat_files(c.files)) - forward(d);
    const KnownDiff* k = known(kDatDiffs, c.name);
    check_against_tshark(c.name, d, late, ts, k ? k->extra : 0, k ? k->unmatched : 0,
                         k ? k->late : 0);
  }
  std::remove(pcap.c_str());
}

// Capture groups fed to one decoder in order (templates before data), like one exporter stream.
struct PcapGroup {
  std::string name;
  std::vector<std::string> files;  // relative to testdata/
};

std::vector<PcapGroup> pcap_groups() {
  std::vector<PcapGroup> g;
  auto ak = [](std::string f) { return "akvorado/netflow/" + f + ".pcap"; };
  g.push_back({"akvorado data+templates", {ak("data+templates")}});
  g.push_back({"akvorado template/options/data",
               {ak("template"), ak("options-template"), ak("options-data"), ak("data")}});
  for (std::string_view pair : {"datalink", "ethernet-over-mpls-with-control-word", "icmp",
                                "ipfix-srv6", "juniper-cpid", "samplingrate"}) {
    std::string p(pair);
    g.push_back({"akvorado " + p, {ak(p + "-template"), ak(p + "-data")}});
  }
  g.push_back({"akvorado ipfixprobe", {ak("ipfixprobe-templates"), ak("ipfixprobe-data")}});
  g.push_back({"akvorado multiplesamplingrates",
               {ak("multiplesamplingrates-template"), ak("multiplesamplingrates-options-template"),
                ak("multiplesamplingrates-options-data"), ak("multiplesamplingrates-data")}});
  for (std::string_view one : {"mpls", "nat", "nfv5", "physicalinterfaces"}) {
    g.push_back({"akvorado " + std::string(one), {ak(std::string(one))}});
  }
  for (std::string_view f :
       {"pmacct/100-IPFIXv10-CISCO/traffic-00.pcap",
        "pmacct/101-NFv9-CISCO-cust_primitives/traffic-00.pcap",
        "pmacct/102-NFv9-CISCO-f2rd-pretag-sampling-reload/traffic-00.pcap",
        "pmacct/103-IPFIXv10-CISCO-pretag-JSON_encoding/traffic-00.pcap",
        "pmacct/104-IPFIXv10-IPv6-CISCO-sampling_option/traffic-00.pcap",
        "pmacct/106-IPFIXv10-HUAWEI-vrf_name/traffic-00.pcap",
        "pmacct/111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources/traffic-00.pcap",
        "pmacct/111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources/traffic-01.pcap",
        "pmacct/112-IPFIXv10-CISCO-options-map-reassignment/traffic-00.pcap", "scapy/ipfix.pcap",
        "scapy/netflowv9.pcap", "traffic-reproducer/ipfix-bmp-scenario-PART5-ipfix-traffic.pcap",
        "traffic-reproducer/ipfix-multi-sources.pcap", "traffic-reproducer/ipfix-vmware.pcap",
        "overflowd/netflow_4M.pcap", "nDPI/flow-export/netflow-fritz.pcap",
        "nDPI/flow-export/netflowv9.pcap"}) {
    g.push_back({std::string(f), {std::string(f)}});
  }
  return g;
}

constexpr KnownDiff kPcapDiffs[] = {
    {"akvorado data+templates", 0, 0, 11,
     "A data set precedes its template in the same packet: tshark cannot decode it; we hold it "
     "and decode its 11 records when the template follows (RFC 7011 8 allows buffering)."},
    // RFC 7133 dataLinkFrameSection (IE 315) holding an SRv6 packet: tshark leaves the frame
    // undissected (no 5-tuple); we parse it and report the outer IPv6 header (proto 4, IPv4
    // inside), as parse_packet does not follow tunnels.
    {"akvorado ipfix-srv6", 0, 1, 0, "tshark does not dissect the SRv6 frame section"},
    {"akvorado juniper-cpid", 0, 1, 0, "tshark does not dissect the SRv6 frame section"},
    {"pmacct/112-IPFIXv10-CISCO-options-map-reassignment/traffic-00.pcap", 9, 0, 0,
     "The capture was rewritten upstream so the collector address changes after frame 10. "
     "tshark scopes templates by both endpoints and loses template 347; we (like nfacctd, whose "
     "expected output has these 9 flows) scope them by exporter and observation domain."},
    {"traffic-reproducer/ipfix-multi-sources.pcap", 0, 0, 549,
     "Data sets before their templates: 549 records decoded once the template came."},
    {"traffic-reproducer/ipfix-vmware.pcap", 0, 0, 66,
     "Data before the first template: 66 records decoded once it came (the rest of the early "
     "sets exceeded the per-exporter hold limit and are counted as pending_dropped)."},
};

TEST(NetflowPcap, RecordsMatchTshark) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  if (!have_tshark()) GTEST_SKIP() << "tshark/mergecap not installed";
  const std::string merged = temp_path("merged.pcap");
  for (const PcapGroup& g : pcap_groups()) {
    SCOPED_TRACE(g.name);
    std::vector<fs::path> files;
    std::string cmd = "mergecap -a -w '" + merged + "'";
    for (const std::string& f : g.files) {
      files.push_back(testdata() / f);
      cmd += " '" + files.back().string() + "'";
    }
    ASSERT_TRUE(fs::exists(files.front())) << files.front();
    std::string for_tshark = files.front().string();
    if (files.size() > 1) {
      ASSERT_EQ(std::system((cmd + " 2>/dev/null").c_str()), 0) << cmd;
      for_tshark = merged;
    }
    bool truncated = false;
    Decoded d = decode_captures(files, &truncated, kNoPending);
    long late = forward(decode_captures(files)) - forward(d);
    TsharkView ts = run_tshark(for_tshark);
    const KnownDiff* k = known(kPcapDiffs, g.name);
    check_against_tshark(g.name, d, late, ts, k ? k->extra : 0, k ? k->unmatched : 0,
                         k ? k->late : 0);
    if (g.name == "overflowd/netflow_4M.pcap") {
      EXPECT_TRUE(truncated) << "file is cut mid-packet";
    }
  }
  std::remove(merged.c_str());
}

// ipfixcol2's example file (RFC 5655): back-to-back IPFIX messages.
TEST(NetflowPcap, IpfixFileMatchesTshark) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  if (!have_tshark()) GTEST_SKIP() << "tshark/mergecap not installed";
  auto msgs = split_messages(read_file(testdata() / "ipfixcol2" / "example_flows.ipfix"));
  EXPECT_EQ(msgs.size(), 68u);
  ExportDecoder dec;
  Decoded d;
  for (const auto& m : msgs) dec.decode(Datagram{m, kBeatsExporter, 4444, 4739, 0}, d.batch);
  d.stats = dec.stats();
  for (const FlowRecord& r : d.batch.records)
    d.reverse += (r.flags & flow_flags::kBiflowReverse) != 0;
  const std::string pcap = temp_path("ipfixfile.pcap");
  write_pcap(pcap, msgs);
  TsharkView ts = run_tshark(pcap);
  check_against_tshark("ipfixcol2/example_flows.ipfix", d, 0, ts, 0, 0, 0);
  EXPECT_EQ(d.stats.total_errors(), 0u) << error_summary(d.stats);
  std::remove(pcap.c_str());
}

// ---- 2. elastic-beats goldens, field by field ----------------------------------------------

using simdjson::dom::element;

std::optional<element> at(element e, std::initializer_list<std::string_view> path) {
  for (std::string_view k : path) {
    element next;
    if (!e.is_object() || e.at_key(k).get(next) != simdjson::SUCCESS) return std::nullopt;
    e = next;
  }
  return e;
}
std::optional<uint64_t> num(element e, std::initializer_list<std::string_view> path) {
  auto v = at(e, path);
  if (!v) return std::nullopt;
  uint64_t u;
  if (v->get_uint64().get(u) == simdjson::SUCCESS) return u;
  int64_t i;
  if (v->get_int64().get(i) == simdjson::SUCCESS) return static_cast<uint64_t>(i);
  return std::nullopt;
}
std::optional<std::string> str(element e, std::initializer_list<std::string_view> path) {
  auto v = at(e, path);
  std::string_view sv;
  if (!v || v->get_string().get(sv) != simdjson::SUCCESS) return std::nullopt;
  return std::string(sv);
}
std::optional<int64_t> time_ms(element e, std::initializer_list<std::string_view> path) {
  auto t = str(e, path);
  return t ? parse_rfc3339_ms(*t) : std::nullopt;
}

// Differences with beats that have a reason: (golden test name, field) -> why.
struct GoldenDiff {
  std::string_view test, field, why;
};
// None today: all 155 compared fields agree. Two differences in kind are handled by the
// comparison itself: beats keeps an RFC 5103 biflow as one event (we split it; the golden is
// compared with our forward half), and beats does not scale counters by the sampling rate (no
// golden flow is sampled: H3C's in-record interval is 0, FortiGate's options say 1).
constexpr GoldenDiff kGoldenDiffs[] = {
    {"", "", ""},  // keeps the array non-empty
};

TEST(NetflowGolden, RecordsMatchElasticBeatsFieldByField) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  auto cases = load_dat_cases();
  std::set<std::pair<std::string, std::string>> seen;  // (test, field) that differed
  size_t goldens = 0, events = 0, compared_fields = 0;
  for (const auto& e : fs::directory_iterator(testdata() / "elastic-beats" / "golden")) {
    simdjson::dom::parser parser;
    element doc;
    ASSERT_EQ(parser.load(e.path().string()).get(doc), simdjson::SUCCESS) << e.path();
    auto name = str(doc, {"test_name"});
    ASSERT_TRUE(name) << e.path();
    SCOPED_TRACE(*name);
    auto it =
        std::find_if(cases.begin(), cases.end(), [&](const DatCase& c) { return c.name == *name; });
    ASSERT_NE(it, cases.end()) << "no dat_tests.yaml case for " << *name;
    ++goldens;
    Decoded d = decode_dat_files(it->files);
    std::vector<bool> used(d.batch.size(), false);
    size_t flows = 0;
    simdjson::dom::array evs;
    if (auto a = at(doc, {"events"}); a && a->get_array().get(evs) == simdjson::SUCCESS) {
      for (element ev : evs) {
        auto f = at(ev, {"Fields"});
        ASSERT_TRUE(f);
        auto nf = at(*f, {"netflow"});
        if (!nf || str(*nf, {"type"}) != "netflow_flow") continue;  // options: not flows here
        ++flows;
        ++events;
        auto addr = [&](std::string_view v4, std::string_view v6) -> std::optional<IpAddr> {
          auto t = str(*nf, {v4});
          if (!t) t = str(*nf, {v6});
          return t ? IpAddr::parse(*t) : std::nullopt;
        };
        auto src = addr("source_ipv4_address", "source_ipv6_address");
        auto dst = addr("destination_ipv4_address", "destination_ipv6_address");
        auto sport = num(*nf, {"source_transport_port"});
        auto dport = num(*nf, {"destination_transport_port"});
        auto proto = num(*nf, {"protocol_identifier"});
        // Our record with the same key (beats keeps a biflow as one event: our forward half).
        size_t hit = d.batch.size();
        for (size_t i = 0; i < d.batch.size() && hit == d.batch.size(); ++i) {
          const FlowRecord& r = d.batch.records[i];
          if (used[i] || (r.flags & flow_flags::kBiflowReverse) != 0) continue;
          if ((!src || *src == r.src) && (!dst || *dst == r.dst) &&
              (!sport || *sport == r.src_port) && (!dport || *dport == r.dst_port) &&
              (!proto || *proto == r.proto)) {
            hit = i;
          }
        }
        if (hit == d.batch.size()) {
          ADD_FAILURE() << "no record for golden event " << (src ? src->to_string() : "?") << ":"
                        << sport.value_or(0) << " > " << (dst ? dst->to_string() : "?") << ":"
                        << dport.value_or(0);
          continue;
        }
        used[hit] = true;
        const FlowRecord& r = d.batch.records[hit];
        auto check = [&](std::string_view field, std::optional<int64_t> want, int64_t got) {
          if (!want) return;
          ++compared_fields;
          if (*want == got) return;
          seen.insert({*name, std::string(field)});
          bool documented =
              std::any_of(std::begin(kGoldenDiffs), std::end(kGoldenDiffs),
                          [&](const GoldenDiff& g) { return g.test == *name && g.field == field; });
          if (!documented) {
            ADD_FAILURE() << field << ": beats " << *want << ", ours " << got << " (record "
                          << describe(r) << ")";
          }
        };
        auto first_num = [&](std::initializer_list<std::string_view> keys) {
          for (std::string_view k : keys) {
            if (auto v = num(*nf, {k})) return std::optional<int64_t>(static_cast<int64_t>(*v));
          }
          return std::optional<int64_t>();
        };
        check("bytes",
              first_num({"octet_delta_count", "octet_total_count", "post_octet_delta_count",
                         "initiator_octets"}),
              static_cast<int64_t>(r.bytes));
        check("packets",
              first_num({"packet_delta_count", "packet_total_count", "post_packet_delta_count",
                         "initiator_packets"}),
              static_cast<int64_t>(r.packets));
        check("in_if", first_num({"ingress_interface"}), r.in_if);
        check("out_if", first_num({"egress_interface"}), r.out_if);
        auto when = [&](std::string_view which) {
          std::string base = "flow_" + std::string(which) + "_";
          for (std::string_view unit : {"milliseconds", "seconds", "microseconds", "nanoseconds"}) {
            if (auto t = time_ms(*nf, {base + std::string(unit)})) return t;
          }
          return time_ms(*f, {"event", which});  // v9 uptime-based times, resolved by beats
        };
        check("start", when("start"), r.start_ms);
        check("end", when("end"), r.end_ms);
        if (auto rate = first_num({"sampling_interval"}); rate && *rate > 1) {
          check("sampling", rate, r.sampling_rate);
        }
      }
    }
    std::printf("[golden] %-60s events=%zu ours=%zu\n", name->c_str(), flows, d.batch.size());
    if (flows == 0 && *name != "Netflow 9 invalid 01") {  // that one: see kDatDiffs
      EXPECT_EQ(d.batch.size(), 0u) << "options-only case produced flows";
    }
  }
  EXPECT_EQ(goldens, 17u);
  std::printf("[golden] %zu goldens, %zu flow events, %zu fields compared\n", goldens, events,
              compared_fields);
  for (const GoldenDiff& g : kGoldenDiffs) {
    if (g.test.empty()) continue;
    EXPECT_TRUE(seen.count({std::string(g.test), std::string(g.field)}))
        << "documented difference no longer occurs: " << g.test << " / " << g.field;
  }
}

// ---- 4. pmacct nfacctd expected outputs: totals ---------------------------------------------

// nfacctd aggregates (per test config), so only packet/byte totals are comparable.
TEST(NetflowPmacct, TotalsMatchNfacctdOutput) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  struct Case {
    std::string_view dir;
    std::string_view why;  // when our totals are not nfacctd's
  };
  const Case cases[] = {
      {"100-IPFIXv10-CISCO", ""},
      {"101-NFv9-CISCO-cust_primitives", ""},
      {"102-NFv9-CISCO-f2rd-pretag-sampling-reload", ""},
      {"103-IPFIXv10-CISCO-pretag-JSON_encoding", ""},
      // The options record announces random n-out-of-N sampling as samplingSize (IE 309) = 1
      // and samplingPopulation (IE 310) = 256 beside samplingPacketInterval (IE 305) = 1;
      // 309/310 win, so both we and nfacctd scale by 256.
      {"104-IPFIXv10-IPv6-CISCO-sampling_option", ""},
      {"106-IPFIXv10-HUAWEI-vrf_name", ""},
      {"111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources", ""},
      {"112-IPFIXv10-CISCO-options-map-reassignment", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.dir));
    const fs::path dir = testdata() / "pmacct" / c.dir;
    uint64_t want_bytes = 0, want_packets = 0;
    size_t lines = 0;
    std::ifstream in(dir / "output-flow-00.json");
    std::string line;
    simdjson::dom::parser parser;
    while (std::getline(in, line)) {
      element doc;
      ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
      want_bytes += num(doc, {"bytes"}).value_or(0);
      want_packets += num(doc, {"packets"}).value_or(0);
      ++lines;
    }
    std::vector<fs::path> pcaps;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".pcap") pcaps.push_back(e.path());
    }
    std::sort(pcaps.begin(), pcaps.end());
    uint64_t bytes = 0, packets = 0;
    for (const fs::path& p : pcaps) {  // each pcap is its own exporter stream
      Decoded d = decode_captures({p});
      for (const FlowRecord& r : d.batch.records) bytes += r.bytes, packets += r.packets;
    }
    std::printf(
        "[pmacct] %-48s nfacctd lines=%zu packets=%llu bytes=%llu | ours packets=%llu "
        "bytes=%llu\n",
        std::string(c.dir).c_str(), lines, static_cast<unsigned long long>(want_packets),
        static_cast<unsigned long long>(want_bytes), static_cast<unsigned long long>(packets),
        static_cast<unsigned long long>(bytes));
    if (c.why.empty()) {
      EXPECT_EQ(packets, want_packets);
      EXPECT_EQ(bytes, want_bytes);
    } else {  // the known 1:256 scaling gap, exactly; fails (so gets updated) once fixed
      EXPECT_EQ(packets * 256, want_packets) << c.why;
      EXPECT_EQ(bytes * 256, want_bytes) << c.why;
    }
  }
}

}  // namespace
}  // namespace orbwatch::ingest
