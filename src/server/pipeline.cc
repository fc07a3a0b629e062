#include "server/pipeline.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>

#include <fmt/core.h>

#include "core/cpus.h"
#include "core/time.h"
#include "detect/engine.h"
#include "detect/flow_role.h"
#include "ingest/capture_ingest.h"
#include "ingest/export_decoder.h"
#include "ingest/pcap_source.h"
#include "sink/webhook_output.h"
#include "store/alert_store.h"
#include "store/archive.h"
#include "store/archive_thread.h"
#include "store/inventory_store.h"

namespace orbwatch::server {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kStageFlows = 4096;                        // flows per batch handed to a shard
constexpr auto kStageAge = std::chrono::milliseconds(100);  // ... or after this long
constexpr auto kPublishEvery = std::chrono::seconds(1);
constexpr size_t kKafkaPollMessages = 8192;  // messages read per turn of the Kafka thread
constexpr size_t kMaxQueuedAlerts = 100'000;

// The state.db row of a detector's state in shard k of n.
std::string state_row(std::string_view detector, size_t k, size_t n) {
  return n == 1 ? std::string(detector) : fmt::format("{}@{}/{}", detector, k, n);
}

// Exporter records of several shards: first and last seen widen, flows add up.
void merge_exporter(netmodel::EdgeInventory& into, const IpAddr& a,
                    const netmodel::ExporterRecord& r) {
  auto it = into.exporters().find(a);
  if (it == into.exporters().end()) {
    into.put_exporter(a, r);
    return;
  }
  netmodel::ExporterRecord m = it->second;
  m.first_seen_ms = std::min(m.first_seen_ms, r.first_seen_ms);
  m.last_seen_ms = std::max(m.last_seen_ms, r.last_seen_ms);
  m.flows += r.flows;
  into.put_exporter(a, m);
}

// One configured alert output.
struct Output {
  OutputConfig config;
  std::unique_ptr<sink::RotatingJsonl> jsonl;
  std::unique_ptr<sink::SyslogOutput> syslog;
  std::unique_ptr<sink::WebhookOutput> webhook;

