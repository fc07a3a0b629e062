// A Kafka cluster of the test's own: librdkafka's built-in mock brokers, listening on
// 127.0.0.1 ports of their own (real TCP, so other processes can reach them too).
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace orbwatch::test {

class MockKafka {
 public:
  explicit MockKafka(int brokers = 3) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);  // no "no bootstrap" note
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (rk_) cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
  }
  ~MockKafka() {
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (rk_) rd_kafka_destroy(rk_);
  }
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  bool ok() const { return cluster_ != nullptr; }
  std::string brokers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  bool create_topic(const std::string& name, int partitions) {
    return rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  // Brokers are numbered from 1.
  void set_down(int broker) { rd_kafka_mock_broker_set_down(cluster_, broker); }
  void set_up(int broker) { rd_kafka_mock_broker_set_up(cluster_, broker); }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

struct TopicMessage {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key, value;
};

// Every message of `topic` (partitions 0 .. partitions-1) from its beginning, read without a
// consumer group, until `want` arrived or `limit` passed.
inline std::vector<TopicMessage> read_topic(const std::string& brokers, const std::string& topic,
                                            int partitions, size_t want,
                                            std::chrono::milliseconds limit) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "group.id", "reader", error, sizeof error);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  std::vector<TopicMessage> out;
  if (!rk) return out;
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  const auto until = std::chrono::steady_clock::now() + limit;
  while (out.size() < want && std::chrono::steady_clock::now() < until) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      out.push_back({m->partition, m->offset,
                     std::string(static_cast<const char*>(m->key), m->key_len),
                     std::string(static_cast<const char*>(m->payload), m->len)});
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

}  // namespace orbwatch::test
