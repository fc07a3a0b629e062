// A strict parser for the part of the STIX 2.1 patterning language (STIX 2.1 section 9) that an
// address/domain indicator can represent: observation expressions `[...]` joined by OR, whose
// comparisons are `=` against a quoted string on ipv4-addr:value, ipv6-addr:value,
// domain-name:value or network-traffic:{src,dst}_ref.value, joined by OR. Everything else that is
// valid STIX (AND, FOLLOWEDBY, qualifiers, NOT, other operators, other object paths) is reported
// as unsupported, and text that is not STIX is a syntax error. Nothing is guessed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace orbwatch::intel {

enum class StixObjectPath : uint8_t {
  kIpv4Value,           // ipv4-addr:value
  kIpv6Value,           // ipv6-addr:value
  kDomainValue,         // domain-name:value
  kTrafficDstRefValue,  // network-traffic:dst_ref.value
  kTrafficSrcRefValue,  // network-traffic:src_ref.value
};

struct StixComparison {
  StixObjectPath path = StixObjectPath::kIpv4Value;
  std::string value;  // the string literal, escapes resolved
};

struct StixPattern {
  enum class Status : uint8_t {
    kOk,           // every comparison is in `comparisons` (or in `skipped`)
    kUnsupported,  // valid STIX that one indicator list cannot represent: `reason` says what
    kSyntax,       // not a STIX pattern: `reason` says where
  };
  Status status = Status::kOk;
  std::string reason;
  std::vector<StixComparison> comparisons;  // the OR-ed comparisons (kOk only)
  // OR-ed comparisons that cannot be represented (e.g. `file:hashes.MD5 = '...'` next to an address
  // comparison): each alternative of an OR is sufficient on its own, so the representable ones are
  // kept and these are reported. One reason per comparison.
  std::vector<std::string> skipped;
};

// Patterns longer than this are rejected as syntax errors (bounded work on hostile input).
inline constexpr size_t kMaxStixPatternBytes = 1 << 20;

StixPattern parse_stix_pattern(std::string_view pattern);

const char* stix_object_path_name(StixObjectPath p);

}  // namespace orbwatch::intel
