#include "intel/json_feeds.h"

#include <gtest/gtest.h>

#include <string>

#include "core/time.h"
#include "intel/stix_pattern.h"

namespace orbwatch::intel {
namespace {

std::string indicator(const std::string& pattern, const std::string& extra = "") {
  return R"({"type":"indicator","spec_version":"2.1","id":"indicator--1","pattern_type":"stix",)"
         R"("valid_from":"2024-01-01T00:00:00Z","pattern":")" +
         pattern + "\"" + extra + "}";
}
std::string bundle(const std::string& objects) {
  return R"({"type":"bundle","id":"bundle--b","objects":[)" + objects + "]}";
}

bool has_issue(const ParsedFeed& f, const std::string& needle) {
  for (const auto& i : f.issues) {
    if (i.message.find(needle) != std::string::npos) return true;
  }
  return false;
}
std::string issues(const ParsedFeed& f) {
  std::string s;
  for (const auto& i : f.issues) s += std::to_string(i.line) + ": " + i.message + "\n";
  return s;
}

TEST(StixPattern, AcceptsOrAndParentheses) {
  auto p = parse_stix_pattern(
      "([ipv4-addr:value = '198.51.100.1' OR (domain-name:value = 'evil.example')]) OR "
      "[network-traffic:dst_ref.value = '2001:db8::/32']");
  ASSERT_EQ(p.status, StixPattern::Status::kOk) << p.reason;
  ASSERT_EQ(p.comparisons.size(), 3u);
  EXPECT_EQ(p.comparisons[1].path, StixObjectPath::kDomainValue);
  EXPECT_EQ(p.comparisons[2].value, "2001:db8::/32");
}

TEST(StixPattern, StringEscapes) {
  auto p = parse_stix_pattern(R"([domain-name:value = 'a\'b\\c'])");
  ASSERT_EQ(p.status, StixPattern::Status::kOk) << p.reason;
  EXPECT_EQ(p.comparisons[0].value, "a'b\\c");
  EXPECT_EQ(parse_stix_pattern(R"([domain-name:value = 'a\nb'])").status,
            StixPattern::Status::kSyntax);
  EXPECT_EQ(parse_stix_pattern("[domain-name:value = 'abc]").status, StixPattern::Status::kSyntax);
}

TEST(StixPattern, EachUnsupportedConstructIsReported) {
  struct Case {
    const char* pattern;
    const char* reason;
  } cases[] = {
      {"[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '1.2.3.5']", "AND inside"},
      {"[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.example']", "AND between"},
      {"[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']", "FOLLOWEDBY"},
      {"[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS", "qualifier WITHIN"},
      {"[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP "
       "t'2016-07-01T00:00:00Z'",
       "qualifier START"},
      {"[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", "qualifier REPEATS"},
      {"[domain-name:value MATCHES '^evil']", "operator MATCHES"},
      {"[domain-name:value LIKE 'evil%']", "operator LIKE"},
      {"[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "operator ISSUBSET"},
      {"[ipv4-addr:value NOT = '1.2.3.4']", "NOT on"},
      {"[ipv4-addr:value != '1.2.3.4']", "operator !="},
      {"[ipv4-addr:value IN ('1.2.3.4', '1.2.3.5')]", "operator IN"},
      {"[file:hashes.'SHA-256' = 'ef53']", "object path 'file:hashes.'SHA-256''"},
      {"[url:value = 'http://x.example/']", "object path 'url:value'"},
      {"[network-traffic:dst_port = 443]", "non-string value"},
      {"[email-message:to_refs[*].value = 'a@b.example']", "to_refs[*].value"},
  };
  for (const auto& c : cases) {
    auto p = parse_stix_pattern(c.pattern);
    EXPECT_EQ(p.status, StixPattern::Status::kUnsupported) << c.pattern << ": " << p.reason;
    EXPECT_NE(p.reason.find(c.reason), std::string::npos) << c.pattern << ": " << p.reason;
  }
}

TEST(StixPattern, SyntaxErrors) {
  for (const char* bad : {"", "ipv4-addr:value = '1.2.3.4'", "[ipv4-addr:value = '1.2.3.4'",
                          "[ipv4-addr:value '1.2.3.4']", "[ipv4-addr = '1.2.3.4']",
                          "[ipv4-addr:value = '1.2.3.4'] OR", "[ipv4-addr:value == '1.2.3.4']",
                          "[ipv4-addr:value = '1.2.3.4'] ]", "rule x { condition: true }",
                          "[ipv4-addr:value = \x01'1']"}) {
    EXPECT_EQ(parse_stix_pattern(bad).status, StixPattern::Status::kSyntax) << bad;
  }
  std::string deep(1000, '(');
  EXPECT_EQ(
      parse_stix_pattern(deep + "[ipv4-addr:value = '1.2.3.4']" + std::string(1000, ')')).status,
      StixPattern::Status::kSyntax);
}

TEST(Stix, Bundle) {
  auto f = parse_stix(
      bundle(R"({"type":"identity","id":"identity--1","name":"x"},)" +
             indicator("[ipv4-addr:value = '198.51.100.7']",
                       R"(,"created":"2023-12-01T00:00:00.000Z","modified":"2023-12-02T00:00:00Z",)"
                       R"("valid_until":"2024-02-01T00:00:00Z","confidence":85,"name":"C2",)"
                       R"("labels":["orb","c2"],"indicator_types":["malicious-activity","c2"])") +
             R"(,{"type":"relationship","id":"relationship--1"})"));
  ASSERT_EQ(f.indicators.size(), 1u) << issues(f);
  EXPECT_EQ(f.format, FeedFormat::kStix);
  EXPECT_EQ(f.bad, 0u);
  EXPECT_EQ(f.lines, 3u);
  const auto& i = f.indicators[0];
  EXPECT_EQ(i.kind, IndicatorKind::kPrefix);
  EXPECT_EQ(i.prefix.to_string(), "198.51.100.7/32");
  EXPECT_EQ(i.line, 2u);  // object index in the bundle
  EXPECT_EQ(i.ref, "indicator--1");
  EXPECT_EQ(i.confidence, 85);
  EXPECT_EQ(i.valid_from_ms, *parse_rfc3339_ms("2024-01-01T00:00:00Z"));
  EXPECT_EQ(i.valid_until_ms, *parse_rfc3339_ms("2024-02-01T00:00:00Z"));
  EXPECT_EQ(i.first_seen_ms, *parse_rfc3339_ms("2023-12-01T00:00:00Z"));
  EXPECT_EQ(i.last_seen_ms, *parse_rfc3339_ms("2023-12-02T00:00:00Z"));
  EXPECT_EQ(i.tags, (std::vector<std::string>{"orb", "c2", "malicious-activity", "C2"}));
  EXPECT_NE(f.meta.description.find("1 identity"), std::string::npos) << f.meta.description;
  EXPECT_NE(f.meta.description.find("1 relationship"), std::string::npos);
}

TEST(Stix, JsonLinesNumbersLines) {
  std::string text = indicator("[domain-name:value = 'C2.Example.COM.']") + "\r\n\n" +
                     R"({"type":"malware","id":"malware--1"})" + "\n" +
                     indicator("[ipv6-addr:value = '2001:db8::1']") + "\n";
  auto f = parse_stix(text);
  ASSERT_EQ(f.indicators.size(), 2u) << issues(f);
  EXPECT_EQ(f.indicators[0].kind, IndicatorKind::kDomain);
  EXPECT_EQ(f.indicators[0].domain, "c2.example.com");
  EXPECT_EQ(f.indicators[0].line, 1u);
  EXPECT_EQ(f.indicators[1].prefix.to_string(), "2001:db8::1/128");
  EXPECT_EQ(f.indicators[1].line, 4u);
  EXPECT_EQ(f.lines, 3u);
}

TEST(Stix, JsonLinesOfBundles) {
  std::string text = bundle(indicator("[ipv4-addr:value = '192.0.2.1']")) + "\n" +
                     bundle(indicator("[ipv4-addr:value = '192.0.2.2']") + "," +
                            indicator("[ipv4-addr:value = '192.0.2.3']")) +
                     "\n";
  auto f = parse_stix(text);
  ASSERT_EQ(f.indicators.size(), 3u) << issues(f);
  EXPECT_EQ(f.indicators[2].line, 2u);
  EXPECT_EQ(f.bad, 0u);
}

TEST(Stix, JsonLinesBadLineKeepsTheRest) {
  std::string text = indicator("[ipv4-addr:value = '192.0.2.1']") + "\n{\"type\": oops}\n" +
                     indicator("[ipv4-addr:value = '192.0.2.2']") + "\n";
  auto f = parse_stix(text);
  EXPECT_EQ(f.indicators.size(), 2u);
  EXPECT_EQ(f.bad, 1u);
  ASSERT_FALSE(f.issues.empty());
  EXPECT_EQ(f.issues[0].line, 2u);
  EXPECT_NE(f.issues[0].message.find("line 2: invalid JSON"), std::string::npos) << issues(f);
}

TEST(Stix, OrPatternCidrsAndNetworkTraffic) {
  auto f = parse_stix(bundle(
      indicator("[ipv4-addr:value = '198.51.100.0/24' OR ipv6-addr:value = '2001:db8:1::/48' OR "
                "network-traffic:dst_ref.value = '203.0.113.9' OR network-traffic:src_ref.value = "
                "'relay.example.net' OR ipv4-addr:value = '10.1.2.3/8']")));
  ASSERT_EQ(f.indicators.size(), 5u) << issues(f);
  EXPECT_EQ(f.indicators[0].prefix.to_string(), "198.51.100.0/24");
  EXPECT_EQ(f.indicators[0].prefix.len, 96 + 24);
  EXPECT_EQ(f.indicators[1].prefix.to_string(), "2001:db8:1::/48");
  EXPECT_EQ(f.indicators[2].prefix.to_string(), "203.0.113.9/32");
  EXPECT_EQ(f.indicators[3].domain, "relay.example.net");
  EXPECT_EQ(f.indicators[4].prefix.to_string(), "10.0.0.0/8");
  EXPECT_EQ(f.warnings, 1u);  // host bits set
  EXPECT_TRUE(has_issue(f, "host bits set; read as 10.0.0.0/8")) << issues(f);
}

TEST(Stix, MixedOrKeepsRepresentableBranch) {
  auto f = parse_stix(
      bundle(indicator("[ipv4-addr:value = '192.0.2.5' OR file:hashes.MD5 = 'd41d8cd98f00b204']")));
  ASSERT_EQ(f.indicators.size(), 1u);
  EXPECT_TRUE(has_issue(f,
                        "OR-ed comparison cannot be represented, not read: object path "
                        "'file:hashes.MD5'"))
      << issues(f);
}

TEST(Stix, UnsupportedPatternsAreSkippedNotGuessed) {
  auto f = parse_stix(bundle(
      indicator("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'a.example']") + "," +
      indicator("[ipv4-addr:value = '1.2.3.4'] WITHIN 60 SECONDS") + "," +
      indicator("[file:hashes.MD5 = 'abc']") + "," +
      R"({"type":"indicator","id":"indicator--y","pattern_type":"yara","pattern":"rule x {}"})" +
      "," + indicator("[ipv4-addr:value = '1.2.3.4'] OR garbage")));
  EXPECT_TRUE(f.indicators.empty());
  EXPECT_EQ(f.skipped, 4u) << issues(f);
  EXPECT_EQ(f.bad, 1u);
  EXPECT_TRUE(has_issue(f, "object 1 (indicator--1): skipped: pattern cannot be represented: AND"));
  EXPECT_TRUE(has_issue(f,
                        "object 2 (indicator--1): skipped: pattern cannot be represented: "
                        "qualifier WITHIN"));
  EXPECT_TRUE(has_issue(f, "object path 'file:hashes.MD5'"));
  EXPECT_TRUE(has_issue(f, "pattern_type 'yara'"));
  EXPECT_TRUE(has_issue(f, "object 5: pattern syntax"));
}

TEST(Stix, RevokedValidUntilConfidence) {
  auto f = parse_stix(bundle(
      indicator("[ipv4-addr:value = '192.0.2.1']", R"(,"revoked":true)") + "," +
      indicator("[ipv4-addr:value = '192.0.2.2']", R"(,"valid_until":"2023-01-01T00:00:00Z")") +
      "," + indicator("[ipv4-addr:value = '192.0.2.3']", R"(,"valid_until":"yesterday")") + "," +
      indicator("[ipv4-addr:value = '192.0.2.4']", R"(,"confidence":101)") + "," +
      indicator("[ipv4-addr:value = '192.0.2.5']", R"(,"confidence":"high")") + "," +
      indicator("[ipv4-addr:value = '192.0.2.6']", R"(,"revoked":"no")")));
  ASSERT_EQ(f.indicators.size(), 2u) << issues(f);
  EXPECT_EQ(f.indicators[0].prefix.to_string(), "192.0.2.4/32");
  EXPECT_EQ(f.indicators[0].confidence, 0);
  EXPECT_EQ(f.indicators[1].confidence, 0);
  EXPECT_EQ(f.skipped, 1u);
  EXPECT_EQ(f.bad, 3u);
  EXPECT_TRUE(has_issue(f, "object 1 (indicator--1): skipped: revoked"));
  EXPECT_TRUE(has_issue(f, "object 2: 'valid_until' is not later than 'valid_from'"));
  EXPECT_TRUE(has_issue(f, "object 3: 'valid_until': not an RFC 3339 timestamp: 'yesterday'"));
  EXPECT_TRUE(has_issue(f, "'confidence' 101 is outside 0..100"));
  EXPECT_TRUE(has_issue(f, "object 5: 'confidence': expected an integer, got string"));
  EXPECT_TRUE(has_issue(f, "object 6: 'revoked': expected a boolean, got string"));
}

TEST(Stix, WrongValuesForTheirObjectType) {
  auto f = parse_stix(
      bundle(indicator("[ipv4-addr:value = '2001:db8::1']") + "," +
             indicator("[ipv6-addr:value = '192.0.2.1']") + "," +
             indicator("[domain-name:value = '192.0.2.1']") + "," +
             indicator("[domain-name:value = '*.evil.example']") + "," +
             indicator("[ipv4-addr:value = '192.0.2.1/33']") + "," +
             R"({"type":"indicator","id":"indicator--n","pattern":42,"pattern_type":"stix"})"));
  EXPECT_TRUE(f.indicators.empty());
  EXPECT_EQ(f.bad, 6u) << issues(f);
  EXPECT_TRUE(has_issue(f, "object 1: ipv4-addr:value: '2001:db8::1' is an IPv6 value"));
  EXPECT_TRUE(has_issue(f, "object 2: ipv6-addr:value: '192.0.2.1' is an IPv4 value"));
  EXPECT_TRUE(has_issue(f, "is an address, not a domain name"));
  EXPECT_TRUE(has_issue(f, "object 4: domain-name:value: '*.evil.example': not a domain name"));
  EXPECT_TRUE(has_issue(f, "object 5: ipv4-addr:value: '192.0.2.1/33' is not an address"));
  EXPECT_TRUE(has_issue(f, "object 6: 'pattern': expected a string, got number"));
}

TEST(Stix, TaxiiEnvelopeAndSingleObject) {
  auto f = parse_stix(R"({"more":true,"next":"abc","objects":[)" +
                      indicator("[ipv4-addr:value = '203.0.113.1']") + "]}");
  EXPECT_EQ(f.indicators.size(), 1u) << issues(f);
  f = parse_stix(R"({"more":false})");  // an empty page
  EXPECT_EQ(f.bad, 0u);
  EXPECT_TRUE(f.indicators.empty());
  f = parse_stix(indicator("[ipv4-addr:value = '203.0.113.2']"));
  ASSERT_EQ(f.indicators.size(), 1u);
  EXPECT_EQ(f.indicators[0].line, 1u);
  f = parse_stix(R"({"hello":"world"})");
  EXPECT_EQ(f.bad, 1u);
  EXPECT_TRUE(has_issue(f, "not a STIX bundle"));
  f = parse_stix(R"({"type":"bundle","objects":{"a":1}})");
  EXPECT_TRUE(has_issue(f, "document: 'objects': expected an array, got object")) << issues(f);
  f = parse_stix(R"({"type":"bundle","objects":[1,"x",{"id":"y"}]})");
  EXPECT_EQ(f.bad, 3u);
  EXPECT_TRUE(has_issue(f, "object 1: expected a STIX object, got number"));
  EXPECT_TRUE(has_issue(f, "object 3: object without 'type'"));
}

// ---- MISP ----

const char* kMispEvent = R"({"Event": {
  "uuid": "5e6f-event", "info": "ORB relays seen in March", "timestamp": "1617181920",
  "Tag": [{"name": "tlp:amber"}, {"name": "orb"}],
  "Attribute": [
    {"uuid": "a1", "type": "ip-dst", "value": "198.51.100.10", "to_ids": true,
     "timestamp": "1617181000", "Tag": [{"name": "c2"}]},
    {"uuid": "a2", "type": "ip-src|port", "value": "2001:db8::5|8443", "to_ids": true},
    {"uuid": "a3", "type": "domain|ip", "value": "Relay.Example.org|203.0.113.4", "to_ids": true,
     "first_seen": "2021-03-01T00:00:00.000000+00:00", "last_seen": "2021-03-20T10:00:00+00:00"},
    {"uuid": "a4", "type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e", "to_ids": true},
    {"uuid": "a5", "type": "ip-dst", "value": "192.0.2.99", "to_ids": false},
    {"uuid": "a6", "type": "hostname", "value": "c2.example.net", "to_ids": true, "deleted": true}
  ],
  "Object": [
    {"name": "domain-ip", "Attribute": [
      {"uuid": "o1", "type": "domain", "value": "k3121.example", "to_ids": true},
      {"uuid": "o2", "type": "ip-dst", "value": "198.51.100.0/28", "to_ids": true},
      {"uuid": "o3", "type": "text", "value": "note", "to_ids": false}
    ]}
  ]
}})";