  AlertSink& sink() {
    if (jsonl) return *jsonl;
    if (syslog) return *syslog;
    return *webhook;
  }
  void flush() {
    if (syslog) syslog->flush();
    if (webhook) webhook->flush();
  }
  OutputMetrics metrics() const {
    OutputMetrics m;
    m.label = config.label;
    m.stats = jsonl ? jsonl->stats() : syslog ? syslog->stats() : webhook->stats();
    if (webhook) m.spooled_bytes = webhook->spooled_bytes();
    return m;
  }
};

std::string default_spool_dir(const std::string& store_path, size_t index) {
  return (std::filesystem::path(store_path) / "spool" / fmt::format("outputs-{}", index + 1))
      .string();
}

bool make_output(const OutputConfig& c, size_t index, const std::string& store_path, Output& out,
                 std::string& error) {
  out.config = c;
  std::error_code ec;
  switch (c.type) {
    case OutputConfig::Type::kJsonl: {
      const auto parent = std::filesystem::path(c.path).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      sink::RotatingJsonl::Options o;
      o.path = c.path;
      o.max_bytes = c.max_bytes;
      o.max_age_ms = c.max_age_ms;
      o.keep = c.keep;
      o.ecs = c.ecs;
      out.jsonl = std::make_unique<sink::RotatingJsonl>(std::move(o));
      return true;
    }
    case OutputConfig::Type::kSyslog: {
      sink::SyslogOutput::Options o;
      o.url = c.url;
      o.facility = sink::syslog_facility(c.facility);
      o.hostname = c.hostname;
      o.ecs = c.ecs;
      out.syslog = std::make_unique<sink::SyslogOutput>(std::move(o));
      if (!out.syslog->valid()) {
        error = fmt::format("{}: {}", c.label, out.syslog->stats().last_error);
        return false;
      }
      return true;
    }
    case OutputConfig::Type::kWebhook: {
      sink::WebhookOutput::Options o;
      o.url = c.url;
      o.bearer_token = c.token;
      o.spool_dir = c.spool_dir.empty() ? default_spool_dir(store_path, index) : c.spool_dir;
      o.max_spool_bytes = c.max_spool_bytes;
      o.ecs = c.ecs;
      out.webhook = std::make_unique<sink::WebhookOutput>(std::move(o));
      if (!out.webhook->valid()) {
        error = fmt::format("{}: {}", c.label, out.webhook->stats().last_error);
        return false;
      }
      return true;
    }
    case OutputConfig::Type::kClickHouse:
    case OutputConfig::Type::kKafka:
      break;  // the pipeline's own (make_clickhouse, make_kafka)
  }
  return false;
}

// The alert-only outputs (those of flows, ClickHouse and Kafka, are the pipeline's own).
bool make_outputs(const std::vector<OutputConfig>& configs, const std::string& store_path,
                  std::vector<Output>& out, std::string& error) {
  out.clear();
  for (size_t i = 0; i < configs.size(); ++i) {
    if (configs[i].takes_flows()) continue;
    if (!make_output(configs[i], i, store_path, out.emplace_back(), error)) return false;
  }
  return true;
}

std::unique_ptr<sink::ClickHouseOutput> make_clickhouse(const OutputConfig& c, size_t index,
                                                        const std::string& store_path,
                                                        std::string& error) {
  sink::ClickHouseOutput::Options o;
  o.server = clickhouse_options(c);
  o.spool_dir = c.spool_dir.empty() ? default_spool_dir(store_path, index) : c.spool_dir;
  o.max_spool_bytes = c.max_spool_bytes;
  o.batch_rows = c.batch_rows;
  o.flush_ms = c.flush_ms;
  o.gzip = c.gzip;
  o.flows = c.flows;
  o.alerts = c.alerts;
  auto out = std::make_unique<sink::ClickHouseOutput>(std::move(o));
  if (!out->start(error)) {
    error = fmt::format("{}: {}", c.label, error);
    return nullptr;
  }
  return out;
}

std::unique_ptr<kafka::KafkaOutput> make_kafka(const OutputConfig& c, std::string& error) {
  kafka::KafkaOutput::Options o;
  o.brokers = c.brokers;
  o.flows_topic = c.flows_topic;
  o.alerts_topic = c.alerts_topic;
  o.flows = c.flows;
  o.alerts = c.alerts;
  o.ecs = c.ecs;
  o.compression = c.kafka_compression;
  o.properties = c.properties;
  auto out = std::make_unique<kafka::KafkaOutput>(std::move(o));
  if (!out->start(error)) {
    error = fmt::format("{}: {}", c.label, error);
    return nullptr;
  }
  return out;
}

OutputMetrics kafka_metrics(const std::string& label, const kafka::KafkaOutput& o) {
  const auto s = o.stats();
  OutputMetrics m;
  m.label = label;
  m.stats.written = s.alerts_sent;
  m.stats.dropped = s.alerts_dropped;
  m.stats.errors = s.errors;
  // Client errors (a broker away) are retried by librdkafka: a problem once something was lost.
  if (s.flows_dropped != 0 || s.alerts_dropped != 0) m.stats.last_error = s.last_error;
  m.flows_output = true;
  m.flows = s.flows_sent;
  m.flows_dropped = s.flows_dropped;
  m.flows_staged = s.queued;
  return m;
}

OutputMetrics clickhouse_metrics(const std::string& label, const sink::ClickHouseOutput& o) {
  const auto s = o.stats();
  OutputMetrics m;
  m.label = label;
  m.stats.written = s.alerts_sent;
  m.stats.dropped = s.dropped_alerts;
  m.stats.errors = s.errors;
  // A past failure stays in last_error; it is a problem while something waits for ClickHouse.
  if (s.spool_batches != 0 || s.dropped_flows != 0 || s.dropped_alerts != 0)
    m.stats.last_error = s.last_error;
  m.spooled_bytes = s.spool_bytes;
  m.flows_output = true;
  m.flows = s.flows_sent;
  m.flows_dropped = s.dropped_flows;
  m.flows_staged = s.staged_flows;
  m.spooled_batches = s.spool_batches;
  m.duplicate_batches = s.duplicate_batches;
  return m;
}

}  // namespace

// ---- receive side ----

std::vector<ExporterMetrics> exporter_metrics(const ingest::ExportDecoder& decoder) {
  std::vector<ExporterMetrics> ex;
  decoder.exporters().for_each([&](const ingest::ExporterState& s) {
    if (ex.size() >= kMaxExporterMetrics) return;
    ExporterMetrics m;
    m.addr = s.addr();
    m.version = ingest::export_kind_name(s.counters.last_kind);
    m.datagrams = s.counters.datagrams;
    m.records = s.counters.records;
    m.errors = s.counters.errors;
    m.seq_lost = s.counters.seq_lost;
    m.templates = s.template_count();
    m.last_seen_ms = s.counters.last_seen_ms;
    ex.push_back(m);
  });
  return ex;
}

struct Pipeline::Receiver {
  ingest::ExportDecoder decoder;
  FlowBatch batch;
  std::unique_ptr<store::ArchiveThread> archive;
  std::vector<FlowBatch> staged;            // per shard
  std::vector<std::vector<int64_t>> hints;  // per shard: the stream's latest end before each
  std::vector<int64_t> ends;                // per flow: the stream's latest end before it
  std::vector<int64_t> upstream_ends;       // per flow from Kafka: its producer's watermark
  std::vector<IpAddr> keys;                 // per flow: its host (Kafka outputs' message key)
  Clock::time_point staged_since{};
  Clock::time_point published_at{};

