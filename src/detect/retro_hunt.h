// Retro-hunt: which hosts touched which indicators in flows already archived, aggregated per
// (host, feed, indicator, direction) over the whole hunted range (`orbwatch hunt`).
//
// Matching follows the intel detector (docs/detection.md): both addresses of every flow are
// looked up in the IntelSet's prefix table (batched), the server name in its domain table; per
// side, the most specific indicator of each feed speaks for the feed; a name hit on a side the
// same feed already matched by address is not counted twice. The host is the end that is not the
// indicator. When both ends match and the network model calls exactly one of them internal, the
// internal one is the host only; otherwise each matching end is an indicator for the other.
// Direction and answer come from flow_role.h: outbound (the host initiated), inbound (the
// indicator initiated), unknown. A DNS query for an indicator domain is the host's (outbound,
// never "answered": the resolver answering says nothing about the indicator). DNS answers are
// not archived (segment format v1), so the detector's DNS-derived indicators cannot be hunted.
//
// Of each record it reads only start_ms, end_ms, src, dst, bytes, packets, the ports, proto,
// tcp_flags, flags and name_ref, so an archive scan need not decode the other columns.
//
// Threading: one RetroHunt per scan worker (add() is not thread-safe); merge() them at the end.
// The IntelSet and the model are immutable and shared.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/alert.h"
#include "core/flow_batch.h"
#include "intel/intel_set.h"
#include "intel/prefix_table.h"
#include "netmodel/model_index.h"

namespace orbwatch::detect {

enum class HuntDirection : uint8_t { kOutbound, kInbound, kUnknown };
const char* hunt_direction_name(HuntDirection d);

// How a row's flows matched (bits of HuntRow::matches).
namespace hunt_match {
inline constexpr uint8_t kAddress = 1;
inline constexpr uint8_t kServerName = 2;  // TLS SNI or HTTP Host
inline constexpr uint8_t kDnsQuery = 4;
}  // namespace hunt_match
// "address", "server_name" (also when lookups were seen besides) or "dns_query".
const char* hunt_match_name(uint8_t matches);

struct HuntRow {
  IpAddr host;  // the end that is not the indicator
  bool host_internal = false;
  uint32_t indicator = 0;  // id in the hunt's IntelSet
  HuntDirection direction = HuntDirection::kUnknown;
  uint8_t matches = 0;    // hunt_match bits
  bool answered = false;  // the responder answered in at least one flow
  // The earliest flow: the indicator's end, the responder's port (the record's destination port
  // when the direction is unknown), the protocol, and which end the host was.
  IpAddr peer;
  uint16_t port = 0;
  uint8_t proto = 0;
  bool host_was_src = true;
  std::string server_name;             // of the earliest flow that carried one
  int64_t server_name_ms = INT64_MAX;  // that flow's start
  std::vector<IpAddr> peers;  // distinct indicator-side addresses, at most kMaxPeers, sorted
  int64_t first_ms = 0;
  int64_t last_ms = 0;
  uint64_t flows = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t packets_out = 0;  // host -> indicator
  uint64_t bytes_out = 0;
  uint64_t packets_in = 0;
  uint64_t bytes_in = 0;

  static constexpr size_t kMaxPeers = 256;
};

struct HuntOptions {
  bool match_domains = true;    // false: addresses only (domain indicators are not hunted)
  size_t max_rows = 1'000'000;  // keys beyond this are not kept; their flows are counted
};

enum class HuntOrder : uint8_t { kFirstSeen, kBytes, kFlows };

class RetroHunt {
 public:
  RetroHunt(std::shared_ptr<const intel::IntelSet> intel,
            std::shared_ptr<const netmodel::ModelIndex> model, HuntOptions options = {});

  // Matches every record of `batch` (its names are those the records' name_ref point to).
  void add(const FlowBatch& batch);
  // Folds another worker's rows into this one (both over the same IntelSet).
  void merge(const RetroHunt& other);

  // Rows ordered by `order` (descending for bytes and flows), ties by first seen, host, feed,
  // indicator, direction: the same archive gives the same rows in the same order.
  std::vector<HuntRow> rows(HuntOrder order = HuntOrder::kFirstSeen) const;
  size_t row_count() const { return rows_.size(); }
  uint64_t flows_matched() const { return flows_matched_; }    // flows with at least one hit
  uint64_t flows_not_kept() const { return flows_not_kept_; }  // hits beyond max_rows
  const intel::IntelSet& intel() const { return *intel_; }

 private:
  struct Key {
    IpAddr host;
    uint32_t indicator;
    HuntDirection direction;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };
  struct Hit {
    uint32_t id;
    uint8_t match;
    bool indicator_is_src;
  };

  void match_record(const FlowBatch& b, const FlowRecord& r, std::span<const uint32_t> src_ids,
                    std::span<const uint32_t> dst_ids, std::span<const uint32_t> name_ids);
  void apply(const FlowBatch& b, const FlowRecord& r, const Hit& hit);
  HuntRow* row_for(const Key& key);

  std::shared_ptr<const intel::IntelSet> intel_;
  std::shared_ptr<const netmodel::ModelIndex> model_;
  HuntOptions o_;
  std::unordered_map<Key, HuntRow, KeyHash> rows_;
  uint64_t flows_matched_ = 0;
  uint64_t flows_not_kept_ = 0;
  // Scratch, reused across batches.
  std::vector<IpAddr> addrs_;
  std::vector<intel::PrefixTable::SetIndex> sets_;
  std::vector<std::span<const uint32_t>> name_ids_;
  std::vector<Hit> hits_;
};

// The indicator as the feed gave it: an address, a CIDR or a domain.
std::string indicator_text(const intel::Indicator& ind);

// The retro intel alert of a row: detector "intel", `retro` set, severity from the feed's and
// the direction as the intel detector judges it, evidence with the row's numbers. Its id hashes
// (feed, indicator, host, direction) without first_seen, so hunting again (a wider range, new
// flows) updates the same alert instead of adding one.
Alert make_hunt_alert(const HuntRow& row, const intel::IntelSet& intel);

}  // namespace orbwatch::detect
