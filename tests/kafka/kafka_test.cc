// Kafka transport against librdkafka's mock cluster (real brokers' protocol on 127.0.0.1): the
// producer's messages (flows keyed by host, alerts by id), what an outage and a full queue do
// to them, and the consumer group that spreads partitions over instances.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/flow_json.h"
#include "ingest/flow_json_reader.h"
#include "kafka/flow_consumer.h"
#include "kafka/kafka_output.h"
#include "util/kafka_mock.h"

namespace orbwatch::kafka {
namespace {

using namespace std::chrono_literals;

using Message = test::TopicMessage;

std::vector<Message> read_topic(const std::string& brokers, const std::string& topic,
                                int partitions, size_t want,
                                std::chrono::seconds limit = std::chrono::seconds(20)) {
  return test::read_topic(brokers, topic, partitions, want, limit);
}

// `n` flows between 40 hosts of 10.0.0.0/24 and the outside; keys[i]: the internal one.
FlowBatch flows(size_t n, std::vector<IpAddr>& keys, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  FlowBatch b;
  keys.clear();
  for (size_t i = 0; i < n; ++i) {
    const uint64_t x = rng();
    FlowRecord& r = b.add();
    const IpAddr inside = IpAddr::v4(0x0a000000u + static_cast<uint32_t>(x % 40));
    const IpAddr outside = IpAddr::v4(0xcb007100u + static_cast<uint32_t>((x >> 8) % 200));
    const bool out = (x >> 16) % 2 == 0;
    r.src = out ? inside : outside;
    r.dst = out ? outside : inside;
    r.start_ms = 1'775'000'000'000 + static_cast<int64_t>(i) * 10;
    r.end_ms = r.start_ms + 5;
    r.src_port = static_cast<uint16_t>(x >> 20);
    r.dst_port = 443;
    r.proto = 6;
    r.bytes = i + 1;  // tells the flows apart
    r.packets = 1;
    keys.push_back(inside);
  }
  return b;
}

// Watermarks as the pipeline gives them: the latest end before each flow.
std::vector<int64_t> ends_of(const FlowBatch& b) {
  std::vector<int64_t> ends;
  int64_t end = INT64_MIN;
  for (const FlowRecord& r : b.records) {
    ends.push_back(end);
    end = std::max(end, r.end_ms);
  }
  return ends;
}

std::string json_line(const FlowBatch& b, size_t i) {
  std::string s;
  append_flow_json(s, b, i);
  s.pop_back();
  return s;
}

KafkaOutput::Options output_options(const test::MockKafka& kafka) {
  KafkaOutput::Options o;
  o.brokers = kafka.brokers();
  o.properties = {{"log_level", "3"}};
  return o;
}

TEST(KafkaOutput, FlowsKeyedByTheirHostLandInOnePartitionEachAlertsByTheirId) {
  test::MockKafka kafka;
  ASSERT_TRUE(kafka.ok());
  ASSERT_TRUE(kafka.create_topic("orbwatch-flows", 6));
  ASSERT_TRUE(kafka.create_topic("orbwatch-alerts", 2));
  KafkaOutput out(output_options(kafka));
  std::string error;
  ASSERT_TRUE(out.start(error)) << error;
  std::vector<IpAddr> keys;
  const FlowBatch b = flows(20'000, keys);
  for (size_t at = 0; at < b.size(); at += 4096) {
    FlowBatch part;
    std::vector<IpAddr> part_keys;
    for (size_t i = at; i < std::min(b.size(), at + 4096); ++i) {
      part.append_from(b, i);
      part_keys.push_back(keys[i]);
    }
    out.add_flows(part, part_keys, ends_of(part));
  }
  std::vector<std::string> alert_json;
  for (int i = 0; i < 5; ++i) {
    Alert a;
    a.id = make_alert_id("intel", std::to_string(i), 1000 + i);
    a.detector = "intel";
    a.severity = Severity::kHigh;
    a.summary = "test alert " + std::to_string(i);
    a.src = keys[static_cast<size_t>(i)];
    a.ts_ms = a.first_seen_ms = a.last_seen_ms = 1'775'000'000'000;
    out.emit(a);
    std::string j;
    append_alert_json(j, a);
    j.pop_back();
    alert_json.push_back(j);
  }
  out.stop();
  const auto s = out.stats();
  EXPECT_EQ(s.flows_sent, 20'000u);
  EXPECT_EQ(s.alerts_sent, 5u);
  EXPECT_EQ(s.flows_dropped, 0u);

  const auto got = read_topic(kafka.brokers(), "orbwatch-flows", 6, 20'000);
  ASSERT_EQ(got.size(), 20'000u);
  std::multiset<std::string> sent_lines, got_lines;
  for (size_t i = 0; i < b.size(); ++i) sent_lines.insert(json_line(b, i));
  std::map<std::string, std::set<int32_t>> partitions_of;
  std::map<int32_t, int64_t> last_bytes;  // per partition: flows in the order produced
  ingest::FlowJsonReader reader;
  std::set<int32_t> used;
  for (const Message& m : got) {
    got_lines.insert(m.value);
    partitions_of[m.key].insert(m.partition);
    used.insert(m.partition);
    FlowBatch one;
    ASSERT_TRUE(reader.read(m.value, one, error)) << error;
    // The key is the flow's internal host.
    EXPECT_EQ(m.key, keys[one.records[0].bytes - 1].to_string());
    EXPECT_GT(static_cast<int64_t>(one.records[0].bytes), last_bytes[m.partition]);
    last_bytes[m.partition] = static_cast<int64_t>(one.records[0].bytes);
  }
  EXPECT_EQ(got_lines, sent_lines);  // each flow once, every field as written
  EXPECT_EQ(partitions_of.size(), 40u);
  for (const auto& [key, parts] : partitions_of) EXPECT_EQ(parts.size(), 1u) << key;
  EXPECT_GE(used.size(), 5u);  // 40 hosts spread over the partitions

  const auto alerts = read_topic(kafka.brokers(), "orbwatch-alerts", 2, 5);
  ASSERT_EQ(alerts.size(), 5u);
  std::set<std::string> want(alert_json.begin(), alert_json.end()), have;
  for (const Message& m : alerts) {
    have.insert(m.value);
    EXPECT_NE(m.value.find("\"id\":\"" + m.key + "\""), std::string::npos) << m.value;
  }
  EXPECT_EQ(have, want);
}

TEST(KafkaOutput, BrokersAwayThenBackLoseNothingAndDuplicateNothing) {
  test::MockKafka kafka;
  ASSERT_TRUE(kafka.ok());
  ASSERT_TRUE(kafka.create_topic("orbwatch-flows", 4));
  KafkaOutput::Options o = output_options(kafka);
  o.alerts = false;
  KafkaOutput out(o);
  std::string error;
  ASSERT_TRUE(out.start(error)) << error;
  std::vector<IpAddr> keys;
  const FlowBatch first = flows(3000, keys, 1);
  out.add_flows(first, keys, ends_of(first));
  for (int b = 1; b <= 3; ++b) kafka.set_down(b);
  const FlowBatch second = flows(3000, keys, 2);
  out.add_flows(second, keys, ends_of(second));
  std::this_thread::sleep_for(2s);  // librdkafka retries meanwhile
  EXPECT_GT(out.stats().queued, 0u);
  for (int b = 1; b <= 3; ++b) kafka.set_up(b);
  out.stop();
  const auto s = out.stats();
  EXPECT_EQ(s.flows_sent, 6000u);
  EXPECT_EQ(s.flows_dropped, 0u);
  const auto got = read_topic(kafka.brokers(), "orbwatch-flows", 4, 6000);
  std::multiset<std::string> lines;
  for (const auto& m : got) lines.insert(m.value);
  std::multiset<std::string> want;
  for (size_t i = 0; i < first.size(); ++i) want.insert(json_line(first, i));
  for (size_t i = 0; i < second.size(); ++i) want.insert(json_line(second, i));
  // Give a duplicate a chance to show up before comparing.
  const auto more = read_topic(kafka.brokers(), "orbwatch-flows", 4, 6001, 3s);
  EXPECT_EQ(more.size(), 6000u);
  EXPECT_EQ(lines, want);
}

TEST(KafkaOutput, AFullQueueDropsAndCountsInsteadOfStallingTheCollector) {
  test::MockKafka kafka;
  ASSERT_TRUE(kafka.ok());
  ASSERT_TRUE(kafka.create_topic("orbwatch-flows", 1));
  KafkaOutput::Options o = output_options(kafka);
  o.properties.emplace_back("queue.buffering.max.messages", "100");
  o.stop_flush_ms = 200;
  KafkaOutput out(o);
  std::string error;
  ASSERT_TRUE(out.start(error)) << error;
  for (int b = 1; b <= 3; ++b) kafka.set_down(b);
  std::vector<IpAddr> keys;
  const FlowBatch b = flows(1000, keys);
  const auto t0 = std::chrono::steady_clock::now();
  out.add_flows(b, keys, ends_of(b));
  // Waited at most kFullWaitMs for room, then gave up on the rest of the batch.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_GE(out.stats().flows_dropped, 900u);
  EXPECT_NE(out.stats().last_error.find("queue is full"), std::string::npos);
  out.stop();  // what stayed queued is purged and counted
  const auto s = out.stats();
  EXPECT_EQ(s.flows_sent + s.flows_dropped, 1000u);
}

TEST(KafkaOutput, RefusesWhatLibrdkafkaRefuses) {
  KafkaOutput::Options o;
  o.brokers = "127.0.0.1:9";
  o.properties = {{"no.such.property", "1"}};
  KafkaOutput out(o);
  std::string error;
  EXPECT_FALSE(out.start(error));
  EXPECT_NE(error.find("no.such.property"), std::string::npos) << error;
  EXPECT_TRUE(check_property("security.protocol", "ssl", error)) << error;
  EXPECT_FALSE(check_property("acks", "sometimes", error));
  EXPECT_TRUE(valid_brokers("10.0.0.1:9092,[2001:db8::1]:9092,SSL://kafka.example:9093"));
  EXPECT_FALSE(valid_brokers("10.0.0.1"));
  EXPECT_FALSE(valid_brokers("10.0.0.1:90x2"));
  EXPECT_FALSE(valid_brokers(""));
}

// Produces `b` to orbwatch-flows with the producer under test.
void produce(const test::MockKafka& kafka, const FlowBatch& b, const std::vector<IpAddr>& keys) {
  KafkaOutput::Options o = output_options(kafka);
  o.alerts = false;
  KafkaOutput out(o);
  std::string error;
  ASSERT_TRUE(out.start(error)) << error;
  out.add_flows(b, keys, ends_of(b));
  out.stop();
  ASSERT_EQ(out.stats().flows_sent, b.size());
}

FlowConsumer::Options consumer_options(const test::MockKafka& kafka) {
  FlowConsumer::Options o;
  o.brokers = kafka.brokers();
  o.group = "detect";
  // The mock's coordinator notices a member that left only when its session times out.
  o.properties = {
      {"log_level", "3"}, {"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
  return o;
}

TEST(FlowConsumer, AGroupSplitsThePartitionsAndSkipsWhatIsNotAFlow) {
  test::MockKafka kafka;
  ASSERT_TRUE(kafka.ok());
  ASSERT_TRUE(kafka.create_topic("orbwatch-flows", 4));
  FlowConsumer a(consumer_options(kafka)), b(consumer_options(kafka));
  std::string error;
  ASSERT_TRUE(a.open(error)) << error;
  ASSERT_TRUE(b.open(error)) << error;
  FlowBatch got_a, got_b;
  std::vector<int64_t> ends_a, ends_b;
  // Both in the group before anything is produced: no rebalance moves a partition later.
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until) {
    a.poll(got_a, ends_a, 50, 100);
    b.poll(got_b, ends_b, 50, 100);
    a.refresh();
    b.refresh();
    if (a.stats().partitions == 2 && b.stats().partitions == 2) break;
  }
  ASSERT_EQ(a.stats().partitions, 2u);
  ASSERT_EQ(b.stats().partitions, 2u);

  std::vector<IpAddr> keys;
  const FlowBatch sent = flows(5000, keys);
  produce(kafka, sent, keys);
  {  // Three messages that are not flows, on partition 0.
    KafkaOutput::Options o = output_options(kafka);
    std::string e;
    Handle p(rd_kafka_new(RD_KAFKA_PRODUCER, make_conf(o.brokers, {}, o.properties, e).release(),
                          nullptr, 0));
    for (const char* bad : {"{\"ts_start\":1}", "not json", "{\"src_ip\":42}"})
      rd_kafka_producev(p.get(), RD_KAFKA_V_TOPIC("orbwatch-flows"), RD_KAFKA_V_PARTITION(0),
                        RD_KAFKA_V_VALUE(const_cast<char*>(bad), strlen(bad)),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_flush(p.get(), 5000);
  }
  const auto until2 = std::chrono::steady_clock::now() + 30s;
  while (got_a.size() + got_b.size() < sent.size() && std::chrono::steady_clock::now() < until2) {
    a.poll(got_a, ends_a, 50, 1000);
    a.done();
    b.poll(got_b, ends_b, 50, 1000);
    b.done();
  }
  ASSERT_EQ(got_a.size() + got_b.size(), sent.size());
  EXPECT_GT(got_a.size(), 0u);
  EXPECT_GT(got_b.size(), 0u);
  std::multiset<std::string> want, have;
  for (size_t i = 0; i < sent.size(); ++i) want.insert(json_line(sent, i));
  // Each flow with the watermark it was produced with.
  const std::vector<int64_t> sent_ends = ends_of(sent);
  ASSERT_EQ(ends_a.size(), got_a.size());
  ASSERT_EQ(ends_b.size(), got_b.size());
  std::set<IpAddr> hosts_a;
  for (size_t i = 0; i < got_a.size(); ++i) {
    have.insert(json_line(got_a, i));
    hosts_a.insert(keys[got_a.records[i].bytes - 1]);
    EXPECT_EQ(ends_a[i], sent_ends[got_a.records[i].bytes - 1]);
  }
  for (size_t i = 0; i < got_b.size(); ++i) {
    have.insert(json_line(got_b, i));
    EXPECT_EQ(hosts_a.count(keys[got_b.records[i].bytes - 1]), 0u) << "a host on both";
    EXPECT_EQ(ends_b[i], sent_ends[got_b.records[i].bytes - 1]);
  }
  EXPECT_EQ(have, want);
  // The bad messages: counted, skipped, their place named.
  for (int i = 0; i < 20 && a.stats().bad + b.stats().bad < 3; ++i) {
    a.poll(got_a, ends_a, 50, 1000);
    b.poll(got_b, ends_b, 50, 1000);
  }
  EXPECT_EQ(a.stats().bad + b.stats().bad, 3u);
  const std::string last = a.stats().bad != 0 ? a.stats().last_bad : b.stats().last_bad;
  EXPECT_NE(last.find("orbwatch-flows[0]@"), std::string::npos) << last;
  EXPECT_EQ(a.stats().flows + b.stats().flows, sent.size());

  // Offsets of what was delivered are committed (every second): the group goes on after them.
  a.done();
  b.done();
  for (int i = 0; i < 15; ++i) {
    a.poll(got_a, ends_a, 50, 1000);
    b.poll(got_b, ends_b, 50, 1000);
  }
  a.close();
  b.close();
  const FlowBatch later = flows(100, keys, 9);
  produce(kafka, later, keys);
  FlowConsumer c(consumer_options(kafka));
  ASSERT_TRUE(c.open(error)) << error;
  FlowBatch got_c;
  std::vector<int64_t> ends_c;
  const auto until3 = std::chrono::steady_clock::now() + 30s;
  while (got_c.size() < later.size() && std::chrono::steady_clock::now() < until3)
    c.poll(got_c, ends_c, 100, 1000);
  for (int i = 0; i < 10; ++i) c.poll(got_c, ends_c, 50, 1000);  // nothing more may come
  EXPECT_EQ(got_c.size(), later.size());
  EXPECT_EQ(c.stats().bad, 0u);
}

}  // namespace
}  // namespace orbwatch::kafka
