#include "sim/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>

#include "core/json.h"
#include "core/time.h"

namespace orbwatch::sim {
namespace {

constexpr int64_t kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;
constexpr int64_t kSlice = 10 * kMinute;
constexpr int64_t kActiveTimeout = 5 * kMinute;  // long sessions are exported in pieces
constexpr uint8_t kTcp = 6, kUdp = 17;

// Hour of day and day of week (0 = Monday) in the organisation's time (UTC here).
int hour_of(int64_t ms) {
  return static_cast<int>((ms / kHour) % 24);
}
int weekday_of(int64_t ms) {
  return static_cast<int>((ms / kDay + 3) % 7);  // 1970-01-01 was a Thursday
}
// Share of a workstation's peak activity.
double office_activity(int64_t ms) {
  const int h = hour_of(ms);
  if (weekday_of(ms) >= 5) return h >= 9 && h < 20 ? 0.08 : 0.02;
  if (h >= 8 && h < 18) return 1.0;
  if (h == 7 || (h >= 18 && h < 20)) return 0.35;
  return 0.03;
}
// Share of a public service's peak load (clients from everywhere, evenings included).
double public_activity(int64_t ms) {
  const int h = hour_of(ms);
  const double day = h < 6 ? 0.3 : h < 9 ? 0.6 : h < 22 ? 1.0 : 0.6;
  return weekday_of(ms) >= 5 ? 0.8 * day : day;
}

bool internal(const IpAddr& a) {
  return a.is_v4() && (a.v4_value() >> 24) == 10;
}

// The core firewall's interface towards an internal address (one per zone).
uint32_t zone_if(const IpAddr& a) {
  const uint32_t v = a.v4_value();
  return (v >> 16 & 0xff) == 20 ? 10 + (v >> 8 & 0xff) : 100 + (v >> 16 & 0xff);
}

}  // namespace

std::string label_json(const Label& l) {
  std::string s = "{\"scenario\":";
  json::append_string(s, l.scenario);
  s += ",\"id\":";
  json::append_string(s, l.id);
  s += ",\"start\":";
  json::append_string(s, rfc3339_ms(l.start_ms));
  s += ",\"end\":";
  json::append_string(s, rfc3339_ms(l.end_ms));
  auto list = [&](const char* key, const auto& v, auto fmt1) {
    s += fmt::format(",\"{}\":[", key);
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += ',';
      json::append_string(s, fmt1(v[i]));
    }
    s += ']';
  };
  list("internal", l.internal, [](const IpAddr& a) { return a.to_string(); });
  list("external", l.external, [](const IpAddr& a) { return a.to_string(); });
  s += ",\"external_count\":";
  json::append_int(s, l.external_count);
  list("detectors", l.detectors, [](const std::string& d) { return d; });
  s += ",\"description\":";
  json::append_string(s, l.description);
  s += "}";
  return s;
}

// Writes flow records for sessions: the request and the reply, cut at the active timeout.
struct Simulator::Emitter {
  const World& w;
  std::vector<FlowRecord>& out;
  Rng rng;

  enum class Reply : uint8_t { kAnswered, kUnanswered, kRefused };

  void record(int64_t start, int64_t end, const IpAddr& src, uint16_t sport, const IpAddr& dst,
              uint16_t dport, uint8_t proto, uint64_t bytes, uint64_t packets, uint8_t flags) {
    FlowRecord& r = out.emplace_back();
    r.start_ms = start;
    r.end_ms = end;
    r.src = src;
    r.dst = dst;
    r.src_port = sport;
    r.dst_port = dport;
    r.proto = proto;
    r.tcp_flags = proto == kTcp ? flags : 0;
    r.bytes = std::max<uint64_t>(bytes, 28);
    r.packets = std::max<uint64_t>(packets, 1);
    r.direction = FlowDirection::kIngress;
    const bool si = internal(src), di = internal(dst);
    if (si && di) {
      r.exporter = w.core_exporter;
      r.obs_domain = 2;
      r.in_if = zone_if(src);
      r.out_if = zone_if(dst);
    } else {
      r.exporter = w.edge_exporter;
      r.obs_domain = 1;
      r.in_if = si ? 2 : 1;
      r.out_if = si ? 1 : 2;
    }
    if (const As* as = w.as_of(src)) r.src_as = as->asn;
    if (const As* as = w.as_of(dst)) r.dst_as = as->asn;
  }

