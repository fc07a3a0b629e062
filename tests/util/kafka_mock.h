// A Kafka cluster of the test's own: librdkafka's built-in mock brokers, listening on
// 127.0.0.1 ports of their own (real TCP, so other processes can reach them too).
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

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

}  // namespace orbwatch::test
