#include "netmodel/model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <string>
#include <vector>

#include "netmodel/model_index.h"

namespace orbwatch::netmodel {
namespace {

// The example of docs/configuration.md, as a user would write it.
constexpr const char* kExample = R"(
[network]
internal = ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"]

[zones]
dmz      = ["10.20.1.0/24"]
corp     = ["10.20.3.0/24", "fd00:3::/64"]
iot      = ["10.20.5.0/24"]
partners = ["198.51.100.0/24"]

[lists]
admins = ["203.0.113.7", "2001:db8:7::/48"]

[[assets]]
name       = "vpn-gw"
address    = ["10.20.1.1"]
kind       = "vpn"
services   = ["tcp/443", "udp/500", "udp/4500"]
allow_from = ["zone:partners", "203.0.113.0/24"]   # only these may reach the services
criticality = "critical"
owner = "netops"

[[assets]]
name     = "core-router"
address  = "10.20.1.254"
kind     = "router"
services = ["tcp/22", "tcp/443"]
allow    = { "tcp/22" = ["zone:corp", "list:admins"] }

[[segmentation]]
from   = "iot"
to     = "corp"
action = "deny"

[[segmentation]]
from     = "corp"
to       = "dmz"
services = ["tcp/22"]
action   = "allow"
)";

std::vector<std::string> errors_of(const std::string& text) {
  std::vector<std::string> errors;
  EXPECT_FALSE(parse_model(text, "orbwatch.toml", errors).has_value());
  return errors;
}

TEST(NetworkModel, ReadsTheDocumentedExample) {
  std::vector<std::string> errors;
  auto m = parse_model(kExample, "orbwatch.toml", errors);
  ASSERT_TRUE(m.has_value()) << (errors.empty() ? "" : errors[0]);
  EXPECT_EQ(m->internal.size(), 3u);
  ASSERT_EQ(m->zones.size(), 4u);
  ASSERT_EQ(m->assets.size(), 2u);
  const Asset& vpn = m->assets[0];
  EXPECT_EQ(vpn.name, "vpn-gw");
  EXPECT_EQ(vpn.kind, AssetKind::kVpn);
  EXPECT_EQ(vpn.criticality, Severity::kCritical);
  EXPECT_EQ(vpn.owner, "netops");
  ASSERT_EQ(vpn.services.size(), 3u);
  EXPECT_EQ(service_text(vpn.services[1]), "udp/500");
  ASSERT_EQ(vpn.allow.size(), 1u);
  EXPECT_EQ(vpn.allow[0].from.size(), 2u);
  const Asset& router = m->assets[1];
  EXPECT_EQ(router.addresses.size(), 1u);  // a single string is a list of one
  ASSERT_EQ(router.allow.size(), 1u);
  EXPECT_EQ(service_text(router.allow[0].services[0]), "tcp/22");
  ASSERT_EQ(m->segmentation.size(), 2u);
  EXPECT_FALSE(m->segmentation[0].allow);
  EXPECT_EQ(m->segmentation[1].services.size(), 1u);
}

TEST(NetworkModel, EachMistakeGetsItsOwnPreciseMessage) {
  EXPECT_EQ(errors_of("[zones]\niot = [\"10.20.5.0/33\"]\n"),
            (std::vector<std::string>{
                "orbwatch.toml:2: zones.iot[1]: expected a prefix like \"10.0.0.0/8\", got "
                "\"10.20.5.0/33\""}));
  EXPECT_EQ(errors_of("[zones]\niot = [\"10.20.5.1/24\"]\n")[0],
            "orbwatch.toml:2: zones.iot[1]: expected a prefix like \"10.0.0.0/8\", got "
            "\"10.20.5.1/24\"");
  EXPECT_EQ(errors_of("[network]\ninternal = [\"10.0.0.0/8\"]\ninterna = 1\n")[0],
            "orbwatch.toml:3: network.interna: unknown key (expected internal)");
  EXPECT_EQ(errors_of("[zones]\ncorp = [\"10.20.0.0/16\"]\niot = [\"10.20.5.0/24\"]\n")[0],
            "orbwatch.toml:3: zones.iot: 10.20.5.0/24 overlaps zone \"corp\" (10.20.0.0/16, "
            "line 2): an address belongs to one zone");
  EXPECT_EQ(errors_of("[zones]\ncorp = [\"10.20.3.0/24\"]\n[[segmentation]]\nfrom = \"iot\"\n"
                      "to = \"corp\"\naction = \"deny\"\n")[0],
            "orbwatch.toml:4: segmentation[1].from: expected a zone name from [zones] or "
            "\"external\", got \"iot\"");
  EXPECT_EQ(errors_of("[[segmentation]]\nfrom = \"external\"\nto = \"external\"\n"
                      "action = \"block\"\n")[0],
            "orbwatch.toml:4: segmentation[1].action: expected \"allow\" or \"deny\", got "
            "\"block\"");
  EXPECT_EQ(errors_of("[[assets]]\nname = \"a\"\naddress = \"10.0.0.1\"\nkind = \"toaster\"\n")[0],
            "orbwatch.toml:4: assets[1].kind: expected one of vpn, firewall, router, mail, web, "
            "camera, nas, iot, server, workstation, other, got \"toaster\"");
  EXPECT_EQ(errors_of("[[assets]]\nname = \"a\"\naddress = \"10.0.0.1\"\n"
                      "services = [\"tcp/443\", \"tcp/http\"]\n")[0],
            "orbwatch.toml:4: assets[1].services[2]: expected a service like \"tcp/443\", got "
            "\"tcp/http\"");
  EXPECT_EQ(errors_of("[[assets]]\nname = \"a\"\naddress = \"10.0.0.1\"\n"
                      "allow_from = [\"zone:partners\"]\n")[0],
            "orbwatch.toml:4: assets[1].allow_from[1]: expected a prefix, \"zone:NAME\" or "
            "\"list:NAME\", got \"zone:partners\"");
  EXPECT_EQ(errors_of("[[assets]]\nname = \"a\"\naddress = \"10.0.0.1\"\ncolour = \"red\"\n")[0],
            "orbwatch.toml:4: assets[1].colour: unknown key (expected name, address, kind, "
            "services, criticality, owner, allow_from, allow)");
  EXPECT_EQ(errors_of("[[assets]]\nname = \"a\"\n")[0],
            "orbwatch.toml:1: assets[1].address: missing (every asset needs its addresses)");
  EXPECT_EQ(errors_of("[[assets]]\nname = \"a\"\naddress = \"10.0.0.1\"\n[[assets]]\n"
                      "name = \"a\"\naddress = \"10.0.0.2\"\n")[0],
            "orbwatch.toml:5: assets[2].name: \"a\" is already the name of the asset on line 1");
  EXPECT_EQ(errors_of("[[assets]]\nname = \"a\"\naddress = \"10.0.0.0/24\"\n[[assets]]\n"
                      "name = \"b\"\naddress = \"10.0.0.7\"\n")[0],
            "orbwatch.toml:4: assets \"b\": 10.0.0.7/32 is also an address of asset \"a\" (line "
            "1)");
  EXPECT_EQ(errors_of("[zones]\nexternal = [\"192.0.2.0/24\"]\n")[0],
            "orbwatch.toml:2: zones.external: expected a name of letters, digits, '_', '-', '.' "
            "(\"external\" is reserved)");
  auto broken = errors_of("[zones\n");
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].rfind("orbwatch.toml:1: ", 0), 0u) << broken[0];
}