  uint16_t ephemeral() { return static_cast<uint16_t>(32768 + rng.below(28232)); }

  void session(int64_t start, int64_t dur, const IpAddr& client, const IpAddr& server,
               uint16_t port, uint8_t proto, uint64_t up, uint64_t down,
               Reply reply = Reply::kAnswered, uint16_t cport = 0) {
    if (cport == 0) cport = ephemeral();
    if (reply != Reply::kAnswered) {
      const uint64_t tries = proto == kTcp ? 1 + rng.below(2) : 1;
      record(start, start + static_cast<int64_t>(tries - 1) * 1000, client, cport, server, port,
             proto, proto == kTcp ? 60 * tries : up, tries, 0x02);
      if (reply == Reply::kRefused && proto == kTcp)
        record(start + 1, start + 1, server, port, client, cport, proto, 40, 1, 0x14);
      return;
    }
    dur = std::max<int64_t>(dur, 1);
    const int64_t rtt = 10 + static_cast<int64_t>(rng.below(70));
    const int64_t pieces = (dur + kActiveTimeout - 1) / kActiveTimeout;
    for (int64_t i = 0; i < pieces; ++i) {
      const int64_t a = start + i * kActiveTimeout;
      const int64_t b = std::min(start + dur, a + kActiveTimeout);
      const double share = static_cast<double>(b - a) / static_cast<double>(dur);
      const auto u = static_cast<uint64_t>(static_cast<double>(up) * share);
      const auto d = static_cast<uint64_t>(static_cast<double>(down) * share);
      uint8_t flags = 0x18;  // ACK PSH
      if (i == 0) flags |= 0x02;
      if (i == pieces - 1) flags |= 0x01;
      record(a, b, client, cport, server, port, proto, u, 2 + u / 1000, flags);
      record(std::min(a + rtt, b), b, server, port, client, cport, proto, d, 2 + d / 1300, flags);
    }
  }
};

// One injected scenario: its label and what it needs to keep generating.
struct Simulator::Scenario {
  std::string_view kind;
  Label label;
  uint32_t host = 0;          // the organisation's host at its centre (index into hosts)
  uint32_t other = 0;         // a second one (segmentation target)
  std::vector<IpAddr> peers;  // C2, payload, controller, relay targets, sources
  uint16_t port = 0;          // listener port (relay, backdoor)
  std::vector<std::pair<int64_t, uint32_t>> events;  // (time, peer) planned up front
  size_t next_event = 0;
  int64_t next_beacon = 0, next_fetch = 0;
};

Simulator::Simulator(SimOptions options) : o_(std::move(options)) {
  if (!(o_.days > 0) || o_.days > 400) throw std::invalid_argument("days must be in (0, 400]");
  for (const std::string& s : o_.scenarios) {
    if (std::find(std::begin(kScenarioNames), std::end(kScenarioNames), s) ==
        std::end(kScenarioNames))
      throw std::invalid_argument("unknown scenario '" + s + "'");
  }
  world_ = build_world(o_.world);
  t_ = o_.start_ms;
  end_ = o_.start_ms + static_cast<int64_t>(o_.days * static_cast<double>(kDay));
  Rng rng = Rng::stream(o_.world.seed, 2);
  for (int i = 0; i < 5000; ++i) {
    scanners_.push_back(
        world_.random_external(rng.chance(0.6) ? AsKind::kHosting : AsKind::kResidential, rng));
  }
  plan();
}

Simulator::~Simulator() = default;

