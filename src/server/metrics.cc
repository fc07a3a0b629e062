#include "server/metrics.h"

#include <fmt/core.h>

#include "ingest/datagram.h"

namespace orbwatch::server {

namespace {

// Label values: backslash, double quote and newline escaped (the exposition format's rule).
std::string label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  // Starts a family: its HELP and TYPE lines.
  void family(const char* name, const char* type, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    name_ = name;
  }
  void sample(double v, const std::string& labels = {}) {
    if (labels.empty()) {
      out_ += fmt::format("{} {}\n", name_, v);
    } else {
      out_ += fmt::format("{}{{{}}} {}\n", name_, labels, v);
    }
  }

 private:
  std::string& out_;
  const char* name_ = "";
};

}  // namespace

std::string prometheus_text(const MetricsInput& in) {
  const PipelineStats& p = in.pipeline;
  std::string out;
  Writer w(out);
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  auto secs = [](int64_t ms) { return static_cast<double>(ms) / 1000.0; };

  w.family("orbwatch_start_time_seconds", "gauge", "When the daemon started (unix time).");
  w.sample(secs(p.started_ms));

  // Receive and decode.
  w.family("orbwatch_udp_datagrams_total", "counter", "Datagrams read from the sockets.");
  w.sample(d(p.udp.datagrams));
  w.family("orbwatch_udp_bytes_total", "counter", "Bytes read from the sockets.");
  w.sample(d(p.udp.bytes));
  w.family("orbwatch_datagrams_total", "counter", "Datagrams decoded, by export version.");
  for (size_t k = 1; k < p.datagrams_by_kind.size(); ++k) {
    w.sample(d(p.datagrams_by_kind[k]),
             fmt::format("version=\"{}\"",
                         ingest::export_kind_name(static_cast<ingest::ExportKind>(k))));
  }
  w.family("orbwatch_capture_packets_total", "counter",
           "Packets read from the live interfaces ([collect] capture).");
  w.sample(d(p.capture_packets));
  w.family("orbwatch_capture_flows_total", "counter", "Flows metered from the captured packets.");
  w.sample(d(p.capture_flows));
  if (p.kafka.enabled) {
    const auto& k = p.kafka.stats;
    w.family("orbwatch_kafka_messages_total", "counter",
             "Messages read from Kafka ([collect.kafka]).");
    w.sample(d(k.messages));
    w.family("orbwatch_kafka_flows_total", "counter", "Flows read from Kafka.");
    w.sample(d(k.flows));
    w.family("orbwatch_kafka_partitions", "gauge", "Kafka partitions assigned to this instance.");
    w.sample(d(k.partitions));
    w.family("orbwatch_kafka_lag_messages", "gauge",
             "Messages of the assigned partitions not read yet (as of the last fetch).");
    w.sample(static_cast<double>(k.lag));
    w.family("orbwatch_kafka_errors_total", "counter",
             "Kafka consumer errors (brokers away; retried).");
    w.sample(d(k.errors));
  }
  w.family("orbwatch_records_total", "counter", "Flow records decoded.");
  w.sample(d(p.decode.records));
  w.family("orbwatch_templates_learned_total", "counter",
           "NetFlow v9/IPFIX templates learned or refreshed.");
  w.sample(d(p.decode.templates));
  w.family("orbwatch_sequence_lost_total", "counter",
           "Flows or datagrams the exporters sent that never arrived (sequence gaps).");
  w.sample(d(p.decode.seq_lost));

  // Every drop, by place and reason.
  w.family("orbwatch_drops_total", "counter",
           "What was lost or refused, by place (kernel, receive, decode, kafka, detect_queue, "
           "alert_queue, archive, alert_store) and reason.");
  w.sample(d(p.udp.kernel_drops), "place=\"kernel\",reason=\"socket_buffer\"");
  for (size_t i = 0; i < static_cast<size_t>(ingest::UdpDrop::kCount); ++i) {
    w.sample(d(p.udp.drops[i]),
             fmt::format("place=\"receive\",reason=\"{}\"",
                         ingest::udp_drop_name(static_cast<ingest::UdpDrop>(i))));
  }
  for (size_t i = 0; i < static_cast<size_t>(ingest::DecodeError::kCount); ++i) {
    w.sample(d(p.decode.errors[i]),
             fmt::format("place=\"decode\",reason=\"{}\"",
                         ingest::decode_error_name(static_cast<ingest::DecodeError>(i))));
  }
  uint64_t shed = 0;
  for (const auto& s : p.shards) shed += s.shed;
  w.sample(d(shed), "place=\"detect_queue\",reason=\"full\"");
  w.sample(d(p.capture_drops), "place=\"capture\",reason=\"kernel\"");
  if (p.kafka.enabled) w.sample(d(p.kafka.stats.bad), "place=\"kafka\",reason=\"not_a_flow\"");
  w.sample(d(p.alerts_shed), "place=\"alert_queue\",reason=\"full\"");
  w.sample(d(p.archive.flows_not_stored), "place=\"archive\",reason=\"write_error\"");
  w.sample(d(p.alerts_not_stored), "place=\"alert_store\",reason=\"write_error\"");

  // Per exporter (the busiest kMaxExporterMetrics).
  w.family("orbwatch_exporter_records_total", "counter", "Flow records by exporter.");
  for (const auto& e : p.exporters) {
    w.sample(d(e.records),
             fmt::format("exporter=\"{}\",version=\"{}\"", e.addr.to_string(), e.version));
  }
  w.family("orbwatch_exporter_datagrams_total", "counter", "Datagrams by exporter.");
  for (const auto& e : p.exporters) {
    w.sample(d(e.datagrams),
             fmt::format("exporter=\"{}\",version=\"{}\"", e.addr.to_string(), e.version));
  }
  w.family("orbwatch_exporter_sequence_lost_total", "counter",
           "Export loss estimated from sequence gaps, by exporter.");
  for (const auto& e : p.exporters)
    w.sample(d(e.seq_lost), fmt::format("exporter=\"{}\"", e.addr.to_string()));
  w.family("orbwatch_exporter_decode_errors_total", "counter", "Decode errors by exporter.");
  for (const auto& e : p.exporters)
    w.sample(d(e.errors), fmt::format("exporter=\"{}\"", e.addr.to_string()));
  w.family("orbwatch_exporter_templates", "gauge", "Templates held, by exporter.");
  for (const auto& e : p.exporters)
    w.sample(d(e.templates), fmt::format("exporter=\"{}\"", e.addr.to_string()));
  w.family("orbwatch_exporter_last_seen_seconds", "gauge",
           "When each exporter last sent (unix time).");
  for (const auto& e : p.exporters)
    w.sample(secs(e.last_seen_ms), fmt::format("exporter=\"{}\"", e.addr.to_string()));
  w.family("orbwatch_exporters", "gauge", "Exporters with state held.");
  w.sample(d(p.exporters_total));

  // Feeds.
  w.family("orbwatch_feed_entries", "gauge", "Indicators in each feed's current version.");
  for (const auto& f : in.feeds) w.sample(d(f.entries), fmt::format("feed=\"{}\"", label(f.name)));
  w.family("orbwatch_feed_age_seconds", "gauge",
           "Seconds since each feed's source last gave or confirmed its current version.");
  for (const auto& f : in.feeds) {
    if (f.last_success_ms != 0)
      w.sample(secs(in.now_ms - f.last_success_ms), fmt::format("feed=\"{}\"", label(f.name)));
  }
  w.family("orbwatch_feed_consecutive_failures", "gauge", "Failed reads since the last success.");
  for (const auto& f : in.feeds)
    w.sample(d(f.consecutive_failures), fmt::format("feed=\"{}\"", label(f.name)));

  // Detectors.
  w.family("orbwatch_alerts_total", "counter",
           "Alerts raised, by detector and severity (each update of an alert counts).");
  for (const auto& [name, counts] : p.alerts) {
    for (size_t s = 0; s < counts.size(); ++s) {
      w.sample(d(counts[s]), fmt::format("detector=\"{}\",severity=\"{}\"", label(name),
                                         severity_name(static_cast<Severity>(s))));
    }
  }
  w.family("orbwatch_detector_state_entries", "gauge", "Keys each detector holds.");
  for (const auto& [name, s] : p.detectors)
    w.sample(d(s.state_entries), fmt::format("detector=\"{}\"", label(name)));
  w.family("orbwatch_detector_state_bytes", "gauge", "Approximate heap bytes of that state.");
  for (const auto& [name, s] : p.detectors)
    w.sample(d(s.state_bytes), fmt::format("detector=\"{}\"", label(name)));

  // Memory caps: what was evicted because a cap was reached.
  w.family("orbwatch_cap_evictions_total", "counter",
           "Entries evicted because a memory cap was reached, by cap.");
  w.sample(d(p.decode.error(ingest::DecodeError::kExporterEvicted)), "cap=\"exporters\"");
  w.sample(d(p.decode.error(ingest::DecodeError::kTemplateEvicted)), "cap=\"templates\"");
  w.sample(d(p.decode.error(ingest::DecodeError::kPendingDropped)), "cap=\"pending_sets\"");
  w.sample(d(p.inventory_dropped), "cap=\"inventory\"");
  for (const auto& [name, s] : p.detectors)
    w.sample(d(s.evicted), fmt::format("cap=\"detector_{}\"", label(name)));

  // Detect shards.
  w.family("orbwatch_detect_flows_total", "counter", "Flows through each detect shard.");
  for (size_t i = 0; i < p.shards.size(); ++i)
    w.sample(d(p.shards[i].flows), fmt::format("shard=\"{}\"", i));
  w.family("orbwatch_queue_depth", "gauge", "Batches waiting in each queue.");
  for (size_t i = 0; i < p.shards.size(); ++i)
    w.sample(d(p.shards[i].queued), fmt::format("queue=\"detect\",shard=\"{}\"", i));
  w.family("orbwatch_watermark_seconds", "gauge",
           "Event time up to which each shard's windows are closed (unix time).");
  for (size_t i = 0; i < p.shards.size(); ++i)
    w.sample(secs(p.shards[i].watermark_ms), fmt::format("shard=\"{}\"", i));

  // Archive.
  w.family("orbwatch_archive_flows_stored_total", "counter", "Flows written to the archive.");
  w.sample(d(p.archive.flows_stored));
  w.family("orbwatch_archive_segments_sealed_total", "counter", "Segment files sealed.");
  w.sample(d(p.archive.segments_sealed));
  w.family("orbwatch_archive_write_errors_total", "counter", "Archive write errors.");
  w.sample(d(p.archive.write_errors));
  w.family("orbwatch_archive_write_lag_flows", "gauge",
           "Flows received but not yet written to the archive (staged, queued, being encoded).");
  const uint64_t received = p.decode.records + p.capture_flows + p.kafka.stats.flows;
  const uint64_t written = p.archive.flows_stored + p.archive.flows_not_stored;
  w.sample(d(received > written ? received - written : 0));
  w.family("orbwatch_archive_bytes", "gauge", "Bytes of sealed segments on disk.");
  w.sample(d(in.archive_bytes));

  // Inventory and state.
  w.family("orbwatch_inventory_services", "gauge", "Edge services in the inventory.");
  w.sample(d(p.inventory_services));
  w.family("orbwatch_inventory_devices", "gauge", "Edge devices in the inventory.");
  w.sample(d(p.inventory_devices));
  w.family("orbwatch_state_saved_seconds", "gauge",
           "When the inventory and baselines were last written to state.db (unix time).");
  w.sample(secs(p.state_saved_ms));

  // Outputs.
  w.family("orbwatch_output_alerts_total", "counter", "Alerts delivered by each output.");
  for (const auto& o : p.outputs)
    w.sample(d(o.stats.written), fmt::format("output=\"{}\"", label(o.label)));
  w.family("orbwatch_output_dropped_total", "counter",
           "Alerts an output lost (queue or spool full, refused by the receiver).");
  for (const auto& o : p.outputs)
    w.sample(d(o.stats.dropped), fmt::format("output=\"{}\"", label(o.label)));
  w.family("orbwatch_output_errors_total", "counter", "Failed writes or deliveries (retried).");
  for (const auto& o : p.outputs)
    w.sample(d(o.stats.errors), fmt::format("output=\"{}\"", label(o.label)));
  w.family("orbwatch_output_spool_bytes", "gauge",
           "Undelivered alerts (webhook) or batches (clickhouse) waiting on disk.");
  for (const auto& o : p.outputs)
    w.sample(d(o.spooled_bytes), fmt::format("output=\"{}\"", label(o.label)));
  // Outputs of flows (clickhouse).
  auto flows_family = [&](const char* name, const char* type, const char* help,
                          uint64_t OutputMetrics::*field) {
    w.family(name, type, help);
    for (const auto& o : p.outputs)
      if (o.flows_output) w.sample(d(o.*field), fmt::format("output=\"{}\"", label(o.label)));
  };
  flows_family("orbwatch_output_flows_total", "counter", "Flows delivered by each output.",
               &OutputMetrics::flows);
  flows_family("orbwatch_output_flows_dropped_total", "counter",
               "Flows an output lost (spool full or unreadable; Kafka queue full or not "
               "delivered in time).",
               &OutputMetrics::flows_dropped);
  flows_family("orbwatch_output_flows_staged", "gauge",
               "Flows waiting in memory (for the next insert; in the Kafka producer's queue).",
               &OutputMetrics::flows_staged);
  flows_family("orbwatch_output_spool_batches", "gauge", "Batches waiting on disk.",
               &OutputMetrics::spooled_batches);
  flows_family("orbwatch_output_duplicate_batches_total", "counter",
               "Batches found already stored when retried (not sent twice).",
               &OutputMetrics::duplicate_batches);
  return out;
}

}  // namespace orbwatch::server
