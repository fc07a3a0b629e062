// DomainTable: indicator domains matched against names seen on flows (TLS SNI, HTTP Host, DNS).
// A name matches an indicator domain when it is that domain or one of its subdomains
// ("api.k3121.com" matches "k3121.com"). Immutable once built; share it like the prefix table.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace orbwatch::intel {

class DomainTable {
 public:
  class Builder {
   public:
    // `domain` as the feed gave it: matched case-insensitively, a trailing dot ignored.
    void add(std::string_view domain, uint32_t indicator_id);
    std::shared_ptr<const DomainTable> build() const;

   private:
    std::vector<std::pair<std::string, uint32_t>> entries_;
  };

  // Ids of every indicator domain that `name` equals or lies under, deduplicated and sorted.
  // Empty when none. Allocation-free; names longer than 253 characters never match.
  std::span<const uint32_t> lookup(std::string_view name) const;

  size_t domains() const { return index_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Domain -> [begin, end) in ids_: its own ids and those of every parent in the table, so a
  // lookup stops at the first (most specific) suffix it finds.
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, Hash, std::equal_to<>> index_;
  std::vector<uint32_t> ids_;
};

// Lower case without a trailing dot; empty when `name` is not a plausible DNS name (RFC 1035
// lengths: 253 in all, 63 per label; letters, digits, '-', '_').
std::string normalize_domain(std::string_view name);

}  // namespace orbwatch::intel
