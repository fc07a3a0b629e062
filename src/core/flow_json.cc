#include "core/flow_json.h"

#include <algorithm>

#include "core/json.h"
#include "core/time.h"

namespace orbwatch {

const char* flow_source_name(FlowSource s) {
  switch (s) {
    case FlowSource::kNetflow5: return "netflow5";
    case FlowSource::kNetflow9: return "netflow9";
    case FlowSource::kIpfix: return "ipfix";
    case FlowSource::kSflow: return "sflow";
    case FlowSource::kMeter: return "meter";
    case FlowSource::kUnknown: break;
  }
  return "unknown";
}

const char* flow_direction_name(FlowDirection d) {
  switch (d) {
    case FlowDirection::kIngress: return "ingress";
    case FlowDirection::kEgress: return "egress";
    case FlowDirection::kUnknown: break;
  }
  return "unknown";
}

namespace {

void key(std::string& out, const char* k) {
  out += ",\"";
  out += k;
  out += "\":";
}

void addr(std::string& out, const char* k, const IpAddr& a) {
  key(out, k);
  char buf[IpAddr::kMaxText];
  out.push_back('"');
  out.append(buf, a.format(buf));
  out.push_back('"');
}

template <class Int>
void num(std::string& out, const char* k, Int v) {
  key(out, k);
  json::append_int(out, v);
}

}  // namespace

void append_flow_json(std::string& out, const FlowBatch& batch, size_t i) {
  const FlowRecord& r = batch.records[i];
  char ts[32];
  out += "{\"ts_start\":\"";
  out.append(ts, format_rfc3339_ms(r.start_ms, ts));
  out += "\",\"ts_end\":\"";
  out.append(ts, format_rfc3339_ms(r.end_ms, ts));
  out.push_back('"');
  addr(out, "src_ip", r.src);
  addr(out, "dst_ip", r.dst);
  num(out, "src_port", r.src_port);
  num(out, "dst_port", r.dst_port);
  num(out, "proto", r.proto);
  num(out, "tcp_flags", r.tcp_flags);
  num(out, "bytes", r.bytes);
  num(out, "packets", r.packets);
  addr(out, "exporter", r.exporter);
  num(out, "in_if", r.in_if);
  num(out, "out_if", r.out_if);
  num(out, "src_as", r.src_as);
  num(out, "dst_as", r.dst_as);
  num(out, "sampling_rate", r.sampling_rate);
  num(out, "obs_domain", r.obs_domain);
  key(out, "flow_source");
  json::append_string(out, flow_source_name(r.source));
  key(out, "direction");
  json::append_string(out, flow_direction_name(r.direction));
  num(out, "vlan", r.vlan);
  num(out, "tos", r.tos);
  num(out, "src_mask", r.src_mask);
  num(out, "dst_mask", r.dst_mask);
  if (r.flags & (flow_flags::kBiflowForward | flow_flags::kBiflowReverse)) {
    key(out, "biflow");
    json::append_string(out, r.flags & flow_flags::kBiflowReverse ? "reverse" : "forward");
  }
  if (r.name_ref != 0) {
    key(out, "server_name");
    json::append_string(out, batch.name(r.name_ref));
  }
  bool first = true;
  auto it = std::lower_bound(batch.dns.begin(), batch.dns.end(), i,
                             [](const DnsAnswer& d, size_t idx) { return d.record < idx; });
  for (; it != batch.dns.end() && it->record == i; ++it) {
    const DnsAnswer& d = *it;
    if (first) {
      key(out, "dns_answers");
      out.push_back('[');
      first = false;
    } else {
      out.push_back(',');
    }
    out += "{\"name\":";
    json::append_string(out, batch.name(d.name));
    out += ",\"ip\":\"";
    char buf[IpAddr::kMaxText];
    out.append(buf, d.addr.format(buf));
    out += "\",\"ttl\":";
    json::append_int(out, d.ttl);
    out.push_back('}');
  }
  if (!first) out.push_back(']');
  out += "}\n";
}

}  // namespace orbwatch
