// `orbwatch collect`: receive NetFlow v5/v9/IPFIX over UDP, decode, write flow JSON lines.
//
// Threads: one receive thread per SO_REUSEPORT socket (UdpListener), each with its own
// ExportDecoder, FlowBatch and output buffer, so the data path shares nothing mutable. Full
// buffers go to the output under one mutex, whole lines at a time; with --store each receive
// thread feeds its own ArchiveThread (writer threads). The main thread only waits
// for a signal or --duration and prints statistics from snapshots each worker publishes.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "cli/archive_args.h"
#include "cli/commands.h"
#include "core/cpus.h"
#include "core/flow_json.h"
#include "core/time.h"
#include "ingest/export_decoder.h"
#include "ingest/udp_listener.h"
#include "sink/line_output.h"
#include "store/archive.h"
#include "store/archive_thread.h"
#include "store/archive_writer.h"

namespace orbwatch::cli {

namespace {

volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_collect_signal(int sig) {
  g_signal = sig;
}

struct CollectOptions {
  std::vector<std::string> listen;
  std::string flows_out;
  ArchiveWriteArgs archive;
  std::vector<std::string> exporter_allow;
  unsigned threads = 1;
  unsigned store_writers = 0;  // per receive thread; 0: from the cores left over
  int rcvbuf = 8 << 20;
  double stats_interval_s = 10;
  double duration_s = 0;
};

constexpr size_t kFlushBytes = 1 << 20;

// Per receive thread: decoder, batch and output buffer (thread-owned) plus a published copy of
// the statistics for the main thread.
struct Worker {
  ingest::ExportDecoder decoder;
  FlowBatch batch;
  std::string out;
  std::unique_ptr<store::ArchiveThread> archive;  // --store: encodes and writes on its thread
  store::ArchiveWriterStats archive_published;
  mutable std::mutex mu;
  ingest::DecodeStats published;
  size_t exporters = 0;

  void publish() {
    std::lock_guard lock(mu);
    published = decoder.stats();
    exporters = decoder.exporters().size();
    if (archive) archive_published = archive->stats();
  }
};

class Collector : public ingest::DatagramConsumer {
 public:
  Collector(size_t n, sink::LineOutput& output, const std::string& store,
            const store::ArchiveWriterOptions& archive, size_t writers)
      : output_(output) {
    for (size_t i = 0; i < n; ++i) {
      auto w = std::make_unique<Worker>();
      if (!store.empty())
        w->archive = std::make_unique<store::ArchiveThread>(store, archive, writers);
      workers_.push_back(std::move(w));
    }
  }

  void on_datagrams(size_t index, std::span<const ingest::Datagram> batch) override {
    Worker& w = *workers_[index];
    for (const ingest::Datagram& d : batch) w.decoder.decode(d, w.batch);
    if (output_.enabled()) {
      for (size_t i = 0; i < w.batch.size(); ++i) append_flow_json(w.out, w.batch, i);
      if (w.out.size() >= kFlushBytes) output_.write(w.out);
    }
    if (w.archive) w.archive->append(w.batch, wall_clock_ms());
    w.batch.clear();
    w.publish();
  }
  void on_idle(size_t index, bool final) override {
    Worker& w = *workers_[index];
    if (output_.enabled()) output_.write(w.out);
    if (w.archive) {
      if (final) {
        std::string error;
        w.archive->close(error);  // the stats keep the error
      } else {
        w.archive->tick(wall_clock_ms());
      }
    }
    w.publish();
  }

  store::ArchiveWriterStats archive_stats() const {
    store::ArchiveWriterStats total;
    for (const auto& w : workers_) {
      std::lock_guard lock(w->mu);
      total.merge(w->archive_published);
    }
    return total;
  }

  // Sums of the published snapshots; safe from any thread.
  ingest::DecodeStats stats(size_t& exporters) const {
    ingest::DecodeStats total;
    exporters = 0;
    for (const auto& w : workers_) {
      std::lock_guard lock(w->mu);
      total.merge(w->published);
      exporters += w->exporters;
    }
    return total;
  }

