// orbwatch_test_kafka_mock: a mock Kafka cluster for the end-to-end tests, in a process of its
// own. Usage: orbwatch_test_kafka_mock BROKERS TOPIC:PARTITIONS...; prints "brokers LIST" on
// stderr once the topics exist, then runs until it is killed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "util/kafka_mock.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BROKERS TOPIC:PARTITIONS...\n", argv[0]);
    return 2;
  }
  orbwatch::test::MockKafka kafka(std::atoi(argv[1]));
  if (!kafka.ok()) return 1;
  for (int i = 2; i < argc; ++i) {
    const std::string spec = argv[i];
    const size_t colon = spec.find(':');
    if (colon == std::string::npos ||
        !kafka.create_topic(spec.substr(0, colon), std::atoi(spec.c_str() + colon + 1))) {
      std::fprintf(stderr, "bad topic %s\n", spec.c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "brokers %s\n", kafka.brokers().c_str());
  for (;;) ::pause();
}
