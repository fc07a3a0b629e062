#include "enrich/geo_db.h"

#include "enrich/enrich_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sim/world.h"
#include "util/mmdb_writer.h"

namespace orbwatch::enrich {
namespace {

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

std::shared_ptr<const GeoDb> from_csv(const std::string& text, std::vector<std::string>& warnings,
                                      std::unordered_map<uint32_t, AsType> overrides = {}) {
  GeoDb::Builder b(std::move(overrides));
  std::string error;
  EXPECT_TRUE(b.add_csv(text, "t.csv", warnings, error)) << error;
  return b.build();
}

TEST(AsType, RulesReadOrganisationNames) {
  EXPECT_EQ(classify_org("DIGITALOCEAN-ASN"), AsType::kHosting);
  EXPECT_EQ(classify_org("Hetzner Online GmbH"), AsType::kHosting);
  EXPECT_EQ(classify_org("Amazon.com, Inc."), AsType::kHosting);
  EXPECT_EQ(classify_org("Nimbus Hosting Ltd"), AsType::kHosting);
  EXPECT_EQ(classify_org("Comcast Cable Communications, LLC"), AsType::kResidential);
  EXPECT_EQ(classify_org("British Telecommunications PLC"), AsType::kResidential);
  EXPECT_EQ(classify_org("Deutsche Telekom AG"), AsType::kResidential);
  EXPECT_EQ(classify_org("Cobalt Broadband"), AsType::kResidential);
  EXPECT_EQ(classify_org("Harbor University"), AsType::kBusiness);
  EXPECT_EQ(classify_org("WIDE Project"), AsType::kUnknown);
  EXPECT_EQ(classify_org(""), AsType::kUnknown);
  // "host" is a word, not a part of one ("Ghost", "Hostel" are not hosting).
  EXPECT_EQ(classify_org("Ghostly Networks"), AsType::kUnknown);
  EXPECT_EQ(parse_as_type("hosting"), AsType::kHosting);
  EXPECT_FALSE(parse_as_type("vps"));
}

TEST(GeoDb, ReadsAsnCsvInTextAndNumberFormsWithQuotedNames) {
  std::vector<std::string> warnings;
  const auto db = from_csv(
      "# comment\n"
      "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
      "16778240,16779263,38803,Gtelecom Pty Ltd\n"  // 1.0.4.0 - 1.0.7.255 as numbers
      "2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n"
      "42540488161975842760550356425300246528,42540488161975842760550356425300246783,6939,"
      "Hurricane Electric LLC\n"  // 2001:: - 2001::ff
      "1.0.9.0,1.0.8.0,1,backwards\n"
      "garbage\n"
      "1.2.0.0,1.2.255.255,64700,\"Quoted \"\"Hosting\"\" Ltd\"\n",
      warnings);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], "t.csv:6: the range's end is before its start or of another family");
  EXPECT_EQ(warnings[1].rfind("t.csv:7: ", 0), 0u) << warnings[1];
  EXPECT_EQ(db->stats().bad_lines, 2u);
  EXPECT_EQ(db->stats().asn_ranges, 5u);

  Geo g = db->lookup(ip("1.0.0.77"));
  EXPECT_EQ(g.asn, 13335u);
  EXPECT_EQ(db->org(g.org), "Cloudflare, Inc.");
  EXPECT_EQ(g.type, AsType::kHosting);
  EXPECT_EQ(db->lookup(ip("1.0.4.0")).asn, 38803u);
  EXPECT_EQ(db->lookup(ip("1.0.7.255")).asn, 38803u);
  EXPECT_EQ(db->lookup(ip("1.0.8.0")).asn, 0u);
  EXPECT_EQ(db->lookup(ip("1.0.3.255")).asn, 0u);
  EXPECT_EQ(db->lookup(ip("2001:200:1b9::1")).asn, 2500u);
  EXPECT_EQ(db->lookup(ip("2001:200:1ba::")).asn, 0u);
  EXPECT_EQ(db->lookup(ip("2001::ff")).asn, 6939u);
  EXPECT_EQ(db->lookup(ip("2001::100")).asn, 0u);
  EXPECT_EQ(db->org(db->lookup(ip("1.2.3.4")).org), "Quoted \"Hosting\" Ltd");
  EXPECT_EQ(db->type_of(38803), AsType::kResidential);
  EXPECT_EQ(db->type_of(2500), AsType::kUnknown);
}

