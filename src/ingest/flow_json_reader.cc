#include "ingest/flow_json_reader.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "core/flow_json.h"
#include "core/time.h"

namespace orbwatch::ingest {

namespace {

namespace dom = simdjson::dom;

// What a value is, for messages: its JSON text, cut short.
std::string shown(dom::element el) {
  std::string s = simdjson::minify(el);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

class Fields {
 public:
  Fields(dom::object obj, std::string& error) : obj_(obj), error_(error) {}

  bool failed() const { return !error_.empty(); }

  // A number field within [0, max]; absent leaves `out` as it is.
  template <typename T>
  void number(const char* key, T& out, uint64_t max) {
    dom::element el;
    if (failed() || obj_.at_key(key).get(el) != simdjson::SUCCESS) return;
    uint64_t v = 0;
    if (el.get_uint64().get(v) != simdjson::SUCCESS || v > max) {
      fail(key, "a whole number from 0 to " + std::to_string(max), el);
      return;
    }
    out = static_cast<T>(v);
  }
  // A string field; absent: nullopt (and `required` fails).
  std::optional<std::string_view> string(const char* key, bool required = false) {
    dom::element el;
    if (failed()) return std::nullopt;
    if (obj_.at_key(key).get(el) != simdjson::SUCCESS) {
      if (required) error_ = std::string(key) + ": missing";
      return std::nullopt;
    }
    std::string_view s;
    if (el.get_string().get(s) != simdjson::SUCCESS) {
      fail(key, "a string", el);
      return std::nullopt;
    }
    return s;
  }
  void time(const char* key, int64_t& out) {
    const auto s = string(key, true);
    if (!s) return;
    const auto ms = parse_rfc3339_ms(*s);
    if (!ms) {
      error_ = std::string(key) + ": expected an RFC 3339 time, got \"" + std::string(*s) + "\"";
      return;
    }
    out = *ms;
  }
  void address(const char* key, IpAddr& out, bool required) {
    const auto s = string(key, required);
    if (!s) return;
    const auto a = IpAddr::parse(*s);
    if (!a) {
      error_ = std::string(key) + ": expected an IP address, got \"" + std::string(*s) + "\"";
      return;
    }
    out = *a;
  }
  template <typename E, size_t N>
  void name_of(const char* key, E& out, const E (&values)[N], const char* (*name)(E)) {
    const auto s = string(key);
    if (!s) return;
    for (E v : values) {
      if (*s == name(v)) {
        out = v;
        return;
      }
    }
    error_ = std::string(key) + ": unknown value \"" + std::string(*s) + "\"";
  }
  void fail(const char* key, const std::string& expected, dom::element el) {
    error_ = std::string(key) + ": expected " + expected + ", got " + shown(el);
  }
  dom::object obj() const { return obj_; }
  std::string& error() { return error_; }

 private:
  dom::object obj_;
  std::string& error_;
};

const char* biflow_name(uint8_t f) {
  return f == flow_flags::kBiflowForward   ? "forward"
         : f == flow_flags::kBiflowReverse ? "reverse"
                                           : "none";
}

}  // namespace

bool FlowJsonReader::read(std::string_view line, FlowBatch& out, std::string& error) {
  error.clear();
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.size() > kMaxLine) {
    error = "line: longer than " + std::to_string(kMaxLine) + " bytes";
    return false;
  }
  dom::element root;
  if (const auto e = parser_.parse(line.data(), line.size(), true).get(root);
      e != simdjson::SUCCESS) {
    error = std::string("line: not JSON (") + simdjson::error_message(e) + ")";
    return false;
  }
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    error = "line: expected a JSON object, got " + shown(root);
    return false;
  }
  Fields f(obj, error);
  FlowRecord r;
  f.time("ts_start", r.start_ms);
  f.time("ts_end", r.end_ms);
  f.address("src_ip", r.src, true);
  f.address("dst_ip", r.dst, true);
  f.address("exporter", r.exporter, false);
  f.number("src_port", r.src_port, UINT16_MAX);
  f.number("dst_port", r.dst_port, UINT16_MAX);
  f.number("proto", r.proto, UINT8_MAX);
  f.number("tcp_flags", r.tcp_flags, UINT8_MAX);
  f.number("bytes", r.bytes, UINT64_MAX);
  f.number("packets", r.packets, UINT64_MAX);
  f.number("in_if", r.in_if, UINT32_MAX);
  f.number("out_if", r.out_if, UINT32_MAX);
  f.number("src_as", r.src_as, UINT32_MAX);
  f.number("dst_as", r.dst_as, UINT32_MAX);
  f.number("sampling_rate", r.sampling_rate, UINT32_MAX);
  f.number("obs_domain", r.obs_domain, UINT32_MAX);
  f.number("vlan", r.vlan, UINT16_MAX);
  f.number("tos", r.tos, UINT8_MAX);
  f.number("src_mask", r.src_mask, 128);
  f.number("dst_mask", r.dst_mask, 128);
  static constexpr FlowSource kSources[] = {FlowSource::kUnknown,  FlowSource::kNetflow5,
                                            FlowSource::kNetflow9, FlowSource::kIpfix,
                                            FlowSource::kSflow,    FlowSource::kMeter};
  f.name_of("flow_source", r.source, kSources, flow_source_name);
  static constexpr FlowDirection kDirections[] = {FlowDirection::kUnknown, FlowDirection::kIngress,
                                                  FlowDirection::kEgress};
  f.name_of("direction", r.direction, kDirections, flow_direction_name);
  static constexpr uint8_t kBiflow[] = {0, flow_flags::kBiflowForward, flow_flags::kBiflowReverse};
  uint8_t biflow = 0;
  f.name_of("biflow", biflow, kBiflow, biflow_name);
  r.flags = biflow;
  const auto server_name = f.string("server_name");
  if (server_name && server_name->size() > kMaxName)
    error = "server_name: longer than " + std::to_string(kMaxName) + " bytes";

  // DNS answers: checked whole before anything is added.
  struct Answer {
    std::string_view name;
    IpAddr addr;
    uint32_t ttl = 0;
  };
  std::vector<Answer> answers;
  dom::element el;
  if (!f.failed() && obj.at_key("dns_answers").get(el) == simdjson::SUCCESS) {
    dom::array list;
    if (el.get_array().get(list) != simdjson::SUCCESS) {
      f.fail("dns_answers", "an array", el);
    } else {
      for (dom::element item : list) {
        if (answers.size() == kMaxDnsAnswers) {
          error = "dns_answers: more than " + std::to_string(kMaxDnsAnswers);
          break;
        }
        dom::object a;
        if (item.get_object().get(a) != simdjson::SUCCESS) {
          f.fail("dns_answers", "objects", item);
          break;
        }
        Fields af(a, error);
        Answer ans;
        const auto name = af.string("name", true);
        af.address("ip", ans.addr, true);
        af.number("ttl", ans.ttl, UINT32_MAX);
        if (af.failed()) {
          error = "dns_answers." + error;
          break;
        }
        if (name->size() > kMaxName) {
          error = "dns_answers.name: longer than " + std::to_string(kMaxName) + " bytes";
          break;
        }
        ans.name = *name;
        answers.push_back(ans);
      }
    }
  }
  if (f.failed()) return false;

  if (server_name && !server_name->empty()) r.name_ref = out.add_name(*server_name);
  const auto index = static_cast<uint32_t>(out.records.size());
  out.records.push_back(r);
  for (const Answer& a : answers) out.dns.push_back({index, out.add_name(a.name), a.addr, a.ttl});
  return true;
}

}  // namespace orbwatch::ingest