void Simulator::plan() {
  const int64_t span = end_ - o_.start_ms;
  const int64_t clean = std::min(static_cast<int64_t>(o_.clean_days * kDay), span / 3);
  const World& w = world_;
  Rng rng = Rng::stream(o_.world.seed, 3);
  std::vector<uint32_t> used;  // hosts already at the centre of a scenario
  auto pick = [&](const std::vector<uint32_t>& from) {
    for (int tries = 0; tries < 1000; ++tries) {
      const uint32_t h = from[rng.below(from.size())];
      if (std::find(used.begin(), used.end(), h) == used.end()) {
        used.push_back(h);
        return h;
      }
    }
    return from[rng.below(from.size())];
  };
  // A start time after the clean period, leaving room for the scenario to show.
  auto start_at = [&](int64_t room) {
    const int64_t latest = std::max(clean, span - room);
    return o_.start_ms + clean +
           static_cast<int64_t>(
               rng.below(static_cast<uint64_t>(std::max<int64_t>(1, latest - clean))));
  };
  auto foreign_vps = [&] { return w.random_external(AsKind::kHosting, rng, 0); };
  uint32_t n = 0;
  for (uint32_t rep = 0; rep < o_.repeat; ++rep) {
    for (const std::string& kind : o_.scenarios) {
      auto s = std::make_unique<Scenario>();
      s->kind = *std::find(std::begin(kScenarioNames), std::end(kScenarioNames), kind);
      Label& l = s->label;
      l.scenario = kind;
      l.id = fmt::format("{}-{}", kind, ++n);
      if (kind == "raptor_train_tier1") {
        s->host = pick(w.cameras);
        s->peers = {foreign_vps(), foreign_vps()};  // C2, payload server
        l.start_ms = start_at(span / 3);
        l.end_ms = end_;
        l.detectors = {"beacon", "egress", "scan"};
        l.description =
            "compromised camera: TLS/443 check-ins to a VPS every ~5 min (jittered), an hourly "
            "payload fetch from a second VPS, outbound telnet/HTTP scanning from a day later";
        s->next_beacon = l.start_ms;
        s->next_fetch = l.start_ms + kMinute;
      } else if (kind == "quad7_spray") {
        s->host = rep % 2 == 0 ? w.vpn_gw : w.mail;
        s->port = rep % 2 == 0 ? 443 : 993;
        l.start_ms = start_at(std::min<int64_t>(3 * kDay, span / 2));
        l.end_ms = std::min(end_, l.start_ms + 3 * kDay);
        const uint32_t sources = 3000;
        for (uint32_t i = 0; i < sources; ++i) {
          s->peers.push_back(w.random_external(AsKind::kResidential, rng, rng.chance(0.2)));
          for (int64_t day = l.start_ms; day < l.end_ms; day += kDay) {
            const uint64_t attempts = rng.chance(0.8) ? 1 : 2;
            for (uint64_t k = 0; k < attempts; ++k) {
              const int64_t t = day + static_cast<int64_t>(rng.below(kDay));
              if (t < l.end_ms) s->events.emplace_back(t, i);
            }
          }
        }
        l.external_count = sources;
        l.detectors = {"spray"};
        l.description = fmt::format(
            "low-and-slow password spraying against {} tcp/{}: {} residential sources, 1-2 "
            "attempts each a day",
            w.hosts[s->host].name, s->port, sources);
      } else if (kind == "kv_relay") {
        s->host = pick(w.branch_routers);
        s->peers = {foreign_vps()};  // the controller, then the relay targets
        for (int i = 0; i < 5; ++i)
          s->peers.push_back(w.random_external(i % 2 ? AsKind::kBusiness : AsKind::kHosting, rng));
        s->port = static_cast<uint16_t>(10000 + rng.below(22000));  // below the ephemeral range
        l.start_ms = start_at(span / 3);
        l.end_ms = end_;
        for (int64_t t = l.start_ms; t < l.end_ms; t += kHour)
          if (rng.chance(0.6))
            s->events.emplace_back(t + static_cast<int64_t>(rng.below(kHour)), 0);
        l.detectors = {"relay", "exposure", "scan"};
        l.description = fmt::format(
            "compromised branch router used as a relay: inbound sessions from a VPS on tcp/{} "
            "paired with outbound sessions of near-equal bytes, outbound scanning from 12 h later",
            s->port);
      } else if (kind == "intel_hit") {
        s->host = pick(w.workstations);
        s->other = w.web;
        s->peers = {foreign_vps(), foreign_vps(), w.random_external(AsKind::kHosting, rng)};
        feed_.insert(feed_.end(), s->peers.begin(), s->peers.end());
        l.start_ms = start_at(2 * kDay);
        l.end_ms = std::min(end_, l.start_ms + 2 * kDay);
        for (int i = 0; i < 6; ++i)
          s->events.emplace_back(l.start_ms + static_cast<int64_t>(rng.below(
                                                  static_cast<uint64_t>(l.end_ms - l.start_ms))),
                                 static_cast<uint32_t>(i % 2));
        for (int i = 0; i < 4; ++i)
          s->events.emplace_back(l.start_ms + static_cast<int64_t>(rng.below(
                                                  static_cast<uint64_t>(l.end_ms - l.start_ms))),
                                 2);
        l.detectors = {"intel"};
        l.description =
            "a workstation reaches two C2 addresses of the simulated feed; a listed scanner "
            "probes the web server";
      } else if (kind == "allowlist_breach") {
        s->host = w.firewall;
        s->peers = {w.random_external(AsKind::kResidential, rng, 1)};
        l.start_ms = start_at(2 * kHour);
        l.end_ms = std::min(end_, l.start_ms + 2 * kHour);
        for (int i = 0; i < 5; ++i)
          s->events.emplace_back(
              l.start_ms + i * 20 * kMinute + static_cast<int64_t>(rng.below(kMinute)), 0);
        l.detectors = {"allowlist"};
        l.description =
            "SSH to the firewall from a residential address in the home country, outside the "
            "admins allow-list";
      } else if (kind == "backdoor_listener") {
        s->host = pick(w.branch_routers);
        s->port = 7777;
        for (int i = 0; i < 10; ++i) s->peers.push_back(foreign_vps());
        l.start_ms = start_at(span / 3);
        l.end_ms = end_;
        for (int64_t t = l.start_ms; t < l.end_ms; t += kHour)
          s->events.emplace_back(t + static_cast<int64_t>(rng.below(kHour)),
                                 static_cast<uint32_t>(rng.below(10)));
        l.detectors = {"exposure"};
        l.description = "a branch router answers a new backdoor listener on tcp/7777 (Quad7)";
      } else if (kind == "exfiltration") {
        s->host = w.nas;
        s->peers = {foreign_vps()};
        const int64_t day = start_at(kDay) / kDay * kDay;
        l.start_ms = day + 2 * kHour;
        l.end_ms = std::min(end_, l.start_ms + 2 * kHour);
        for (int i = 0; i < 8; ++i) s->events.emplace_back(l.start_ms + i * 15 * kMinute, 0);
        l.detectors = {"baseline", "egress"};
        l.description = "the NAS uploads gigabytes to a VPS at night";
      } else {  // segmentation
        s->host = pick(w.cameras);
        s->other = pick(w.workstations);
        l.start_ms = start_at(kHour);
        l.end_ms = std::min(end_, l.start_ms + 30 * kMinute);
        for (int i = 0; i < 20; ++i)
          s->events.emplace_back(l.start_ms + static_cast<int64_t>(rng.below(30 * kMinute)), 0);
        l.detectors = {"segmentation"};
        l.description = "a camera connects to a corporate workstation over SMB (iot -> corp)";
      }
      std::sort(s->events.begin(), s->events.end());
      l.internal = {w.hosts[s->host].addr};
      if (kind == "segmentation" || kind == "intel_hit")
        l.internal.push_back(w.hosts[s->other].addr);
      for (size_t i = 0; i < s->peers.size() && i < 50; ++i) l.external.push_back(s->peers[i]);
      if (l.external_count == 0) l.external_count = s->peers.size();
      labels_.push_back(l);
      scenarios_.push_back(std::move(s));
    }
  }
  // Indicators nobody in this network touches (a feed is mostly noise for any one network):
  // hosting addresses outside every pool the benign traffic draws from (the random clients
  // and scan targets are residential or business).
  std::vector<IpAddr> taken = scanners_;
  for (const auto* pool : {&w.saas, &w.vendor_clouds, &w.dns_forwarders, &w.ntp_servers,
                           &w.update_servers, &w.mail_relays})
    taken.insert(taken.end(), pool->begin(), pool->end());
  for (const auto& sp : scenarios_) taken.insert(taken.end(), sp->peers.begin(), sp->peers.end());
  std::sort(taken.begin(), taken.end());
  for (int added = 0; added < 300;) {
    const IpAddr a = w.random_external(AsKind::kHosting, rng);
    if (std::binary_search(taken.begin(), taken.end(), a)) continue;
    feed_.push_back(a);
    ++added;
  }
}

