#include "kafka/kafka_output.h"

#include <charconv>
#include <chrono>
#include <climits>
#include <string_view>

#include <fmt/core.h>

#include "core/flow_json.h"

namespace orbwatch::kafka {

namespace {

// Delivery reports tell flows from alerts by the message's opaque pointer.
char kFlowTag, kAlertTag;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

KafkaOutput::KafkaOutput(Options o) : o_(std::move(o)) {}

KafkaOutput::~KafkaOutput() {
  stop();
}

bool KafkaOutput::start(std::string& error) {
  // Idempotence: retries neither duplicate nor reorder. murmur2_random: the partition of a key
  // is the one Java clients (Kafka Streams, Connect) pick for it. A large queue and a short
  // linger: big compressed batches at flow rates.
  const Properties defaults = {{"enable.idempotence", "true"},
                               {"partitioner", "murmur2_random"},
                               {"compression.codec", o_.compression},
                               {"linger.ms", "50"},
                               {"queue.buffering.max.messages", "1000000"},
                               {"log.connection.close", "false"}};
  Conf conf = make_conf(o_.brokers, defaults, o_.properties, error);
  if (!conf) return false;
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaOutput::on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaOutput::on_error);
  rk_ = make_client(RD_KAFKA_PRODUCER, conf, error);
  if (!rk_) return false;
  if (o_.flows) flows_topic_ = rd_kafka_topic_new(rk_.get(), o_.flows_topic.c_str(), nullptr);
  if (o_.alerts) alerts_topic_ = rd_kafka_topic_new(rk_.get(), o_.alerts_topic.c_str(), nullptr);
  if ((o_.flows && !flows_topic_) || (o_.alerts && !alerts_topic_)) {
    error = fmt::format("kafka: topic: {}", rd_kafka_err2str(rd_kafka_last_error()));
    return false;
  }
  poller_ = std::thread([this] {
    while (!stopping_.load(std::memory_order_relaxed)) rd_kafka_poll(rk_.get(), 100);
  });
  return true;
}

bool KafkaOutput::produce(rd_kafka_topic_t* topic, const std::string& key, std::string_view value,
                          int64_t watermark, void* kind, int64_t& deadline_ms) {
  char mark[24];
  const auto [end, ec] = std::to_chars(mark, mark + sizeof mark, watermark);
  const size_t mark_len = watermark == INT64_MIN || ec != std::errc() ? 0 : end - mark;
  for (;;) {
    // A header list is the message's once produced; a refused message leaves it to us.
    rd_kafka_headers_t* headers = nullptr;
    if (mark_len != 0) {
      headers = rd_kafka_headers_new(1);
      rd_kafka_header_add(headers, kWatermarkHeader, -1, mark, static_cast<ssize_t>(mark_len));
    }
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(kind), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    if (headers) rd_kafka_headers_destroy(headers);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      note_error(fmt::format("kafka: produce: {}", rd_kafka_err2str(err)));
      return false;
    }
    if (deadline_ms == 0) deadline_ms = steady_ms() + kFullWaitMs;
    if (steady_ms() >= deadline_ms) {
      note_error("kafka: the producer queue is full (brokers away or slower than the flows)");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void KafkaOutput::add_flows(const FlowBatch& batch, std::span<const IpAddr> keys,
                            std::span<const int64_t> ends) {
  if (!flows_topic_ || stopping_.load(std::memory_order_relaxed)) return;
  std::string line, key;
  int64_t deadline = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    line.clear();
    append_flow_json(line, batch, i);
    line.pop_back();  // the newline: a message holds one object
    key = keys[i].to_string();
    if (!produce(flows_topic_, key, line, ends[i], &kFlowTag, deadline)) {
      flows_dropped_.fetch_add(batch.size() - i, std::memory_order_relaxed);
      return;
    }
  }
}

void KafkaOutput::emit(const Alert& a) {
  if (!alerts_topic_ || stopping_.load(std::memory_order_relaxed)) return;
  std::string json;
  if (o_.ecs) {
    append_alert_ecs_json(json, a);
  } else {
    append_alert_json(json, a);
  }
  while (!json.empty() && json.back() == '\n') json.pop_back();
  int64_t deadline = 0;
  if (!produce(alerts_topic_, a.id, json, INT64_MIN, &kAlertTag, deadline))
    alerts_dropped_.fetch_add(1, std::memory_order_relaxed);
}

void KafkaOutput::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<KafkaOutput*>(opaque);
  const bool alert = m->_private == &kAlertTag;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    (alert ? self->alerts_sent_ : self->flows_sent_).fetch_add(1, std::memory_order_relaxed);
    return;
  }
  (alert ? self->alerts_dropped_ : self->flows_dropped_).fetch_add(1, std::memory_order_relaxed);
  self->note_error(fmt::format("kafka: {} not delivered: {}", alert ? "alert" : "flow",
                               rd_kafka_err2str(m->err)));
}

void KafkaOutput::on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaOutput*>(opaque);
  self->errors_.fetch_add(1, std::memory_order_relaxed);
  self->note_error(fmt::format("kafka: {}: {}",
                               rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason));
}

void KafkaOutput::note_error(std::string error) {
  std::lock_guard lock(mu_);
  last_error_ = std::move(error);
}

void KafkaOutput::stop() {
  if (stopped_ || !rk_) return;
  stopped_ = true;
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  rd_kafka_flush(rk_.get(), static_cast<int>(o_.stop_flush_ms));
  // What is left is reported (and counted) as purged.
  rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(rk_.get(), 1000);
  if (flows_topic_) rd_kafka_topic_destroy(flows_topic_);
  if (alerts_topic_) rd_kafka_topic_destroy(alerts_topic_);
  flows_topic_ = alerts_topic_ = nullptr;
  std::lock_guard lock(mu_);  // stats() reads the queue length through rk_
  rk_.reset();
}

KafkaOutput::Stats KafkaOutput::stats() const {
  Stats s;
  s.flows_sent = flows_sent_.load(std::memory_order_relaxed);
  s.alerts_sent = alerts_sent_.load(std::memory_order_relaxed);
  s.flows_dropped = flows_dropped_.load(std::memory_order_relaxed);
  s.alerts_dropped = alerts_dropped_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  s.queued = rk_ ? static_cast<uint64_t>(rd_kafka_outq_len(rk_.get())) : 0;
  s.last_error = last_error_;
  return s;
}

}  // namespace orbwatch::kafka
