// `orbwatch analyze INPUT...`: offline. Packet captures are metered into flows (or, where they
// hold NetFlow/IPFIX/sFlow export datagrams, decoded); IPFIX files and NetFlow v5 streams are
// decoded. Flows go to --flows-out as JSON lines; a summary goes to stdout at the end (to
// stderr when the flows themselves go to stdout).
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/alert_summary.h"
#include "cli/commands.h"
#include "cli/detect_setup.h"
#include "cli/flow_summary.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "core/flow_json.h"
#include "core/snapshot.h"
#include "core/time.h"
#include "detect/engine.h"
#include "ingest/capture_ingest.h"
#include "ingest/export_decoder.h"
#include "ingest/export_file.h"
#include "sink/alert_jsonl.h"
#include "sink/alert_store_sink.h"
#include "sink/line_output.h"
#include "store/alert_store.h"
#include "store/archive.h"
#include "store/archive_scan.h"
#include "store/archive_writer.h"
#include "store/inventory_store.h"

namespace orbwatch::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_analyze_signal(int) {
  g_stop = 1;
}

struct AnalyzeOptions {
  std::vector<std::string> inputs;
  std::string flows_out;
  std::string interface;
  std::string bpf;
  double duration_s = 0;
  bool meter_all = false;
  std::vector<uint16_t> decode_ports;
  double active_timeout_s = 1800;
  double inactive_timeout_s = 15;
  bool no_tcp_end = false;
  uint32_t max_flows = 1u << 20;
  bool no_names = false;
  std::string file_exporter = "0.0.0.0";
  std::vector<std::string> feeds;
  std::string alerts_out;
  std::string config;
  std::string store;
  std::vector<std::string> internal;
  std::vector<std::string> params;
  std::vector<std::string> geo;
  size_t top = 5;
  bool quiet = false;
  std::string report;
};

enum class InputKind { kCapture, kExportFile, kArchive, kUnknown };

InputKind detect(const std::string& path, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (std::filesystem::is_directory(store::archive::flows_dir(path), ec)) {
      return InputKind::kArchive;
    }
    error = fmt::format("{}: a directory without a flow archive (no flows/ in it)", path);
    return InputKind::kUnknown;
  }
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = fmt::format("{}: {}", path, std::strerror(errno));
    return InputKind::kUnknown;
  }
  uint8_t head[4] = {};
  size_t n = fread(head, 1, 4, f);
  fclose(f);
  uint32_t magic =
      uint32_t{head[0]} << 24 | uint32_t{head[1]} << 16 | uint32_t{head[2]} << 8 | head[3];
  switch (magic) {
    case 0xa1b2c3d4:
    case 0xd4c3b2a1:  // pcap, micro/nanosecond, either byte order
    case 0xa1b23c4d:
    case 0x4d3cb2a1:
    case 0x0a0d0d0a:  // pcapng section header block
      return InputKind::kCapture;
    default:
      break;
  }
  if (ingest::ExportFileReader::detect({head, n}) != ingest::ExportKind::kNone) {
    return InputKind::kExportFile;
  }
  error = fmt::format("{}: not a pcap, pcapng, IPFIX file or NetFlow v5 stream", path);
  return InputKind::kUnknown;
}

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Everything one run shares across inputs: the decoder keeps templates from file to file
// (template and data often come in separate captures).
class Analyzer {
 public:
  Analyzer(const AnalyzeOptions& o, sink::LineOutput& out, detect::Engine& engine,
           store::ArchiveWriter* archive)
      : o_(o), out_(out), engine_(engine), archive_(archive) {
    capture_opts_.force_meter = o.meter_all;
    capture_opts_.decode_ports = o.decode_ports;
    capture_opts_.meter.active_timeout_ms = static_cast<int64_t>(o.active_timeout_s * 1000);
    capture_opts_.meter.inactive_timeout_ms = static_cast<int64_t>(o.inactive_timeout_s * 1000);
    capture_opts_.meter.tcp_end_expiry = !o.no_tcp_end;
    capture_opts_.meter.max_flows = o.max_flows;
    capture_opts_.meter.extract_names = !o.no_names;
  }

