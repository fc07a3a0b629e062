// sFlow v5 decoding of real captures (/work/shared/testdata, see its PROVENANCE.md), compared
// with tshark (run at test time) and with tcpdump's golden text output. Skips when the shared
// test data or tshark is absent.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "ingest/packet.h"
#include "ingest/sflow.h"
#include "util/interop.h"

namespace orbwatch::ingest {
namespace {

namespace fs = std::filesystem;

using test::testdata;

bool have_tshark() {
  return test::tool_works("tshark --version");
}

// One UDP payload from a capture.
struct Udp {
  uint32_t frame = 0;  // 1-based frame number, as tshark counts
  std::vector<uint8_t> payload;
  IpAddr src;
  uint16_t dst_port = 0;
  int64_t ts_ms = 0;
};

std::optional<LinkType> link_of(int dlt) {
  switch (dlt) {
    case DLT_EN10MB:
      return LinkType::kEthernet;
    case DLT_NULL:
      return LinkType::kNull;
    case DLT_LOOP:
      return LinkType::kLoop;
    case DLT_RAW:
      return LinkType::kRaw;
    case DLT_LINUX_SLL:
      return LinkType::kLinuxSll;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
      return LinkType::kLinuxSll2;
#endif
    default:
      return std::nullopt;
  }
}

// Reads every frame with libpcap and keeps the UDP payloads (parse_packet does the L2..L4 work).
std::vector<Udp> read_udp(const fs::path& path) {
  std::vector<Udp> out;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  EXPECT_NE(p, nullptr) << err;
  if (p == nullptr) return out;
  auto link = link_of(pcap_datalink(p));
  EXPECT_TRUE(link.has_value()) << path << ": link type " << pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* data;
  uint32_t frame = 0;
  while (link && pcap_next_ex(p, &h, &data) == 1) {
    ++frame;
    PacketInfo info;
    if (parse_packet(data, h->caplen, *link, info) != PacketStatus::kOk) continue;
    if (info.proto != 17 || !info.l4_valid) continue;
    Udp u;
    u.frame = frame;
    u.payload.assign(info.payload, info.payload + info.payload_len);
    u.src = info.src;
    u.dst_port = info.dst_port;
    u.ts_ms = int64_t{h->ts.tv_sec} * 1000 + h->ts.tv_usec / 1000;
    out.push_back(std::move(u));
  }
  pcap_close(p);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> v;
  if (s.empty()) return v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) v.push_back(item);
  return v;
}
std::vector<uint64_t> numbers(const std::string& s) {
  std::vector<uint64_t> v;
  for (const auto& x : split(s, ',')) v.push_back(std::stoull(x));
  return v;
}

// What tshark says about one frame.
struct TsharkFrame {
  std::string agent;  // v4 or v6 text
  uint32_t sub_agent = 0, seq = 0;
  bool has_sflow = false;
  uint32_t num_samples = 0;
  std::vector<uint64_t> sample_types, rates, frame_lengths, stripped, ifindex, ifinoct;
};

std::map<uint32_t, TsharkFrame> run_tshark(const fs::path& path) {
  std::map<uint32_t, TsharkFrame> out;
  std::string cmd =
      "tshark -r '" + path.string() +
      "' -d udp.port==6343,sflow -T fields -E separator='|' -E occurrence=a -E aggregator=,"
      " -e frame.number -e sflow_245.agent -e sflow_245.agent.v6 -e sflow_245.sub_agent_id"
      " -e sflow_245.sequence_number -e sflow_245.numsamples -e sflow_245.sampletype"
      " -e sflow.flow_sample.sampling_rate -e sflow_245.header.frame_length"
      " -e sflow_245.header.payload_stripped -e sflow_245.ifindex -e sflow_245.ifinoct"
      " 2>/dev/null";
  test::for_each_output_line(cmd, [&](const std::string& l) {
    auto c = split(l + "|", '|');
    if (c.size() < 12) return;
    TsharkFrame t;
    uint32_t frame = static_cast<uint32_t>(std::stoul(c[0]));
    t.agent = !c[1].empty() ? c[1] : c[2];
    t.has_sflow = !c[5].empty();
    if (t.has_sflow) {
      // A malformed datagram can repeat header fields; the first is the header's.
      t.sub_agent = static_cast<uint32_t>(numbers(c[3]).at(0));
      t.seq = static_cast<uint32_t>(numbers(c[4]).at(0));
      t.num_samples = static_cast<uint32_t>(numbers(c[5]).at(0));
    }
    t.sample_types = numbers(c[6]);
    t.rates = numbers(c[7]);
    t.frame_lengths = numbers(c[8]);
    t.stripped = numbers(c[9]);
    t.ifindex = numbers(c[10]);
    t.ifinoct = numbers(c[11]);
    out[frame] = std::move(t);
  });
  return out;
}

uint64_t total_samples(const SflowAgentState::Counts& c) {
  return c.flow_samples + c.expanded_flow_samples + c.counter_samples + c.expanded_counter_samples +
         c.discard_samples + c.unknown_samples;
}

// Decodes every sFlow datagram of a pcap and compares with tshark frame by frame.
struct FileResult {
  size_t datagrams = 0, compared = 0, records = 0, flow_samples = 0, counter_samples = 0;
  DecodeStats stats;
};

FileResult compare_pcap(const std::string& rel) {
  FileResult res;
  fs::path path = testdata() / rel;
  SCOPED_TRACE(rel);
  auto udp = read_udp(path);
  auto ts = run_tshark(path);
  EXPECT_FALSE(ts.empty()) << "tshark gave no output for " << rel;
  SflowAgentState st;
  std::map<std::pair<std::string, uint64_t>, uint64_t> last_inoct;  // tshark view
  for (const auto& u : udp) {
    if (u.dst_port != 6343) continue;
    ++res.datagrams;
    SCOPED_TRACE("frame " + std::to_string(u.frame));
    Datagram dg;
    dg.data = u.payload;
    dg.exporter = u.src;
    dg.recv_ms = u.ts_ms;
    FlowBatch batch;
    DecodeStats stats;
    auto before = st.counts();
    decode_sflow(dg, st, batch, stats);
    res.stats.merge(stats);
    const auto& after = st.counts();
    res.records += batch.size();
    res.flow_samples += (after.flow_samples - before.flow_samples) +
                        (after.expanded_flow_samples - before.expanded_flow_samples);
    res.counter_samples += (after.counter_samples - before.counter_samples) +
                           (after.expanded_counter_samples - before.expanded_counter_samples);
    auto it = ts.find(u.frame);
    if (it == ts.end() || !it->second.has_sflow) {
      EXPECT_GT(stats.total_errors(), 0u) << "tshark did not decode it, we did";
      continue;
    }
    const TsharkFrame& t = it->second;
    if (stats.total_errors() != 0) {
      // Malformed by our reading: never more samples than the header claims.
      EXPECT_LE(total_samples(after) - total_samples(before), t.num_samples);
      continue;
    }
    ++res.compared;
    const auto& hdr = st.last_header();
    IpAddr agent = hdr.agent;
    EXPECT_EQ(agent.to_string(), t.agent);
    EXPECT_EQ(hdr.sub_agent, t.sub_agent);
    EXPECT_EQ(hdr.sequence, t.seq);
    EXPECT_EQ(total_samples(after) - total_samples(before), t.num_samples);
    std::map<uint64_t, uint64_t> types;
    for (uint64_t ty : t.sample_types) ++types[ty];
    EXPECT_EQ(after.flow_samples - before.flow_samples, types[1]);
    EXPECT_EQ(after.counter_samples - before.counter_samples, types[2]);
    EXPECT_EQ(after.expanded_flow_samples - before.expanded_flow_samples, types[3]);
    EXPECT_EQ(after.expanded_counter_samples - before.expanded_counter_samples, types[4]);
    // Every flow sample with an IP packet became a record, in order: the rates and frame
    // lengths line up with tshark's when every sample did.
    uint64_t non_ip = after.non_ip_samples - before.non_ip_samples;
    if (non_ip == 0 && batch.size() == t.rates.size()) {
      for (size_t i = 0; i < batch.size(); ++i) {
        const FlowRecord& r = batch.records[i];
        EXPECT_EQ(r.sampling_rate, t.rates[i]);
        EXPECT_EQ(r.packets, t.rates[i]);
        EXPECT_EQ(r.exporter.to_string(), t.agent.empty() ? u.src.to_string() : t.agent);
        if (batch.size() == t.frame_lengths.size() && t.rates[i] != 0) {
          EXPECT_EQ(r.bytes / t.rates[i], t.frame_lengths[i] - t.stripped[i]);
        }
      }
    } else {
      EXPECT_LE(batch.size(), t.rates.size());
    }
    if (t.ifindex.size() == t.ifinoct.size()) {
      for (size_t i = 0; i < t.ifindex.size(); ++i)
        last_inoct[{t.agent, t.ifindex[i]}] = t.ifinoct[i];
    }
  }
  for (const auto& [key, inoct] : last_inoct) {
    const IfCounters* c = st.counters(*IpAddr::parse(key.first), static_cast<uint32_t>(key.second));
    EXPECT_NE(c, nullptr) << key.first << " ifIndex " << key.second;
    if (c != nullptr) {
      EXPECT_EQ(c->in_octets, inoct) << key.first << " ifIndex " << key.second;
    }
  }
  return res;
}

class SflowPcapInterop : public ::testing::TestWithParam<const char*> {};

TEST_P(SflowPcapInterop, MatchesTshark) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  if (!have_tshark()) GTEST_SKIP() << "tshark not installed";
  FileResult r = compare_pcap(GetParam());
  EXPECT_GT(r.datagrams, 0u);
  // The tcpdump crash reproducer is invalid by design (tshark does not decode it either).
  if (std::string(GetParam()).find("segv") == std::string::npos) {
    EXPECT_GT(r.compared, 0u);
  }
  std::printf(
      "%s: %zu datagrams, %zu compared with tshark, %zu flow samples, %zu records, "
      "%zu counter samples, %llu errors\n",
      GetParam(), r.datagrams, r.compared, r.flow_samples, r.records, r.counter_samples,
      static_cast<unsigned long long>(r.stats.total_errors()));
}