  mutable std::mutex mu;  // the published copies below
  ingest::DecodeStats decode;
  std::array<uint64_t, 5> by_kind{};
  std::vector<ExporterMetrics> exporters;
  size_t exporters_total = 0;
  store::ArchiveWriterStats archive_stats;
  uint64_t capture_packets = 0, capture_drops = 0, capture_flows = 0;  // a capture thread's
  kafka::FlowConsumer::Stats kafka;                                    // the Kafka thread's

  void publish() {
    std::vector<ExporterMetrics> ex = exporter_metrics(decoder);
    std::lock_guard lock(mu);
    decode = decoder.stats();
    by_kind = decoder.datagrams_by_kind();
    exporters = std::move(ex);
    exporters_total = decoder.exporters().size();
    if (archive) archive_stats = archive->stats();
  }
};

// ---- detect shards ----

// A live interface: its source and the thread that meters its packets into flows.
struct Pipeline::Capture {
  std::unique_ptr<ingest::PacketSource> source;
  size_t receiver = 0;
  std::thread thread;
};

struct Pipeline::Shard {
  struct Item {
    FlowBatch batch;
    std::vector<int64_t> stream_end;  // Engine::process
    int64_t max_end_ms = INT64_MIN;
  };
  size_t index = 0;
  netmodel::EdgeInventory inventory;
  std::unique_ptr<detect::Engine> engine;
  std::thread thread;

  std::mutex mu;  // the queue
  std::condition_variable cv;
  std::deque<Item> queue;
  std::vector<Item> spare;
  size_t capacity = 64;
  bool stopping = false;
  std::atomic<uint64_t> shed{0};
  std::atomic<uint64_t> served{0};  // the last snapshot request handed over

  mutable std::mutex pub_mu;  // what the shard thread publishes
  ShardMetrics metrics;
  std::vector<std::pair<std::string, detect::DetectorStats>> detector_stats;
  netmodel::EdgeInventory inventory_copy;
  std::vector<std::pair<std::string, std::string>> states;  // detector name, save_state()

  explicit Shard(size_t max_services, size_t max_exporters)
      : inventory(max_services, max_exporters), inventory_copy(max_services, max_exporters) {}

  // From a receive thread: hands `b` over (it comes back empty) or sheds it when full.
  void push(FlowBatch& b, std::vector<int64_t>& stream_end, int64_t max_end_ms) {
    std::lock_guard lock(mu);
    if (queue.size() >= capacity) {
      shed.fetch_add(b.size(), std::memory_order_relaxed);
      b.clear();
      stream_end.clear();
      return;
    }
    Item it;
    if (!spare.empty()) {
      it = std::move(spare.back());
      spare.pop_back();
    }
    std::swap(it.batch, b);
    std::swap(it.stream_end, stream_end);
    it.max_end_ms = max_end_ms;
    queue.push_back(std::move(it));
    cv.notify_one();
  }
};

class Pipeline::Consumer final : public ingest::DatagramConsumer {
 public:
  explicit Consumer(Pipeline& p) : p_(p) {}

  void on_datagrams(size_t index, std::span<const ingest::Datagram> batch) override {
    Receiver& r = *p_.receivers_[index];
    for (const ingest::Datagram& d : batch) r.decoder.decode(d, r.batch);
    deliver(index);
  }

  // The flows the receiver's batch holds: archived, routed to the shards.
  void deliver(size_t index) {
    Receiver& r = *p_.receivers_[index];
    if (!r.batch.empty()) {
      if (r.archive) r.archive->append(r.batch, wall_clock_ms());
      for (auto& ch : p_.clickhouse_) ch.output->add_flows(r.batch);
      stream_ends(r);
      // Each flow's host, once: the shard it goes to and its Kafka message key.
      r.keys.clear();
      if (!p_.kafka_.empty() || p_.shards_.size() > 1) {
        const auto m = p_.model_.load();
        for (const FlowRecord& f : r.batch.records)
          r.keys.push_back(detect::state_host(f, *m->model));
      }
      for (auto& k : p_.kafka_) k.output->add_flows(r.batch, r.keys, r.ends);
      route(r);
      r.batch.clear();
      r.upstream_ends.clear();
    }
    const auto now = Clock::now();
    if (now - r.staged_since >= kStageAge) hand_over(r);
    if (now - r.published_at >= kPublishEvery) {
      r.publish();
      r.published_at = now;
    }
  }

  void on_idle(size_t index, bool final) override {
    Receiver& r = *p_.receivers_[index];
    hand_over(r);
    if (r.archive) {
      if (final) {
        std::string error;
        r.archive->close(error);  // the stats keep the error
      } else {
        r.archive->tick(wall_clock_ms());
      }
    }
    r.publish();
    r.published_at = Clock::now();
  }