  void run_capture(ingest::PacketSource& src, Progress& progress, uint64_t& done_bytes) {
    ingest::CaptureIngest ci(
        capture_opts_, [this](const ingest::Datagram& dg) { decode(dg); },
        [this](FlowBatch& b) { take(b); });
    const int64_t start_ms = wall_clock_ms();
    const uint64_t base = done_bytes;
    auto go_on = [&] {
      // Captured bytes plus per-packet record headers: close enough to the file offset.
      const auto& st = ci.stats();
      done_bytes = base + st.bytes + 16 * st.packets;
      progress.update(done_bytes, summary_.records() + batch_.size());
      bool timed_out = o_.duration_s > 0 && wall_clock_ms() - start_ms >= o_.duration_s * 1000;
      return g_stop == 0 && !timed_out;
    };
    // A file is read to its end (or a read error, counted with its place); a live interface
    // until Ctrl-C or --duration.
    while (ci.run(src, go_on) && src.live() && go_on()) {
    }
    ci.finish();
    flush_batch();
    capture_stats_.push_back(ci.stats());
    if (src.live() && src.dropped() != 0) {
      problems_.push_back(
          fmt::format("{}: {} packets dropped by the kernel", src.name(), src.dropped()));
    }
  }

  // Replays an archive in its order (files by time, then blocks).
  void run_archive(const std::string& dir) {
    store::ScanSpec spec;
    spec.ordered = true;
    const auto stats = store::scan(dir, spec, [this](unsigned, FlowBatch& b) {
      take(b);
      return g_stop == 0;
    });
    for (const auto& p : stats.problems) problems_.push_back(p);
  }

  bool run_export_file(const std::string& path, Progress& progress, uint64_t& done_bytes) {
    ingest::ExportFileReader reader;
    std::string error;
    if (!reader.open(path, error)) {
      problems_.push_back(error);
      return false;
    }
    auto exporter = IpAddr::parse(o_.file_exporter).value_or(IpAddr{});
    std::span<const uint8_t> msg;
    const uint64_t base = done_bytes;
    while (g_stop == 0 && reader.next(msg)) {
      // RFC 5655 files carry no receive time; the export time in each header is used instead.
      decode(ingest::Datagram{msg, exporter, 0, 0, 0});
      done_bytes = base + reader.offset();
      progress.update(done_bytes, summary_.records() + batch_.size());
    }
    flush_batch();
    if (!reader.error().empty()) problems_.push_back(reader.error());
    return true;
  }

  void finish() {
    flush_batch();
    engine_.finish();
    if (!text_.empty()) out_.write(text_);
  }

