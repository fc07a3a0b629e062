// parse_stix / parse_misp over every STIX, TAXII and MISP JSON sample in ../shared/intel.
// Expected numbers were established independently with Python's json module while writing the
// test, e.g. for the Sekoia file:
//   python3 -c "import json,collections; print(collections.Counter((o['type'],
//     o.get('pattern_type'), o.get('pattern','')[:10]) for o in map(json.loads,
//     open('2021-11-10_APT31_STIX2.jsonl'))))"
// -> 247 relationship, 104 indicator (53 ipv4-addr, 43 domain-name, 6 file-hash 'stix', 2
// 'yara'), 10 attack-pattern, 5 campaign, 3 malware, 1 intrusion-set. Every skipped pattern and
// every issue is printed with its reason.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "core/time.h"
#include "intel/json_feeds.h"
#include "util/interop.h"

namespace orbwatch::intel {
namespace {

std::filesystem::path intel_dir() {
  return orbwatch::test::testdata().parent_path() / "intel";
}

#define SKIP_WITHOUT_INTEL_JSON()                                                      \
  if (!std::filesystem::is_directory(intel_dir())) {                                   \
    GTEST_SKIP() << "shared intel data not found at " << intel_dir()                   \
                 << " (ORBWATCH_SHARED_DIR): the interop suite needs ../shared/intel"; \
  }

std::string read(const std::string& rel) {
  std::ifstream in(intel_dir() / rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << rel;
  return ss.str();
}

void print(const std::string& rel, const ParsedFeed& f) {
  std::cout << rel << ": " << f.indicators.size() << " indicators, " << f.lines << " records, "
            << f.skipped << " skipped, " << f.bad << " bad, " << f.warnings << " warnings; "
            << f.meta.description << "\n";
  for (const auto& i : f.issues) {
    std::cout << "  " << (i.level == ParseIssue::Level::kError ? "error" : "warning") << ": "
              << i.message << "\n";
  }
}

size_t count_kind(const ParsedFeed& f, IndicatorKind k) {
  size_t n = 0;
  for (const auto& i : f.indicators) n += i.kind == k;
  return n;
}

TEST(IntelJsonFeedsInterop, SekoiaApt31JsonLines) {
  SKIP_WITHOUT_INTEL_JSON();
  const std::string rel = "sekoia/2021-11-10_APT31_STIX2.jsonl";
  auto f = parse_stix(read(rel));
  print(rel, f);
  EXPECT_EQ(f.lines, 370u);
  EXPECT_EQ(f.bad, 0u);
  EXPECT_EQ(count_kind(f, IndicatorKind::kPrefix), 53u);
  EXPECT_EQ(count_kind(f, IndicatorKind::kDomain), 43u);
  EXPECT_EQ(f.skipped, 8u);
  EXPECT_EQ(f.meta.description,
            "STIX: 370 objects (247 relationship, 104 indicator, 10 attack-pattern, 5 campaign, 3 "
            "malware, 1 intrusion-set)");
  // The 8 skipped indicators, by JSON line: 2 YARA rules and 6 file-hash patterns.
  std::set<uint32_t> yara, hashes;
  for (const auto& i : f.issues) {
    ASSERT_EQ(i.level, ParseIssue::Level::kWarning) << i.message;
    if (i.message.find("pattern_type 'yara'") != std::string::npos) yara.insert(i.line);
    if (i.message.find("pattern cannot be represented: object path 'file:hashes.MD5'") !=
        std::string::npos) {
      hashes.insert(i.line);
    }
  }
  EXPECT_EQ(yara, (std::set<uint32_t>{16, 103}));
  EXPECT_EQ(hashes, (std::set<uint32_t>{67, 77, 80, 88, 104, 115}));
  EXPECT_EQ(f.issues.size(), 8u);

  std::set<std::string> values;
  const int64_t from = *parse_rfc3339_ms("2021-01-01T00:00:00Z");
  const int64_t until = *parse_rfc3339_ms("2022-01-01T00:00:00Z");
  for (const auto& i : f.indicators) {
    values.insert(i.kind == IndicatorKind::kDomain ? i.domain : i.prefix.to_string());
    EXPECT_EQ(i.valid_from_ms, from);
    EXPECT_EQ(i.valid_until_ms, until);
    EXPECT_EQ(i.confidence, 100);
    EXPECT_EQ(i.tags, std::vector<std::string>{"malicious-activity"});  // name == value
    EXPECT_EQ(i.ref.rfind("indicator--", 0), 0u);
    if (i.kind == IndicatorKind::kPrefix) {
      EXPECT_EQ(i.prefix.display_len(), 32u);
    }
  }
  EXPECT_EQ(values.size(), 96u);
  EXPECT_EQ(f.indicators[0].line, 17u);
  EXPECT_EQ(f.indicators[0].domain, "api.ontracting.com");
  EXPECT_EQ(f.indicators[0].ref, "indicator--04f05593-2a58-4e33-b4f0-d6febfd893b0");
  EXPECT_EQ(f.indicators[1].line, 18u);
  EXPECT_EQ(f.indicators[1].prefix.to_string(), "81.236.182.199/32");
}

TEST(IntelJsonFeedsInterop, OasisStixExamples) {
  SKIP_WITHOUT_INTEL_JSON();
  {
    const std::string rel = "feeds/stix21_indicator-for-c2-ip-address.json";
    auto f = parse_stix(read(rel));
    print(rel, f);
    ASSERT_EQ(f.indicators.size(), 1u);
    EXPECT_EQ(f.lines, 1u);
    EXPECT_EQ(f.issues.size(), 0u);
    EXPECT_EQ(f.indicators[0].prefix.to_string(), "10.0.0.0/32");
    EXPECT_EQ(f.indicators[0].line, 1u);  // object index in the bundle
    EXPECT_EQ(f.indicators[0].tags,
              (std::vector<std::string>{"malicious-activity", "IP Address for known C2 channel"}));
  }
  {
    const std::string rel = "feeds/stix21_indicators-for-C2-with-COA.json";
    auto f = parse_stix(read(rel));
    print(rel, f);
    EXPECT_EQ(f.lines, 8u);
    EXPECT_EQ(f.bad, 0u);
    ASSERT_EQ(f.indicators.size(), 1u);
    EXPECT_EQ(f.indicators[0].prefix.to_string(), "10.0.0.0/32");
    EXPECT_EQ(f.indicators[0].line, 3u);
    EXPECT_EQ(f.skipped, 1u);  // the Poison Ivy SHA-256 file hash
    ASSERT_EQ(f.issues.size(), 1u);
    EXPECT_EQ(f.issues[0].line, 4u);
    EXPECT_NE(f.issues[0].message.find("object path 'file:hashes.'SHA-256''"), std::string::npos);
    EXPECT_EQ(f.meta.description,
              "STIX: 8 objects (3 relationship, 2 indicator, 1 course-of-action, 1 identity, 1 "
              "malware)");
  }
}

TEST(IntelJsonFeedsInterop, TaxiiResponses) {
  SKIP_WITHOUT_INTEL_JSON();
  // The GET objects envelope is STIX content: its one indicator is an MD5 file hash.
  const std::string env = "feeds/taxii21_get_objects_envelope.json";
  auto f = parse_stix(read(env));
  print(env, f);
  EXPECT_EQ(f.lines, 1u);
  EXPECT_EQ(f.bad, 0u);
  EXPECT_EQ(f.skipped, 1u);
  EXPECT_TRUE(f.indicators.empty());
  // The other TAXII resources are not STIX content: each is one clear document-level error
  // (the manifest's records have no 'type', one error each), never a crash.
  for (const char* rel : {"feeds/taxii21_discovery.json", "feeds/taxii21_api_root.json",
                          "feeds/taxii21_collections.json", "feeds/taxii21_status.json"}) {
    auto g = parse_stix(read(rel));
    print(rel, g);
    EXPECT_TRUE(g.indicators.empty()) << rel;
    EXPECT_EQ(g.bad, 1u) << rel;
  }
  auto m = parse_stix(read("feeds/taxii21_manifest.json"));
  print("feeds/taxii21_manifest.json", m);
  EXPECT_EQ(m.bad, 2u);
}

TEST(IntelJsonFeedsInterop, MalvulnMispEvent) {
  SKIP_WITHOUT_INTEL_JSON();
  const std::string rel = "feeds/misp_event_malvuln_00199eb3.json";
  auto f = parse_misp(read(rel));
  print(rel, f);
  EXPECT_EQ(f.meta.name, "Malware: darkkomet (00199eb3...) - Malvuln Advisories");
  // 14 event attributes + 8 in 4 objects: text 11, link 5, comment 2, filename 2, md5 1,
  // vulnerability 1; none is an address or a domain.
  EXPECT_EQ(f.lines, 22u);
  EXPECT_EQ(f.bad, 0u);
  EXPECT_EQ(f.skipped, 22u);
  EXPECT_TRUE(f.indicators.empty());
  EXPECT_TRUE(misp_manifest_events(read(rel)).empty());
}

TEST(IntelJsonFeedsInterop, MalvulnManifestList) {
  SKIP_WITHOUT_INTEL_JSON();
  const std::string rel = "feeds/misp_feed_manifest_malvuln_excerpt.json";
  auto text = read(rel);
  auto f = parse_misp(text);
  print(rel, f);
  EXPECT_EQ(f.bad, 0u);
  EXPECT_EQ(f.meta.declared_entries, 3);
  EXPECT_TRUE(f.indicators.empty());
  EXPECT_EQ(misp_manifest_events(text),
            (std::vector<std::string>{"aeb51e3b-09d9-4f8d-b2b1-2e7091c22bb4",
                                      "d4a407f0-45ce-4a87-a0a7-02f1ffe14a66",
                                      "039c5a04-3175-4237-805b-c83ff1eef2c2"}));
}

}  // namespace
}  // namespace orbwatch::intel