TEST(Misp, EventWithObjectsAndCompositeTypes) {
  auto f = parse_misp(kMispEvent);
  EXPECT_EQ(f.format, FeedFormat::kMisp);
  EXPECT_EQ(f.meta.name, "ORB relays seen in March");
  EXPECT_EQ(f.meta.generated_ms, 1617181920000);
  EXPECT_EQ(f.bad, 0u) << issues(f);
  EXPECT_EQ(f.lines, 9u);
  ASSERT_EQ(f.indicators.size(), 6u) << issues(f);
  const auto& a1 = f.indicators[0];
  EXPECT_EQ(a1.prefix.to_string(), "198.51.100.10/32");
  EXPECT_EQ(a1.ref, "a1");
  EXPECT_EQ(a1.line, 1u);
  EXPECT_EQ(a1.tags, (std::vector<std::string>{"tlp:amber", "orb", "c2"}));
  EXPECT_EQ(a1.last_seen_ms, 1617181000000);
  EXPECT_EQ(f.indicators[1].prefix.to_string(), "2001:db8::5/128");
  EXPECT_EQ(f.indicators[2].domain, "relay.example.org");
  EXPECT_EQ(f.indicators[2].first_seen_ms, *parse_rfc3339_ms("2021-03-01T00:00:00Z"));
  EXPECT_EQ(f.indicators[2].last_seen_ms, *parse_rfc3339_ms("2021-03-20T10:00:00Z"));
  EXPECT_EQ(f.indicators[3].prefix.to_string(), "203.0.113.4/32");
  EXPECT_EQ(f.indicators[3].ref, "a3");
  EXPECT_EQ(f.indicators[4].domain, "k3121.example");
  EXPECT_EQ(f.indicators[4].line, 7u);
  EXPECT_EQ(f.indicators[5].prefix.to_string(), "198.51.100.0/28");
  // md5, text (o3, whose to_ids=false does not matter): other types; a5: to_ids=false; a6:
  // deleted.
  EXPECT_EQ(f.skipped, 4u);
  EXPECT_TRUE(has_issue(f, "attribute 4: type 'md5' is not an address or domain: skipped"));
  EXPECT_TRUE(has_issue(f, "attribute 9 (object 1 'domain-ip'): type 'text'")) << issues(f);
  EXPECT_TRUE(has_issue(f, "1 attribute(s) with to_ids=false skipped"));
  EXPECT_TRUE(has_issue(f, "attribute 6: deleted: skipped"));
}

