#include "core/flow_json.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/json.h"
#include "core/time.h"

namespace orbwatch {

const char* flow_source_name(FlowSource s) {
  switch (s) {
    case FlowSource::kNetflow5:
      return "netflow5";
    case FlowSource::kNetflow9:
      return "netflow9";
    case FlowSource::kIpfix:
      return "ipfix";
    case FlowSource::kSflow:
      return "sflow";
    case FlowSource::kMeter:
      return "meter";
    case FlowSource::kUnknown:
      break;
  }
  return "unknown";
}

const char* flow_direction_name(FlowDirection d) {
  switch (d) {
    case FlowDirection::kIngress:
      return "ingress";
    case FlowDirection::kEgress:
      return "egress";
    case FlowDirection::kUnknown:
      break;
  }
  return "unknown";
}

namespace {

// The fixed part of a line is written into a stack buffer through a cursor: appending field by
// field to the std::string spent most of its time in memmove/strlen.
struct Cursor {
  char* p;
  template <size_t N>
  void lit(const char (&s)[N]) {
    std::memcpy(p, s, N - 1);
    p += N - 1;
  }
  void num(uint64_t v) { p = std::to_chars(p, p + 20, v).ptr; }
  void time(int64_t ms) { p += format_rfc3339_ms(ms, p); }
  void addr(const IpAddr& a) {
    *p++ = '"';
    p += a.format(p);
    *p++ = '"';
  }
};

}  // namespace

void append_flow_json(std::string& out, const FlowBatch& batch, size_t i) {
  const FlowRecord& r = batch.records[i];
  // Longest case: 4 IPv6 addresses (45 each), 2 times (24), 14 numbers (20) and the keys.
  char buf[1024];
  Cursor c{buf};
  c.lit("{\"ts_start\":\"");
  c.time(r.start_ms);
  c.lit("\",\"ts_end\":\"");
  c.time(r.end_ms);
  c.lit("\",\"src_ip\":");
  c.addr(r.src);
  c.lit(",\"dst_ip\":");
  c.addr(r.dst);
  c.lit(",\"src_port\":");
  c.num(r.src_port);
  c.lit(",\"dst_port\":");
  c.num(r.dst_port);
  c.lit(",\"proto\":");
  c.num(r.proto);
  c.lit(",\"tcp_flags\":");
  c.num(r.tcp_flags);
  c.lit(",\"bytes\":");
  c.num(r.bytes);
  c.lit(",\"packets\":");
  c.num(r.packets);
  c.lit(",\"exporter\":");
  c.addr(r.exporter);
  c.lit(",\"in_if\":");
  c.num(r.in_if);
  c.lit(",\"out_if\":");
  c.num(r.out_if);
  c.lit(",\"src_as\":");
  c.num(r.src_as);
  c.lit(",\"dst_as\":");
  c.num(r.dst_as);
  c.lit(",\"sampling_rate\":");
  c.num(r.sampling_rate);
  c.lit(",\"obs_domain\":");
  c.num(r.obs_domain);
  c.lit(",\"flow_source\":\"");
  const char* src = flow_source_name(r.source);
  size_t n = std::strlen(src);
  std::memcpy(c.p, src, n);
  c.p += n;
  c.lit("\",\"direction\":\"");
  const char* dir = flow_direction_name(r.direction);
  n = std::strlen(dir);
  std::memcpy(c.p, dir, n);
  c.p += n;
  c.lit("\",\"vlan\":");
  c.num(r.vlan);
  c.lit(",\"tos\":");
  c.num(r.tos);
  c.lit(",\"src_mask\":");
  c.num(r.src_mask);
  c.lit(",\"dst_mask\":");
  c.num(r.dst_mask);
  if (r.flags & (flow_flags::kBiflowForward | flow_flags::kBiflowReverse)) {
    if (r.flags & flow_flags::kBiflowReverse) {
      c.lit(",\"biflow\":\"reverse\"");
    } else {
      c.lit(",\"biflow\":\"forward\"");
    }
  }
  out.append(buf, c.p);
  if (r.name_ref != 0) {
    out += ",\"server_name\":";
    json::append_string(out, batch.name(r.name_ref));
  }
  bool first = true;
  auto it = std::lower_bound(batch.dns.begin(), batch.dns.end(), i,
                             [](const DnsAnswer& d, size_t idx) { return d.record < idx; });
  for (; it != batch.dns.end() && it->record == i; ++it) {
    const DnsAnswer& d = *it;
    out += first ? ",\"dns_answers\":[{\"name\":" : ",{\"name\":";
    first = false;
    json::append_string(out, batch.name(d.name));
    char abuf[IpAddr::kMaxText + 40];
    Cursor ac{abuf};
    ac.lit(",\"ip\":");
    ac.addr(d.addr);
    ac.lit(",\"ttl\":");
    ac.num(d.ttl);
    *ac.p++ = '}';
    out.append(abuf, ac.p);
  }
  if (!first) out.push_back(']');
  out += "}\n";
}

}  // namespace orbwatch
