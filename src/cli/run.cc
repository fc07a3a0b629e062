// `orbwatch run --config FILE`: the daemon. Wires the config's modules into the pipeline
// (server/pipeline.h), the feed updater and the HTTP server, then waits for signals:
// SIGHUP reloads (feeds, network model, geo data, outputs), SIGTERM/SIGINT drain and stop.
// The main thread also writes state.db every [store] state_interval and applies retention.
#include <csignal>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/detect_setup.h"
#include "core/time.h"
#include "detect/detector_config.h"
#include "intel/feed_config.h"
#include "intel/feed_manager.h"
#include "intel/intel_updater.h"
#include "server/daemon_config.h"
#include "server/http_server.h"
#include "server/pipeline.h"

namespace orbwatch::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;
extern "C" void on_run_signal(int sig) {
  if (sig == SIGHUP) {
    g_reload = 1;
  } else {
    g_stop = sig;
  }
}

struct RunOptions {
  std::string config;
  std::vector<std::string> params;
  double duration_s = 0;
};

void log(const std::string& line) {
  fmt::print(stderr, "orbwatch run: {}\n", line);
}

// Everything read from the config file, checked as a whole before any of it is used.
struct Loaded {
  server::DaemonConfig daemon;
  intel::IntelConfig intel;
  detect::DetectorSettings detectors;
  std::shared_ptr<const netmodel::ModelIndex> model;
  std::shared_ptr<const enrich::GeoDb> geo;
};

bool load_all(const RunOptions& o, Loaded& out) {
  std::vector<std::string> errors;
  auto daemon = server::load_daemon_config(o.config, errors);
  auto intel = intel::load_intel_config(o.config, errors);
  auto detectors = detect::load_detector_settings(o.config, errors);
  std::string error;
  std::vector<std::string> warnings;
  if (errors.empty() && (!load_network_model(o.config, {}, out.model, error) ||
                         !load_geo(o.config, {}, out.geo, warnings, error))) {
    errors.push_back(error);
  }
  for (const auto& w : warnings) log("warning: " + w);
  if (!errors.empty()) {
    for (const auto& e : errors) log(e);
    return false;
  }
  out.daemon = std::move(*daemon);
  out.intel = std::move(*intel);
  out.intel.cache_dir = server::feed_cache_dir(out.daemon, out.intel);
  out.detectors = std::move(*detectors);
  return true;
}

// Outputs of flows (clickhouse, kafka): the pipeline's own, changed only by a restart.
std::vector<server::OutputConfig> flow_outputs(const std::vector<server::OutputConfig>& all) {
  std::vector<server::OutputConfig> out;
  for (const auto& o : all)
    if (o.takes_flows()) out.push_back(o);
  return out;
}

// Keys only a restart applies: said when a reload finds them changed.
std::vector<std::string> restart_only_changes(const server::DaemonConfig& a,
                                              const server::DaemonConfig& b,
                                              const detect::DetectorSettings& da,
                                              const detect::DetectorSettings& db) {
  std::vector<std::string> out;
  if (a.listen != b.listen || a.sockets_per_listen != b.sockets_per_listen ||
      a.rcvbuf_bytes != b.rcvbuf_bytes || a.detect_threads != b.detect_threads ||
      a.detect_queue != b.detect_queue || a.exporter_allow != b.exporter_allow ||
      a.kafka != b.kafka)
    out.emplace_back("[collect]");
  if (a.store_path != b.store_path || a.archive != b.archive ||
      a.state_interval_ms != b.state_interval_ms || a.query_backend != b.query_backend)
    out.emplace_back("[store]");
  if (a.http_listen != b.http_listen || a.token != b.token || a.tls_cert != b.tls_cert ||
      a.tls_key != b.tls_key)
    out.emplace_back("[http]");
  if (da != db) out.emplace_back("[detectors]");
  if (flow_outputs(a.outputs) != flow_outputs(b.outputs))
    out.emplace_back("[[outputs]] of type clickhouse or kafka");
  return out;
}

