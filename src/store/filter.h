// The flow filter language: nfdump's syntax, which users of nfdump already know, over
// FlowRecord. Used by `orbwatch query`, hunts and the API.
//
//   expr     := term { ("or" | "||") term }
//   term     := factor { ("and" | "&&") factor }
//   factor   := ("not" | "!") factor | "(" expr ")" | primitive
//   primitive:= [dir] ("ip" | "host") ADDR | [dir] "ip" "in" "[" ADDR|CIDR ... "]"
//             | [dir] "net" CIDR | [dir] "net" ADDR MASK
//             | [dir] "port" [cmp] N | [dir] "port" "in" "[" N ... "]"
//             | [dir] "as" [cmp] N | [dir] "as" "in" "[" N ... "]"
//             | ["in" | "out"] "if" [cmp] N
//             | "proto" (NAME | N) | "flags" LETTERS | ("bytes" | "packets") cmp N[kmg]
//             | "duration" cmp MS | ("router" | "exporter") ["ip"] ADDR
//             | "inet" | "ipv4" | "inet6" | "ipv6" | "any"
//   dir      := "src" | "dst" | "src or dst" | "src and dst"     (none: src or dst)
//   cmp      := "=" | "==" | ">" | "<" | ">=" | "<=" | "eq" | "gt" | "lt" | "ge" | "le"
// Keywords are case-insensitive. "flags SA" is true when every listed flag is set (X: all six),
// and, as in nfdump, "not flags AFRPU" when none of them is (so "flags S and not flags AFRPU" is
// a bare SYN). k, m, g scale by 1000. Lists take spaces or commas.
//
// Errors point at the 1-based column of the mistake. Hostile filters are bounded: at most 64
// levels of nesting, 1,000 primitives and 100,000 list entries.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/flow_record.h"
#include "core/ip_addr.h"

namespace orbwatch::store {

struct FilterError {
  size_t column = 0;  // 1-based; one past the end for "unexpected end"
  std::string message;
  std::string to_string() const;  // "column 12: expected a port number, got 'ssh'"
};

class Filter {
 public:
  // nullopt with `error` set when `text` is not a valid filter. An empty text matches all.
  static std::optional<Filter> parse(std::string_view text, FilterError& error);

  bool match(const FlowRecord& r) const;
  // The same over many records: narrows `sel` (ascending indexes into `records`) to those that
  // match. Faster than match() per record: each primitive runs as one loop.
  void select(const FlowRecord* records, std::vector<uint32_t>& sel) const;
  // True for the empty filter and "any".
  bool matches_all() const;
  // Prefixes (a host address is a /32 or /128) one of which holds the src or dst address of every
  // record the filter matches, so that archive scans skip blocks holding none of them; nullopt
  // when the filter does not bound addresses that way ("not ip X", "ip X or port 53").
  std::optional<std::vector<Prefix>> address_hint() const;
  // The filter as a ClickHouse boolean expression over the flows table (docs/scale.md) that
  // matches the same rows: every literal is a number or an address orbwatch formats itself
  // (addresses as ranges of FixedString(16)), never text of the filter.
  std::string to_sql() const;
  // The record fields the filter reads, as segment::column bits (segment_columns.h).
  uint32_t columns() const;
  // The source text, as given.
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const std::vector<Node>> nodes_;  // nodes_->back() is the root
};

// `column` (src_ip, dst_ip or exporter of the ClickHouse flows table) within one of
// `prefixes`, as SQL: host addresses as one IN set, other prefixes as ranges; "0" when empty.
std::string prefixes_sql(const char* column, const std::vector<Prefix>& prefixes);

}  // namespace orbwatch::store