TEST(GeoDb, OddRangesAreCoveredExactly) {
  std::vector<std::string> warnings;
  const auto db = from_csv(
      "10.0.0.1,10.0.0.6,1,a\n"
      "0.0.0.0,255.255.255.255,2,everything\n"
      "::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,3,all of v6\n",
      warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(db->lookup(ip("10.0.0.0")).asn, 2u);  // only the wider range
  for (const char* a : {"10.0.0.1", "10.0.0.2", "10.0.0.5", "10.0.0.6"})
    EXPECT_EQ(db->lookup(ip(a)).asn, 1u) << a;
  EXPECT_EQ(db->lookup(ip("10.0.0.7")).asn, 2u);
  EXPECT_EQ(db->lookup(ip("255.255.255.255")).asn, 2u);
  EXPECT_EQ(db->lookup(ip("2001:db8::1")).asn, 3u);
}

TEST(GeoDb, CountriesAndOverridesAndTheMoreSpecificRange) {
  std::vector<std::string> warnings;
  GeoDb::Builder b({{64512, AsType::kResidential}});
  std::string error;
  ASSERT_TRUE(
      b.add_csv("5.0.0.0,5.255.255.255,gb\n5.1.2.0,5.1.2.255,FR\n6.0.0.0,6.0.0.255,ZZ\n"
                "2a00::,2a00::ffff,DE\n",
                "c.csv", warnings, error));
  ASSERT_TRUE(
      b.add_csv("5.0.0.0,5.255.255.255,64512,Example Cloud Hosting\n", "a.csv", warnings, error));
  const auto db = b.build();
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(db->lookup(ip("5.9.9.9")).country_code(), "GB");
  EXPECT_EQ(db->lookup(ip("5.1.2.3")).country_code(), "FR");
  EXPECT_EQ(db->lookup(ip("6.0.0.1")).country_code(), "");  // ZZ: unknown
  EXPECT_EQ(db->lookup(ip("2a00::1")).country_code(), "DE");
  // The user's list beats the rules ("Hosting" in the name).
  EXPECT_EQ(db->lookup(ip("5.1.2.3")).type, AsType::kResidential);
  EXPECT_EQ(db->stats().by_type[static_cast<int>(AsType::kResidential)], 1u);
}

TEST(GeoDb, NotAGeoCsvIsAnError) {
  GeoDb::Builder b;
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_FALSE(b.add_csv("name,value\nfoo,bar\n", "x.csv", warnings, error));
  EXPECT_EQ(error, "x.csv: no line is an address range with an AS number or a country code");
}

class GeoDbMmdb : public testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove(path_); }
  std::string write(const test::MmdbWriter& w) {
    const auto b = w.bytes();
    std::ofstream(path_, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return path_;
  }
  static std::vector<uint8_t> record(const std::string& country, uint32_t asn,
                                     const std::string& org, bool maxmind_layout = false) {
    using W = test::MmdbWriter;
    std::vector<uint8_t> d;
    W::map(d, asn ? 3 : 1);
    if (maxmind_layout) {
      W::string(d, "country");
      W::map(d, 1);
      W::string(d, "iso_code");
    } else {
      W::string(d, "country_code");
    }
    W::string(d, country);
    if (asn) {
      W::string(d, "autonomous_system_number");
      W::uint(d, asn);
      W::string(d, "autonomous_system_organization");
      W::string(d, org);
    }
    return d;
  }
  std::string path_ = testing::TempDir() + "/geo_test_" + std::to_string(getpid()) + ".mmdb";
};

TEST_F(GeoDbMmdb, Ipv4DatabaseGivesCountryAsnAndOrganisation) {
  test::MmdbWriter w(4);
  w.insert(test::MmdbWriter::v4_key(0x01000000, false), 24,
           record("AU", 13335, "Cloudflare, Inc."));
  w.insert(test::MmdbWriter::v4_key(0x05000000, false), 8, record("GB", 0, "", true));
  GeoDb::Builder b;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(b.add_mmdb(write(w), warnings, error)) << error;
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  const auto db = b.build();
  const Geo g = db->lookup(ip("1.0.0.200"));
  EXPECT_EQ(g.country_code(), "AU");
  EXPECT_EQ(g.asn, 13335u);
  EXPECT_EQ(db->org(g.org), "Cloudflare, Inc.");
  EXPECT_EQ(db->lookup(ip("1.0.1.0")).asn, 0u);
  EXPECT_EQ(db->lookup(ip("5.200.1.1")).country_code(), "GB");
}

