#include "cli/flow_summary.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>

#include "core/flow_json.h"
#include "core/proto.h"
#include "core/time.h"

namespace orbwatch::cli {

namespace {

std::string human(uint64_t v) {
  static constexpr const char* kUnits[] = {"", "K", "M", "G", "T", "P"};
  double d = static_cast<double>(v);
  size_t u = 0;
  while (d >= 1000 && u + 1 < std::size(kUnits)) {
    d /= 1000;
    ++u;
  }
  return u == 0 ? std::to_string(v) : fmt::format("{:.1f}{}", d, kUnits[u]);
}

template <class Map>
auto top_by_bytes(const Map& m, size_t n) {
  std::vector<typename Map::const_iterator> v;
  for (auto it = m.begin(); it != m.end(); ++it) v.push_back(it);
  size_t k = std::min(n, v.size());
  std::partial_sort(v.begin(), v.begin() + static_cast<long>(k), v.end(), [](auto a, auto b) {
    return a->second.bytes != b->second.bytes ? a->second.bytes > b->second.bytes
                                              : a->first < b->first;
  });
  v.resize(k);
  return v;
}

}  // namespace

void FlowSummary::add(const FlowBatch& batch) {
  for (const FlowRecord& r : batch.records) {
    ++records_;
    bytes_ += r.bytes;
    packets_ += r.packets;
    named_ += r.name_ref != 0;
    first_ms_ = std::min(first_ms_, r.start_ms);
    last_ms_ = std::max(last_ms_, r.end_ms);
    ++by_source_[r.source];
    auto bump = [&](Totals& t) {
      ++t.flows;
      t.bytes += r.bytes;
      t.packets += r.packets;
    };
    if (r.source != FlowSource::kMeter) bump(exporters_[r.exporter]);
    bump(protos_[r.proto]);
    auto it = talkers_.find(r.src);
    if (it != talkers_.end()) {
      bump(it->second);
    } else if (talkers_.size() < kMaxKeys) {
      bump(talkers_[r.src]);
    } else {
      bump(other_talkers_);
    }
    bump(dst_ports_[(uint32_t{r.proto} << 16) | r.dst_port]);
  }
}

void FlowSummary::print(FILE* out, size_t top_n) const {
  fmt::print(out, "flows     {} records, {} packets, {} bytes\n", human(records_), human(packets_),
             human(bytes_));
  if (records_ == 0) return;
  fmt::print(out, "time      {} .. {} ({:.1f} s)\n", rfc3339_ms(first_ms_), rfc3339_ms(last_ms_),
             static_cast<double>(last_ms_ - first_ms_) / 1000.0);
  std::string sources;
  for (const auto& [s, n] : by_source_) {
    sources += fmt::format("{}{} {}", sources.empty() ? "" : ", ", flow_source_name(s), n);
  }
  fmt::print(out, "sources   {}\n", sources);
  if (!exporters_.empty()) {
    fmt::print(out, "exporters {}\n", exporters_.size());
    for (auto it : top_by_bytes(exporters_, top_n)) {
      fmt::print(out, "  {:<40} {:>8} flows {:>8} bytes\n", it->first.to_string(),
                 human(it->second.flows), human(it->second.bytes));
    }
  }
  std::string protos;
  for (const auto& [p, t] : protos_) {
    protos += fmt::format("{}{} {}", protos.empty() ? "" : ", ", proto_text(p), human(t.flows));
  }
  fmt::print(out, "protocols {}\n", protos);
  fmt::print(out, "top sources by bytes\n");
  for (auto it : top_by_bytes(talkers_, top_n)) {
    fmt::print(out, "  {:<40} {:>8} flows {:>8} bytes\n", it->first.to_string(),
               human(it->second.flows), human(it->second.bytes));
  }
  if (other_talkers_.flows != 0) {
    fmt::print(out, "  {:<40} {:>8} flows {:>8} bytes\n", "(other sources)",
               human(other_talkers_.flows), human(other_talkers_.bytes));
  }
  fmt::print(out, "top destination ports by bytes\n");
  for (auto it : top_by_bytes(dst_ports_, top_n)) {
    uint8_t p = static_cast<uint8_t>(it->first >> 16);
    fmt::print(out, "  {:<40} {:>8} flows {:>8} bytes\n",
               fmt::format("{}/{}", proto_text(p), it->first & 0xffff), human(it->second.flows),
               human(it->second.bytes));
  }
  if (named_ != 0) fmt::print(out, "named     {} flows carry a server name\n", human(named_));
}

}  // namespace orbwatch::cli