 private:
  sink::LineOutput& output_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

std::string reasons_text(const ingest::UdpStats& u, const ingest::DecodeStats& d) {
  std::string s;
  for (size_t i = 0; i < static_cast<size_t>(ingest::UdpDrop::kCount); ++i) {
    if (u.drops[i] == 0) continue;
    s += fmt::format(" drop_{}={}", ingest::udp_drop_name(static_cast<ingest::UdpDrop>(i)),
                     u.drops[i]);
  }
  for (size_t i = 0; i < static_cast<size_t>(ingest::DecodeError::kCount); ++i) {
    if (d.errors[i] == 0) continue;
    s += fmt::format(" err_{}={}", ingest::decode_error_name(static_cast<ingest::DecodeError>(i)),
                     d.errors[i]);
  }
  return s;
}

int run_collect(const CollectOptions& o) {
  ingest::UdpListenerOptions lo;
  for (const std::string& url : o.listen) {
    ingest::ListenAddress a;
    std::string err;
    if (!ingest::parse_listen_url(url, a, err)) {
      fmt::print(stderr, "orbwatch collect: {}\n", err);
      return 2;
    }
    lo.listen.push_back(a);
  }
  for (const std::string& cidr : o.exporter_allow) {
    auto p = Prefix::parse(cidr);
    if (!p) {
      fmt::print(stderr, "orbwatch collect: invalid --exporter-allow '{}' (expected CIDR)\n", cidr);
      return 2;
    }
    lo.exporter_allow.push_back(*p);
  }
  lo.sockets_per_listen = o.threads == 0 ? 1 : o.threads;
  lo.rcvbuf_bytes = o.rcvbuf;
  store::ArchiveWriterOptions ao;
  store::archive::Retention retention;
  const std::string& store_dir = o.archive.store;
  if (!store_dir.empty() && !parse_archive_args(o.archive, "collect", ao, retention)) return 2;

  // The handler only records the signal; the main loop below does the work.
  // Installed before the port is announced, so a prompt SIGTERM still stops gracefully.
  struct sigaction sa {};
  sa.sa_handler = on_collect_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);  // a file size limit fails the write (counted), not the process

  sink::LineOutput output;
  std::string err;
  if (!output.open(o.flows_out, err)) {
    fmt::print(stderr, "orbwatch collect: --flows-out: {}\n", err);
    return 1;
  }
  ingest::UdpListener listener(lo);
  if (!listener.open(err)) {
    fmt::print(stderr, "orbwatch collect: {}\n", err);
    return 1;
  }
  for (const std::string& w : listener.warnings())
    fmt::print(stderr, "orbwatch collect: warning: {}\n", w);
  for (size_t i = 0; i < lo.listen.size(); ++i) {
    ingest::ListenAddress bound = lo.listen[i];
    bound.port = listener.port(i);
    fmt::print(stderr, "orbwatch collect: listening on {} ({} socket(s), rcvbuf {})\n",
               bound.to_string(), lo.sockets_per_listen,
               listener.granted_rcvbuf(i * lo.sockets_per_listen));
  }

