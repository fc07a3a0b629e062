#include "server/share.h"

#include <gtest/gtest.h>

#include "server/confirmed.h"

namespace orbwatch::server {
namespace {

store::StoredAlert relay_alert(const std::string& inbound, const std::string& outbound) {
  store::StoredAlert a;
  a.id = "0000000000000001";
  a.detector = "relay";
  a.severity = Severity::kHigh;
  a.status = "new";
  a.json =
      R"({"ts":"2026-04-07T10:00:00.000Z","id":"0000000000000001","detector":"relay",)"
      R"("severity":"high","summary":"x","src_ip":"198.51.100.7","dst_ip":"10.20.1.254",)"
      R"("dst_port":7777,"proto":6,"evidence":{"inbound_list":")" +
      inbound + R"(","outbound_list":")" + outbound +
      R"("},"first_seen":"2026-04-07T09:00:00.000Z","last_seen":"2026-04-07T10:00:00.000Z","count":3})";
  return a;
}

// A model without [network] still knows RFC 1918 as internal: such addresses are never shared.
TEST(Confirmed, InternalAddressesOfTheModelsDefaultsAreNotListed) {
  const auto model = netmodel::ModelIndex::build(netmodel::Model{});
  const auto found = confirmed_from_alerts(
      {relay_alert("198.51.100.7,10.9.9.9", "203.0.113.5,192.168.1.2")}, *model);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].addr.to_string(), "198.51.100.7");
  EXPECT_EQ(found[1].addr.to_string(), "203.0.113.5");
  EXPECT_EQ(found[0].role, "covert-node");
  EXPECT_EQ(found[0].sightings, 1u);
}

// Hosts print as bare addresses, networks as CIDR, in the EDL and in the nftables sets alike.
TEST(Share, ListEntriesAreBareHostsOrCidr) {
  const Prefix host = Prefix::make(*IpAddr::parse("192.0.2.1"), 128);
  const Prefix net = *Prefix::parse("198.51.100.0/24");
  const Prefix v6 = *Prefix::parse("2001:db8::/32");
  EXPECT_EQ(edl_text({host, net, v6}), "192.0.2.1\n198.51.100.0/24\n2001:db8::/32\n");
  const std::string nft = nft_text({{host, 61'000}, {net, INT64_MAX}, {v6, INT64_MAX}}, {}, 1000);
  EXPECT_NE(nft.find("192.0.2.1 timeout 60s, 198.51.100.0/24\n"), std::string::npos) << nft;
  EXPECT_NE(nft.find("2001:db8::/32\n"), std::string::npos) << nft;
}

}  // namespace
}  // namespace orbwatch::server
