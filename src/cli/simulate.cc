// `orbwatch simulate`: a simulated organisation's flows with injected covert-network scenarios
// and their ground truth, for demos, tests and measuring the detectors (src/sim/).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.h"
#include "core/flow_json.h"
#include "core/time.h"
#include "ingest/udp_listener.h"
#include "sim/export_encoder.h"
#include "sim/simulator.h"
#include "sink/line_output.h"

namespace orbwatch::cli {
namespace {

struct SimulateOptions {
  uint64_t seed = 1;
  uint32_t hosts = 200;
  double days = 7;
  std::string start = "2026-04-06T00:00:00Z";
  std::string country = "GB";
  std::string scenarios = "all";
  uint32_t repeat = 1;
  double jitter = 0.15;
  double clean_days = 2;
  std::string out_dir;
  std::string flows_out;
  std::string export_url;
  std::string format = "v9";
  double rate = 0;
  std::string pcap;
};

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    fmt::print(stderr, "orbwatch simulate: {}: {}\n", path, std::strerror(errno));
    return false;
  }
  return true;
}

// Export datagrams go out over UDP (paced) and/or into a pcap as the exporters sent them.
class ExportOutput {
 public:
  bool open_udp(const std::string& url, std::string& error) {
    ingest::ListenAddress a;
    if (!ingest::parse_listen_url(url, a, error)) return false;
    if (a.port == 0) {
      error = url + ": a port is needed";
      return false;
    }
    fd_ = ::socket(a.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      error = std::string("socket: ") + std::strerror(errno);
      return false;
    }
    std::memset(&to_, 0, sizeof to_);
    if (a.v6) {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&to_);
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons(a.port);
      std::memcpy(&s6->sin6_addr, a.addr.b.data(), 16);
      to_len_ = sizeof(sockaddr_in6);
    } else {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&to_);
      s4->sin_family = AF_INET;
      s4->sin_port = htons(a.port);
      std::memcpy(&s4->sin_addr, a.addr.b.data() + 12, 4);
      to_len_ = sizeof(sockaddr_in);
    }
    port_ = a.port;
    return true;
  }
  bool open_pcap(const std::string& path, std::string& error) {
    dead_ = pcap_open_dead(DLT_EN10MB, 65535);
    dumper_ = dead_ ? pcap_dump_open(dead_, path.c_str()) : nullptr;
    if (!dumper_) {
      error = path + ": " + (dead_ ? pcap_geterr(dead_) : "pcap_open_dead failed");
      return false;
    }
    return true;
  }
  void set_rate(double flows_per_s) { rate_ = flows_per_s; }
  uint16_t port() const { return port_; }

  void send(std::span<const uint8_t> d, const IpAddr& exporter, size_t records, int64_t export_ms,
            uint16_t dst_port) {
    if (dumper_) dump(d, exporter, export_ms, dst_port);
    if (fd_ < 0) return;
    if (rate_ > 0) {
      // Paced: the datagram leaves when its records' share of the rate allows.
      using clock = std::chrono::steady_clock;
      if (sent_ == 0) t0_ = clock::now();
      const auto due = t0_ + std::chrono::duration_cast<clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(sent_) / rate_));
      if (due > clock::now()) std::this_thread::sleep_until(due);
    }
    sent_ += records;
    if (::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to_), to_len_) < 0)
      ++send_errors_;
  }
  uint64_t send_errors() const { return send_errors_; }

  ~ExportOutput() {
    if (fd_ >= 0) ::close(fd_);
    if (dumper_) pcap_dump_close(dumper_);
    if (dead_) pcap_close(dead_);
  }

 private:
  // Ethernet + IPv4 + UDP from the exporter to a collector at 10.20.2.9.
  void dump(std::span<const uint8_t> d, const IpAddr& exporter, int64_t ms, uint16_t dst_port) {
    frame_.assign(14 + 20 + 8, 0);
    frame_[12] = 0x08;  // IPv4
    uint8_t* ip = frame_.data() + 14;
    const size_t ip_len = 20 + 8 + d.size();
    ip[0] = 0x45;
    ip[2] = static_cast<uint8_t>(ip_len >> 8);
    ip[3] = static_cast<uint8_t>(ip_len);
    ip[8] = 64;
    ip[9] = 17;
    std::memcpy(ip + 12, exporter.b.data() + 12, 4);
    const uint8_t collector[4] = {10, 20, 2, 9};
    std::memcpy(ip + 16, collector, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += uint32_t{ip[i]} << 8 | ip[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = static_cast<uint8_t>(~sum >> 8);
    ip[11] = static_cast<uint8_t>(~sum);
    uint8_t* udp = ip + 20;
    udp[0] = 0x08;  // source port 2055... of the exporter: any
    udp[1] = 0x07;
    udp[2] = static_cast<uint8_t>(dst_port >> 8);
    udp[3] = static_cast<uint8_t>(dst_port);
    udp[4] = static_cast<uint8_t>((8 + d.size()) >> 8);
    udp[5] = static_cast<uint8_t>(8 + d.size());
    frame_.insert(frame_.end(), d.begin(), d.end());
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(ms / 1000);
    h.ts.tv_usec = static_cast<suseconds_t>(ms % 1000 * 1000);
    h.caplen = h.len = static_cast<bpf_u_int32>(frame_.size());
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, frame_.data());
  }

  int fd_ = -1;
  sockaddr_storage to_{};
  socklen_t to_len_ = 0;
  uint16_t port_ = 0;
  pcap_t* dead_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  std::vector<uint8_t> frame_;
  double rate_ = 0;
  uint64_t sent_ = 0;
  uint64_t send_errors_ = 0;
  std::chrono::steady_clock::time_point t0_;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

int run_simulate(const SimulateOptions& o) {
  auto fail = [](const std::string& what) {
    fmt::print(stderr, "orbwatch simulate: {}\n", what);
    return 2;
  };
  if (o.out_dir.empty() && o.flows_out.empty() && o.export_url.empty() && o.pcap.empty())
    return fail("nothing to write: give --out, --flows-out, --export and/or --pcap");
  sim::SimOptions so;
  so.world.seed = o.seed;
  so.world.hosts = o.hosts;
  if (o.country.size() != 2) return fail("--country " + o.country + ": expected a two-letter code");
  so.world.country = o.country;
  auto start = parse_rfc3339_ms(o.start);
  if (!start) return fail("--start " + o.start + ": expected an RFC 3339 time");
  so.start_ms = *start;
  so.days = o.days;
  so.clean_days = o.clean_days;
  so.repeat = o.repeat;
  so.beacon_jitter = o.jitter;
  if (o.scenarios == "none") {
    so.scenarios.clear();
  } else if (o.scenarios != "all") {
    so.scenarios = split_commas(o.scenarios);
  }
  sim::ExportFormat format;
  if (!sim::parse_export_format(o.format, format))
    return fail("--format " + o.format + ": expected v5, v9 or ipfix");
  if (o.hosts == 0 || o.hosts > 100'000) return fail("--hosts: expected 1 to 100000");
  if (o.jitter < 0 || o.jitter > 1) return fail("--jitter: expected 0 to 1");

  std::unique_ptr<sim::Simulator> simulator;
  try {
    simulator = std::make_unique<sim::Simulator>(so);
  } catch (const std::invalid_argument& e) {
    return fail(std::string(e.what()) + fmt::format(" (scenarios: {})", [] {
                  std::string s;
                  for (auto n : sim::kScenarioNames) s += (s.empty() ? "" : ", ") + std::string(n);
                  return s;
                }()));
  }

  if (!o.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    if (ec) return fail(o.out_dir + ": " + ec.message());
    std::string labels;
    for (const auto& l : simulator->labels()) labels += sim::label_json(l) + "\n";
    const auto& w = simulator->world();
    if (!write_file(o.out_dir + "/model.toml", w.model_toml()) ||
        !write_file(o.out_dir + "/feed.txt", simulator->feed_text()) ||
        !write_file(o.out_dir + "/labels.jsonl", labels) ||
        !write_file(o.out_dir + "/asn.csv", w.asn_csv()) ||
        !write_file(o.out_dir + "/country.csv", w.country_csv()) ||
        !write_file(o.out_dir + "/simulation.json",
                    fmt::format("{{\"seed\":{},\"hosts\":{},\"internal_hosts\":{},\"days\":{},"
                                "\"start\":\"{}\"}}\n",
                                o.seed, o.hosts, w.hosts.size(), o.days, rfc3339_ms(so.start_ms))))
      return 1;
  }

  sink::LineOutput flows;
  std::string err;
  if (!flows.open(o.flows_out, err)) return fail("--flows-out: " + err);
  ExportOutput exports;
  if (!o.export_url.empty() && !exports.open_udp(o.export_url, err))
    return fail("--export: " + err);
  if (!o.pcap.empty() && !exports.open_pcap(o.pcap, err)) return fail("--pcap: " + err);
  exports.set_rate(o.rate);
  const bool exporting = !o.export_url.empty() || !o.pcap.empty();
  const uint16_t pcap_port = exports.port() != 0                   ? exports.port()
                             : format == sim::ExportFormat::kIpfix ? 4739
                                                                   : 2055;
  // One encoder per exporter (edge router, core firewall): their own templates and sequences.
  sim::ExportEncoder edge({format, 1}), core({format, 2});
  const IpAddr edge_addr = simulator->world().edge_exporter;
  const IpAddr core_addr = simulator->world().core_exporter;

  FlowBatch batch;
  std::vector<FlowRecord> by_exporter[2];
  std::string out;
  uint64_t total = 0;
  while (simulator->next(batch)) {
    total += batch.size();
    if (flows.enabled()) {
      for (size_t i = 0; i < batch.size(); ++i) append_flow_json(out, batch, i);
      flows.write(out);
    }
    if (exporting) {
      for (auto& v : by_exporter) v.clear();
      for (const FlowRecord& r : batch.records) by_exporter[r.obs_domain == 2].push_back(r);
      auto emit_from = [&](const IpAddr& exporter) {
        return [&, exporter](std::span<const uint8_t> d, int64_t ms) {
          // Records in a datagram: estimated from its size for pacing only.
          exports.send(d, exporter, d.size() / 56 + 1, ms, pcap_port);
        };
      };
      edge.encode(by_exporter[0], emit_from(edge_addr));
      core.encode(by_exporter[1], emit_from(core_addr));
    }
    batch.clear();
  }
  if (flows.failed()) return fail("--flows-out: " + flows.error());
  const uint64_t skipped = edge.skipped() + core.skipped();
  fmt::print(stderr,
             "orbwatch simulate: {} flows over {} days ({} hosts, seed {}), {} scenarios{}{}\n",
             total, o.days, o.hosts, o.seed, simulator->labels().size(),
             exporting ? fmt::format(", {} {} datagrams", edge.datagrams() + core.datagrams(),
                                     sim::export_format_name(format))
                       : "",
             skipped ? fmt::format(" ({} IPv6 flows not exportable as v5)", skipped) : "");
  if (exports.send_errors() != 0) {
    fmt::print(stderr, "orbwatch simulate: --export: {} datagrams could not be sent\n",
               exports.send_errors());
    return 1;
  }
  return 0;
}

}  // namespace

void add_simulate_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Simulate an organisation's flows with covert-network attack scenarios and their ground "
      "truth (labels), deterministic for a seed");
  cmd->add_option("--seed", o->seed, "random seed: the same seed gives the same world and flows")
      ->capture_default_str();
  cmd->add_option("--hosts", o->hosts, "workstations; servers, IoT and branches scale with it")
      ->capture_default_str();
  cmd->add_option("--days", o->days, "simulated days")->capture_default_str();
  cmd->add_option("--start", o->start, "event time of the first flow (RFC 3339)")
      ->capture_default_str();
  cmd->add_option("--country", o->country, "the organisation's country (ISO 3166 alpha-2)")
      ->capture_default_str();
  cmd->add_option("--scenarios", o->scenarios,
                  "all, none, or a comma list of: raptor_train_tier1, quad7_spray, kv_relay, "
                  "intel_hit, allowlist_breach, backdoor_listener, exfiltration, segmentation")
      ->capture_default_str();
  cmd->add_option("--repeat", o->repeat, "instances of each scenario")->capture_default_str();
  cmd->add_option("--jitter", o->jitter,
                  "relative jitter of the beaconing scenario's periods (0 to 1)")
      ->capture_default_str();
  cmd->add_option("--clean-days", o->clean_days,
                  "days before any scenario starts (a third of the span when shorter)")
      ->capture_default_str();
  cmd->add_option(
      "--out", o->out_dir,
      "write model.toml, feed.txt, labels.jsonl, asn.csv, country.csv and simulation.json here");
  cmd->add_option("--flows-out", o->flows_out, "write flows as JSON lines to FILE ('-': stdout)");
  cmd->add_option("--export", o->export_url, "send export datagrams to udp://HOST:PORT");
  cmd->add_option("--format", o->format, "export format: v9, ipfix or v5 (IPv4 only)")
      ->capture_default_str();
  cmd->add_option("--rate", o->rate, "flows per second sent with --export (0: as fast as possible)")
      ->capture_default_str();
  cmd->add_option("--pcap", o->pcap, "write the export datagrams into a pcap file");
  cmd->callback([o, &exit_code] { exit_code = run_simulate(*o); });
}

}  // namespace orbwatch::cli