  void print_summary(FILE* f) const {
    summary_.print(f, o_.top);
    const auto& ds = decoder_.stats();
    if (ds.datagrams != 0) {
      fmt::print(f, "exports   {} datagrams (", ds.datagrams);
      const char* sep = "";
      const auto& kinds = decoder_.datagrams_by_kind();
      for (size_t k = 1; k < kinds.size(); ++k) {
        if (kinds[k] == 0) continue;
        fmt::print(f, "{}{} {}", sep, ingest::export_kind_name(static_cast<ingest::ExportKind>(k)),
                   kinds[k]);
        sep = ", ";
      }
      fmt::print(f, "), {} templates, {} exporters", ds.templates, decoder_.exporters().size());
      if (ds.seq_lost != 0)
        fmt::print(f, ", ~{} lost by the exporter (sequence gaps)", ds.seq_lost);
      fmt::print(f, "\n");
    }
    for (const auto& cs : capture_stats_) {
      if (cs.packets == 0) continue;
      fmt::print(f, "capture   {} packets, {} metered, {} export datagrams, {} non-IP\n",
                 cs.packets, cs.metered, cs.exports_total(), cs.non_ip);
    }
    std::string errors;
    for (size_t e = 0; e < ds.errors.size(); ++e) {
      if (ds.errors[e] == 0) continue;
      errors +=
          fmt::format("{}{} {}", errors.empty() ? "" : ", ",
                      ingest::decode_error_name(static_cast<ingest::DecodeError>(e)), ds.errors[e]);
    }
    for (const auto& cs : capture_stats_) {
      for (size_t e = 0; e < cs.errors.size(); ++e) {
        if (cs.errors[e] == 0) continue;
        errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ",
                              ingest::capture_error_name(static_cast<ingest::CaptureError>(e)),
                              cs.errors[e]);
      }
    }
    if (!errors.empty()) {
      fmt::print(f, "errors    {}\n", errors);
      if (ds.total_errors() != 0) fmt::print(f, "  last decode error: {}\n", ds.last_error_text());
      for (const auto& cs : capture_stats_) {
        if (cs.total_errors() != 0)
          fmt::print(f, "  last capture error: {}\n", cs.last_error_text());
      }
    }
    for (const auto& p : problems_) fmt::print(f, "warning   {}\n", p);
  }

  uint64_t records() const { return summary_.records(); }
  const FlowSummary& summary() const { return summary_; }
  const ingest::ExportDecoder& decoder() const { return decoder_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  void decode(const ingest::Datagram& dg) {
    decoder_.decode(dg, batch_);
    if (batch_.size() >= 4096) flush_batch();
  }
  void take(FlowBatch& b) {
    summary_.add(b);
    engine_.process(b);
    write(b);
    if (archive_ != nullptr) archive_->append(b, wall_clock_ms());
  }
  void flush_batch() {
    if (batch_.empty()) return;
    take(batch_);
    batch_.clear();
  }
  void write(const FlowBatch& b) {
    if (!out_.enabled()) return;
    for (size_t i = 0; i < b.size(); ++i) append_flow_json(text_, b, i);
    if (text_.size() >= (1u << 20)) out_.write(text_);
  }

  const AnalyzeOptions& o_;
  sink::LineOutput& out_;
  detect::Engine& engine_;
  store::ArchiveWriter* archive_;  // --store: flows are archived too
  ingest::CaptureOptions capture_opts_;
  ingest::ExportDecoder decoder_;
  FlowBatch batch_;
  std::string text_;
  FlowSummary summary_;
  std::vector<ingest::CaptureStats> capture_stats_;
  std::vector<std::string> problems_;
};

void print_intel(FILE* f, const intel::IntelSet& set, const std::vector<std::string>& warnings) {
  if (set.feeds().empty()) return;
  size_t domains = set.domains().domains();
  fmt::print(f, "intel     {} feeds, {} live indicators ({} domains)", set.feeds().size(),
             set.size(), domains);
  if (set.stats().expired != 0) fmt::print(f, ", {} expired", set.stats().expired);
  if (set.stats().not_yet_valid != 0) {
    fmt::print(f, ", {} not yet valid", set.stats().not_yet_valid);
  }
  fmt::print(f, "\n");
  for (const auto& w : warnings) fmt::print(f, "warning   {}\n", w);
}

