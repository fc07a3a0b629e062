#include "core/flow_batch.h"

namespace orbwatch {

void FlowBatch::append_from(const FlowBatch& other, size_t index) {
  FlowRecord r = other.records[index];
  if (r.name_ref != 0) r.name_ref = add_name(other.name(r.name_ref));
  auto self = static_cast<uint32_t>(records.size());
  records.push_back(r);
  for (const auto& d : other.dns) {
    if (d.record != index) continue;
    dns.push_back({self, add_name(other.name(d.name)), d.addr, d.ttl});
  }
}

void FlowBatch::append(const FlowBatch& other) {
  auto rec_base = static_cast<uint32_t>(records.size());
  auto name_base = static_cast<uint32_t>(names.size());
  records.insert(records.end(), other.records.begin(), other.records.end());
  if (!other.names.empty()) {
    names.insert(names.end(), other.names.begin(), other.names.end());
    for (size_t i = rec_base; i < records.size(); ++i) {
      if (records[i].name_ref != 0) records[i].name_ref += name_base;
    }
  }
  for (auto d : other.dns) {
    d.record += rec_base;
    d.name += name_base;
    dns.push_back(d);
  }
}

}  // namespace orbwatch
