// FlowBatch: records plus the variable-length data they reference. Stages hand whole batches on;
// nothing passes single records through virtual calls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/flow_record.h"

namespace orbwatch {

// A DNS answer seen on a metered flow: `name` resolved to `addr`.
struct DnsAnswer {
  uint32_t record = 0;  // index into FlowBatch::records
  uint32_t name = 0;    // 1-based index into FlowBatch::names
  IpAddr addr;
  uint32_t ttl = 0;
};

struct FlowBatch {
  std::vector<FlowRecord> records;
  std::vector<std::string> names;
  std::vector<DnsAnswer> dns;  // kept sorted by `record`: add a record, then its answers

  size_t size() const { return records.size(); }
  bool empty() const { return records.empty(); }
  void clear() {
    records.clear();
    names.clear();
    dns.clear();
  }
  // Appends a zeroed record. Copying a zero record compiles to vector moves; value-initialising
  // in place became `rep stos`, a quarter of the v9/IPFIX decode time.
  FlowRecord& add() {
    static const FlowRecord kZero{};
    return records.emplace_back(kZero);
  }

  // Interns a string and returns its 1-based reference (for name_ref / DnsAnswer::name).
  uint32_t add_name(std::string_view s) {
    names.emplace_back(s);
    return static_cast<uint32_t>(names.size());
  }
  std::string_view name(uint32_t ref) const {
    return ref == 0 || ref > names.size() ? std::string_view{} : std::string_view(names[ref - 1]);
  }
  // Moves one record (with what it references) from `other` into this batch.
  void append_from(const FlowBatch& other, size_t index);
  // Moves everything from `other` into this batch, rebasing references.
  void append(const FlowBatch& other);
};

}  // namespace orbwatch
