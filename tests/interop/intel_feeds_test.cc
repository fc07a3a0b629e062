// The text feed parsers over every text/CSV sample in ../shared/intel (and the Spamhaus ASN-DROP
// JSON lines). Expected counts were taken independently with grep/awk while writing the test; the
// command is in the comment above each number. Every error is printed with its reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "intel/feed_parser.h"
#include "util/interop.h"

namespace orbwatch::intel {
namespace {

#define SKIP_WITHOUT_INTEL()                                                          \
  if (!std::filesystem::is_directory(orbwatch::test::inteldata())) {                  \
    GTEST_SKIP() << "shared intel data not found at " << orbwatch::test::inteldata(); \
  }

struct Counts {
  size_t prefixes = 0, domains = 0;
};

ParsedFeed load(const std::string& rel, FeedFormat expect) {
  std::ifstream in(orbwatch::test::inteldata() / rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  EXPECT_FALSE(text.empty()) << rel;
  EXPECT_EQ(detect_feed_format(text, rel), expect) << rel;
  ParsedFeed f = parse_feed(text, FeedFormat::kAuto, rel);
  for (const auto& i : f.issues) {
    if (i.level == ParseIssue::Level::kError) std::cout << rel << ": error: " << i.message << "\n";
  }
  return f;
}

Counts count(const ParsedFeed& f) {
  Counts c;
  for (const auto& i : f.indicators) (i.kind == IndicatorKind::kPrefix ? c.prefixes : c.domains)++;
  return c;
}

size_t tagged(const ParsedFeed& f, const std::string& tag) {
  return static_cast<size_t>(std::count_if(f.indicators.begin(), f.indicators.end(), [&](auto& i) {
    return std::find(i.tags.begin(), i.tags.end(), tag) != i.tags.end();
  }));
}

TEST(IntelFeeds, RaptorTrainAdvisory) {
  SKIP_WITHOUT_INTEL();
  auto f = load("blacklotuslabs/Raptor_Train_IOCs.txt", FeedFormat::kAdvisory);
  Counts c = count(f);
  // awk -F'\t' 'NR>1 && NF>=5 && $2=="IP"{print $1}' | sort -u | wc -l  -> 99 (102 rows)
  EXPECT_EQ(c.prefixes, 99u);
  // Domain rows: 51 unique; TLS Cert Domain rows: 56 unique; the 39 "<c2-subdomain> <snippet>"
  // lines below the table repeat 38 of the Tier 2 Domain rows (comm -23 is empty) -> 107.
  EXPECT_EQ(c.domains, 107u);
  EXPECT_EQ(f.bad, 0u);
  // awk ... $2=="IP" && $5=="Tier 2" | sort -u -> 89; TLS Cert Domain -> 56; Tier 2 Domain -> 40.
  size_t tier2_ips = 0;
  for (const auto& i : f.indicators) {
    if (i.kind == IndicatorKind::kPrefix &&
        std::find(i.tags.begin(), i.tags.end(), "Tier 2") != i.tags.end()) {
      ++tier2_ips;
    }
  }
  EXPECT_EQ(tier2_ips, 89u);
  EXPECT_EQ(tagged(f, "TLS Cert Domain"), 56u);
  EXPECT_EQ(tagged(f, "Tier 2"), 89u + 40u + 56u);
  // Duplicates: 3 IP rows + 39 snippet lines, merged with a warning each.
  EXPECT_EQ(f.warnings, 42u);
  for (const auto& i : f.indicators) EXPECT_NE(i.first_seen_ms, 0) << i.domain << i.line;
}

TEST(IntelFeeds, KvBotnetAdvisory) {
  SKIP_WITHOUT_INTEL();
  auto f = load("blacklotuslabs/KVbotnet_IOCs.txt", FeedFormat::kAdvisory);
  Counts c = count(f);
  // grep -oE '[0-9]+\.[0-9]+\.[0-9]+\[\.\][0-9]+' | sort -u | wc -l -> 24 (25 occurrences)
  EXPECT_EQ(c.prefixes, 24u);
  EXPECT_EQ(c.domains, 0u);  // "Kv-all.sh" is a file name, the hashes have no dots
  EXPECT_EQ(f.bad, 0u);
  EXPECT_EQ(f.warnings, 1u);  // 140.82.20.246 listed twice
  // grep -c "Payload Server" -> 5 rows, 5 addresses.
  EXPECT_EQ(tagged(f, "Payload Server") + tagged(f, "1st stage Payload Server"), 5u);
}

TEST(IntelFeeds, JdyAdvisory) {
  SKIP_WITHOUT_INTEL();
  auto f = load("blacklotuslabs/JDY_6_2026_IOCs.txt", FeedFormat::kAdvisory);
  Counts c = count(f);
  EXPECT_EQ(c.prefixes, 5u);  // 5 defanged addresses
  EXPECT_EQ(c.domains, 0u);
  EXPECT_EQ(f.bad, 0u);
  EXPECT_EQ(tagged(f, "C2"), 4u);  // grep -c "Description: C2" -> 4
  EXPECT_EQ(tagged(f, "Payload Server"), 1u);
  for (const auto& i : f.indicators) EXPECT_NE(i.first_seen_ms, 0);
}

TEST(IntelFeeds, SekoiaCsvWithStixPatterns) {
  SKIP_WITHOUT_INTEL();
  auto f = load("sekoia/2021-11-10_APT31_IOCs.csv", FeedFormat::kCsv);
  Counts c = count(f);
  // grep -o "\[ipv4-addr:value = '[^']*'\]" | sort -u | wc -l -> 53; domain-name -> 43
  EXPECT_EQ(c.prefixes, 53u);
  EXPECT_EQ(c.domains, 43u);
  EXPECT_EQ(f.skipped, 6u);  // 6 file:hashes patterns
  EXPECT_EQ(f.bad, 0u);
  for (const auto& i : f.indicators) {
    EXPECT_EQ(i.confidence, 100);
    EXPECT_EQ(i.valid_from_ms, 1609459200000);   // 2021-01-01
    EXPECT_EQ(i.valid_until_ms, 1640995200000);  // 2022-01-01
  }
}

TEST(IntelFeeds, FeodoCsv) {
  SKIP_WITHOUT_INTEL();
  auto f = load("feeds/abusech_feodo_ipblocklist_2024-04-04.csv", FeedFormat::kCsv);
  // grep -E '^"[0-9]' | awk -F'","' '{print $2}' | sort -u | wc -l -> 28
  EXPECT_EQ(count(f).prefixes, 28u);
  EXPECT_EQ(f.meta.declared_entries, 28);
  EXPECT_EQ(f.bad, 0u);
  EXPECT_EQ(f.warnings, 0u);
  EXPECT_EQ(tagged(f, "Pikabot"), 28u);
}

TEST(IntelFeeds, PlainAndDrop) {
  SKIP_WITHOUT_INTEL();
  auto et = load("feeds/et_compromised-ips_2026-08-21.txt", FeedFormat::kPlain);
  EXPECT_EQ(count(et).prefixes, 539u);  // sort -u | grep -c '^[0-9]' -> 539
  EXPECT_EQ(et.bad + et.warnings, 0u);
  auto edrop = load("feeds/spamhaus_edrop_stripped_2024-02-27_excerpt.txt", FeedFormat::kPlain);
  EXPECT_EQ(count(edrop).prefixes, 20u);  // grep -c '^[0-9]' -> 20 ("CIDR " lines)
  EXPECT_EQ(edrop.bad + edrop.warnings, 0u);
  auto drop = load("feeds/spamhaus_drop_raw_2023-02-20_excerpt.txt", FeedFormat::kDrop);
  EXPECT_EQ(count(drop).prefixes, 30u);  // grep -cE '^[0-9].* ; SBL[0-9]+$' -> 30
  EXPECT_EQ(drop.bad + drop.warnings, 0u);
  EXPECT_EQ(drop.indicators.front().ref, "SBL256894");
  EXPECT_NE(drop.meta.generated_ms, 0);
}

TEST(IntelFeeds, AsnDropJsonLines) {
  SKIP_WITHOUT_INTEL();
  auto f = load("feeds/spamhaus_asndrop_jsonl_2024-02-27_excerpt.json", FeedFormat::kDropJson);
  EXPECT_TRUE(f.indicators.empty());
  EXPECT_EQ(f.skipped, 10u);  // grep -c '"asn"' -> 10; ASNs are not address indicators
  EXPECT_EQ(f.bad, 0u);
  EXPECT_EQ(f.meta.declared_entries, 201);  // the excerpt keeps the full file's metadata
  EXPECT_EQ(f.meta.generated_ms, 1709006105000);
  EXPECT_EQ(f.warnings, 11u);  // 10 skipped ASNs + "declares 201 records, read 10"
}

TEST(IntelFeeds, Firehol) {
  SKIP_WITHOUT_INTEL();
  auto feodo = load("feeds/firehol_feodo_2021-04-14.ipset", FeedFormat::kFirehol);
  EXPECT_EQ(feodo.meta.name, "feodo");
  EXPECT_EQ(feodo.meta.category, "malware");
  EXPECT_EQ(feodo.meta.declared_entries, 0);  // "Entries : 0 unique IPs", and none listed
  EXPECT_TRUE(feodo.indicators.empty());
  EXPECT_NE(feodo.meta.generated_ms, 0);
  auto dshield = load("feeds/firehol_dshield_2021-04-14.netset", FeedFormat::kFirehol);
  EXPECT_EQ(count(dshield).prefixes, 18u);  // grep -cE '^[0-9]' -> 18 = "Entries: 18 subnets"
  EXPECT_EQ(dshield.meta.category, "attacks");
  EXPECT_EQ(tagged(dshield, "attacks"), 18u);
  EXPECT_EQ(dshield.bad + dshield.warnings, 0u);
  auto et = load("feeds/firehol_et_block_2021-04-14_excerpt.netset", FeedFormat::kFirehol);
  EXPECT_EQ(count(et).prefixes, 12u);  // grep -cE '^[0-9]' -> 12
  EXPECT_EQ(et.bad, 0u);
  EXPECT_EQ(et.warnings, 1u);  // header declares 1161 entries: the file is an excerpt
}

}  // namespace
}  // namespace orbwatch::intel
