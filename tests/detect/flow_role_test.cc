#include "detect/flow_role.h"

#include <gtest/gtest.h>

namespace orbwatch::detect {
namespace {

FlowRecord rec(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcp_flags = 0,
               uint8_t flags = 0) {
  FlowRecord r;
  r.proto = proto;
  r.src_port = sport;
  r.dst_port = dport;
  r.tcp_flags = tcp_flags;
  r.flags = flags;
  return r;
}

TEST(FlowRole, BiflowHalvesDecideAfterTcpFlags) {
  EXPECT_EQ(guess_initiator(rec(6, 443, 50000, 0x12, flow_flags::kBiflowForward)), Initiator::kSrc);
  EXPECT_EQ(guess_initiator(rec(17, 53, 40000, 0, flow_flags::kBiflowForward)), Initiator::kSrc);
  EXPECT_EQ(guess_initiator(rec(6, 50000, 443, 0x18, flow_flags::kBiflowReverse)), Initiator::kDst);
  // A record of nothing but SYNs is the client's, whatever else says otherwise.
  EXPECT_EQ(guess_initiator(rec(6, 443, 50000, 0x02, flow_flags::kBiflowReverse)), Initiator::kSrc);
}

TEST(FlowRole, SynWithoutAckIsTheClient) {
  EXPECT_EQ(guess_initiator(rec(6, 443, 50000, 0x02)), Initiator::kSrc);
  // SYN+ACK and later packets look the same from both sides: ports decide.
  EXPECT_EQ(guess_initiator(rec(6, 443, 50000, 0x12)), Initiator::kDst);
}

TEST(FlowRole, PortsDecideLast) {
  EXPECT_EQ(guess_initiator(rec(6, 50000, 22, 0x18)), Initiator::kSrc);
  EXPECT_EQ(guess_initiator(rec(17, 53, 40000)), Initiator::kDst);
  EXPECT_EQ(guess_initiator(rec(17, 51820, 40000)), Initiator::kDst);      // WireGuard
  EXPECT_EQ(guess_initiator(rec(6, 40000, 8291, 0x18)), Initiator::kSrc);  // winbox
  EXPECT_EQ(guess_initiator(rec(6, 8080, 443, 0x18)), Initiator::kSrc);    // both services
  EXPECT_EQ(guess_initiator(rec(6, 51234, 7777, 0x18)), Initiator::kSrc);  // ephemeral client
  EXPECT_EQ(guess_initiator(rec(17, 40000, 40001)), Initiator::kUnknown);
  EXPECT_EQ(guess_initiator(rec(17, 123, 123)), Initiator::kUnknown);
  EXPECT_EQ(guess_initiator(rec(47, 0, 0)), Initiator::kUnknown);
}

TEST(FlowRole, IcmpEchoTypes) {
  EXPECT_EQ(guess_initiator(rec(1, 0, 8 << 8)), Initiator::kSrc);
  EXPECT_EQ(guess_initiator(rec(1, 0, 0)), Initiator::kDst);
  EXPECT_EQ(guess_initiator(rec(58, 0, 128 << 8)), Initiator::kSrc);
  EXPECT_EQ(guess_initiator(rec(1, 0, 3 << 8)), Initiator::kUnknown);
  EXPECT_TRUE(is_service_port(6, 22));
  EXPECT_FALSE(is_service_port(6, 0));
  EXPECT_FALSE(is_service_port(1, 22));
}

}  // namespace
}  // namespace orbwatch::detect