int run_analyze(const AnalyzeOptions& o) {
  if (o.inputs.empty() && o.interface.empty()) {
    fmt::print(stderr, "orbwatch analyze: no input (give files or --interface)\n");
    return 2;
  }
  // Intel and detectors: configuration errors stop here, before any input is read.
  std::string error;
  std::vector<std::shared_ptr<const intel::LoadedFeed>> feeds;
  std::vector<std::string> feed_warnings;
  std::vector<std::unique_ptr<detect::Detector>> detectors;
  detect::EngineOptions engine_opts;
  if (!load_feed_files(o.feeds, wall_clock_ms(), feeds, feed_warnings, error) ||
      !make_detectors(o.config, o.params, detectors, error) ||
      !load_network_model(o.config, o.internal, engine_opts.model, error)) {
    fmt::print(stderr, "orbwatch analyze: {}\n", error);
    return 2;
  }
  std::vector<std::string> geo_warnings;
  if (!load_geo(o.config, o.geo, engine_opts.geo, geo_warnings, error)) {
    fmt::print(stderr, "orbwatch analyze: {}\n", error);
    return 2;
  }
  for (const auto& w : geo_warnings) fmt::print(stderr, "orbwatch analyze: warning: {}\n", w);
  std::vector<InputKind> kinds;
  uint64_t total = 0;
  for (const auto& path : o.inputs) {
    kinds.push_back(detect(path, error));
    if (kinds.back() == InputKind::kUnknown) {
      fmt::print(stderr, "orbwatch analyze: {}\n", error);
      return 1;
    }
    std::error_code ec;
    if (kinds.back() == InputKind::kArchive && !o.store.empty() &&
        std::filesystem::equivalent(path, o.store, ec)) {
      fmt::print(stderr, "orbwatch analyze: {}: the input archive cannot also be --store\n", path);
      return 2;
    }
    total += file_size(path);
  }
  sink::LineOutput out;
  if (!out.open(o.flows_out, error)) {
    fmt::print(stderr, "orbwatch analyze: --flows-out: {}\n", error);
    return 1;
  }
  sink::LineOutput alerts_out;
  if (!alerts_out.open(o.alerts_out, error)) {
    fmt::print(stderr, "orbwatch analyze: --alerts-out: {}\n", error);
    return 1;
  }
  SnapshotHolder<intel::IntelSet> intel(intel::IntelSet::build(feeds, wall_clock_ms()));
  // The edge inventory and the alert store: continued in the store's state.db when there is
  // one.
  netmodel::EdgeInventory inventory(engine_opts.model->model().inventory.max_services,
                                    engine_opts.model->model().inventory.max_exporters);
  store::AlertStore alert_store;
  std::optional<store::ArchiveWriter> archive;
  // --report without --store: the run's archive and alerts go to a temporary directory, which
  // the report is computed from and which goes when the run ends.
  TempDir temp;
  const std::string store_dir = o.store.empty() && !o.report.empty() ? temp.create(error) : o.store;
  if (!o.report.empty() && store_dir.empty()) {
    fmt::print(stderr, "orbwatch analyze: --report: {}\n", error);
    return 1;
  }
  if (!store_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(store_dir, ec);
    const std::string db = store::state_db_path(store_dir);
    if (ec || !store::load_inventory(db, inventory, true, error) ||
        !alert_store.open(db, true, error)) {
      fmt::print(stderr, "orbwatch analyze: --store {}: {}\n", store_dir,
                 ec ? ec.message() : error);
      return 1;
    }
    for (const auto& p : store::archive::recover(store_dir).problems) {
      fmt::print(stderr, "orbwatch analyze: --store {}: {}\n", store_dir, p);
    }
    archive.emplace(store_dir);
    // Learned baselines continue where the last run left them.
    for (auto& d : detectors) {
      std::string state;
      if (!store::load_detector_state(db, std::string(d->name()), state, error) ||
          !d->load_state(state, error)) {
        fmt::print(stderr, "orbwatch analyze: --store {}: {}\n", store_dir, error);
        return 1;
      }
    }
  }
  sink::AlertJsonLines alert_lines(alerts_out);
  sink::AlertStoreSink stored(store_dir.empty() ? nullptr : &alert_store, alert_lines);
  AlertSummary alerts(stored);
  engine_opts.inventory = &inventory;
  detect::Engine engine(engine_opts, std::move(detectors), intel, alerts);

  std::signal(SIGINT, on_analyze_signal);
  std::signal(SIGTERM, on_analyze_signal);

  Analyzer an(o, out, engine, archive ? &*archive : nullptr);
  Progress progress(total, o.quiet);
  uint64_t done = 0;
  for (size_t i = 0; i < o.inputs.size() && g_stop == 0; ++i) {
    if (kinds[i] == InputKind::kArchive) {
      an.run_archive(o.inputs[i]);
      continue;
    }
    if (kinds[i] == InputKind::kExportFile) {
      if (!an.run_export_file(o.inputs[i], progress, done)) {
        progress.done();
        an.print_summary(stderr);
        return 1;
      }
      continue;
    }
    auto opened = ingest::PacketSource::open_file(o.inputs[i]);
    if (!opened.source) {
      progress.done();
      fmt::print(stderr, "orbwatch analyze: {}\n", opened.error);
      return 1;
    }
    an.run_capture(*opened.source, progress, done);
  }
  if (!o.interface.empty() && g_stop == 0) {
    ingest::LiveOptions lo;
    lo.filter = o.bpf;
    auto opened = ingest::PacketSource::open_live(o.interface, lo);
    if (!opened.source) {
      fmt::print(stderr, "orbwatch analyze: {}\n", opened.error);
      return 1;
    }
    fmt::print(stderr, "orbwatch analyze: capturing on {} (Ctrl-C to stop)\n", o.interface);
    an.run_capture(*opened.source, progress, done);
  }
  progress.done();
  an.finish();
  if (out.failed()) {
    fmt::print(stderr, "orbwatch analyze: --flows-out: {}\n", out.error());
    return 1;
  }
  if (alerts_out.failed()) {
    fmt::print(stderr, "orbwatch analyze: --alerts-out: {}\n", alerts_out.error());
    return 1;
  }
  FILE* summary = out.is_stdout() || alerts_out.is_stdout() ? stderr : stdout;
  an.print_summary(summary);
  print_intel(summary, *intel.load(), feed_warnings);
  if (engine_opts.geo) fmt::print(summary, "{}\n", geo_summary(*engine_opts.geo));
  fmt::print(
      summary, "edge      {} devices answering from outside, {} services, {} exporters{}\n",
      inventory.devices().size(), inventory.services().size(), inventory.exporters().size(),
      inventory.dropped() != 0 ? fmt::format(" ({} past the cap)", inventory.dropped()) : "");
  if (!o.store.empty() && !store::save_inventory(store::state_db_path(o.store), inventory, error)) {
    fmt::print(stderr, "orbwatch analyze: --store {}: {}\n", o.store, error);
    return 1;
  }
  if (!o.store.empty()) {
    for (const auto& d : engine.detectors()) {
      const std::string state = d->save_state();
      if (!state.empty() &&
          !store::save_detector_state(store::state_db_path(o.store), std::string(d->name()), state,
                                      wall_clock_ms(), error)) {
        fmt::print(stderr, "orbwatch analyze: --store {}: {}\n", o.store, error);
        return 1;
      }
    }
  }
  if (archive) {
    const bool sealed = archive->close(error);
    const auto& as = archive->stats();
    if (!o.store.empty()) {
      fmt::print(
          summary, "archive   {} flows stored in {} ({} segments, {} bytes){}\n", as.flows_stored,
          o.store, as.segments_sealed, as.bytes_sealed,
          as.flows_not_stored != 0 ? fmt::format(", {} NOT stored", as.flows_not_stored) : "");
    }
    if (!sealed) {
      fmt::print(stderr, "orbwatch analyze: --store {}: {}\n", store_dir, error);
      return 1;
    }
  }
  if (stored.not_stored() != 0) {
    fmt::print(stderr, "orbwatch analyze: --store {}: {} alerts not stored: {}\n", store_dir,
               stored.not_stored(), stored.error());
    return 1;
  }
  alerts.print(summary, o.top);
  if (!o.report.empty()) {
    ReportInput ri;
    ri.title = fmt::format("orbwatch report: {}", o.inputs.empty() ? o.interface : o.inputs[0]);
    if (o.inputs.size() > 1) ri.title += fmt::format(" and {} more", o.inputs.size() - 1);
    ri.inputs = o.inputs;
    ri.store = store_dir;
    ri.from_ms = an.summary().first_ms() == INT64_MAX ? 0 : an.summary().first_ms();
    ri.until_ms = an.summary().last_ms() == INT64_MIN ? 0 : an.summary().last_ms();
    ri.records = an.records();
    ri.inventory = &inventory;
    ri.model = engine_opts.model.get();
    ri.geo = engine_opts.geo.get();
    ri.exporters = server::exporter_metrics(an.decoder());
    ri.exporters_total = an.decoder().exporters().size();
    ri.decode = an.decoder().stats();
    std::vector<intel::FeedStatus> feed_status;
    for (const auto& f : feeds) {
      intel::FeedStatus st;
      st.name = f->config.name;
      st.source = f->config.source;
      st.format = intel::feed_format_name(f->parsed.format);
      st.entries = f->parsed.indicators.size();
      st.fetched_ms = st.last_success_ms = f->loaded_ms;
      feed_status.push_back(std::move(st));
    }
    ri.feeds = std::move(feed_status);
    ri.problems = an.problems();
    if (!write_report(o.report, ri, error)) {
      fmt::print(stderr, "orbwatch analyze: --report {}: {}\n", o.report, error);
      return 1;
    }
    fmt::print(summary, "report    {}\n", o.report);
  }
  return 0;
}

}  // namespace

