#include "kafka/flow_consumer.h"

#include <charconv>
#include <climits>
#include <string_view>

#include <fmt/core.h>

#include "kafka/kafka_output.h"

namespace orbwatch::kafka {

FlowConsumer::FlowConsumer(Options o) : o_(std::move(o)) {}

FlowConsumer::~FlowConsumer() {
  close();
}

bool FlowConsumer::open(std::string& error) {
  if (o_.start != "earliest" && o_.start != "latest") {
    error = "kafka: start must be \"earliest\" or \"latest\"";
    return false;
  }
  // Offsets are stored by done() only (at least once), committed every second.
  const Properties defaults = {{"group.id", o_.group},
                               {"auto.offset.reset", o_.start},
                               {"enable.auto.offset.store", "false"},
                               {"auto.commit.interval.ms", "1000"},
                               {"log.connection.close", "false"}};
  Conf conf = make_conf(o_.brokers, defaults, o_.properties, error);
  if (!conf) return false;
  rk_ = make_client(RD_KAFKA_CONSUMER, conf, error);
  if (!rk_) return false;
  rd_kafka_poll_set_consumer(rk_.get());
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(static_cast<int>(o_.topics.size()));
  for (const auto& t : o_.topics)
    rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = fmt::format("kafka: subscribe: {}", rd_kafka_err2str(err));
    rk_.reset();
    return false;
  }
  pending_ = rd_kafka_topic_partition_list_new(8);
  return true;
}

namespace {

// The header KafkaOutput writes (kafka_output.h); INT64_MIN when absent or not a number.
int64_t watermark_of(rd_kafka_message_t* m) {
  rd_kafka_headers_t* headers = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_header_get_last(headers, KafkaOutput::kWatermarkHeader, &value, &size) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr)
    return INT64_MIN;
  const char* text = static_cast<const char*>(value);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text, text + size, v);
  return ec == std::errc() && end == text + size ? v : INT64_MIN;
}

}  // namespace

size_t FlowConsumer::poll(FlowBatch& out, std::vector<int64_t>& upstream_ends, int timeout_ms,
                          size_t max) {
  if (!rk_) return 0;
  size_t n = 0;
  uint64_t flows = 0, bad = 0, errors = 0;
  std::string last_bad, last_error;
  while (n < max) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), n == 0 ? timeout_ms : 0);
    if (!m) break;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ++errors;
        last_error = fmt::format("kafka: {}", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    ++n;
    const std::string_view value(static_cast<const char*>(m->payload), m->len);
    const char* topic = rd_kafka_topic_name(m->rkt);
    if (reader_.read(value, out, error_)) {
      upstream_ends.push_back(watermark_of(m));
      ++flows;
    } else {
      ++bad;
      last_bad = fmt::format("{}[{}]@{}: {}", topic, m->partition, m->offset, error_);
    }
    // Offsets only rise within a partition: the last one read is the one to store.
    rd_kafka_topic_partition_t* p =
        rd_kafka_topic_partition_list_find(pending_, topic, m->partition);
    if (!p) p = rd_kafka_topic_partition_list_add(pending_, topic, m->partition);
    p->offset = m->offset + 1;
    rd_kafka_message_destroy(m);
  }
  std::lock_guard lock(mu_);
  stats_.messages += n;
  stats_.flows += flows;
  stats_.bad += bad;
  stats_.errors += errors;
  if (!last_bad.empty()) stats_.last_bad = std::move(last_bad);
  if (!last_error.empty()) stats_.last_error = std::move(last_error);
  return n;
}

void FlowConsumer::done() {
  if (!rk_ || pending_->cnt == 0) return;
  // A partition revoked meanwhile is refused here; its next owner reads those flows again.
  rd_kafka_offsets_store(rk_.get(), pending_);
  rd_kafka_topic_partition_list_destroy(pending_);
  pending_ = rd_kafka_topic_partition_list_new(8);
}

void FlowConsumer::refresh() {
  if (!rk_) return;
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(rk_.get(), &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  rd_kafka_position(rk_.get(), assigned);
  int64_t lag = 0;
  for (int i = 0; i < assigned->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = assigned->elems[i];
    int64_t lo = 0, hi = 0;
    if (rd_kafka_get_watermark_offsets(rk_.get(), p.topic, p.partition, &lo, &hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0)
      continue;
    const int64_t at = p.offset >= 0 ? p.offset : lo;
    if (hi > at) lag += hi - at;
  }
  std::lock_guard lock(mu_);
  stats_.partitions = static_cast<size_t>(assigned->cnt);
  stats_.lag = lag;
  rd_kafka_topic_partition_list_destroy(assigned);
}

void FlowConsumer::close() {
  if (!rk_) return;
  done();
  // Synchronously, so that a clean stop leaves nothing to read again (unless the group is
  // rebalancing: then the next owner reads up to a second of flows again).
  rd_kafka_commit(rk_.get(), nullptr, 0);
  rd_kafka_consumer_close(rk_.get());  // leaves the group
  rd_kafka_topic_partition_list_destroy(pending_);
  pending_ = nullptr;
  rk_.reset();
  std::lock_guard lock(mu_);
  stats_.partitions = 0;
}

FlowConsumer::Stats FlowConsumer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace orbwatch::kafka