TEST(NetworkModel, ListsFromFeedFiles) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("orbwatch_model_lists_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "partner.netset") << "# FireHOL style\n203.0.113.0/25\n2001:db8:9::/48\n";
  std::ofstream(dir / "broken.txt") << "203.0.113.0/25\nnot-an-address!\n";
  const std::string config = (dir / "orbwatch.toml").string();
  std::vector<std::string> errors;
  auto m = parse_model(
      "[lists]\npartner = { source = \"partner.netset\" }\n[[assets]]\n"
      "name = \"vpn\"\naddress = \"10.0.0.1\"\nallow_from = [\"list:partner\"]\n",
      config, errors);
  ASSERT_TRUE(m.has_value()) << errors[0];
  ASSERT_EQ(m->lists.size(), 1u);
  EXPECT_EQ(m->lists[0].prefixes.size(), 2u);
  auto idx = ModelIndex::build(std::move(*m));
  const int32_t vpn = idx->place(*IpAddr::parse("10.0.0.1")).asset;
  const int32_t rule = idx->allow_rule(vpn, 6, 443);
  EXPECT_TRUE(idx->allowed(vpn, rule, idx->place(*IpAddr::parse("203.0.113.77"))));
  EXPECT_TRUE(idx->allowed(vpn, rule, idx->place(*IpAddr::parse("2001:db8:9::1"))));
  EXPECT_FALSE(idx->allowed(vpn, rule, idx->place(*IpAddr::parse("203.0.113.200"))));
  errors.clear();
  EXPECT_FALSE(parse_model("[lists]\nx = { source = \"missing.txt\" }\n", config, errors));
  EXPECT_EQ(errors.at(0),
            config + ":2: lists.x.source: cannot read " + (dir / "missing.txt").string());
  errors.clear();
  EXPECT_FALSE(parse_model("[lists]\nx = { source = \"broken.txt\", format = \"plain\" }\n", config,
                           errors));
  EXPECT_NE(errors.at(0).find("lists.x.source: " + (dir / "broken.txt").string() + ": line 2"),
            std::string::npos)
      << errors.at(0);
  errors.clear();
  EXPECT_FALSE(parse_model("[lists]\nx = { path = \"a\" }\n", config, errors));
  EXPECT_EQ(errors.at(0), config + ":2: lists.x.path: unknown key (expected source, format)");
  std::filesystem::remove_all(dir);
}