TEST_F(GeoDbMmdb, Ipv6DatabaseReadsTheIpv4SubtreeOnceAndSkipsItsAliases) {
  test::MmdbWriter w(6);
  w.insert(test::MmdbWriter::v4_key(0x01000000, true), 96 + 24, record("AU", 0, ""));
  std::vector<bool> v6(128, false);
  for (int i : {2, 3, 4, 15, 18, 20, 21, 23, 24, 28, 29, 31}) v6[static_cast<size_t>(i)] = true;
  w.insert(v6, 32, record("JP", 0, ""));  // 2001:0db8::/32... as bits above (3ffe-like)
  // ::ffff:0:0/96 aliases ::/96, as MaxMind's IPv6 databases do.
  std::vector<bool> mapped(96, false);
  for (size_t i = 80; i < 96; ++i) mapped[i] = true;
  w.alias(mapped, 96, std::vector<bool>(96, false), 96);
  GeoDb::Builder b;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(b.add_mmdb(write(w), warnings, error)) << error;
  const auto db = b.build();
  EXPECT_EQ(db->lookup(ip("1.0.0.9")).country_code(), "AU");
  EXPECT_EQ(db->stats().country_ranges, 2u);  // the alias was not read twice
}

TEST_F(GeoDbMmdb, ATreeThatLoopsIsRefusedNotWalkedForever) {
  test::MmdbWriter w(6);
  w.insert(test::MmdbWriter::v4_key(0x01000000, true), 96 + 24, record("AU", 0, ""));
  // A node's right child is that node (libmaxminddb refuses only a way back to the root):
  // every level below it repeats its whole left subtree.
  w.alias({false, true}, 2, {false}, 1);
  GeoDb::Builder b;
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_FALSE(b.add_mmdb(write(w), warnings, error));
  EXPECT_NE(error.find("revisits nodes"), std::string::npos) << error;
}

TEST_F(GeoDbMmdb, NotAnMmdbIsAnError) {
  std::ofstream(path_) << "not a database";
  GeoDb::Builder b;
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_FALSE(b.add_mmdb(path_, warnings, error));
  EXPECT_EQ(error.rfind(path_ + ": ", 0), 0u) << error;
}

TEST(GeoDb, SimulatedWorldTablesGiveEveryAsItsKindAndCountry) {
  // The simulator's ASN and country CSVs, read back: the rules classify its invented
  // organisations as what they are.
  const sim::World w = sim::build_world({.seed = 9, .hosts = 100, .country = "GB"});
  GeoDb::Builder b;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(b.add_csv(w.asn_csv(), "asn.csv", warnings, error)) << error;
  ASSERT_TRUE(b.add_csv(w.country_csv(), "country.csv", warnings, error)) << error;
  EXPECT_TRUE(warnings.empty());
  const auto db = b.build();
  sim::Rng rng(3);
  for (const sim::As& as : w.ases) {
    const IpAddr a = as.random_addr(rng);
    const Geo g = db->lookup(a);
    EXPECT_EQ(g.asn, as.asn);
    EXPECT_EQ(g.country_code(), as.country);
    const AsType want = as.kind == sim::AsKind::kHosting       ? AsType::kHosting
                        : as.kind == sim::AsKind::kResidential ? AsType::kResidential
                                                               : AsType::kBusiness;
    EXPECT_EQ(g.type, want) << as.org;
  }
}

}  // namespace
}  // namespace orbwatch::enrich

namespace orbwatch::enrich {
namespace {

TEST(EnrichConfig, PathsAreRelativeToTheFileAndEveryProblemHasItsLine) {
  std::vector<std::string> errors;
  auto s = parse_enrich_config(
      "[enrich]\ndatabases = [\"geo/asn.csv\", \"/abs/c.mmdb\"]\n"
      "[enrich.as_types]\nhosting = [64500]\nresidential = [64501, 64502]\n",
      "/etc/orbwatch/orbwatch.toml", errors);
  ASSERT_TRUE(s) << errors[0];
  EXPECT_EQ(s->files, (std::vector<std::string>{"/etc/orbwatch/geo/asn.csv", "/abs/c.mmdb"}));
  EXPECT_EQ(s->as_types.at(64500), AsType::kHosting);
  EXPECT_EQ(s->as_types.at(64502), AsType::kResidential);

  errors.clear();
  EXPECT_FALSE(parse_enrich_config(
      "[enrich]\ndatabases = \"one.csv\"\nsize = 3\n[enrich.as_types]\ncloud = [1]\n"
      "hosting = [\"x\"]\n",
      "o.toml", errors));
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0],
            "o.toml:2: enrich.databases: expected a list of file names, got \"one.csv\"");
  EXPECT_EQ(errors[1], "o.toml:3: enrich.size: unknown key (expected databases, as_types)");
  EXPECT_EQ(errors[2],
            "o.toml:5: enrich.as_types.cloud: unknown type (expected hosting, residential or "
            "business)");
  EXPECT_EQ(errors[3], "o.toml:6: enrich.as_types.hosting[1]: expected an AS number, got \"x\"");

  errors.clear();
  auto none = parse_enrich_config("[network]\ninternal = []\n", "o.toml", errors);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->files.empty());
}

}  // namespace
}  // namespace orbwatch::enrich