INSTANTIATE_TEST_SUITE_P(
    Captures, SflowPcapInterop,
    ::testing::Values("akvorado/sflow/data-1140.pcap", "akvorado/sflow/data-discard-interface.pcap",
                      "akvorado/sflow/data-encap-vxlan.pcap", "akvorado/sflow/data-icmpv4.pcap",
                      "akvorado/sflow/data-icmpv6.pcap", "akvorado/sflow/data-local-interface.pcap",
                      "akvorado/sflow/data-multiple-interfaces.pcap",
                      "akvorado/sflow/data-qinq.pcap",
                      "akvorado/sflow/data-sflow-expanded-sample.pcap",
                      "akvorado/sflow/data-sflow-ipv4-data.pcap",
                      "akvorado/sflow/data-sflow-raw-ipv4.pcap", "overflowd/sflow.pcap",
                      "tcpdump/sflow_multiple_counter_30_pdus.pcap", "tcpdump/sflow-print-v6.pcap",
                      "tcpdump/sflow_expanded.pcap", "tcpdump/sflow_print-segv.pcap",
                      "nDPI/flow-export/sflow.pcap"));

// Decodes a pcap and returns the records (and the state) for value checks.
struct Decoded {
  FlowBatch batch;
  DecodeStats stats;
  SflowAgentState state;
};
void decode_pcap(const std::string& rel, Decoded& d) {
  for (const auto& u : read_udp(testdata() / rel)) {
    Datagram dg;
    dg.data = u.payload;
    dg.exporter = u.src;
    dg.recv_ms = u.ts_ms;
    decode_sflow(dg, d.state, d.batch, d.stats);
  }
}