TEST(NetworkModel, InventoryLimits) {
  std::vector<std::string> errors;
  auto m = parse_model("[inventory]\nmax_services = 5000\n", "orbwatch.toml", errors);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->inventory.max_services, 5000u);
  EXPECT_EQ(m->inventory.max_exporters, 10'000u);
  EXPECT_EQ(errors_of("[inventory]\nmax_services = 0\n")[0],
            "orbwatch.toml:2: inventory.max_services: expected a whole number from 1 to "
            "100000000, got 0");
  EXPECT_EQ(errors_of("[inventory]\nmax_devices = 5\n")[0],
            "orbwatch.toml:2: inventory.max_devices: unknown key (expected max_services, "
            "max_exporters)");
}

TEST(NetworkModel, ServicesParseAndPrint) {
  EXPECT_EQ(service_text(*parse_service("tcp/8291")), "tcp/8291");
  EXPECT_EQ(service_text(*parse_service("icmp")), "icmp");
  EXPECT_FALSE(parse_service("tcp"));
  EXPECT_FALSE(parse_service("tcp/0"));
  EXPECT_FALSE(parse_service("tcp/65536"));
  EXPECT_FALSE(parse_service("icmp/8"));
  EXPECT_FALSE(parse_service("http/80"));
  EXPECT_TRUE(parse_service("udp/500")->covers(17, 500));
  EXPECT_FALSE(parse_service("udp/500")->covers(6, 500));
}

class ModelIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> errors;
    auto m = parse_model(kExample, "orbwatch.toml", errors);
    ASSERT_TRUE(m.has_value());
    index_ = ModelIndex::build(std::move(*m));
  }
  const Place& at(const char* a) { return index_->place(*IpAddr::parse(a)); }
  std::shared_ptr<const ModelIndex> index_;
};

TEST_F(ModelIndexTest, PlacesAddresses) {
  const auto& m = index_->model();
  EXPECT_EQ(m.zones[static_cast<size_t>(at("10.20.5.9").zone)].name, "iot");
  EXPECT_TRUE(at("10.20.5.9").internal);
  EXPECT_EQ(at("10.20.5.9").asset, -1);
  EXPECT_EQ(m.assets[static_cast<size_t>(at("10.20.1.1").asset)].name, "vpn-gw");
  EXPECT_EQ(m.zones[static_cast<size_t>(at("10.20.1.1").zone)].name, "dmz");
  EXPECT_EQ(m.zones[static_cast<size_t>(at("fd00:3::9").zone)].name, "corp");
  EXPECT_TRUE(at("fd00:3::9").internal);
  EXPECT_EQ(m.zones[static_cast<size_t>(at("198.51.100.4").zone)].name, "partners");
  EXPECT_FALSE(at("198.51.100.4").internal);
  EXPECT_EQ(at("192.0.2.1").zone, -1);
  EXPECT_FALSE(at("192.0.2.1").internal);
  EXPECT_FALSE(at("172.16.0.1").internal);  // the config's internal list replaces the defaults
  // Batched lookups agree.
  IpAddr addrs[3] = {*IpAddr::parse("10.20.5.9"), *IpAddr::parse("10.20.1.1"),
                     *IpAddr::parse("2001:db8:7::1")};
  ModelIndex::SetIndex sets[3];
  index_->lookup_batch(addrs, 3, sets);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(&index_->place_of(sets[i]), &index_->place(addrs[i]));
}