// The feed manager and its updater, replaced whole on reload; the HTTP server asks for status.
class Feeds {
 public:
  explicit Feeds(SnapshotHolder<intel::IntelSet>& holder) : holder_(holder) {}
  ~Feeds() { stop(); }
  void start(const intel::IntelConfig& config) {
    auto manager = std::make_shared<intel::FeedManager>(config.feeds, config.cache_dir);
    auto updater = std::make_unique<intel::IntelUpdater>(*manager, holder_);
    updater->start();
    std::unique_ptr<intel::IntelUpdater> old_updater;
    std::shared_ptr<intel::FeedManager> old_manager;
    {
      std::lock_guard lock(mu_);
      old_updater = std::move(updater_);
      old_manager = std::move(manager_);
      updater_ = std::move(updater);
      manager_ = std::move(manager);
    }
    if (old_updater) old_updater->stop();
  }
  void stop() {
    std::unique_ptr<intel::IntelUpdater> u;
    {
      std::lock_guard lock(mu_);
      u = std::move(updater_);
    }
    if (u) u->stop();
  }
  std::vector<intel::FeedStatus> status() const {
    std::shared_ptr<intel::FeedManager> m;
    {
      std::lock_guard lock(mu_);
      m = manager_;
    }
    return m ? m->status() : std::vector<intel::FeedStatus>{};
  }

 private:
  SnapshotHolder<intel::IntelSet>& holder_;
  mutable std::mutex mu_;
  std::shared_ptr<intel::FeedManager> manager_;
  std::unique_ptr<intel::IntelUpdater> updater_;
};

uint64_t directory_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

