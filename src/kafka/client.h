// What the Kafka producer (kafka/kafka_output.h) and consumer (kafka/flow_consumer.h) share:
// librdkafka handles that free themselves, and a client configuration built from a broker list
// plus the operator's own librdkafka properties (TLS, SASL, tuning), checked by librdkafka.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

namespace orbwatch::kafka {

// librdkafka properties as written in the config file, in order ("security.protocol", "ssl").
using Properties = std::vector<std::pair<std::string, std::string>>;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// A configuration: `defaults` first, then bootstrap.servers = `brokers`, then `properties`
// (the operator's word wins over orbwatch's defaults). Null with "kafka: NAME: reason".
Conf make_conf(const std::string& brokers, const Properties& defaults, const Properties& properties,
               std::string& error);

// A producer or consumer from `conf`, which it then owns (left to the caller on failure). Null
// with "kafka: reason".
Handle make_client(rd_kafka_type_t type, Conf& conf, std::string& error);

// Whether librdkafka accepts NAME = VALUE (for the config file check); false with "NAME: reason".
bool check_property(const std::string& name, const std::string& value, std::string& error);

// "host:port,host:port": every entry has a host and a port.
bool valid_brokers(const std::string& brokers);

}  // namespace orbwatch::kafka