TEST_F(ModelIndexTest, AllowListsPerAssetAndPerService) {
  const int32_t vpn = at("10.20.1.1").asset;
  const int32_t router = at("10.20.1.254").asset;
  // vpn-gw: allow_from governs its listed services only.
  int32_t rule = index_->allow_rule(vpn, 6, 443);
  ASSERT_GE(rule, 0);
  EXPECT_TRUE(index_->allowed(vpn, rule, at("198.51.100.4")));   // zone:partners
  EXPECT_TRUE(index_->allowed(vpn, rule, at("203.0.113.200")));  // the prefix
  EXPECT_FALSE(index_->allowed(vpn, rule, at("192.0.2.1")));
  EXPECT_FALSE(index_->allowed(vpn, rule, at("10.20.3.5")));  // no implicit internal allow
  EXPECT_EQ(index_->allow_rule(vpn, 6, 22), -1);              // not one of its services
  // core-router: tcp/22 only from corp and the admins list (IPv4 and IPv6).
  rule = index_->allow_rule(router, 6, 22);
  ASSERT_GE(rule, 0);
  EXPECT_TRUE(index_->allowed(router, rule, at("10.20.3.5")));
  EXPECT_TRUE(index_->allowed(router, rule, at("203.0.113.7")));
  EXPECT_TRUE(index_->allowed(router, rule, at("2001:db8:7::44")));
  EXPECT_FALSE(index_->allowed(router, rule, at("203.0.113.8")));
  EXPECT_FALSE(index_->allowed(router, rule, at("10.20.5.9")));
  EXPECT_EQ(index_->allow_rule(router, 6, 443), -1);  // no list for 443
  EXPECT_EQ(index_->allow_rule(-1, 6, 22), -1);
}

TEST_F(ModelIndexTest, SegmentationVerdicts) {
  using V = ModelIndex::Verdict;
  auto verdict = [&](const char* from, const char* to, uint8_t proto, uint16_t port) {
    return index_->segment(at(from), at(to), proto, port).verdict;
  };
  EXPECT_EQ(verdict("10.20.5.9", "10.20.3.5", 6, 445), V::kDenied);      // iot -> corp: deny
  EXPECT_EQ(verdict("10.20.3.5", "10.20.5.9", 6, 445), V::kUngoverned);  // no rule that way
  EXPECT_EQ(verdict("10.20.3.5", "10.20.1.1", 6, 22), V::kAllowed);      // corp -> dmz ssh
  auto d = index_->segment(at("10.20.3.5"), at("10.20.1.1"), 6, 3389);
  EXPECT_EQ(d.verdict, V::kDenied);  // the pair is governed, no rule allows rdp
  EXPECT_EQ(d.rule, nullptr);        // default deny
  EXPECT_EQ(index_->segment_name(d.from), "corp");
  EXPECT_EQ(index_->segment_name(d.to), "dmz");
  EXPECT_EQ(verdict("10.20.5.9", "10.20.5.10", 6, 22), V::kUngoverned);  // inside one zone
  EXPECT_EQ(verdict("192.0.2.1", "10.20.3.5", 6, 22), V::kUngoverned);   // external: no rule
}

TEST(ModelIndex, ExternalIsAZoneForRules) {
  std::vector<std::string> errors;
  auto m = parse_model(
      "[zones]\niot = [\"10.20.5.0/24\"]\n[[segmentation]]\nfrom = \"iot\"\nto = "
      "\"external\"\nservices = [\"udp/123\"]\naction = \"allow\"\n",
      "t.toml", errors);
  ASSERT_TRUE(m.has_value());
  auto idx = ModelIndex::build(std::move(*m));
  auto at = [&](const char* a) -> const Place& { return idx->place(*IpAddr::parse(a)); };
  EXPECT_EQ(idx->segment(at("10.20.5.9"), at("192.0.2.1"), 17, 123).verdict,
            ModelIndex::Verdict::kAllowed);
  EXPECT_EQ(idx->segment(at("10.20.5.9"), at("192.0.2.1"), 6, 443).verdict,
            ModelIndex::Verdict::kDenied);
  // Default internal prefixes: an unzoned internal address is in no segment.
  EXPECT_EQ(idx->segment(at("10.20.5.9"), at("10.1.1.1"), 6, 443).verdict,
            ModelIndex::Verdict::kUngoverned);
}

}  // namespace
}  // namespace orbwatch::netmodel
