#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "ingest/export_decoder.h"
#include "netmodel/model.h"
#include "sim/export_encoder.h"

namespace orbwatch::sim {
namespace {

constexpr int64_t kMinute = 60'000, kHour = 60 * kMinute, kDay = 24 * kHour;

SimOptions small(uint64_t seed = 7) {
  SimOptions o;
  o.world.seed = seed;
  o.world.hosts = 40;
  o.days = 4;
  o.clean_days = 1;
  return o;
}

std::vector<FlowRecord> run(Simulator& s) {
  std::vector<FlowRecord> all;
  FlowBatch b;
  while (s.next(b)) {
    all.insert(all.end(), b.records.begin(), b.records.end());
    b.clear();
  }
  return all;
}

const Label& label_of(const Simulator& s, std::string_view scenario) {
  for (const Label& l : s.labels())
    if (l.scenario == scenario) return l;
  throw std::runtime_error("no label");
}

// Records one direction of which touches both addresses.
std::vector<FlowRecord> between(const std::vector<FlowRecord>& all, const IpAddr& a,
                                const IpAddr& b) {
  std::vector<FlowRecord> out;
  for (const auto& r : all)
    if ((r.src == a && r.dst == b) || (r.src == b && r.dst == a)) out.push_back(r);
  return out;
}

TEST(Simulator, SameSeedSameFlowsOtherSeedOtherFlows) {
  Simulator a(small(7)), b(small(7)), c(small(8));
  const auto fa = run(a), fb = run(b), fc = run(c);
  ASSERT_GT(fa.size(), 50'000u);
  ASSERT_EQ(fa.size(), fb.size());
  EXPECT_TRUE(std::equal(fa.begin(), fa.end(), fb.begin(), [](const auto& x, const auto& y) {
    return std::memcmp(&x, &y, sizeof x) == 0;
  }));
  EXPECT_NE(fa.size(), fc.size());
  EXPECT_EQ(a.feed_text(), b.feed_text());
  EXPECT_NE(a.feed_text(), c.feed_text());
}

TEST(Simulator, FlowsLeaveInEndTimeOrderInsideTheSpan) {
  Simulator s(small());
  const auto all = run(s);
  for (size_t i = 1; i < all.size(); ++i) ASSERT_LE(all[i - 1].end_ms, all[i].end_ms) << i;
  const int64_t start = s.options().start_ms;
  for (const auto& r : all) {
    ASSERT_GE(r.start_ms, start);
    ASSERT_LE(r.start_ms, r.end_ms);
    ASSERT_LE(r.end_ms - r.start_ms, 5 * kMinute);  // the active timeout
  }
}

TEST(Simulator, BenignTrafficFollowsTheWorkingWeek) {
  auto o = small();
  o.days = 7;
  o.scenarios.clear();
  Simulator s(o);
  const auto all = run(s);
  // Workstation flows per hour: Monday 10:00-11:00 against Monday 03:00 and Saturday 10:00.
  auto count = [&](int64_t from) {
    return std::count_if(all.begin(), all.end(), [&](const FlowRecord& r) {
      return r.start_ms >= from && r.start_ms < from + kHour &&
             (r.src.v4_value() >> 16) == (10u << 8 | 21u);
    });
  };
  const int64_t monday = o.start_ms;
  EXPECT_GT(count(monday + 10 * kHour), 10 * count(monday + 3 * kHour));
  EXPECT_GT(count(monday + 10 * kHour), 5 * count(monday + 5 * kDay + 10 * kHour));
  EXPECT_TRUE(s.labels().empty());
}

TEST(Simulator, EveryScenarioHasALabelAndItsTrafficInsideTheLabelsSpan) {
  Simulator s(small());
  const auto all = run(s);
  const World& w = s.world();
  ASSERT_EQ(s.labels().size(), std::size(kScenarioNames));
  std::set<std::string> ids;
  for (const Label& l : s.labels()) {
    EXPECT_TRUE(ids.insert(l.id).second);
    EXPECT_LT(l.start_ms, l.end_ms) << l.id;
    EXPECT_GE(l.start_ms, s.options().start_ms + kDay) << l.id;  // after the clean day
    EXPECT_FALSE(l.detectors.empty());
    EXPECT_FALSE(l.internal.empty());
    // The first external entity is only ever seen inside the span.
    if (!l.external.empty()) {
      const auto flows = between(all, l.internal[0], l.external[0]);
      ASSERT_FALSE(flows.empty()) << l.id;
      for (const auto& r : flows) {
        EXPECT_GE(r.start_ms, l.start_ms) << l.id;
        EXPECT_LE(r.start_ms, l.end_ms) << l.id;
      }
    }
  }

  // Raptor: check-ins about every 5 minutes, hourly fetches, scanning (telnet) later.
  const Label& raptor = label_of(s, "raptor_train_tier1");
  const IpAddr cam = raptor.internal[0];
  auto beacons = between(all, cam, raptor.external[0]);
  std::vector<int64_t> starts;
  for (const auto& r : beacons)
    if (r.src == cam) starts.push_back(r.start_ms);
  std::sort(starts.begin(), starts.end());
  ASSERT_GT(starts.size(), 50u);
  std::vector<int64_t> gaps;
  for (size_t i = 1; i < starts.size(); ++i) gaps.push_back(starts[i] - starts[i - 1]);
  std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
  EXPECT_NEAR(static_cast<double>(gaps[gaps.size() / 2]), 300'000.0, 30'000.0);
  const auto telnet = std::count_if(all.begin(), all.end(), [&](const FlowRecord& r) {
    return r.src == cam && r.dst_port == 23;
  });
  EXPECT_GT(telnet, 100);

  // Spray: thousands of residential sources against one service, each a few times.
  const Label& spray = label_of(s, "quad7_spray");
  std::map<IpAddr, int> per_source;
  for (const auto& r : all) {
    if (r.dst == spray.internal[0] && r.dst_port == 443 && r.start_ms >= spray.start_ms &&
        r.start_ms < spray.end_ms && w.as_of(r.src) && w.as_of(r.src)->kind == AsKind::kResidential)
      ++per_source[r.src];
  }
  EXPECT_GT(per_source.size(), 2000u);
  EXPECT_EQ(spray.external_count, 3000u);

  // Relay: each inbound session on the listener is followed by an outbound one of near-equal
  // bytes from the router.
  const Label& relay = label_of(s, "kv_relay");
  const IpAddr router = relay.internal[0];
  int inbound = 0, paired = 0;
  for (const auto& in : all) {
    if (in.dst != router || in.src != relay.external[0]) continue;
    ++inbound;
    for (const auto& out : all) {
      if (out.src == router && out.dst_port == 443 && out.start_ms >= in.start_ms &&
          out.start_ms < in.start_ms + 2000 &&
          std::abs(static_cast<double>(out.bytes) / static_cast<double>(in.bytes) - 1) < 0.05) {
        ++paired;
        break;
      }
    }
  }
  EXPECT_GT(inbound, 10);
  EXPECT_GE(paired, inbound * 9 / 10);

  // Exfiltration: gigabytes out of the NAS.
  const Label& exfil = label_of(s, "exfiltration");
  uint64_t out_bytes = 0;
  for (const auto& r : between(all, exfil.internal[0], exfil.external[0]))
    if (r.src == exfil.internal[0]) out_bytes += r.bytes;
  EXPECT_GT(out_bytes, 8'000'000'000u);

  // The intel scenario's addresses are in the feed.
  const Label& intel = label_of(s, "intel_hit");
  for (const IpAddr& a : intel.external)
    EXPECT_NE(s.feed_text().find(a.to_string() + "\n"), std::string::npos);
}

TEST(Simulator, UnknownScenarioIsRefused) {
  auto o = small();
  o.scenarios = {"raptor_train_tier1", "nonesuch"};
  EXPECT_THROW(Simulator{o}, std::invalid_argument);
}

TEST(World, ModelLoadsAndTablesCoverEveryAs) {
  const World w = build_world({.seed = 3, .hosts = 500, .country = "DE"});
  std::vector<std::string> errors;
  auto m = netmodel::parse_model(w.model_toml(), "model.toml", errors);
  ASSERT_TRUE(m) << (errors.empty() ? "" : errors[0]);
  EXPECT_EQ(m->zones.size(), 5u);
  EXPECT_GT(m->assets.size(), 30u);
  // One CSV line per AS, ranges sorted and disjoint, as_of agreeing with them.
  const std::string asn = w.asn_csv(), country = w.country_csv();
  EXPECT_EQ(static_cast<size_t>(std::count(asn.begin(), asn.end(), '\n')), w.ases.size());
  EXPECT_EQ(static_cast<size_t>(std::count(country.begin(), country.end(), '\n')), w.ases.size());
  for (size_t i = 1; i < w.ases.size(); ++i) EXPECT_LT(w.ases[i - 1].last, w.ases[i].first);
  Rng rng(1);
  int home = 0;
  for (int i = 0; i < 1000; ++i) {
    const IpAddr a = w.random_external(AsKind::kResidential, rng, 1);
    const As* as = w.as_of(a);
    ASSERT_NE(as, nullptr);
    EXPECT_EQ(as->kind, AsKind::kResidential);
    home += as->country == "DE";
    EXPECT_NE(a.v4_value() >> 24, 10u);
  }
  EXPECT_EQ(home, 1000);
  EXPECT_EQ(w.as_of(IpAddr::v4(10u << 24 | 1)), nullptr);
}

// Every record the encoder writes comes back from the decoder with the same fields.
class EncoderRoundTrip : public ::testing::TestWithParam<ExportFormat> {};

TEST_P(EncoderRoundTrip, DecoderReadsBackWhatWasEncoded) {
  std::vector<FlowRecord> in;
  for (uint32_t i = 0; i < 500; ++i) {
    FlowRecord r;
    r.start_ms = 1'775'433'600'000 + i * 997;
    r.end_ms = r.start_ms + (i % 7) * 1000 + 3;
    r.src = i % 5 == 4 ? *IpAddr::parse("2001:db8::" + std::to_string(i + 1))
                       : IpAddr::v4(0x0a000001 + i);
    r.dst = i % 5 == 4 ? *IpAddr::parse("2001:db8:1::7") : IpAddr::v4(0xc6336401);
    r.src_port = static_cast<uint16_t>(40000 + i);
    r.dst_port = 443;
    r.proto = 6;
    r.tcp_flags = 0x1b;
    r.bytes = 1000 + i;
    r.packets = 3 + i % 4;
    r.in_if = 2;
    r.out_if = 1;
    r.dst_as = 64600 + i % 3;
    in.push_back(r);
  }
  const ExportFormat f = GetParam();
  ExportEncoder enc({f, 9, 1400, 4});
  ingest::ExportDecoder dec;
  FlowBatch out;
  size_t datagrams = 0;
  auto emit = [&](std::span<const uint8_t> d, int64_t ms) {
    EXPECT_LE(d.size(), f == ExportFormat::kV5 ? 24u + 30 * 48 : 1400u);  // v5: 30 records
    ingest::Datagram dg{d, IpAddr::v4(0x7f000001), 2055, 2055, ms};
    EXPECT_NE(dec.decode(dg, out), ingest::ExportKind::kNone);
    ++datagrams;
  };
  enc.encode(std::span(in).subspan(0, 250), emit);
  enc.encode(std::span(in).subspan(250), emit);
  const bool v5 = f == ExportFormat::kV5;
  ASSERT_EQ(out.size(), v5 ? 400u : 500u);
  EXPECT_EQ(enc.skipped(), v5 ? 100u : 0u);
  EXPECT_EQ(enc.datagrams(), datagrams);
  EXPECT_EQ(dec.stats().seq_lost, 0u);
  size_t k = 0;
  for (const FlowRecord& r : in) {
    if (v5 && !r.src.is_v4()) continue;
    const FlowRecord& got = out.records[k++];
    EXPECT_EQ(got.src, r.src);
    EXPECT_EQ(got.dst, r.dst);
    EXPECT_EQ(got.start_ms, r.start_ms);
    EXPECT_EQ(got.end_ms, r.end_ms);
    EXPECT_EQ(got.bytes, r.bytes);
    EXPECT_EQ(got.packets, r.packets);
    EXPECT_EQ(got.src_port, r.src_port);
    EXPECT_EQ(got.dst_port, r.dst_port);
    EXPECT_EQ(got.proto, r.proto);
    EXPECT_EQ(got.tcp_flags, r.tcp_flags);
    EXPECT_EQ(got.dst_as, r.dst_as);
    EXPECT_EQ(got.in_if, r.in_if);
    EXPECT_EQ(got.obs_domain, 9u);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, EncoderRoundTrip,
                         ::testing::Values(ExportFormat::kV5, ExportFormat::kV9,
                                           ExportFormat::kIpfix),
                         [](const auto& p) { return std::string(export_format_name(p.param)); });

}  // namespace
}  // namespace orbwatch::sim