TEST(SflowInterop, AkvoradoInterfaceEncodings) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  Decoded disc, local, multi;
  decode_pcap("akvorado/sflow/data-discard-interface.pcap", disc);
  decode_pcap("akvorado/sflow/data-local-interface.pcap", local);
  decode_pcap("akvorado/sflow/data-multiple-interfaces.pcap", multi);
  for (Decoded* d : {&disc, &local, &multi}) {
    ASSERT_EQ(d->batch.size(), 1u);
    EXPECT_EQ(d->batch.records[0].out_if, 0u);
    EXPECT_NE(d->batch.records[0].in_if, 0u);
    EXPECT_EQ(d->stats.total_errors(), 0u) << d->stats.last_error_text();
  }
}

TEST(SflowInterop, AkvoradoQinqAndGateway) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  Decoded q;
  decode_pcap("akvorado/sflow/data-qinq.pcap", q);
  ASSERT_EQ(q.batch.size(), 1u);
  EXPECT_NE(q.batch.records[0].vlan, 0);
  Decoded g;
  decode_pcap("akvorado/sflow/data-1140.pcap", g);
  ASSERT_EQ(g.batch.size(), 5u);
  bool any_as = false;
  for (const auto& r : g.batch.records) {
    EXPECT_EQ(r.exporter, *IpAddr::parse("172.16.0.3"));
    any_as |= r.src_as != 0 || r.dst_as != 0;
  }
  EXPECT_TRUE(any_as) << "extended gateway data applied";
}

