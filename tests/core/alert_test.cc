#include "core/alert.h"

#include <gtest/gtest.h>

namespace orbwatch {
namespace {

TEST(Alert, JsonLineCarriesTheContractFields) {
  Alert a;
  a.ts_ms = 1776672300000;
  a.id = make_alert_id("intel", "10.20.5.23|192.0.2.66", 1776672288000);
  a.detector = "intel";
  a.severity = Severity::kCritical;
  a.summary = "10.20.5.23 exchanged data with covert-network C2 192.0.2.66";
  a.src = *IpAddr::parse("10.20.5.23");
  a.dst = *IpAddr::parse("192.0.2.66");
  a.dst_port = 443;
  a.proto = 6;
  a.indicator = AlertIndicator{"raptor-train", "192.0.2.66", {"Tier 2", "c2"}};
  a.evidence = {{"bytes_in", int64_t{4096}}, {"ratio", 0.25}, {"direction", std::string("out")}};
  a.first_seen_ms = 1776672288000;
  a.last_seen_ms = 1776672300000;
  a.count = 3;
  std::string out;
  append_alert_json(out, a);
  EXPECT_EQ(out,
            "{\"ts\":\"2026-04-20T08:05:00.000Z\",\"id\":\"" + a.id +
                "\",\"detector\":\"intel\",\"severity\":\"critical\",\"summary\":\"10.20.5.23 "
                "exchanged data with covert-network C2 192.0.2.66\",\"src_ip\":\"10.20.5.23\","
                "\"dst_ip\":\"192.0.2.66\",\"dst_port\":443,\"proto\":6,\"indicator\":{\"feed\":"
                "\"raptor-train\",\"value\":\"192.0.2.66\",\"tags\":[\"Tier 2\",\"c2\"]},"
                "\"evidence\":{\"bytes_in\":4096,\"ratio\":0.25,\"direction\":\"out\"},"
                "\"first_seen\":\"2026-04-20T08:04:48.000Z\",\"last_seen\":"
                "\"2026-04-20T08:05:00.000Z\",\"count\":3}\n");
  // A retro-hunt's alert ends with "retro":true; a live one has no such field.
  a.retro = true;
  std::string retro;
  append_alert_json(retro, a);
  EXPECT_EQ(retro, out.substr(0, out.size() - 2) + ",\"retro\":true}\n");
}

TEST(Alert, EcsFormUsesElasticCommonSchemaNames) {
  Alert a;
  a.ts_ms = 1776672300000;
  a.id = "0123456789abcdef";
  a.detector = "intel";
  a.severity = Severity::kHigh;
  a.summary = "hit";
  a.src = *IpAddr::parse("10.20.5.23");
  a.dst = *IpAddr::parse("192.0.2.66");
  a.dst_port = 443;
  a.proto = 6;
  a.asset = "cam-1";
  a.indicator = AlertIndicator{"raptor-train", "192.0.2.66", {"c2"}};
  a.evidence = {{"flows", int64_t{2}}};
  a.first_seen_ms = 1776672288000;
  a.last_seen_ms = 1776672300000;
  a.count = 2;
  std::string out;
  append_alert_ecs_json(out, a);
  EXPECT_EQ(out,
            "{\"@timestamp\":\"2026-04-20T08:05:00.000Z\",\"event\":{\"kind\":\"alert\","
            "\"module\":\"orbwatch\",\"dataset\":\"orbwatch.alert\",\"category\":["
            "\"intrusion_detection\",\"network\"],\"type\":[\"info\"],\"id\":"
            "\"0123456789abcdef\",\"severity\":3,\"start\":\"2026-04-20T08:04:48.000Z\","
            "\"end\":\"2026-04-20T08:05:00.000Z\"},\"rule\":{\"ruleset\":\"orbwatch\","
            "\"name\":\"intel\"},\"message\":\"hit\",\"source\":{\"ip\":\"10.20.5.23\"},"
            "\"destination\":{\"ip\":\"192.0.2.66\",\"port\":443},\"network\":{"
            "\"iana_number\":\"6\",\"transport\":\"tcp\"},\"threat\":{\"feed\":{\"name\":"
            "\"raptor-train\"},\"indicator\":{\"description\":\"192.0.2.66\"}},\"tags\":["
            "\"c2\"],\"orbwatch\":{\"severity\":\"high\",\"asset\":\"cam-1\",\"count\":2,"
            "\"evidence\":{\"flows\":2}}}\n");
}

TEST(Alert, IdIsStableAndSeparatesItsParts) {
  EXPECT_EQ(make_alert_id("intel", "k", 1), make_alert_id("intel", "k", 1));
  EXPECT_EQ(make_alert_id("intel", "k", 1).size(), 16u);
  EXPECT_NE(make_alert_id("intel", "k", 1), make_alert_id("intel", "k", 2));
  EXPECT_NE(make_alert_id("ab", "c", 1), make_alert_id("a", "bc", 1));
}

TEST(Alert, SeverityNamesRoundTrip) {
  for (auto s : {Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical}) {
    EXPECT_EQ(parse_severity(severity_name(s)), s);
  }
  EXPECT_FALSE(parse_severity("urgent"));
}

TEST(Alert, NonFiniteEvidenceBecomesNull) {
  Alert a;
  a.evidence = {{"nan", 0.0 / 0.0}};
  std::string out;
  append_alert_json(out, a);
  EXPECT_NE(out.find("\"evidence\":{\"nan\":null}"), std::string::npos) << out;
}

}  // namespace
}  // namespace orbwatch