 private:
  // r.ends[i]: the stream's latest flow end before flow i, or the upstream instance's (a
  // Kafka message's watermark) when that is later.
  void stream_ends(Receiver& r) {
    int64_t end = p_.max_end_ms_.load(std::memory_order_relaxed);
    r.ends.resize(r.batch.size());
    for (size_t i = 0; i < r.batch.size(); ++i) {
      if (r.upstream_ends.size() == r.batch.size()) end = std::max(end, r.upstream_ends[i]);
      r.ends[i] = end;
      end = std::max(end, r.batch.records[i].end_ms);
    }
    int64_t seen = p_.max_end_ms_.load(std::memory_order_relaxed);
    while (end > seen && !p_.max_end_ms_.compare_exchange_weak(seen, end)) {
    }
  }

  // Each flow goes to the shard of its host (r.keys) with the stream's latest end before it, so
  // the shard's watermark moves between its flows as one engine's would over the whole stream.
  void route(Receiver& r) {
    const size_t n = p_.shards_.size();
    if (n == 1) r.staged[0].append(r.batch);
    for (size_t i = 0; i < r.batch.size(); ++i) {
      const size_t s = n == 1 ? 0 : IpAddrHash{}(r.keys[i]) % n;
      if (n != 1) r.staged[s].append_from(r.batch, i);
      r.hints[s].push_back(r.ends[i]);
    }
    for (size_t s = 0; s < n; ++s)
      if (r.staged[s].size() >= kStageFlows) push(r, s);
  }

  void push(Receiver& r, size_t s) {
    p_.shards_[s]->push(r.staged[s], r.hints[s], p_.max_end_ms_.load(std::memory_order_relaxed));
  }

  void hand_over(Receiver& r) {
    for (size_t s = 0; s < r.staged.size(); ++s)
      if (!r.staged[s].empty()) push(r, s);
    r.staged_since = Clock::now();
  }

  Pipeline& p_;
};

// ---- alerts ----

class Pipeline::AlertThread final : public AlertSink {
 public:
  // `fixed`: outputs that live as long as the pipeline (ClickHouse), each with its least severity.
  AlertThread(std::string store_path, std::vector<Output> outputs,
              std::vector<std::pair<AlertSink*, Severity>> fixed)
      : store_path_(std::move(store_path)),
        outputs_(std::move(outputs)),
        fixed_(std::move(fixed)) {}
  ~AlertThread() override { stop(); }

  bool open(std::string& error) {
    return store_.open(store::state_db_path(store_path_), true, error);
  }
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // From the shard threads.
  void emit(const Alert& a) override {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueuedAlerts) {
      ++shed_;
      return;
    }
    queue_.push_back(a);
    cv_.notify_one();
  }

  void set_outputs(std::vector<Output> outputs) {
    std::lock_guard lock(mu_);
    pending_outputs_ = std::move(outputs);
    have_pending_ = true;
    cv_.notify_one();
  }

  void fill(PipelineStats& s) const {
    std::lock_guard lock(mu_);
    s.alerts.assign(counts_.begin(), counts_.end());
    s.alerts_shed = shed_;
    s.alerts_not_stored = not_stored_;
    s.alert_store_error = store_error_;
    s.outputs = output_metrics_;
  }

 private:
  void run() {
    std::vector<Alert> batch;
    for (;;) {
      bool done = false;
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(200),
                     [&] { return !queue_.empty() || stopping_ || have_pending_; });
        batch.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.end()));
        queue_.clear();
        if (have_pending_) {
          outputs_ = std::move(pending_outputs_);
          have_pending_ = false;
        }
        done = stopping_ && batch.empty();
      }
      write(batch);
      for (auto& o : outputs_) o.flush();
      std::vector<OutputMetrics> m;
      m.reserve(outputs_.size());
      for (const auto& o : outputs_) m.push_back(o.metrics());
      std::lock_guard lock(mu_);
      output_metrics_ = std::move(m);
      if (done) return;
    }
  }

  void write(const std::vector<Alert>& batch) {
    if (batch.empty()) return;
    // Stored first (one transaction): the API and a restart see what the outputs were sent.
    std::string error;
    uint64_t not_stored = 0;
    if (!store_.begin(error)) {
      not_stored = batch.size();
    } else {
      for (const Alert& a : batch)
        if (!store_.put(a, error)) ++not_stored;
      if (!store_.commit(error)) not_stored = batch.size();
    }
    for (const Alert& a : batch) {
      for (auto& o : outputs_)
        if (a.severity >= o.config.min_severity) o.sink().emit(a);
      for (auto& [sink, min] : fixed_)
        if (a.severity >= min) sink->emit(a);
    }
    std::lock_guard lock(mu_);
    for (const Alert& a : batch) ++counts_[a.detector][static_cast<size_t>(a.severity)];
    not_stored_ += not_stored;
    if (not_stored != 0) store_error_ = error;
  }

  const std::string store_path_;
  store::AlertStore store_;  // the alert thread's
  std::vector<Output> outputs_;
  const std::vector<std::pair<AlertSink*, Severity>> fixed_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Alert> queue_;
  bool stopping_ = false;
  bool have_pending_ = false;
  std::vector<Output> pending_outputs_;
  std::map<std::string, std::array<uint64_t, 4>> counts_;
  uint64_t shed_ = 0, not_stored_ = 0;
  std::string store_error_;
  std::vector<OutputMetrics> output_metrics_;
};