// tcpdump -v golden: the expanded flow sample, field by field.
TEST(SflowInterop, TcpdumpExpandedGolden) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  std::ifstream in(testdata() / "tcpdump/sflow_expanded.out");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      text, m,
      std::regex(
          R"(agent ([0-9.]+), agent-id (\d+), seqnum (\d+).*\n.*rate (\d+), pool \d+, drops \d+, input (\d+) \(0\), output (\d+) \(0\))")));
  std::string agent = m[1];
  uint32_t rate = static_cast<uint32_t>(std::stoul(m[4]));
  uint32_t input = static_cast<uint32_t>(std::stoul(m[5]));
  uint32_t output = static_cast<uint32_t>(std::stoul(m[6]));
  uint32_t seq = static_cast<uint32_t>(std::stoul(m[3]));
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(length (\d+), stripped bytes (\d+))")));
  uint64_t frame_len = std::stoull(m[1]), stripped = std::stoull(m[2]);

  Decoded d;
  decode_pcap("tcpdump/sflow_expanded.pcap", d);
  ASSERT_EQ(d.batch.size(), 1u);
  const FlowRecord& r = d.batch.records[0];
  EXPECT_EQ(r.exporter.to_string(), agent);
  EXPECT_EQ(d.state.last_header().sequence, seq);
  EXPECT_EQ(r.sampling_rate, rate);
  EXPECT_EQ(r.in_if, input);
  EXPECT_EQ(r.out_if, output);
  EXPECT_EQ(r.bytes, (frame_len - stripped) * rate);
  EXPECT_EQ(r.src_as != 0 || r.dst_as != 0, true) << "Extended Gateway record present";
}