int run_daemon(const RunOptions& o) {
  Loaded cfg;
  if (!load_all(o, cfg)) return 2;

  struct sigaction sa {};
  sa.sa_handler = on_run_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);

  SnapshotHolder<intel::IntelSet> intel(intel::IntelSet::empty());
  Feeds feeds(intel);

  server::Pipeline::Options po;
  po.config = cfg.daemon;
  po.model = cfg.model;
  po.geo = cfg.geo;
  po.intel = &intel;
  const std::vector<std::string> params = o.params;
  const std::string config_path = o.config;
  po.make_detectors = [config_path, params](auto& out, std::string& error) {
    return make_detectors(config_path, params, out, error);
  };
  server::Pipeline pipeline(std::move(po));
  std::string error;
  if (!pipeline.open(error)) {
    log(error);
    return 1;
  }
  for (const auto& w : pipeline.warnings()) log("warning: " + w);
  feeds.start(cfg.intel);
  for (size_t i = 0; i < cfg.daemon.listen.size(); ++i) {
    std::string url = cfg.daemon.listen[i];
    url = url.substr(0, url.rfind(':') + 1) + std::to_string(pipeline.port(i));
    log(fmt::format("listening on {}", url));
  }
  if (cfg.daemon.kafka) {
    log(fmt::format("consuming kafka {} topics {} as group {}", cfg.daemon.kafka->brokers,
                    fmt::join(cfg.daemon.kafka->topics, ","), cfg.daemon.kafka->group));
  }
  pipeline.start();

  std::unique_ptr<server::HttpServer> http;
  if (!cfg.daemon.http_listen.empty()) {
    server::HttpOptions ho;
    ho.listen = cfg.daemon.http_listen;
    ho.token = cfg.daemon.token;
    ho.tls_cert = cfg.daemon.tls_cert;
    ho.tls_key = cfg.daemon.tls_key;
    ho.store_path = cfg.daemon.store_path;
    if (cfg.daemon.query_backend == "clickhouse") {
      ho.flows = server::clickhouse_source(
          server::clickhouse_options(*server::clickhouse_output(cfg.daemon), true));
    }
    ho.version = ORBWATCH_VERSION;
    http = std::make_unique<server::HttpServer>(ho, pipeline, intel,
                                                [&feeds] { return feeds.status(); });
    if (!http->start(error)) {
      log(error);
      pipeline.stop();
      return 1;
    }
    const std::string host = ho.listen.substr(0, ho.listen.rfind(':'));
    log(fmt::format("http{} on {}:{}", ho.tls_cert.empty() ? "" : "s", host, http->port()));
  }
  log(fmt::format("running: {} detect shard(s), store {}", pipeline.stats().shards.size(),
                  cfg.daemon.store_path));

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto end = o.duration_s > 0 ? start + std::chrono::duration_cast<clock::duration>(
                                                  std::chrono::duration<double>(o.duration_s))
                                    : clock::time_point::max();
  auto next_state = start + std::chrono::milliseconds(cfg.daemon.state_interval_ms);
  auto next_maintain = start;
  std::string last_state_error;
  while (g_stop == 0 && clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = clock::now();
    if (g_reload != 0) {
      g_reload = 0;
      Loaded next;
      if (!load_all(o, next)) {
        log("reload: the config has problems (above); still running on the previous one");
        continue;
      }
      for (const auto& t :
           restart_only_changes(cfg.daemon, next.daemon, cfg.detectors, next.detectors))
        log(fmt::format("reload: {} changed; it takes effect at the next restart", t));
      if (!pipeline.set_outputs(next.daemon.outputs, error)) {
        log("reload: outputs kept as they were: " + error);
        next.daemon.outputs = cfg.daemon.outputs;
      }
      pipeline.set_model(next.model, next.geo);
      feeds.start(next.intel);
      // Restart-only keys stay as running, so the next reload compares against them.
      cfg.model = next.model;
      cfg.geo = next.geo;
      cfg.intel = next.intel;
      auto running = flow_outputs(cfg.daemon.outputs);
      cfg.daemon.outputs = next.daemon.outputs;
      std::erase_if(cfg.daemon.outputs,
                    [](const server::OutputConfig& c) { return c.takes_flows(); });
      cfg.daemon.outputs.insert(cfg.daemon.outputs.end(), running.begin(), running.end());
      log(fmt::format("reloaded {}: {} feeds, {} outputs", o.config, cfg.intel.feeds.size(),
                      cfg.daemon.outputs.size()));
    }
    if (now >= next_state) {
      if (!pipeline.save_state(error) && error != last_state_error) log(error);
      last_state_error = error;
      error.clear();
      next_state = now + std::chrono::milliseconds(cfg.daemon.state_interval_ms);
    }
    if (now >= next_maintain) {
      for (const auto& p : pipeline.maintain()) log("archive: " + p);
      if (http)
        http->set_archive_bytes(
            directory_bytes((std::filesystem::path(cfg.daemon.store_path) / "flows").string()));
      next_maintain = now + std::chrono::minutes(1);
    }
  }
  log(g_stop != 0 ? fmt::format("signal {}: draining", static_cast<int>(g_stop))
                  : std::string("duration reached: draining"));
  if (http) http->stop();
  pipeline.stop();
  feeds.stop();
  int rc = 0;
  if (!pipeline.save_state(error)) {
    log(error);
    rc = 1;
  }
  const auto s = pipeline.stats();
  uint64_t flows = 0, shed = 0, alerts = 0;
  for (const auto& sh : s.shards) {
    flows += sh.flows;
    shed += sh.shed;
  }
  for (const auto& [name, counts] : s.alerts)
    for (uint64_t c : counts) alerts += c;
  std::string more;
  if (s.kafka.enabled)
    more +=
        fmt::format(" kafka_flows={} kafka_not_flows={}", s.kafka.stats.flows, s.kafka.stats.bad);
  if (s.archive.flows_not_stored != 0)
    more += fmt::format(" NOT archived={} ({})", s.archive.flows_not_stored, s.archive.last_error);
  for (const auto& out : s.outputs)
    if (out.flows_output)
      more +=
          fmt::format("; {}: flows={} flows_dropped={}", out.label, out.flows, out.flows_dropped);
  log(
      fmt::format("stopped: datagrams={} records={} kernel_drops={} flows_detected={} "
                  "detect_shed={} alerts={} archived={}{}",
                  s.udp.datagrams, s.decode.records, s.udp.kernel_drops, flows, shed, alerts,
                  s.archive.flows_stored, more));
  return rc;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "The daemon: receive NetFlow/IPFIX/sFlow, archive flows, run every detector, send alerts "
      "to the configured outputs, serve the API and /metrics (SIGHUP reloads, SIGTERM stops)");
  cmd->add_option("--config", o->config, "the orbwatch TOML config file")->required();
  cmd->add_option("--param", o->params,
                  "detector.name=value overriding [detectors.NAME] (repeatable)");
  cmd->add_option("--duration", o->duration_s,
                  "stop after SECONDS (default: until SIGTERM/SIGINT)");
  cmd->callback([o, &exit_code] { exit_code = run_daemon(*o); });
}

}  // namespace orbwatch::cli