void add_analyze_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<AnalyzeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "Analyse captures offline: pcap/pcapng of raw traffic (metered into flows) or of "
      "NetFlow/IPFIX/sFlow exports (decoded), IPFIX files (RFC 5655) and NetFlow v5 streams");
  cmd->add_option("inputs", o->inputs,
                  "input files (the format is read from the file header) or flow archive "
                  "directories (replayed through the detectors)");
  cmd->add_option("--flows-out", o->flows_out, "write flows as JSON lines to FILE ('-': stdout)");
  cmd->add_option("--interface,-i", o->interface, "also capture live from this interface");
  cmd->add_option("--bpf", o->bpf, "BPF filter for --interface");
  cmd->add_option("--duration", o->duration_s, "stop live capture after SECONDS (default: Ctrl-C)");
  cmd->add_flag("--meter", o->meter_all, "meter every packet, even NetFlow/IPFIX/sFlow exports");
  cmd->add_option("--decode-ports", o->decode_ports,
                  "UDP ports whose datagrams are decoded as exports, besides the well-known ones")
      ->delimiter(',');
  cmd->add_option("--active-timeout", o->active_timeout_s,
                  "meter: end long flows after SECONDS (default 1800)");
  cmd->add_option("--inactive-timeout", o->inactive_timeout_s,
                  "meter: end idle flows after SECONDS (default 15)");
  cmd->add_flag("--no-tcp-end", o->no_tcp_end, "meter: do not end TCP flows on FIN/RST");
  cmd->add_option("--max-flows", o->max_flows, "meter: most flows held at once (default 1048576)");
  cmd->add_flag("--no-names", o->no_names, "meter: do not record TLS SNI, HTTP Host, DNS names");
  cmd->add_option("--file-exporter", o->file_exporter,
                  "exporter address for IPFIX files and v5 streams (they carry none)");
  cmd->add_option("--alerts-out", o->alerts_out,
                  "write alerts as JSON lines to FILE ('-': stdout)");
  cmd->add_option("--feed", o->feeds,
                  "threat feed FILE to match every flow against (repeatable; any format "
                  "`orbwatch feeds lint` reads)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--config", o->config,
                  "orbwatch config FILE: the network model (internal prefixes, zones, assets, "
                  "allow-lists, segmentation; docs/configuration.md)");
  cmd->add_option("--store", o->store,
                  "data directory: flows are archived in DIR/flows (for query and hunt), alerts "
                  "and the edge inventory go to DIR/state.db (the inventory is continued)");
  cmd->add_option("--internal", o->internal,
                  "internal prefixes (comma-separated; replaces the config's; default RFC 1918, "
                  "CGNAT, ULA, link-local)")
      ->delimiter(',');
  cmd->add_option("--geo", o->geo,
                  "ASN or country database: a CSV of @ip-location-db's formats or a MaxMind DB "
                  "(.mmdb); repeatable, added to the config's [enrich] databases")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--param", o->params,
                  "detector parameter detector.name=value, e.g. intel.window=2h (repeatable; "
                  "see docs/detection.md)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cmd->add_option("--top", o->top, "rows per top list in the summary (default 5)");
  cmd->add_flag("--quiet,-q", o->quiet, "no progress bar");
  cmd->add_option("--report", o->report,
                  "also write FILE.html: the dashboard's pages over this analysis in one file "
                  "that opens without a network (docs/dashboard.md)");
  cmd->callback([o, &exit_code] { exit_code = run_analyze(*o); });
}

}  // namespace orbwatch::cli
