#include "intel/feed_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "intel/feed_text.h"

namespace orbwatch::intel {
namespace {

std::string prefix(const Indicator& i) {
  return i.prefix.to_string();
}

bool has_issue(const ParsedFeed& f, std::string_view needle) {
  for (const auto& i : f.issues) {
    if (i.message.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(FeedText, LinesCrlfAndBom) {
  std::vector<std::string> got;
  for_each_line(
      "\xEF\xBB\xBF"
      "a\r\nb\n\nc",
      [&](uint32_t no, std::string_view l) {
        got.push_back(std::to_string(no) + ":" + std::string(l));
      });
  EXPECT_EQ(got, (std::vector<std::string>{"1:a", "2:b", "3:", "4:c"}));
}

TEST(FeedText, CommentsAndRefang) {
  EXPECT_EQ(strip_comment("1.2.3.4 # bad"), "1.2.3.4");
  EXPECT_EQ(strip_comment("1.2.3.4 ; SBL1"), "1.2.3.4");
  EXPECT_EQ(strip_comment("http://x.com/a // c"), "http://x.com/a");
  EXPECT_EQ(refang("1.2.3[.]4"), "1.2.3.4");
  EXPECT_EQ(refang("1.2.3(.)4"), "1.2.3.4");
  EXPECT_EQ(refang("hxxps://evil[.]com[:]443/x"), "https://evil.com:443/x");
  EXPECT_EQ(refang("hXXp://a.com"), "http://a.com");
  bool malformed = false;
  EXPECT_EQ(refang("178.130.47[.10", &malformed), "178.130.47.10");
  EXPECT_TRUE(malformed);
}

TEST(FeedText, RangesAreMinimalCidrSets) {
  std::vector<Prefix> out;
  std::string why;
  ASSERT_TRUE(parse_address("10.0.0.0-10.0.0.255", out, why));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to_string(), "10.0.0.0/24");
  out.clear();
  ASSERT_TRUE(parse_address("10.0.0.1-10.0.0.6", out, why));
  std::vector<std::string> s;
  for (auto& p : out) s.push_back(p.to_string());
  EXPECT_EQ(s,
            (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"}));
  out.clear();
  ASSERT_TRUE(parse_address("0.0.0.0-255.255.255.255", out, why));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to_string(), "0.0.0.0/0");
  out.clear();
  ASSERT_TRUE(parse_address("2001:db8::-2001:db8::ffff:ffff", out, why));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to_string(), "2001:db8::/96");
  out.clear();
  ASSERT_TRUE(parse_address("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", out, why));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].len, 0);
  out.clear();
  ASSERT_TRUE(parse_address("0.0.0.1-255.255.255.254", out, why));
  EXPECT_EQ(out.size(), 62u);  // 31 blocks climbing up, 31 down
  EXPECT_FALSE(parse_address("10.0.0.9-10.0.0.1", out, why));
  EXPECT_EQ(why, "range end before start");
  EXPECT_FALSE(parse_address("10.0.0.1-::1", out, why));
}

TEST(FeedText, Domains) {
  std::string d, why;
  EXPECT_TRUE(normalize_domain("Evil.Example.COM.", d, why));
  EXPECT_EQ(d, "evil.example.com");
  EXPECT_TRUE(normalize_domain("xn--bcher-kva.xn--p1ai", d, why));
  EXPECT_FALSE(normalize_domain("localhost", d, why));
  EXPECT_FALSE(normalize_domain("a..b.com", d, why));
  EXPECT_FALSE(normalize_domain("-a.com", d, why));
  EXPECT_FALSE(normalize_domain("1.2.3", d, why));
  EXPECT_FALSE(
      normalize_domain("b\xFC"
                       "cher.de",
                       d, why));  // Latin-1 u-umlaut
  EXPECT_FALSE(normalize_domain(std::string(64, 'a') + ".com", d, why));
}

TEST(PlainFeed, MixedValuesCommentsDefangV6HostBits) {
  auto f = parse_plain(
      "# header\r\n"
      "1.2.3.4\r\n"
      "; semi comment\n"
      "// slash comment\n"
      "10.0.0.0/8 # inline\n"
      "10.1.2.3/16\n"
      "5.6.7[.]8\n"
      "2001:db8::1\n"
      "2001:db8::/32\n"
      "Evil[.]Example.com\n"
      "hxxp://bad.example.net/path?q=1\n"
      "http://9.9.9.9:8080/x\n"
      "192.168.0.1 - 192.168.0.2\n"
      "10.0.0.1/33\n"
      "\n"
      "not a value here\n");
  EXPECT_EQ(f.format, FeedFormat::kPlain);
  std::vector<std::string> got;
  for (auto& i : f.indicators)
    got.push_back(i.kind == IndicatorKind::kDomain ? i.domain : prefix(i));
  EXPECT_EQ(got, (std::vector<std::string>{"1.2.3.4/32", "10.0.0.0/8", "10.1.0.0/16", "5.6.7.8/32",
                                           "2001:db8::1/128", "2001:db8::/32", "evil.example.com",
                                           "bad.example.net", "9.9.9.9/32", "192.168.0.1/32",
                                           "192.168.0.2/32"}));
  EXPECT_TRUE(has_issue(f, "line 6: '10.1.2.3/16': host bits set, normalised to 10.1.0.0/16"));
  EXPECT_TRUE(has_issue(f, "line 14: '10.0.0.1/33': prefix length 33 > 32"));
  EXPECT_EQ(f.bad, 2u);  // /33 and "not" (the rest of that line is a warning)
  EXPECT_EQ(f.indicators[0].line, 2u);
}

TEST(PlainFeed, DuplicatesAreMergedWithAWarning) {
  auto f = parse_plain("1.2.3.4\n1.2.3.4/32\nevil.com\nEVIL.com\n");
  EXPECT_EQ(f.indicators.size(), 2u);
  EXPECT_EQ(f.warnings, 2u);
  EXPECT_TRUE(has_issue(f, "line 2: '1.2.3.4/32': duplicate of line 1, merged"));
}

TEST(PlainFeed, EmptyAndHugeAndLatin1) {
  auto e = parse_plain("");
  EXPECT_TRUE(e.indicators.empty());
  EXPECT_EQ(e.bad, 0u);
  std::string huge(10 * 1024 * 1024, 'a');
  huge += "\n1.2.3.4\n";
  auto h = parse_plain(huge);
  ASSERT_EQ(h.indicators.size(), 1u);
  EXPECT_EQ(h.bad, 1u);
  EXPECT_TRUE(has_issue(h, "line 1: line of 10485760 bytes exceeds"));
  auto l = parse_plain("caf\xE9.com\n1.2.3.4 # caf\xE9\n");
  EXPECT_EQ(l.indicators.size(), 1u);
  EXPECT_EQ(l.bad, 1u);
  EXPECT_TRUE(has_issue(l, "non-ASCII"));
  for (const auto& i : l.issues) {
    for (char c : i.message) EXPECT_NE(c, '\xE9');  // messages stay valid UTF-8
  }
}

TEST(DropFeed, TextWithSblIds) {
  auto f = parse_drop(
      "; Spamhaus DROP List 2023/02/20 - (c) 2023 The Spamhaus Project\n"
      "; Last-Modified: Sun, 19 Feb 2023 22:03:03 GMT\n"
      "1.10.16.0/20 ; SBL256894\r\n"
      "2001:db8::/32 ; SBL1\n"
      "5.5.5.5/33 ; SBL2\n"
      "2.56.247.0/24 \n");
  ASSERT_EQ(f.indicators.size(), 3u);
  EXPECT_EQ(f.indicators[0].ref, "SBL256894");
  EXPECT_EQ(prefix(f.indicators[1]), "2001:db8::/32");
  EXPECT_EQ(f.indicators[2].ref, "");
  EXPECT_EQ(f.meta.name, "Spamhaus DROP List 2023/02/20");
  EXPECT_EQ(f.meta.generated_ms, 1676844183000);
  EXPECT_TRUE(has_issue(f, "line 5: '5.5.5.5/33': prefix length 33 > 32"));
}

TEST(DropFeed, JsonLinesAndAsnDrop) {
  auto f = parse_drop_json(
      "{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\",\"rir\":\"apnic\"}\n"
      "{\"asn\":932,\"rir\":\"arin\",\"domain\":\"xn.net\",\"cc\":\"US\",\"asname\":\"XNNET\"}\n"
      "{\"cidr\":\"2.2.2.2/8\"}\n"
      "{\"cidr\": [1]}\n"
      "not json\n"
      "{\"type\":\"metadata\",\"timestamp\":1709006105,\"records\":5}\n");
  ASSERT_EQ(f.indicators.size(), 2u);
  EXPECT_EQ(f.indicators[0].ref, "SBL256894");
  EXPECT_EQ(f.indicators[0].tags, std::vector<std::string>{"rir:apnic"});
  EXPECT_EQ(prefix(f.indicators[1]), "2.0.0.0/8");
  EXPECT_EQ(f.skipped, 1u);
  EXPECT_TRUE(has_issue(f, "line 2: AS932 (XNNET): an ASN-DROP autonomous system"));
  EXPECT_TRUE(has_issue(f, "line 4: nested value"));
  EXPECT_TRUE(has_issue(f, "line 5: expected a JSON object"));
  EXPECT_EQ(f.meta.generated_ms, 1709006105000);
  EXPECT_EQ(f.meta.declared_entries, 5);
  EXPECT_EQ(f.bad, 2u);
  EXPECT_FALSE(has_issue(f, "metadata declares"));  // 5 data records (the 2 bad ones count)
}

TEST(FireholFeed, HeaderIntoMeta) {
  auto f = parse_firehol(
      "#\n# dshield\n#\n# ipv4 hash:net ipset\n#\n"
      "# [DShield.org] (https://dshield.org/) top 20\n# subnets\n#\n"
      "# Maintainer      : DShield.org\n"
      "# Source File Date: Wed Apr 14 04:21:18 UTC 2021\n#\n"
      "# Category        : attacks\n"
      "# Entries         : 3 subnets, 5120 unique IPs\n#\n"
      "45.135.232.0/24\n45.145.67.0/24\n5.2.158.159\n");
  EXPECT_EQ(f.meta.name, "dshield");
  EXPECT_EQ(f.meta.category, "attacks");
  EXPECT_EQ(f.meta.declared_entries, 3);
  EXPECT_EQ(f.meta.generated_ms, 1618374078000);
  EXPECT_NE(f.meta.description.find("DShield.org"), std::string::npos);
  ASSERT_EQ(f.indicators.size(), 3u);
  EXPECT_EQ(f.indicators[2].tags, std::vector<std::string>{"attacks"});
  EXPECT_EQ(f.warnings, 0u);
}

TEST(CsvFeed, HeaderMappingQuotingDates) {
  auto f = parse_csv(
      "Indicator,Type,Confidence,Tags,Valid_From,Valid_Until\r\n"
      "1.2.3.4,ip,80,\"c2, botnet\",2024-01-01T00:00:00Z,2024-02-01\r\n"
      "\"evil.com\",domain,101,x,,\r\n"
      "abcdef0123,md5,50,,,\r\n"
      "\"a \"\"quoted\"\" thing\",domain,,,,\r\n");
  ASSERT_EQ(f.indicators.size(), 2u);
  EXPECT_EQ(f.indicators[0].confidence, 80);
  EXPECT_EQ(f.indicators[0].tags, (std::vector<std::string>{"c2", "botnet"}));
  EXPECT_EQ(f.indicators[0].valid_from_ms, 1704067200000);
  EXPECT_EQ(f.indicators[0].valid_until_ms, 1706745600000);
  EXPECT_EQ(f.indicators[1].domain, "evil.com");
  EXPECT_EQ(f.indicators[1].line, 3u);
  EXPECT_TRUE(has_issue(f, "line 3: confidence '101' is not 0..100"));
  EXPECT_EQ(f.skipped, 1u);
  EXPECT_TRUE(has_issue(f, "line 5: 'a \"quoted\" thing': not an address or domain"));
}

TEST(CsvFeed, FeodoTrailer) {
  auto f = parse_csv(
      "#####\n# abuse.ch Feodo Tracker\n#\n"
      "\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n"
      "\"2023-05-23 17:51:44\",\"192.9.135.73\",\"1194\",\"online\",\"2024-04-01\",\"Pikabot\"\n"
      "# END 2 entries");
  ASSERT_EQ(f.indicators.size(), 1u);
  EXPECT_EQ(f.indicators[0].first_seen_ms, 1684864304000);
  EXPECT_EQ(f.indicators[0].last_seen_ms, 1711929600000);
  EXPECT_EQ(f.indicators[0].tags, std::vector<std::string>{"Pikabot"});
  EXPECT_EQ(f.meta.declared_entries, 2);
  EXPECT_TRUE(has_issue(f, "line 6: trailer declares 2 entries, read 1"));
}

TEST(CsvFeed, StixPatterns) {
  auto f = parse_csv(
      "id,pattern,pattern_type,confidence\n"
      "indicator--1,[ipv4-addr:value = '1.2.3.4'],stix,100\n"
      "indicator--2,[domain-name:value = 'Api.Evil.com'],stix,90\n"
      "indicator--3,[file:hashes.MD5 = 'abc'],stix,100\n"
      "indicator--4,\"[ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2']\",stix,1\n"
      "indicator--5,[ipv4-addr:value != '1.2.3.4'],stix,1\n");
  ASSERT_EQ(f.indicators.size(), 2u);
  EXPECT_EQ(f.indicators[0].ref, "indicator--1");
  EXPECT_EQ(f.indicators[1].domain, "api.evil.com");
  EXPECT_EQ(f.indicators[1].confidence, 90);
  EXPECT_EQ(f.skipped, 3u);
  EXPECT_TRUE(has_issue(f, "pattern over file is not an address or domain; skipped"));
}

TEST(AdvisoryFeed, TableRowsAndKeyValueLines) {
  auto f = parse_advisory(
      "IOC\t   Type\tFirst Seen\tLast Seen\tCategory\n"
      "1.2.3.4\tIP\t2023-10-04\t2024-06-28\tTier 3\n"
      "1.2.3.4\tIP\t2023-07-13\t2024-09-04\tTier 2\n"
      "c2.k3121.com\tDomain\t2021-03-23\t2022-04-13\tTier 2\n"
      "abc.com\tTLS Cert Domain\t2024-09-03\t2024-09-04\tTier 2\n"
      "2aa12e5989065951be84ce932b65bd197dd6be3fa987838bad48536c0c74d145\tTLS Fingerprint\t\t\tkr\n"
      "\n"
      "Files: Kv-all.sh x.php wp-content/x.php version 1.2.3 and 2.5, see e.g. ASP\n"
      "45.159.209[.]228\tDec 15, 2023\t            Payload Server\n"
      "\n"
      "23.27.120[.]240 \n"
      "First Seen: 2025-04-11; Last Seen: Present; Description: C2\n"
      "Sha256:c524e118b1e263fccac6e94365b3a0b148a53ea96df21c8377ccd8ec3d6a0874\n"
      "Description: JDY Dropper\n"
      "bad 300.1.2.3 here, and 178.130.47[.10 too\n");
  std::vector<std::string> got;
  for (auto& i : f.indicators)
    got.push_back(i.kind == IndicatorKind::kDomain ? i.domain : prefix(i));
  EXPECT_EQ(got,
            (std::vector<std::string>{"1.2.3.4/32", "c2.k3121.com", "abc.com", "45.159.209.228/32",
                                      "23.27.120.240/32", "178.130.47.10/32"}));
  const auto& ip = f.indicators[0];
  EXPECT_EQ(ip.tags, (std::vector<std::string>{"Tier 3", "Tier 2"}));
  EXPECT_EQ(ip.first_seen_ms, 1689206400000);  // 2023-07-13, the earlier row
  EXPECT_EQ(ip.last_seen_ms, 1725408000000);   // 2024-09-04
  EXPECT_EQ(f.indicators[2].tags, (std::vector<std::string>{"TLS Cert Domain", "Tier 2"}));
  EXPECT_TRUE(f.indicators[3].tags.empty());  // outside the table
  EXPECT_EQ(f.indicators[4].tags, std::vector<std::string>{"C2"});
  EXPECT_EQ(f.indicators[4].first_seen_ms, 1744329600000);
  EXPECT_EQ(f.indicators[4].last_seen_ms, 0);
  EXPECT_TRUE(has_issue(f, "line 15: '300.1.2.3': not an IP address"));
  EXPECT_TRUE(has_issue(f, "malformed defanging"));
  EXPECT_TRUE(has_issue(f, "line 3: '1.2.3.4/32': duplicate of line 2"));
}

TEST(AdvisoryFeed, RangesInTextBecomeTheirCidrs) {
  auto f = parse_advisory("Scanning came from 198.51.100.1-198.51.100.4 and 203.0.113.9:8080.\n");
  std::vector<std::string> got;
  for (auto& i : f.indicators) got.push_back(prefix(i));
  EXPECT_EQ(got, (std::vector<std::string>{"198.51.100.1/32", "198.51.100.2/31", "198.51.100.4/32",
                                           "203.0.113.9/32"}));
}

TEST(Detect, ByContentThenExtension) {
  EXPECT_EQ(detect_feed_format("1.2.3.4\n5.6.7.0/24\n", ""), FeedFormat::kPlain);
  EXPECT_EQ(detect_feed_format("; Spamhaus DROP\n1.2.3.0/24 ; SBL1\n", "x.txt"), FeedFormat::kDrop);
  EXPECT_EQ(detect_feed_format("1.2.3.0/24 ; SBL1\n", ""), FeedFormat::kDrop);
  EXPECT_EQ(detect_feed_format("{\"cidr\":\"1.2.3.0/24\",\"sblid\":\"SBL1\"}\n", ""),
            FeedFormat::kDropJson);
  EXPECT_EQ(detect_feed_format("#\n# x\n# ipv4 hash:ip ipset\n1.2.3.4\n", ""),
            FeedFormat::kFirehol);
  EXPECT_EQ(detect_feed_format("1.2.3.4\n", "list.netset"), FeedFormat::kPlain);
  EXPECT_EQ(detect_feed_format("", "list.netset"), FeedFormat::kFirehol);
  EXPECT_EQ(detect_feed_format("value,type\n1.2.3.4,ip\n", ""), FeedFormat::kCsv);
  EXPECT_EQ(detect_feed_format("The actor used 1.2.3.4 and evil.com for C2.\n", ""),
            FeedFormat::kAdvisory);
  EXPECT_EQ(detect_feed_format("{\"type\":\"bundle\",\"objects\":[]}", ""), FeedFormat::kStix);
  EXPECT_EQ(detect_feed_format("{\"Event\":{\"info\":\"x\"}}", ""), FeedFormat::kMisp);
  EXPECT_EQ(parse_feed("1.2.3.4\n", FeedFormat::kAuto, "").format, FeedFormat::kPlain);
  EXPECT_EQ(parse_feed("1.2.3.4\n", FeedFormat::kAuto, "").indicators.size(), 1u);
}

TEST(Bounds, IssuesAreCapped) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "garbage!\n";
  auto f = parse_plain(text);
  EXPECT_EQ(f.bad, 5000u);
  EXPECT_EQ(f.issues.size(), ParsedFeed::kMaxIssues);
}

}  // namespace
}  // namespace orbwatch::intel
