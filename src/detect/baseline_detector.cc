#include "detect/baseline_detector.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/core.h>

#include "core/proto.h"
#include "core/time.h"
#include "detect/capped_map.h"
#include "detect/flow_role.h"
#include "detect/host_role.h"

namespace orbwatch::detect {
namespace {

constexpr int64_t kHour = 3'600'000;

int hour_of_week(int64_t hour_index) {
  // 1970-01-01 was a Thursday: day 0 is Thursday, (days + 3) % 7 == 0 on Mondays.
  const int64_t day = hour_index / 24;
  return static_cast<int>((day + 3) % 7 * 24 + hour_index % 24);
}

std::string bytes_text(double b) {
  if (b >= 1e9) return fmt::format("{:.1f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.1f} kB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

std::string country_text(uint16_t c) {
  return c ? std::string{static_cast<char>(c >> 8), static_cast<char>(c & 0xff)} : "??";
}

}  // namespace

BaselineDetector::BaselineDetector(const BaselineDetectorOptions& options) : o_(options) {}

void BaselineDetector::learn(Bin& b, double x, double weight) {
  if (b.n == 0) {
    b.mean = x;
    b.var = 0;
  } else {
    const double d = x - b.mean;
    b.mean += weight * d;
    b.var = (1 - weight) * (b.var + weight * d * d);
  }
  ++b.n;
}

void BaselineDetector::on_flow(const EnrichedFlow& flow, AlertSink& sink) {
  const FlowRecord& r = flow.rec;
  if (flow.src_internal == flow.dst_internal) return;
  const bool outbound = flow.src_internal;
  const netmodel::Place& place = outbound ? flow.src_place : flow.dst_place;
  if (place.asset < 0) return;
  const IpAddr& addr = outbound ? r.src : r.dst;
  bool added = false;
  Profile* pp = find_or_add(profiles_, addr, o_.max_assets, refused_, added);
  if (pp == nullptr) return;
  Profile& p = *pp;
  if (added) {
    p.addr = addr;
    p.first_ms = r.start_ms;
  }
  if (!p.resolved) {
    const auto& asset = flow.model.model().assets[static_cast<size_t>(place.asset)];
    p.asset = asset.name;
    p.remote_access = asset.kind == netmodel::AssetKind::kVpn;
    p.resolved = true;
  }
  const int64_t hour = r.end_ms / kHour;
  if (p.hour == INT64_MIN) p.hour = hour;
  if (hour > p.hour) close_hours(p, hour, sink);
  if (p.hour < ticked_hour_) late_hour_ = true;  // the next tick must close it
  if (outbound) {
    // Uploads: bytes on sessions the asset opened (a server's answers to its clients are not
    // what leaks). A late record of an hour already judged counts in the open one.
    if (flow.initiator != Initiator::kSrc) return;
    p.out_bytes += r.bytes;
    if (p.top.size() < 64 || p.top.contains(r.dst)) p.top[r.dst] += r.bytes;
    return;
  }
  // Remote access: real sessions that outside hosts opened to a VPN gateway.
  if (!p.remote_access || flow.initiator != Initiator::kSrc || r.bytes < o_.min_session_bytes)
    return;
  const uint16_t country = flow.src_geo.country;
  const uint32_t asn = flow.src_geo.asn;
  const bool learning = r.start_ms < p.first_ms + o_.learning_ms;
  const bool new_country = country != 0 && !p.countries.contains(country);
  const bool new_as = asn != 0 && !p.ases.contains(asn);
  if (new_country && p.countries.size() < o_.max_places) p.countries.insert(country);
  if (new_as && p.ases.size() < o_.max_places) p.ases.insert(asn);
  if (learning || (!new_country && !new_as)) return;
  const bool hosting = flow.src_geo.type == enrich::AsType::kHosting;
  Alert a;
  a.detector = "baseline";
  a.id = make_alert_id("baseline", p.asset + "\nplace\n" + r.src.to_string(), r.start_ms);
  a.severity = new_country && hosting ? Severity::kMedium : Severity::kLow;
  a.ts_ms = r.end_ms;
  a.src = r.src;
  a.dst = r.dst;
  a.dst_port = r.dst_port;
  a.proto = r.proto;
  a.asset = p.asset;
  a.first_seen_ms = r.start_ms;
  a.last_seen_ms = r.end_ms;
  a.count = 1;
  const std::string as_text =
      asn ? fmt::format("AS{} {} ({})", asn, flow.geo ? flow.geo->org(flow.src_geo.org) : "",
                        enrich::as_type_name(flow.src_geo.type))
          : "an unknown AS";
  a.summary = fmt::format(
      "remote access to {} from {}, {}: {} for this asset (expected one of {} countries, {} "
      "ASes seen since {})",
      p.asset, r.src.to_string(), as_text,
      new_country ? "a new country " + country_text(country) : "a new AS in a known country",
      p.countries.size() - (new_country ? 1 : 0), p.ases.size() - (new_as ? 1 : 0),
      rfc3339_ms(p.first_ms));
  a.evidence = {{"kind", new_country ? "new_country" : "new_as"},
                {"country", country_text(country)},
                {"asn", static_cast<int64_t>(asn)},
                {"as_type", enrich::as_type_name(flow.src_geo.type)},
                {"known_countries", static_cast<int64_t>(p.countries.size() - new_country)},
                {"known_ases", static_cast<int64_t>(p.ases.size() - new_as)},
                {"session_bytes", static_cast<int64_t>(r.bytes)}};
  ++alerts_;
  sink.emit(a);
}

void BaselineDetector::judge_hour(Profile& p, AlertSink& sink) {
  ++hours_;
  const auto x = static_cast<double>(p.out_bytes);
  const int how = hour_of_week(p.hour);
  Bin& week = p.week[static_cast<size_t>(how)];
  Bin& day = p.day[static_cast<size_t>(p.hour % 24)];
  const bool learning = p.hour * kHour < p.first_ms + o_.learning_ms;
  // The week's bin once it has history, else the day's.
  const Bin& ref = week.n >= 2 ? week : day;
  bool outlier = false;
  if (!learning && ref.n >= 1) {
    const double sd = std::sqrt(ref.var);
    const double bar =
        std::max({static_cast<double>(o_.min_bytes), ref.mean + o_.k * sd, o_.factor * ref.mean});
    outlier = x > bar;
    if (outlier) {
      IpAddr top;
      uint64_t top_bytes = 0;
      for (const auto& [d, b] : p.top)
        if (b > top_bytes) {
          top = d;
          top_bytes = b;
        }
      Alert a;
      a.detector = "baseline";
      a.id = make_alert_id("baseline", p.asset + "\nvolume", p.hour * kHour);
      a.severity =
          x >= 100 * std::max(ref.mean, 1.0) || x >= 1e9 ? Severity::kHigh : Severity::kMedium;
      a.ts_ms = (p.hour + 1) * kHour;
      a.src = p.addr;
      a.dst = top;
      a.asset = p.asset;
      a.first_seen_ms = p.hour * kHour;
      a.last_seen_ms = (p.hour + 1) * kHour;
      a.count = 1;
      a.summary = fmt::format(
          "{} ({}) sent {} to the internet in the hour from {}, expected {} (deviation {}) for "
          "this hour of the {}; {} of it to {}",
          p.asset, p.addr.to_string(), bytes_text(x), rfc3339_ms(p.hour * kHour),
          bytes_text(ref.mean), bytes_text(sd), &ref == &week ? "week" : "day",
          bytes_text(static_cast<double>(top_bytes)), top.to_string());
      a.evidence = {{"kind", "volume"},
                    {"bytes_out", x},
                    {"expected_bytes", ref.mean},
                    {"deviation_bytes", sd},
                    {"threshold_bytes", bar},
                    {"history_hours", static_cast<int64_t>(ref.n)},
                    {"reference", &ref == &week ? "hour_of_week" : "hour_of_day"},
                    {"top_destination", top.to_string()},
                    {"top_destination_bytes", static_cast<int64_t>(top_bytes)}};
      ++alerts_;
      sink.emit(a);
    }
  }
  if (!outlier) {
    learn(week, x, o_.weight);
    learn(day, x, o_.weight);
  }
  p.out_bytes = 0;
  p.top.clear();
}

void BaselineDetector::close_hours(Profile& p, int64_t until_hour, AlertSink& sink) {
  // The open hour, then the empty hours up to `until_hour` (at most a week of them: a longer
  // silence teaches nothing more).
  judge_hour(p, sink);
  int64_t h = p.hour + 1;
  if (until_hour - h > 168) h = until_hour - 168;
  for (; h < until_hour; ++h) {
    p.hour = h;
    judge_hour(p, sink);
  }
  p.hour = until_hour;
}

void BaselineDetector::on_tick(int64_t watermark_ms, AlertSink& sink) {
  const int64_t hour = watermark_ms / kHour;
  // Ticks come every second of event time: look at every profile only when an hour ended.
  if (hour == ticked_hour_ && !late_hour_) return;
  ticked_hour_ = hour;
  late_hour_ = false;
  for (auto& [a, p] : profiles_)
    if (p.hour != INT64_MIN && p.hour < hour) close_hours(p, hour, sink);
}

void BaselineDetector::flush(AlertSink& sink) {
  // The last hour is judged only when complete: at the end of input it is not.
  (void)sink;
}

DetectorStats BaselineDetector::stats() const {
  DetectorStats s;
  s.alerts = alerts_;
  s.state_entries = profiles_.size();
  size_t places = 0;
  for (const auto& [a, p] : profiles_) places += p.countries.size() + p.ases.size();
  s.state_bytes = profiles_.size() * (sizeof(Profile) + 64 * 48) + places * 24;
  s.evicted = refused_;
  s.counters = {{"hours_judged", hours_}};
  return s;
}

// Text state: one block per asset address.
//   asset ADDR FIRST_MS NAME
//   w I MEAN VAR N   (bins with history only; d for the hour-of-day bins)
//   c CODE... / a ASN...
std::string BaselineDetector::save_state() const {
  std::string s = "orbwatch-baseline 1\n";
  for (const auto& [addr, p] : profiles_) {
    s += fmt::format("asset {} {} {}\n", addr.to_string(), p.first_ms, p.asset);
    for (size_t i = 0; i < p.week.size(); ++i)
      if (p.week[i].n)
        s += fmt::format("w {} {} {} {}\n", i, p.week[i].mean, p.week[i].var, p.week[i].n);
    for (size_t i = 0; i < p.day.size(); ++i)
      if (p.day[i].n)
        s += fmt::format("d {} {} {} {}\n", i, p.day[i].mean, p.day[i].var, p.day[i].n);
    for (uint16_t c : p.countries) s += fmt::format("c {}\n", c);
    for (uint32_t a : p.ases) s += fmt::format("a {}\n", a);
  }
  return s;
}

bool BaselineDetector::load_state(std::string_view text, std::string& error) {
  if (text.empty()) return true;
  std::istringstream in{std::string(text)};
  std::string line;
  if (!std::getline(in, line) || line != "orbwatch-baseline 1") {
    error = "baseline state: not written by this version";
    return false;
  }
  std::unordered_map<IpAddr, Profile, IpAddrHash> loaded;
  Profile* p = nullptr;
  size_t n = 1;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream f(line);
    std::string tag;
    f >> tag;
    bool ok = true;
    if (tag == "asset") {
      std::string addr;
      int64_t first = 0;
      f >> addr >> first;
      std::string name;
      std::getline(f >> std::ws, name);
      auto a = IpAddr::parse(addr);
      ok = a.has_value() && !f.bad();
      if (ok) {
        p = &loaded[*a];
        p->addr = *a;
        p->first_ms = first;
        p->asset = name;
      }
    } else if ((tag == "w" || tag == "d") && p) {
      size_t i = 0;
      Bin b;
      f >> i >> b.mean >> b.var >> b.n;
      ok = !f.fail() && i < (tag == "w" ? 168u : 24u) && b.var >= 0;
      if (ok) (tag == "w" ? p->week[i] : p->day[i]) = b;
    } else if (tag == "c" && p) {
      uint16_t c = 0;
      f >> c;
      ok = !f.fail();
      if (ok && p->countries.size() < o_.max_places) p->countries.insert(c);
    } else if (tag == "a" && p) {
      uint32_t a = 0;
      f >> a;
      ok = !f.fail();
      if (ok && p->ases.size() < o_.max_places) p->ases.insert(a);
    } else {
      ok = false;
    }
    if (!ok) {
      error = fmt::format("baseline state: line {}: unreadable", n);
      return false;
    }
  }
  for (auto& [a, prof] : loaded) {
    if (profiles_.size() >= o_.max_assets) break;
    profiles_[a] = std::move(prof);
  }
  return true;
}

}  // namespace orbwatch::detect