// ---- the pipeline ----

Pipeline::Pipeline(Options o)
    : o_(std::move(o)),
      model_(std::make_shared<const Model>(
          Model{o_.model ? o_.model : netmodel::ModelIndex::with_internal({}), o_.geo})) {}

Pipeline::~Pipeline() {
  stop();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool Pipeline::open(std::string& error) {
  const DaemonConfig& c = o_.config;
  started_ms_ = wall_clock_ms();
  std::error_code ec;
  std::filesystem::create_directories(c.store_path, ec);
  if (ec) {
    error = fmt::format("[store] path {}: {}", c.store_path, ec.message());
    return false;
  }

  ingest::UdpListenerOptions lo;
  for (const std::string& url : c.listen) {
    ingest::ListenAddress a;
    if (!ingest::parse_listen_url(url, a, error)) return false;
    lo.listen.push_back(a);
  }
  lo.sockets_per_listen = c.sockets_per_listen;
  lo.rcvbuf_bytes = c.rcvbuf_bytes;
  lo.exporter_allow = c.exporter_allow;
  listener_ = std::make_unique<ingest::UdpListener>(lo);
  if (!lo.listen.empty() && !listener_->open(error)) return false;
  for (const auto& w : listener_->warnings()) warnings_.push_back(w);

  for (const std::string& iface : c.capture) {
    ingest::LiveOptions live;
    live.filter = c.capture_filter;
    auto opened = ingest::PacketSource::open_live(iface, live);
    if (!opened.source) {
      error = fmt::format("[collect] capture {}: {}", iface, opened.error);
      return false;
    }
    auto cap = std::make_unique<Capture>();
    cap->source = std::move(opened.source);
    captures_.push_back(std::move(cap));
  }
  // Shards: by default the cores the receive threads leave, at least one.
  const size_t cores = usable_cores();
  const size_t sockets = listener_->sockets();
  const size_t n = c.detect_threads != 0
                       ? c.detect_threads
                       : std::clamp<size_t>(cores > sockets + 1 ? cores - sockets - 1 : 1, 1, 16);
  const auto& inv = model_.load()->model->model().inventory;
  for (size_t i = 0; i < n; ++i) {
    auto s =
        std::make_unique<Shard>(std::max<size_t>(1000, inv.max_services / n), inv.max_exporters);
    s->index = i;
    s->capacity = c.detect_queue;
    shards_.push_back(std::move(s));
  }

  // One daemon per data directory: with the lock held, every open segment is a crash's.
  lock_fd_ = ::open((std::filesystem::path(c.store_path) / "orbwatch.lock").c_str(),
                    O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    error = fmt::format(
        "[store] path {}: {}", c.store_path,
        lock_fd_ < 0 ? std::strerror(errno) : "another orbwatch run is using this directory");
    return false;
  }
  if (c.archive) {
    const std::string dir = c.store_path;
    const auto r = store::archive::recover(dir, 0);
    for (const auto& p : r.problems) warnings_.push_back("archive: " + p);
    if (r.sealed + r.removed != 0)
      warnings_.push_back(fmt::format("archive: recovered {} segments left by a crash", r.sealed));
  }
  for (size_t i = 0; i < captures_.size(); ++i) captures_[i]->receiver = sockets + i;
  if (c.kafka) {
    kafka::FlowConsumer::Options ko;
    ko.brokers = c.kafka->brokers;
    ko.topics = c.kafka->topics;
    ko.group = c.kafka->group;
    ko.start = c.kafka->start;
    ko.properties = c.kafka->properties;
    kafka_in_ = std::make_unique<kafka::FlowConsumer>(std::move(ko));
    if (!kafka_in_->open(error)) {
      error = "[collect.kafka] " + error;
      return false;
    }
  }
  for (size_t i = 0; i < sockets + captures_.size() + (kafka_in_ ? 1 : 0); ++i) {
    auto r = std::make_unique<Receiver>();
    if (c.archive)
      r->archive = std::make_unique<store::ArchiveThread>(c.store_path, c.archive_options);
    r->staged.resize(n);
    r->hints.resize(n);
    receivers_.push_back(std::move(r));
  }

  std::vector<Output> outputs;
  if (!make_outputs(c.outputs, c.store_path, outputs, error)) return false;
  std::vector<std::pair<AlertSink*, Severity>> fixed;
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    const OutputConfig& oc = c.outputs[i];
    if (oc.type == OutputConfig::Type::kClickHouse) {
      auto ch = make_clickhouse(oc, i, c.store_path, error);
      if (!ch) return false;
      fixed.emplace_back(ch.get(), oc.min_severity);
      clickhouse_.push_back({oc.label, std::move(ch)});
    } else if (oc.type == OutputConfig::Type::kKafka) {
      auto k = make_kafka(oc, error);
      if (!k) return false;
      fixed.emplace_back(k.get(), oc.min_severity);
      kafka_.push_back({oc.label, std::move(k)});
    }
  }
  alerts_ = std::make_unique<AlertThread>(c.store_path, std::move(outputs), std::move(fixed));
  if (!alerts_->open(error)) return false;

  if (!load_state(error)) return false;
  const auto m = model_.load();
  for (auto& s : shards_) {
    std::vector<std::unique_ptr<detect::Detector>> detectors;
    if (!o_.make_detectors(detectors, error)) return false;
    // Baselines were loaded into a first set by load_state(); this shard's are read here.
    const std::string db = store::state_db_path(c.store_path);
    for (auto& d : detectors) {
      std::string text;
      std::string row = state_row(d->name(), s->index, n);
      if (!store::load_detector_state(db, row, text, error)) return false;
      if (text.empty() && n > 1) {
        // Saved by a run with one shard: every shard starts from it.
        if (!store::load_detector_state(db, std::string(d->name()), text, error)) return false;
      }
      if (!d->load_state(text, error)) {
        warnings_.push_back(fmt::format("{}: {} (it learns again)", row, error));
        error.clear();
      }
    }
    detect::EngineOptions eo;
    eo.model = m->model;
    eo.geo = m->geo;
    eo.inventory = &s->inventory;
    s->engine = std::make_unique<detect::Engine>(eo, std::move(detectors), *o_.intel, *alerts_);
  }
  consumer_ = std::make_unique<Consumer>(*this);
  return true;
}

