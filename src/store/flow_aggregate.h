// Group-by and top-N over flows: `orbwatch query --group-by src_ip,dst_port` and
// `--top src_ip --order bytes -n 20` (nfdump's `-s srcip/bytes -n 20`).
//
// Fields ip, port and as count a flow once for its source and once for its destination side,
// as nfdump's `-s ip` does; such a field stands alone in a group-by. Aggregators are per thread
// and merged; the number of groups is capped (memory stays bounded on hostile archives).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/flow_record.h"
#include "core/ip_addr.h"

namespace orbwatch::store {

enum class GroupField : uint8_t {
  kSrcIp,
  kDstIp,
  kIp,  // either side
  kSrcPort,
  kDstPort,
  kPort,  // either side
  kProto,
  kSrcAs,
  kDstAs,
  kAs,  // either side
  kExporter,
  kInIf,
  kOutIf,
  kTos,
};

struct GroupSpec {
  std::vector<GroupField> fields;
  // The record fields an aggregation reads (segment::column bits): times, counters, the keys.
  uint32_t columns() const;
};

// "src_ip,dst_port" (also nfdump's names: srcip, dstport, ...). nullopt with `error` naming the
// unknown field or the bad combination.
std::optional<GroupSpec> parse_group_by(std::string_view text, std::string& error);
std::string_view group_field_name(GroupField f);  // the JSON name: "src_ip", "ip", ...
bool is_address_field(GroupField f);

// Up to two address and four numeric values, in the order of the spec's fields.
struct GroupKey {
  IpAddr ip[2];
  uint32_t n[4] = {0, 0, 0, 0};
  bool operator==(const GroupKey& o) const;
};

// The value of field `i` of `spec` in `key`: an address (is_address_field) or a number.
struct GroupValue {
  IpAddr addr;
  uint32_t number = 0;
};
GroupValue group_value(const GroupSpec& spec, const GroupKey& key, size_t i);

// One group as a JSON object and '\n': its fields by name, flows, packets, bytes, first_seen,
// last_seen (`orbwatch query --format jsonl`, the API's top-N).
struct GroupTotals;
void append_group_json(std::string& out, const GroupSpec& spec, const GroupKey& key,
                       const GroupTotals& totals);

struct GroupKeyHash {
  size_t operator()(const GroupKey& k) const;
};

struct GroupTotals {
  uint64_t flows = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t first_ms = 0;  // least start
  int64_t last_ms = 0;   // greatest end
  void add(const FlowRecord& r);
  void merge(const GroupTotals& o);
};

enum class GroupOrder : uint8_t { kFlows, kPackets, kBytes };
std::optional<GroupOrder> parse_group_order(std::string_view text);

class Aggregator {
 public:
  Aggregator(GroupSpec spec, size_t max_groups);

  void add(const FlowRecord& r);
  void add(const FlowRecord* records, size_t count);  // faster than one at a time
  void merge(const Aggregator& other);

  // True when a new group was refused because max_groups were held: the result is incomplete.
  bool overflowed() const { return overflowed_; }
  size_t groups() const { return size_; }
  // Every flow added (a flow counts once here even for ip/port/as).
  const GroupTotals& total() const { return total_; }
  const GroupSpec& spec() const { return spec_; }

  // The `n` largest groups by `order` (0: all), largest first; ties by key, so the result is
  // the same however the work was split.
  std::vector<std::pair<GroupKey, GroupTotals>> top(GroupOrder order, size_t n) const;

 private:
  // Open addressing with linear probing, at most half full: the hot loop of every top-N. Slots
  // are 8 bytes (a hash tag and an entry number) so that probing stays in cache; the groups
  // themselves are kept densely in entries_.
  struct Slot {
    uint32_t tag = 0;    // high half of the key's hash
    uint32_t entry = 0;  // 1-based index into entries_; 0: free
  };
  struct Entry {
    GroupKey key;
    GroupTotals totals;
    uint64_t hash;
  };
  struct Pending {  // a key of the chunk being added
    GroupKey key;
    uint64_t hash;
    uint32_t record;
  };
  // The group of `k` (hash `h`; unused when dense_), added when new; nullptr when new and
  // max_groups are held.
  GroupTotals* find_or_add(const GroupKey& k, uint64_t h);
  void place(uint64_t h, uint32_t entry);
  GroupKey key_of(const FlowRecord& r) const;  // not for both_sides_

  GroupSpec spec_;
  size_t max_groups_;
  bool both_sides_ = false;  // the spec's one field is ip, port or as
  bool overflowed_ = false;
  GroupTotals total_;
  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
  std::vector<Pending> pending_;
  bool dense_ = false;              // one 16-bit field (ports, protocol, ToS): table_ instead
  std::vector<GroupTotals> table_;  // indexed by the value; flows == 0: no group
  size_t size_ = 0;
};

}  // namespace orbwatch::store