// tcpdump -v golden: every datagram header and every generic interface counter record.
void check_counter_golden(const std::string& pcap, const std::string& golden) {
  std::ifstream in(testdata() / golden);
  ASSERT_TRUE(in) << golden;
  struct Header {
    bool supported = false;
    std::string agent;
    uint32_t sub_agent = 0, seq = 0, samples = 0;
  };
  std::vector<Header> headers;
  std::map<std::pair<std::string, uint32_t>, std::array<uint64_t, 8>> last;  // golden
  std::regex hdr(
      R"(sFlowv5, IPv[46] agent ([0-9a-f.:]+), agent-id (\d+), seqnum (\d+), uptime \d+, samples (\d+))");
  std::regex unsupported(R"(sFlow version \d+ packet not supported)");
  std::regex ifl(R"(ifindex (\d+), iftype (\d+), ifspeed (\d+))");
  std::regex inl(
      R"(In octets (\d+), unicast pkts (\d+), multicast pkts (\d+), broadcast pkts (\d+))");
  std::regex outl(R"(Out octets (\d+), unicast pkts (\d+), multicast pkts (\d+))");
  std::string line, agent;
  uint32_t ifindex = 0;
  std::array<uint64_t, 8> vals{};
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, hdr)) {
      agent = m[1];
      headers.push_back({true, agent, static_cast<uint32_t>(std::stoul(m[2])),
                         static_cast<uint32_t>(std::stoul(m[3])),
                         static_cast<uint32_t>(std::stoul(m[4]))});
    } else if (std::regex_search(line, m, unsupported)) {
      headers.push_back({});
    } else if (std::regex_search(line, m, ifl)) {
      ifindex = static_cast<uint32_t>(std::stoul(m[1]));
      vals[0] = std::stoull(m[2]);
      vals[1] = std::stoull(m[3]);
    } else if (std::regex_search(line, m, inl)) {
      for (int i = 0; i < 4; ++i) vals[2 + i] = std::stoull(m[1 + i]);
    } else if (std::regex_search(line, m, outl)) {
      vals[6] = std::stoull(m[1]);
      vals[7] = std::stoull(m[2]);
      last[{agent, ifindex}] = vals;
    }
  }
  auto udp = read_udp(testdata() / pcap);
  ASSERT_EQ(udp.size(), headers.size());
  SflowAgentState st;
  for (size_t i = 0; i < udp.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(udp[i].frame));
    Datagram dg;
    dg.data = udp[i].payload;
    dg.exporter = udp[i].src;
    FlowBatch batch;
    DecodeStats stats;
    decode_sflow(dg, st, batch, stats);
    if (!headers[i].supported) {
      EXPECT_EQ(stats.error(DecodeError::kBadVersion), 1u);
      continue;
    }
    EXPECT_EQ(st.last_header().agent.to_string(), headers[i].agent);
    EXPECT_EQ(st.last_header().sub_agent, headers[i].sub_agent);
    EXPECT_EQ(st.last_header().sequence, headers[i].seq);
    EXPECT_EQ(st.last_header().num_samples, headers[i].samples);
  }
  ASSERT_FALSE(last.empty());
  for (const auto& [key, v] : last) {
    const IfCounters* c = st.counters(*IpAddr::parse(key.first), key.second);
    ASSERT_NE(c, nullptr) << key.first << " " << key.second;
    EXPECT_EQ(c->if_type, v[0]);
    EXPECT_EQ(c->if_speed, v[1]);
    EXPECT_EQ(c->in_octets, v[2]);
    EXPECT_EQ(c->in_ucast, v[3]);
    EXPECT_EQ(c->in_mcast, v[4]);
    EXPECT_EQ(c->in_bcast, v[5]);
    EXPECT_EQ(c->out_octets, v[6]);
    EXPECT_EQ(c->out_ucast, v[7]);
  }
}

TEST(SflowInterop, TcpdumpCountersGolden) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  check_counter_golden("tcpdump/sflow_multiple_counter_30_pdus.pcap",
                       "tcpdump/sflow_multiple_counter_30_pdus.out");
}

TEST(SflowInterop, TcpdumpIpv6TransportGolden) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  check_counter_golden("tcpdump/sflow-print-v6.pcap", "tcpdump/sflow-print-v6.out");
}

TEST(SflowInterop, TcpdumpSegvReproducer) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  Decoded d;
  decode_pcap("tcpdump/sflow_print-segv.pcap", d);
  EXPECT_EQ(d.batch.size(), 0u);
  EXPECT_GT(d.stats.total_errors(), 0u);  // tcpdump: "[length 8 < 28] (invalid)"
}