bool Pipeline::load_state(std::string& error) {
  netmodel::EdgeInventory all(SIZE_MAX, SIZE_MAX);
  if (!store::load_inventory(store::state_db_path(o_.config.store_path), all, true, error))
    return false;
  const auto m = model_.load();
  for (const auto& [key, rec] : all.services()) {
    // The server is the internal side of its flows: route() sends them by its address.
    shards_[IpAddrHash{}(key.addr) % shards_.size()]->inventory.put(key, rec);
  }
  for (const auto& [addr, rec] : all.devices())
    shards_[IpAddrHash{}(addr) % shards_.size()]->inventory.put_device(addr, rec);
  // Exporters: shard 0 carries what was saved, the others count from here (merge adds them).
  for (const auto& [addr, rec] : all.exporters()) shards_[0]->inventory.put_exporter(addr, rec);
  for (auto& s : shards_) {
    s->inventory.set_learning_start_ms(all.learning_start_ms());
    s->inventory_copy = s->inventory;
  }
  return true;
}

uint16_t Pipeline::port(size_t i) const {
  return listener_->port(i);
}

void Pipeline::start() {
  if (started_) return;
  started_ = true;
  alerts_->start();
  for (auto& s : shards_) {
    Shard* sp = s.get();
    s->thread = std::thread([this, sp] { run_shard(*sp); });
  }
  if (listener_->sockets() != 0) listener_->start(*consumer_);
  for (auto& c : captures_) {
    Capture* cp = c.get();
    c->thread = std::thread([this, cp] { run_capture(*cp); });
  }
  if (kafka_in_) kafka_thread_ = std::thread([this] { run_kafka(); });
}

void Pipeline::run_kafka() {
  const size_t index = receivers_.size() - 1;
  Receiver& r = *receivers_[index];
  auto idle = Clock::now();
  auto publish = [&] {
    kafka_in_->refresh();
    const auto s = kafka_in_->stats();
    std::lock_guard lock(r.mu);
    r.kafka = s;
  };
  while (!sources_stop_.load(std::memory_order_relaxed)) {
    const size_t n = kafka_in_->poll(r.batch, r.upstream_ends, 100, kKafkaPollMessages);
    consumer_->deliver(index);
    kafka_in_->done();  // archived and routed: the offsets may be committed
    if (n == 0 || Clock::now() - idle >= kPublishEvery) {
      consumer_->on_idle(index, false);  // hands over, ticks the archive, publishes
      publish();
      idle = Clock::now();
    }
  }
  consumer_->on_idle(index, true);
  kafka_in_->close();
  publish();
}