TEST(Misp, BareEventAndEventList) {
  auto f = parse_misp(
      R"({"info":"bare","Attribute":[{"type":"ip-src","value":"192.0.2.1","to_ids":true}]})");
  ASSERT_EQ(f.indicators.size(), 1u) << issues(f);
  EXPECT_EQ(f.meta.name, "bare");
  f = parse_misp(R"([{"Event":{"info":"e1","Attribute":[{"type":"domain","value":"a.example"}]}},)"
                 R"({"Event":{"info":"e2","Attribute":[{"type":"domain","value":"b.example"}]}}])");
  ASSERT_EQ(f.indicators.size(), 2u) << issues(f);
  EXPECT_EQ(f.indicators[1].line, 2u);
}

TEST(Misp, WrongTypesNameThePlace) {
  auto f = parse_misp(R"({"Event":{"Attribute":[
    {"type":"ip-dst","value":12345,"to_ids":true},
    {"type":"ip-dst","value":"192.0.2.1","to_ids":"yes"},
    {"type":"ip-dst|port","value":"192.0.2.1","to_ids":true},
    {"type":"ip-dst","value":"not-an-ip","to_ids":true},
    "string attribute",
    {"type":"domain","value":"bad domain.example"}
  ], "Object": 7}})");
  EXPECT_TRUE(f.indicators.empty());
  EXPECT_EQ(f.bad, 7u) << issues(f);
  EXPECT_TRUE(has_issue(f, "attribute 1: 'value': expected a string, got number"));
  EXPECT_TRUE(has_issue(f, "attribute 2: 'to_ids': expected a boolean, got string"));
  EXPECT_TRUE(has_issue(f, "attribute 3: ip-dst|port value '192.0.2.1' has no '|'"));
  EXPECT_TRUE(has_issue(f, "attribute 4: ip-dst: 'not-an-ip' is not an address or CIDR"));
  EXPECT_TRUE(has_issue(f, "attribute 5: expected an object, got string"));
  EXPECT_TRUE(has_issue(f, "attribute 6: domain:"));
  EXPECT_TRUE(has_issue(f, "event: 'Object': expected an array, got number"));
  f = parse_misp(R"({"Event": [1]})");
  EXPECT_TRUE(has_issue(f, "document: 'Event': expected an object, got array")) << issues(f);
  f = parse_misp(R"("just a string")");
  EXPECT_TRUE(has_issue(f, "not a MISP event or feed manifest (a string)"));
}

