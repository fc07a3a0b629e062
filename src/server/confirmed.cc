#include "server/confirmed.h"

#include <map>

#include <simdjson.h>

#include "core/time.h"

namespace orbwatch::server {

namespace {

// "a,b,c" of an evidence list.
template <typename F>
void each_listed(std::string_view list, F&& f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (auto a = IpAddr::parse(list.substr(0, comma))) f(*a);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

std::vector<Confirmed> confirmed_from_alerts(const std::vector<store::StoredAlert>& alerts,
                                             const netmodel::ModelIndex& model) {
  std::map<IpAddr, Confirmed> by_addr;
  simdjson::dom::parser parser;
  for (const auto& stored : alerts) {
    // Closed alerts are the analyst's "not this": their addresses are not shared.
    if (stored.severity < Severity::kMedium || stored.status == "closed") continue;
    simdjson::dom::element doc;
    if (parser.parse(stored.json).get(doc) != simdjson::SUCCESS) continue;
    auto text = [](simdjson::simdjson_result<simdjson::dom::element> v) {
      std::string_view s;
      return v.get(s) == simdjson::SUCCESS ? s : std::string_view{};
    };
    const std::string_view detector = text(doc["detector"]);
    const std::string_view first = text(doc["first_seen"]);
    const std::string_view last = text(doc["last_seen"]);
    if (detector.empty()) continue;
    const int64_t first_ms = parse_rfc3339_ms(first).value_or(stored.ts_ms);
    const int64_t last_ms = parse_rfc3339_ms(last).value_or(stored.ts_ms);
    auto evidence = [&](const char* key) { return text(doc["evidence"][key]); };
    auto add = [&](const IpAddr& a, const char* role) {
      if (a.is_zero() || model.place(a).internal) return;
      Confirmed& c = by_addr[a];
      if (c.sightings == 0) {
        c.addr = a;
        c.role = role;
        c.first_seen_ms = first_ms;
        c.last_seen_ms = last_ms;
      }
      if (std::string_view(role) == "c2") c.role = role;  // the stronger finding names it
      c.detectors.insert(std::string(detector));
      c.first_seen_ms = std::min(c.first_seen_ms, first_ms);
      c.last_seen_ms = std::max(c.last_seen_ms, last_ms);
      ++c.sightings;
      if (const auto feed = text(doc["indicator"]["feed"]); !feed.empty())
        c.feeds.insert(std::string(feed));
    };
    const IpAddr src = IpAddr::parse(text(doc["src_ip"])).value_or(IpAddr{});
    const IpAddr dst = IpAddr::parse(text(doc["dst_ip"])).value_or(IpAddr{});
    if (detector == "intel") {
      int64_t answered = 0;
      if (doc["evidence"]["answered"].get(answered) != simdjson::SUCCESS) answered = 0;
      // Traffic both ways, or a host that sent to it: not a mere knock from a listed scanner.
      std::string_view host_text = evidence("host");
      const IpAddr host = IpAddr::parse(host_text).value_or(IpAddr{});
      const IpAddr other = src == host ? dst : src;
      if (answered != 0 || src == host) add(other, "c2");
    } else if (detector == "spray") {
      each_listed(evidence("source_sample"), [&](const IpAddr& a) { add(a, "covert-node"); });
    } else if (detector == "relay") {
      each_listed(evidence("inbound_list"), [&](const IpAddr& a) { add(a, "covert-node"); });
      each_listed(evidence("outbound_list"), [&](const IpAddr& a) { add(a, "covert-node"); });
    } else if (detector == "allowlist" && stored.severity >= Severity::kHigh) {
      each_listed(evidence("source_list"), [&](const IpAddr& a) { add(a, "covert-node"); });
    }
  }
  std::vector<Confirmed> out;
  out.reserve(by_addr.size());
  for (auto& [a, c] : by_addr) out.push_back(std::move(c));
  return out;
}

bool load_confirmed(store::AlertStore& store, int64_t since_ms, const netmodel::ModelIndex& model,
                    std::vector<Confirmed>& out, std::string& error) {
  store::AlertQuery q;
  q.since_ms = since_ms;
  q.min_severity = Severity::kMedium;
  q.limit = 1'000'000;
  const auto alerts = store.find(q, error);
  if (!error.empty()) return false;
  out = confirmed_from_alerts(alerts, model);
  return true;
}

}  // namespace orbwatch::server
