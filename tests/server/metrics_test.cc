#include "server/metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

namespace orbwatch::server {
namespace {

PipelineStats sample_stats() {
  PipelineStats p;
  p.started_ms = 1'700'000'000'000;
  p.udp.datagrams = 120;
  p.udp.kernel_drops = 7;
  p.decode.records = 3600;
  p.decode.seq_lost = 30;
  p.decode.errors[static_cast<size_t>(ingest::DecodeError::kNoTemplate)] = 2;
  p.datagrams_by_kind[static_cast<size_t>(ingest::ExportKind::kNetflow9)] = 120;
  ExporterMetrics e;
  e.addr = *IpAddr::parse("192.0.2.1");
  e.version = "netflow9";
  e.records = 3600;
  e.datagrams = 120;
  e.seq_lost = 30;
  e.templates = 2;
  p.exporters.push_back(e);
  p.shards.push_back({.flows = 3000, .shed = 600, .queued = 3, .watermark_ms = 1'700'000'060'000});
  p.alerts.push_back({"spray", {0, 4, 1, 0}});
  detect::DetectorStats d;
  d.alerts = 5;
  d.evicted = 9;
  p.detectors.emplace_back("spray", d);
  OutputMetrics o;
  o.label = "outputs[1] (webhook)";
  o.stats.written = 3;
  o.stats.dropped = 1;
  o.spooled_bytes = 4096;
  p.outputs.push_back(o);
  return p;
}

// Every sample line is NAME{LABELS} VALUE, under a HELP and TYPE of its family.
void expect_well_formed(const std::string& text) {
  const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+$)");
  std::set<std::string> typed;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
    EXPECT_TRUE(typed.contains(m[1].str())) << "no TYPE before " << line;
  }
}

TEST(Metrics, CountsByPlaceReasonAndExporter) {
  const PipelineStats p = sample_stats();
  std::vector<intel::FeedStatus> feeds(1);
  feeds[0].name = "covert";
  feeds[0].entries = 303;
  feeds[0].last_success_ms = 1'700'000'000'000;
  const std::string text = prometheus_text({p, feeds, 1 << 20, 1'700'000'090'000});
  expect_well_formed(text);
  for (const char* want : {
           "orbwatch_udp_datagrams_total 120\n",
           "orbwatch_records_total 3600\n",
           "orbwatch_datagrams_total{version=\"netflow9\"} 120\n",
           "orbwatch_drops_total{place=\"kernel\",reason=\"socket_buffer\"} 7\n",
           "orbwatch_drops_total{place=\"decode\",reason=\"no_template\"} 2\n",
           "orbwatch_drops_total{place=\"detect_queue\",reason=\"full\"} 600\n",
           "orbwatch_exporter_records_total{exporter=\"192.0.2.1\",version=\"netflow9\"} 3600\n",
           "orbwatch_exporter_sequence_lost_total{exporter=\"192.0.2.1\"} 30\n",
           "orbwatch_exporter_templates{exporter=\"192.0.2.1\"} 2\n",
           "orbwatch_feed_entries{feed=\"covert\"} 303\n",
           "orbwatch_feed_age_seconds{feed=\"covert\"} 90\n",
           "orbwatch_alerts_total{detector=\"spray\",severity=\"medium\"} 4\n",
           "orbwatch_cap_evictions_total{cap=\"detector_spray\"} 9\n",
           "orbwatch_queue_depth{queue=\"detect\",shard=\"0\"} 3\n",
           "orbwatch_archive_bytes 1048576\n",
           "orbwatch_output_spool_bytes{output=\"outputs[1] (webhook)\"} 4096\n",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want;
  }
}

// A feed named by a hostile config cannot break the exposition format.
TEST(Metrics, LabelValuesAreEscaped) {
  const PipelineStats p = sample_stats();
  std::vector<intel::FeedStatus> feeds(1);
  feeds[0].name = "evil\"} 1\nfake_metric{a=\"\\";
  const std::string text = prometheus_text({p, feeds, 0, 0});
  expect_well_formed(text);
  EXPECT_NE(text.find(R"(feed="evil\"} 1\nfake_metric{a=\"\\")"), std::string::npos);
}

}  // namespace
}  // namespace orbwatch::server