TEST(Misp, ManifestKeyedByUuid) {
  const char* text = R"({
    "5c1a-0001": {"info": "first", "Tag": [{"name": "orb"}], "timestamp": "1600000000",
                  "Orgc": {"name": "x"}, "date": "2020-09-13", "analysis": 2},
    "5c1a-0002": {"info": "second", "timestamp": 1600000100}
  })";
  auto f = parse_misp(text);
  EXPECT_TRUE(f.indicators.empty());
  EXPECT_EQ(f.bad, 0u) << issues(f);
  EXPECT_EQ(f.meta.declared_entries, 2);
  EXPECT_EQ(f.lines, 2u);
  EXPECT_EQ(f.meta.generated_ms, 1600000100000);
  EXPECT_NE(f.meta.description.find("listing 2 event(s) (keyed by uuid)"), std::string::npos);
  EXPECT_EQ(misp_manifest_events(text), (std::vector<std::string>{"5c1a-0001", "5c1a-0002"}));
}

TEST(Misp, ManifestAsList) {
  const char* text = R"([
    {"filename": "e/1.json", "uuid": "u-1", "info": "one", "date": "2025-10-08"},
    {"filename": "e/2.json", "uuid": "u-2", "info": "two"},
    {"filename": "e/3.json", "info": "no uuid"}
  ])";
  auto f = parse_misp(text);
  EXPECT_EQ(f.meta.declared_entries, 2);
  EXPECT_EQ(f.bad, 1u);
  EXPECT_TRUE(has_issue(f, "manifest entry 3: no 'uuid'"));
  EXPECT_EQ(misp_manifest_events(text), (std::vector<std::string>{"u-1", "u-2"}));
  EXPECT_TRUE(misp_manifest_events(kMispEvent).empty());
  EXPECT_TRUE(misp_manifest_events("{").empty());
  EXPECT_TRUE(parse_misp("{}").indicators.empty());
  EXPECT_EQ(parse_misp("[]").meta.declared_entries, 0);
}