  if (!store_dir.empty()) {
    // Segments a crash left are sealed before new ones start.
    const auto r = store::archive::recover(store_dir);
    for (const auto& p : r.problems) fmt::print(stderr, "orbwatch collect: --store: {}\n", p);
    if (r.sealed + r.removed != 0) {
      fmt::print(stderr, "orbwatch collect: --store: recovered {} segments left by a crash\n",
                 r.sealed);
    }
  }
  // Encoding costs more per flow than receiving: by default the cores the receive threads leave
  // are shared out among their writers (one at least, four at most).
  const size_t sockets = listener.sockets();
  const size_t cores = usable_cores();
  const size_t writers =
      o.store_writers != 0
          ? o.store_writers
          : std::clamp<size_t>(cores > sockets ? (cores - sockets) / sockets : 1, 1, 4);
  if (!store_dir.empty()) {
    fmt::print(stderr, "orbwatch collect: --store: {} writer thread(s) per receive thread\n",
               writers);
  }
  Collector collector(sockets, output, store_dir, ao, writers);
  listener.start(collector);

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto end = o.duration_s > 0 ? start + std::chrono::duration_cast<clock::duration>(
                                                  std::chrono::duration<double>(o.duration_s))
                                    : clock::time_point::max();
  const auto interval = std::chrono::duration_cast<clock::duration>(
      std::chrono::duration<double>(o.stats_interval_s > 0 ? o.stats_interval_s : 1e9));
  auto next_stats = start + interval;
  uint64_t last_records = 0, last_datagrams = 0;
  auto last_t = start;
  auto next_retention = start;
  std::string last_archive_error;
  while (g_signal == 0 && !output.failed()) {
    auto now = clock::now();
    if (now >= end) break;
    if (!store_dir.empty() && now >= next_retention) {
      const auto r = store::archive::apply_retention(store_dir, retention, wall_clock_ms());
      for (const auto& p : r.problems) fmt::print(stderr, "orbwatch collect: --store: {}\n", p);
      next_retention = now + std::chrono::minutes(1);
      const auto a = collector.archive_stats();
      if (a.last_error != last_archive_error && !a.last_error.empty()) {
        fmt::print(stderr, "orbwatch collect: --store: {} ({} flows not stored so far)\n",
                   a.last_error, a.flows_not_stored);
      }
      last_archive_error = a.last_error;
    }
    if (o.stats_interval_s > 0 && now >= next_stats) {
      size_t exporters = 0;
      ingest::DecodeStats d = collector.stats(exporters);
      ingest::UdpStats u = listener.stats();
      double dt = std::chrono::duration<double>(now - last_t).count();
      fmt::print(stderr,
                 "orbwatch collect: {:.0f} records/s {:.0f} datagrams/s records={} datagrams={} "
                 "kernel_drops={} exporters={}{}\n",
                 static_cast<double>(d.records - last_records) / dt,
                 static_cast<double>(u.datagrams - last_datagrams) / dt, d.records, u.datagrams,
                 u.kernel_drops, exporters, reasons_text(u, d));
      last_records = d.records;
      last_datagrams = u.datagrams;
      last_t = now;
      next_stats += interval;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Graceful stop: the receive threads drain their sockets and flush their buffers.
  listener.stop();
  output.close();

  size_t exporters = 0;
  ingest::DecodeStats d = collector.stats(exporters);
  ingest::UdpStats u = listener.stats();
  double secs = std::chrono::duration<double>(clock::now() - start).count();
  fmt::print(stderr,
             "orbwatch collect: done in {:.1f} s: records={} datagrams={} bytes={} "
             "kernel_drops={} exporters={} templates={} seq_lost={}{}\n",
             secs, d.records, u.datagrams, u.bytes, u.kernel_drops, exporters, d.templates,
             d.seq_lost, reasons_text(u, d));
  if (d.total_errors() > 0)
    fmt::print(stderr, "orbwatch collect: last decode error: {}\n", d.last_error_text());
  if (!store_dir.empty()) {
    const auto a = collector.archive_stats();
    fmt::print(stderr,
               "orbwatch collect: archive {}: {} flows stored in {} segments ({} bytes){}\n",
               store_dir, a.flows_stored, a.segments_sealed, a.bytes_sealed,
               a.flows_not_stored == 0
                   ? ""
                   : fmt::format(", {} NOT stored: {}", a.flows_not_stored, a.last_error));
    if (a.flows_not_stored != 0) return 1;
  }
  if (output.failed()) {
    fmt::print(stderr, "orbwatch collect: writing --flows-out failed: {}\n", output.error());
    return 1;
  }
  return 0;
}

}  // namespace

void add_collect_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CollectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "collect",
      "Receive NetFlow v5/v9, IPFIX and sFlow v5 exports over UDP; write flow JSON lines "
      "and/or archive the flows (--store)");
  cmd->add_option("--listen", o->listen,
                  "udp://IPV4:PORT or udp://[IPV6]:PORT (repeatable; [::] is dual-stack)")
      ->required();
  cmd->add_option("--flows-out", o->flows_out, "write flows as JSON lines to FILE ('-': stdout)");
  add_archive_write_options(*cmd, o->archive);
  cmd->add_option("--exporter-allow", o->exporter_allow,
                  "accept exports only from this CIDR (repeatable; default: any)");
  cmd->add_option("--threads", o->threads, "SO_REUSEPORT sockets (receive threads) per --listen")
      ->capture_default_str();
  cmd->add_option("--store-writers", o->store_writers,
                  "archive writer threads per receive thread, each with its own segment "
                  "(default: the cores left by the receive threads, 1 to 4)");
  cmd->add_option("--rcvbuf", o->rcvbuf, "socket receive buffer in bytes")->capture_default_str();
  cmd->add_option("--stats-interval", o->stats_interval_s,
                  "seconds between statistics lines on stderr (0: none)")
      ->capture_default_str();
  cmd->add_option("--duration", o->duration_s,
                  "stop after SECONDS (default: until SIGINT/SIGTERM)");
  cmd->callback([o, &exit_code] { exit_code = run_collect(*o); });
}

}  // namespace orbwatch::cli