void Pipeline::run_capture(Capture& c) {
  Receiver& r = *receivers_[c.receiver];
  // Exports seen on the wire are decoded; all other traffic is metered into flows.
  ingest::CaptureIngest ingest(
      {}, [&r](const ingest::Datagram& d) { r.decoder.decode(d, r.batch); },
      [&r](FlowBatch& b) { r.batch.append(b); });
  auto count = [&] {
    std::lock_guard lock(r.mu);
    r.capture_packets = c.source->packets();
    r.capture_drops = c.source->dropped();
    r.capture_flows = ingest.stats().flows;
  };
  while (!sources_stop_.load(std::memory_order_relaxed)) {
    const bool ok = ingest.run(*c.source, [&] {
      consumer_->deliver(c.receiver);
      return !sources_stop_.load(std::memory_order_relaxed);
    });
    consumer_->deliver(c.receiver);
    consumer_->on_idle(c.receiver, false);  // also after a read timeout: flushes, publishes
    count();
    if (!ok) {
      if (!c.source->live()) break;
      std::this_thread::sleep_for(std::chrono::seconds(1));  // the interface is away: try again
    }
  }
  ingest.finish();
  consumer_->deliver(c.receiver);
  consumer_->on_idle(c.receiver, true);
  count();
}

void Pipeline::run_shard(Shard& s) {
  std::shared_ptr<const Model> model = model_.load();
  auto published = Clock::now() - std::chrono::hours(1);
  uint64_t processed = 0;
  for (;;) {
    Shard::Item item;
    bool have = false, done = false;
    {
      std::unique_lock lock(s.mu);
      s.cv.wait_for(lock, std::chrono::milliseconds(200), [&] {
        return !s.queue.empty() || s.stopping ||
               snapshot_request_.load(std::memory_order_acquire) != s.served.load();
      });
      if (!s.queue.empty()) {
        item = std::move(s.queue.front());
        s.queue.pop_front();
        have = true;
      } else {
        done = s.stopping;
      }
    }
    if (have) {
      if (auto m = model_.load(); m != model) {
        model = m;
        s.engine->reconfigure(m->model, m->geo);
      }
      s.engine->process(item.batch, item.stream_end);
      s.engine->advance(item.max_end_ms);
      processed += item.batch.size();
      item.batch.clear();
      item.stream_end.clear();
      std::lock_guard lock(s.mu);
      if (s.spare.size() < s.capacity) s.spare.push_back(std::move(item));
    }
    if (done) s.engine->finish();
    const auto now = Clock::now();
    const uint64_t request = snapshot_request_.load(std::memory_order_acquire);
    const bool snapshot = done || request != s.served.load();
    if (snapshot || now - published >= kPublishEvery) {
      std::vector<std::pair<std::string, detect::DetectorStats>> ds;
      for (const auto& d : s.engine->detectors()) ds.emplace_back(d->name(), d->stats());
      std::vector<std::pair<std::string, std::string>> states;
      if (snapshot)
        for (const auto& d : s.engine->detectors()) states.emplace_back(d->name(), d->save_state());
      std::lock_guard lock(s.pub_mu);
      s.metrics.flows = processed;
      s.metrics.services = s.inventory.services().size();
      s.metrics.devices = s.inventory.devices().size();
      s.metrics.inventory_dropped = s.inventory.dropped();
      s.metrics.watermark_ms = s.engine->watermark_ms() == INT64_MIN ? 0 : s.engine->watermark_ms();
      s.detector_stats = std::move(ds);
      if (snapshot) {
        s.inventory_copy = s.inventory;
        s.states = std::move(states);
      }
      published = now;
    }
    if (snapshot) s.served.store(request, std::memory_order_release);
    if (done) return;
  }
}

bool Pipeline::collect_snapshots(std::chrono::milliseconds wait) {
  const uint64_t request = snapshot_request_.fetch_add(1) + 1;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    s->cv.notify_one();
  }
  const auto until = Clock::now() + wait;
  for (auto& s : shards_) {
    while (s->served.load(std::memory_order_acquire) < request) {
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return true;
}

bool Pipeline::save_state(std::string& error) {
  // Running shards hand over fresh copies; after stop() their last ones are current.
  if (started_ && !stopped_ && !collect_snapshots(std::chrono::seconds(30))) {
    error = "state.db: the detect shards did not hand over their state within 30 s";
  } else {
    const std::string db = store::state_db_path(o_.config.store_path);
    const netmodel::EdgeInventory merged = inventory();
    bool ok = store::save_inventory(db, merged, error);
    const int64_t now = wall_clock_ms();
    for (auto& s : shards_) {
      std::lock_guard lock(s->pub_mu);
      for (const auto& [name, text] : s->states) {
        if (!ok) break;
        if (!text.empty())
          ok = store::save_detector_state(db, state_row(name, s->index, shards_.size()), text, now,
                                          error);
      }
    }
    if (ok) {
      std::lock_guard lock(state_mu_);
      state_saved_ms_ = now;
      state_error_.clear();
      return true;
    }
  }
  std::lock_guard lock(state_mu_);
  state_error_ = error;
  return false;
}

netmodel::EdgeInventory Pipeline::inventory() const {
  netmodel::EdgeInventory out(SIZE_MAX, SIZE_MAX);
  int64_t learning = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->pub_mu);
    const auto& inv = s->inventory_copy;
    for (const auto& [k, r] : inv.services()) out.put(k, r);
    for (const auto& [a, r] : inv.devices()) out.put_device(a, r);
    for (const auto& [a, r] : inv.exporters()) merge_exporter(out, a, r);
    if (inv.learning_start_ms() != 0 && (learning == 0 || inv.learning_start_ms() < learning))
      learning = inv.learning_start_ms();
  }
  out.set_learning_start_ms(learning);
  return out;
}