// ---- hostile input ----

TEST(JsonFeeds, NestingBomb) {
  std::string bomb = std::string(100000, '[') + std::string(100000, ']');
  for (auto* parse : {&parse_stix, &parse_misp}) {
    auto f = parse(bomb);
    EXPECT_EQ(f.bad, 1u);
    EXPECT_TRUE(has_issue(f, "JSON nesting deeper than 64 levels")) << issues(f);
  }
  std::string objects = "{\"Event\":";
  for (int i = 0; i < 70; ++i) objects += "{\"a\":";
  objects += "1" + std::string(71, '}');
  EXPECT_TRUE(has_issue(parse_misp(objects), "nesting deeper than 64"));
  // JSON lines: one deep line is an error on that line; the next line still parses.
  std::string lines = indicator("[ipv4-addr:value = '192.0.2.1']") + "\n" + std::string(65, '[') +
                      std::string(65, ']') + "\n" + indicator("[ipv4-addr:value = '192.0.2.2']");
  auto f = parse_stix(lines);
  EXPECT_EQ(f.indicators.size(), 2u);
  EXPECT_TRUE(has_issue(f, "line 2: JSON nesting deeper than 64 levels")) << issues(f);
}

TEST(JsonFeeds, HugeInputIsRefusedWithoutParsing) {
  std::string huge(100u << 20, ' ');
  huge.front() = '{';
  huge.back() = '}';
  for (auto* parse : {&parse_stix, &parse_misp}) {
    auto f = parse(huge);
    EXPECT_EQ(f.bad, 1u);
    EXPECT_TRUE(has_issue(f, "document of 104857600 bytes is larger than the 33554432-byte limit"))
        << issues(f);
  }
}

TEST(JsonFeeds, InvalidUtf8AndGarbage) {
  std::string bad_utf8 = bundle(indicator("[domain-name:value = 'caf\xc3\x28.example']"));
  auto f = parse_stix(bad_utf8);
  EXPECT_TRUE(has_issue(f, "invalid UTF-8")) << issues(f);
  EXPECT_TRUE(has_issue(parse_misp("{\"Event\":{\"info\":\"\xff\"}}"), "invalid UTF-8"));
  for (const char* g : {"", "   \n", "{", "nul", "[1,2", "{\"a\":}", "\x00\x01",
                        "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\"}]}",
                        "{\"Event\":{\"Attribute\":[{}]}}"}) {
    auto s = parse_stix(g);
    auto m = parse_misp(g);
    EXPECT_GE(s.bad + m.bad, 1u) << g;
  }
  // A non-ASCII (valid UTF-8) domain is reported, not normalised.
  f =
      parse_stix(bundle(indicator("[domain-name:value = 'b\xc3\xbc"
                                  "cher.example']")));
  EXPECT_TRUE(has_issue(f, "punycode")) << issues(f);
}

}  // namespace
}  // namespace orbwatch::intel