std::string Simulator::feed_text() const {
  std::string s = fmt::format(
      "# orbwatch simulate --seed {}: covert-network indicators for the simulated world\n",
      o_.world.seed);
  for (const IpAddr& a : feed_) s += a.to_string() + "\n";
  return s;
}

void Simulator::benign(Emitter& e, int64_t t0, int64_t t1) {
  const World& w = world_;
  Rng& rng = e.rng;
  const double hours = static_cast<double>(t1 - t0) / kHour;
  const double office = office_activity(t0 + (t1 - t0) / 2);
  const double pub = public_activity(t0 + (t1 - t0) / 2);
  const auto hosts = static_cast<double>(w.workstations.size());
  auto at = [&] { return t0 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(t1 - t0))); };
  using Reply = Emitter::Reply;

  // Periodic tasks: base times at start + phase + k * period, each moved by its own jitter,
  // so a device keeps its rhythm whatever the slicing.
  auto periodic = [&](uint64_t id, int64_t period, double jitter, auto&& fn) {
    Rng ph = Rng::stream(o_.world.seed, 50, id);
    const int64_t phase = static_cast<int64_t>(ph.below(static_cast<uint64_t>(period)));
    const int64_t base = o_.start_ms + phase;
    int64_t k = t0 > base ? (t0 - base + period - 1) / period : 0;
    for (int64_t t = base + k * period; t < t1; t = base + (++k) * period) {
      Rng j = Rng::stream(o_.world.seed, 51 + id, static_cast<uint64_t>(k));
      // Kept inside the slice, so that flows leave in end-time order.
      const int64_t moved =
          t + static_cast<int64_t>(j.normal(0, jitter * static_cast<double>(period)));
      fn(std::clamp(moved, t0, t1 - 1), j);
    }
  };

  // Workstations: SaaS over HTTPS, SMB to the file servers; admins manage the firewall.
  for (uint32_t ws : w.workstations) {
    for (uint64_t n = rng.poisson(40 * hours * office); n > 0; --n) {
      const IpAddr& dst = w.saas[rng.popular(w.saas.size())];
      e.session(at(), static_cast<int64_t>(rng.exponential(20'000)), w.hosts[ws].addr, dst,
                rng.chance(0.9) ? 443 : 80, kTcp, static_cast<uint64_t>(rng.lognormal(7.5, 1.0)),
                static_cast<uint64_t>(rng.lognormal(10, 1.8)));
    }
    for (uint64_t n = rng.poisson(3 * hours * office); n > 0; --n) {
      const uint32_t srv = w.servers[rng.popular(w.servers.size())];
      e.session(at(), static_cast<int64_t>(rng.exponential(60'000)), w.hosts[ws].addr,
                w.hosts[srv].addr, 445, kTcp, static_cast<uint64_t>(rng.lognormal(9, 1.5)),
                static_cast<uint64_t>(rng.lognormal(12, 1.5)));
    }
  }
  for (uint32_t a : w.admins) {
    for (uint64_t n = rng.poisson(1 * hours * office); n > 0; --n)
      e.session(at(), static_cast<int64_t>(rng.exponential(300'000)), w.hosts[a].addr,
                w.hosts[w.firewall].addr, 22, kTcp, static_cast<uint64_t>(rng.lognormal(10, 1)),
                static_cast<uint64_t>(rng.lognormal(11, 1)));
  }
  // The resolver forwards the network's DNS.
  for (uint64_t n = rng.poisson((15 * hosts * office + 20) * hours); n > 0; --n) {
    e.session(at(), 20 + static_cast<int64_t>(rng.below(60)), w.hosts[w.resolver].addr,
              w.dns_forwarders[rng.below(w.dns_forwarders.size())], 53, kUdp, 60 + rng.below(40),
              100 + rng.below(300));
  }
  // Remote-access users: a VPN session on the days they work from home (or travel).
  const int64_t day0 = t0 / kDay * kDay;
  for (size_t i = 0; i < w.remote_users.size(); ++i) {
    const RemoteUser& u = w.remote_users[i];
    Rng d = Rng::stream(o_.world.seed, 60 + i, static_cast<uint64_t>(day0 / kDay));
    const bool weekend = weekday_of(day0) >= 5;
    if (!d.chance(weekend ? 0.05 : 0.5)) continue;
    const bool travelling = d.chance(0.05);
    const int64_t start =
        day0 + 7 * kHour + 30 * kMinute + static_cast<int64_t>(d.below(150 * kMinute));
    if (start < t0 || start >= t1) continue;
    const int64_t dur = 3 * kHour + static_cast<int64_t>(d.below(5 * kHour));
    e.session(start, dur, travelling ? u.travel : u.home, w.hosts[w.vpn_gw].addr, 443, kTcp,
              static_cast<uint64_t>(d.lognormal(17, 0.8)),
              static_cast<uint64_t>(d.lognormal(19, 0.8)));
  }
  // Mail in and out; the web server's public clients.
  for (uint64_t n = rng.poisson(0.5 * hosts * hours * pub); n > 0; --n) {
    e.session(at(), 1000 + static_cast<int64_t>(rng.below(4000)),
              w.mail_relays[rng.popular(w.mail_relays.size())], w.hosts[w.mail].addr, 25, kTcp,
              static_cast<uint64_t>(rng.lognormal(9.5, 1.5)), 1500 + rng.below(1500));
  }
  for (uint64_t n = rng.poisson(0.3 * hosts * hours * office); n > 0; --n) {
    e.session(at(), 1000 + static_cast<int64_t>(rng.below(4000)), w.hosts[w.mail].addr,
              w.mail_relays[rng.popular(w.mail_relays.size())], 25, kTcp,
              static_cast<uint64_t>(rng.lognormal(9.5, 1.5)), 1500 + rng.below(1500));
  }
  for (uint64_t n = rng.poisson(2 * hosts * hours * pub); n > 0; --n) {
    const IpAddr client =
        w.random_external(rng.chance(0.7) ? AsKind::kResidential : AsKind::kBusiness, rng);
    e.session(at(), static_cast<int64_t>(rng.exponential(8000)), client, w.hosts[w.web].addr,
              rng.chance(0.95) ? 443 : 80, kTcp, 800 + rng.below(1500),
              static_cast<uint64_t>(rng.lognormal(11, 1.5)));
  }
  // IoT: regular vendor-cloud heartbeats and NTP, there from the start (baseline, not beacons).
  for (size_t c = 0; c < w.cameras.size(); ++c) {
    static constexpr int64_t kPeriods[] = {60 * kSecond, 120 * kSecond, 300 * kSecond};
    const IpAddr& cam = w.hosts[w.cameras[c]].addr;
    periodic(c, kPeriods[c % 3], 0.01, [&](int64_t t, Rng& j) {
      e.session(t, 200 + static_cast<int64_t>(j.below(300)), cam, w.vendor_clouds[c % 2], 443, kTcp,
                280 + j.below(30), 240 + j.below(30));
    });
    periodic(1000 + c, kHour, 0.001, [&](int64_t t, Rng& j) {
      e.session(t, 30, cam, w.ntp_servers[c % w.ntp_servers.size()], 123, kUdp, 76,
                76 + j.below(1));
    });
  }
  periodic(2000, 300 * kSecond, 0.01, [&](int64_t t, Rng& j) {
    e.session(t, 500, w.hosts[w.nvr].addr, w.vendor_clouds[2], 443, kTcp, 900 + j.below(100),
              700 + j.below(100));
  });
  periodic(2001, 6 * kHour, 0.03, [&](int64_t t, Rng& j) {
    e.session(t, 2000, w.hosts[w.nas].addr, w.update_servers[0], 443, kTcp, 1200 + j.below(300),
              static_cast<uint64_t>(j.lognormal(10, 0.5)));
  });
  periodic(2002, 15 * kMinute, 0.3, [&](int64_t t, Rng& j) {
    e.session(t, static_cast<int64_t>(j.exponential(20'000)), w.hosts[w.nas].addr, w.saas[5], 443,
              kTcp, static_cast<uint64_t>(j.lognormal(11, 1.5)),
              static_cast<uint64_t>(j.lognormal(9, 1)));
  });
  // Branch SOHO routers: vendor check-ins, NTP, and the IPsec tunnel to headquarters.
  for (size_t b = 0; b < w.branch_routers.size(); ++b) {
    const IpAddr& r = w.hosts[w.branch_routers[b]].addr;
    periodic(3000 + b, 10 * kMinute, 0.02, [&](int64_t t, Rng& j) {
      e.session(t, 300, r, w.vendor_clouds[3], 443, kTcp, 600 + j.below(100), 500 + j.below(100));
    });
    periodic(4000 + b, 1024 * kSecond, 0.001, [&](int64_t t, Rng&) {
      e.session(t, 30, r, w.ntp_servers[b % w.ntp_servers.size()], 123, kUdp, 76, 76);
    });
    periodic(5000 + b, kActiveTimeout, 0, [&](int64_t t, Rng& j) {
      e.session(t, kActiveTimeout - 1, r, w.hosts[w.vpn_gw].addr, 4500, kUdp,
                static_cast<uint64_t>(j.lognormal(15, 0.7) * (0.2 + office)),
                static_cast<uint64_t>(j.lognormal(16, 0.7) * (0.2 + office)), Reply::kAnswered,
                4500);
    });
  }
  // Servers: NTP and update checks.
  for (size_t s = 0; s < w.servers.size(); ++s) {
    const IpAddr& a = w.hosts[w.servers[s]].addr;
    periodic(6000 + s, 1024 * kSecond, 0.001, [&](int64_t t, Rng&) {
      e.session(t, 30, a, w.ntp_servers[s % w.ntp_servers.size()], 123, kUdp, 76, 76);
    });
    periodic(7000 + s, 6 * kHour, 0.05, [&](int64_t t, Rng& j) {
      e.session(t, 3000, a, w.update_servers[s % w.update_servers.size()], 443, kTcp,
                2000 + j.below(500), static_cast<uint64_t>(j.lognormal(13, 1)));
    });
  }
  // Internet background scanning against every edge address: counted, not alarming.
  static constexpr uint16_t kScanPorts[] = {22,   23,   80,   443,  445,  3389, 8080, 8443, 5060,
                                            2323, 7547, 1433, 3306, 5900, 6379, 9200, 25,   993};
  std::vector<uint32_t> edge = {w.vpn_gw, w.mail, w.web, w.firewall};
  edge.insert(edge.end(), w.branch_routers.begin(), w.branch_routers.end());
  for (uint64_t n = rng.poisson(1500 * hours); n > 0; --n) {
    const IpAddr& src = scanners_[rng.popular(scanners_.size())];
    const uint32_t target = edge[rng.below(edge.size())];
    const uint16_t port = kScanPorts[rng.below(std::size(kScanPorts))];
    bool service = false;
    if (target == w.vpn_gw) service = port == 443;
    if (target == w.mail) service = port == 25 || port == 993;
    if (target == w.web) service = port == 80 || port == 443;
    // The firewall's management ports answer only the admins: outsiders are dropped.
    const Reply miss =
        target == w.firewall || !rng.chance(0.3) ? Reply::kUnanswered : Reply::kRefused;
    e.session(at(), 300, src, w.hosts[target].addr, port, kTcp, 400, 600,
              service ? Reply::kAnswered : miss);
  }
}

bool Simulator::next(FlowBatch& out) {
  if (t_ >= end_ && pending_.empty()) return false;
  const int64_t t0 = t_, t1 = std::min(end_, t_ + kSlice);
  if (t0 < end_) {
    Emitter e{world_, pending_, Rng::stream(o_.world.seed, 4, slice_++)};
    benign(e, t0, t1);
    const World& w = world_;
    using Reply = Emitter::Reply;
    for (auto& sp : scenarios_) {
      Scenario& s = *sp;
      const Label& l = s.label;
      if (t1 <= l.start_ms || t0 >= l.end_ms) continue;
      const IpAddr& host = w.hosts[s.host].addr;
      Rng& rng = e.rng;
      auto events = [&](auto&& fn) {
        while (s.next_event < s.events.size() && s.events[s.next_event].first < t1) {
          const auto [t, peer] = s.events[s.next_event++];
          if (t >= t0) fn(t, peer);
        }
      };
      if (s.kind == "raptor_train_tier1") {
        const double j = o_.beacon_jitter;
        for (; s.next_beacon < t1; s.next_beacon += static_cast<int64_t>(
                                       std::max(0.2, rng.normal(1, j)) * 300 * kSecond)) {
          e.session(s.next_beacon, 300 + static_cast<int64_t>(rng.below(700)), host, s.peers[0],
                    443, kTcp, 560 + rng.below(80), 880 + rng.below(120));
        }
        for (; s.next_fetch < t1;
             s.next_fetch += static_cast<int64_t>(std::max(0.5, rng.normal(1, j / 3)) * kHour)) {
          e.session(s.next_fetch, 2000 + static_cast<int64_t>(rng.below(3000)), host, s.peers[1],
                    443, kTcp, 700 + rng.below(200), 40'000 + rng.below(20'000));
        }
        if (t1 > l.start_ms + kDay) {
          for (uint64_t n = rng.poisson(150 * static_cast<double>(t1 - t0) / kHour); n > 0; --n) {
            const IpAddr dst = w.random_external(AsKind::kResidential, rng);
            const uint16_t port = rng.chance(0.7) ? 23 : rng.chance(0.5) ? 80 : 2323;
            e.session(std::max(t0, l.start_ms + kDay) +
                          static_cast<int64_t>(rng.below(static_cast<uint64_t>(kSlice))),
                      100, host, dst, port, kTcp, 60, 0,
                      rng.chance(0.1) ? Reply::kRefused : Reply::kUnanswered);
          }
        }
      } else if (s.kind == "quad7_spray") {
        events([&](int64_t t, uint32_t p) {
          e.session(t, 1000 + static_cast<int64_t>(rng.below(2000)), s.peers[p], host, s.port, kTcp,
                    1500 + rng.below(1500), 4000 + rng.below(2000));
        });
      } else if (s.kind == "kv_relay") {
        events([&](int64_t t, uint32_t) {
          const auto up = static_cast<uint64_t>(rng.lognormal(9, 1));
          const auto down = static_cast<uint64_t>(rng.lognormal(11, 1));
          const auto dur = static_cast<int64_t>(2000 + rng.below(30'000));
          e.session(t, dur, s.peers[0], host, s.port, kTcp, up, down);
          const IpAddr& target = s.peers[1 + rng.below(s.peers.size() - 1)];
          auto near = [&](uint64_t v) {
            return static_cast<uint64_t>(static_cast<double>(v) * rng.normal(1, 0.01));
          };
          e.session(t + 200 + static_cast<int64_t>(rng.below(1300)), dur, host, target, 443, kTcp,
                    near(up), near(down));
        });
        if (t1 > l.start_ms + 12 * kHour) {
          for (uint64_t n = rng.poisson(100 * static_cast<double>(t1 - t0) / kHour); n > 0; --n) {
            e.session(std::max(t0, l.start_ms + 12 * kHour) +
                          static_cast<int64_t>(rng.below(static_cast<uint64_t>(kSlice))),
                      100, host, w.random_external(AsKind::kBusiness, rng),
                      rng.chance(0.5) ? 22 : 443, kTcp, 60, 0,
                      rng.chance(0.2) ? Reply::kRefused : Reply::kUnanswered);
          }
        }
      } else if (s.kind == "intel_hit") {
        events([&](int64_t t, uint32_t p) {
          if (p < 2) {
            e.session(t, 5000 + static_cast<int64_t>(rng.below(20'000)), host, s.peers[p], 443,
                      kTcp, 2000 + rng.below(2000), 8000 + rng.below(8000));
          } else {
            e.session(t, 500, s.peers[p], w.hosts[s.other].addr, 443, kTcp, 500, 4000);
          }
        });
      } else if (s.kind == "allowlist_breach") {
        events([&](int64_t t, uint32_t) {
          e.session(t, 60'000 + static_cast<int64_t>(rng.below(240'000)), s.peers[0], host, 22,
                    kTcp, 5000 + rng.below(5000), 8000 + rng.below(8000));
        });
      } else if (s.kind == "backdoor_listener") {
        events([&](int64_t t, uint32_t p) {
          e.session(t, 10'000 + static_cast<int64_t>(rng.below(50'000)), s.peers[p], host, s.port,
                    kTcp, 1000 + rng.below(3000), 2000 + rng.below(6000));
        });
      } else if (s.kind == "exfiltration") {
        events([&](int64_t t, uint32_t) {
          e.session(t, 14 * kMinute, host, s.peers[0], 443, kTcp,
                    1'000'000'000 + rng.below(2'000'000'000), 2'000'000 + rng.below(1'000'000));
        });
      } else {  // segmentation
        events([&](int64_t t, uint32_t) {
          e.session(t, 2000 + static_cast<int64_t>(rng.below(20'000)), host, w.hosts[s.other].addr,
                    rng.chance(0.8) ? 445 : 139, kTcp, 1000 + rng.below(5000),
                    1000 + rng.below(5000));
        });
      }
    }
    t_ = t1;
  }
  // Hand out what has ended by the slice's end (everything at the end of the span).
  const int64_t cut = t_ >= end_ ? INT64_MAX : t1;
  auto mid = std::partition(pending_.begin(), pending_.end(),
                            [&](const FlowRecord& r) { return r.end_ms < cut; });
  // A total order, so the output does not depend on the sort's handling of ties.
  std::sort(pending_.begin(), mid, [](const FlowRecord& a, const FlowRecord& b) {
    return std::tie(a.end_ms, a.start_ms, a.src, a.dst, a.src_port, a.dst_port, a.bytes) <
           std::tie(b.end_ms, b.start_ms, b.src, b.dst, b.src_port, b.dst_port, b.bytes);
  });
  for (auto it = pending_.begin(); it != mid; ++it) out.records.push_back(*it);
  pending_.erase(pending_.begin(), mid);
  return true;
}

}  // namespace orbwatch::sim