void Pipeline::stop() {
  if (!started_ || stopped_) return;
  // Sockets first (they drain into the shards and seal the archive), then the shards (their
  // detectors flush into the alert thread), then the alerts.
  listener_->stop();
  sources_stop_ = true;
  for (auto& c : captures_)
    if (c->thread.joinable()) c->thread.join();
  if (kafka_thread_.joinable()) kafka_thread_.join();
  for (auto& s : shards_) {
    {
      std::lock_guard lock(s->mu);
      s->stopping = true;
    }
    s->cv.notify_all();
  }
  for (auto& s : shards_)
    if (s->thread.joinable()) s->thread.join();
  alerts_->stop();
  for (auto& ch : clickhouse_) ch.output->stop();  // after everything that feeds them
  for (auto& k : kafka_) k.output->stop();
  stopped_ = true;
}

std::vector<std::string> Pipeline::maintain() {
  if (!o_.config.archive) return {};
  return store::archive::apply_retention(o_.config.store_path, o_.config.retention, wall_clock_ms())
      .problems;
}

void Pipeline::set_model(std::shared_ptr<const netmodel::ModelIndex> model,
                         std::shared_ptr<const enrich::GeoDb> geo) {
  if (!model) model = netmodel::ModelIndex::with_internal({});
  model_.store(std::make_shared<const Model>(Model{std::move(model), std::move(geo)}));
}

bool Pipeline::set_outputs(const std::vector<OutputConfig>& outputs, std::string& error) {
  std::vector<Output> built;
  if (!make_outputs(outputs, o_.config.store_path, built, error)) return false;
  alerts_->set_outputs(std::move(built));
  return true;
}

PipelineStats Pipeline::stats() const {
  PipelineStats s;
  s.started_ms = started_ms_;
  if (listener_) s.udp = listener_->stats();
  std::vector<ExporterMetrics> exporters;
  for (const auto& r : receivers_) {
    std::lock_guard lock(r->mu);
    s.decode.merge(r->decode);
    for (size_t k = 0; k < s.datagrams_by_kind.size(); ++k) s.datagrams_by_kind[k] += r->by_kind[k];
    exporters.insert(exporters.end(), r->exporters.begin(), r->exporters.end());
    s.exporters_total += r->exporters_total;
    s.archive.merge(r->archive_stats);
    s.capture_packets += r->capture_packets;
    s.capture_drops += r->capture_drops;
    s.capture_flows += r->capture_flows;
  }
  if (kafka_in_) {
    std::lock_guard lock(receivers_.back()->mu);
    s.kafka.enabled = true;
    s.kafka.stats = receivers_.back()->kafka;
  }
  std::sort(
      exporters.begin(), exporters.end(),
      [](const ExporterMetrics& a, const ExporterMetrics& b) { return a.records > b.records; });
  if (exporters.size() > kMaxExporterMetrics) exporters.resize(kMaxExporterMetrics);
  s.exporters = std::move(exporters);
  std::map<std::string, detect::DetectorStats> by_detector;
  for (const auto& sh : shards_) {
    ShardMetrics m;
    {
      std::lock_guard lock(sh->pub_mu);
      m = sh->metrics;
      for (const auto& [name, d] : sh->detector_stats) {
        auto& t = by_detector[name];
        t.alerts += d.alerts;
        t.state_entries += d.state_entries;
        t.state_bytes += d.state_bytes;
        t.evicted += d.evicted;
      }
    }
    s.inventory_services += m.services;
    s.inventory_devices += m.devices;
    s.inventory_dropped += m.inventory_dropped;
    m.shed = sh->shed.load(std::memory_order_relaxed);
    {
      std::lock_guard lock(sh->mu);
      m.queued = sh->queue.size();
    }
    s.shards.push_back(m);
  }
  s.detectors.assign(by_detector.begin(), by_detector.end());
  if (alerts_) alerts_->fill(s);
  for (const auto& ch : clickhouse_) s.outputs.push_back(clickhouse_metrics(ch.label, *ch.output));
  for (const auto& k : kafka_) s.outputs.push_back(kafka_metrics(k.label, *k.output));
  std::lock_guard lock(state_mu_);
  s.state_saved_ms = state_saved_ms_;
  s.state_error = state_error_;
  return s;
}

}  // namespace orbwatch::server