// Cistern raw datagrams (.dump = UDP payload): sample counts per PROVENANCE.md.
TEST(SflowInterop, CisternDumps) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  struct Case {
    const char* file;
    uint64_t flow, counter, discard;
  };
  for (const Case& c :
       {Case{"flow_sample.dump", 1, 0, 0}, Case{"flow_sample_3.dump", 3, 0, 0},
        Case{"flow_samples_2.dump", 2, 0, 0}, Case{"counter_sample.dump", 0, 1, 0},
        Case{"event_discarded_packet.dump", 0, 0, 1}, Case{"host_sample.dump", 0, 1, 0}}) {
    SCOPED_TRACE(c.file);
    std::ifstream in(testdata() / "cistern-sflow" / c.file, std::ios::binary);
    ASSERT_TRUE(in);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    SflowAgentState st;
    FlowBatch batch;
    DecodeStats stats;
    Datagram dg;
    dg.data = bytes;
    dg.exporter = *IpAddr::parse("192.0.2.1");
    decode_sflow(dg, st, batch, stats);
    EXPECT_EQ(st.counts().flow_samples + st.counts().expanded_flow_samples, c.flow);
    EXPECT_EQ(st.counts().counter_samples + st.counts().expanded_counter_samples, c.counter);
    EXPECT_EQ(st.counts().discard_samples, c.discard);
    EXPECT_EQ(stats.discarded_packets, c.discard);
    EXPECT_LE(batch.size(), c.flow);
    for (const auto& r : batch.records) EXPECT_EQ(r.source, FlowSource::kSflow);
    std::printf("%s: %zu records, %llu errors %s\n", c.file, batch.size(),
                static_cast<unsigned long long>(stats.total_errors()),
                stats.last_error_text().c_str());
  }
}

// parse_packet (which reads every sFlow sampled header) on akvorado's encapsulation captures.
TEST(PacketInterop, AkvoradoEncapsulations) {
  ORBWATCH_SKIP_WITHOUT_TESTDATA();
  struct Case {
    const char* file;
    PacketStatus status;
    uint8_t proto;  // outer upper-layer protocol: tunnels are not followed
  };
  for (const Case& c :
       {Case{"gre-v4-key.pcap", PacketStatus::kOk, 47},
        Case{"gre-v4-plain.pcap", PacketStatus::kOk, 47},
        Case{"gre-v6-plain.pcap", PacketStatus::kOk, 47},
        Case{"ipv4-ipv4.pcap", PacketStatus::kOk, 4}, Case{"ipv4-ipv6.pcap", PacketStatus::kOk, 41},
        Case{"mpls-eompls-cw.pcap", PacketStatus::kOk, 6},
        Case{"mpls-explicit-null-ipv4.pcap", PacketStatus::kOk, 0},
        Case{"mpls-explicit-null-ipv6.pcap", PacketStatus::kOk, 0},
        Case{"mpls-ipv4.pcap", PacketStatus::kOk, 0}, Case{"mpls-ipv6.pcap", PacketStatus::kOk, 0},
        Case{"mpls-invalid-nibble.pcap", PacketStatus::kMalformed, 0},
        Case{"vlan-ipv6.pcap", PacketStatus::kOk, 0}}) {
    SCOPED_TRACE(c.file);
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline((testdata() / "akvorado/decoder-encap" / c.file).c_str(), err);
    ASSERT_NE(p, nullptr) << err;
    pcap_pkthdr* h;
    const u_char* data;
    ASSERT_EQ(pcap_next_ex(p, &h, &data), 1);
    PacketInfo info;
    PacketStatus st = parse_packet(data, h->caplen, LinkType::kEthernet, info);
    EXPECT_EQ(st, c.status);
    if (c.status == PacketStatus::kOk) {
      EXPECT_NE(info.ip_version, 0);
      if (c.proto != 0) {
        EXPECT_EQ(info.proto, c.proto);
      }
    }
    std::printf("%s: status %d v%d proto %d %s -> %s vlan %d\n", c.file, static_cast<int>(st),
                info.ip_version, info.proto, info.src.to_string().c_str(),
                info.dst.to_string().c_str(), info.vlan);
    pcap_close(p);
  }
}

}  // namespace
}  // namespace orbwatch::ingest
