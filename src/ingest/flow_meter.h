// FlowMeter: turns parsed packets into unidirectional flow records, as a NetFlow exporter does.
//
// Key: (src, dst, src_port, dst_port, proto, in_if, vlan). Counters: packets and bytes, where
// bytes are the IP length from the L3 header (IPv4 total length, IPv6 payload length + 40), not
// the captured or on-wire frame length: that is what NetFlow/IPFIX exporters report
// (octetDeltaCount counts IP octets), so metered and exported flows compare 1:1.
//
// Time is event time: the capture timestamps drive first/last and expiry; the wall clock is
// never read. Expiry, checked at most once per second of capture time (amortised):
//  - inactive: no packet for `inactive_timeout_ms` (default 15 s, Cisco's default);
//  - active: the flow has lasted `active_timeout_ms` (default 1800 s, Cisco's default; softflowd
//    uses 3600 s), a long connection is then reported in pieces;
//  - fin/rst: a TCP packet with FIN or RST ends the flow at once (after counting it), as Cisco
//    does; a later packet of the connection (the last ACK) starts a new short flow. No grace
//    period: simple and deterministic. Off with `tcp_end_expiry = false`;
//  - emergency: the table holds `max_flows` (default 1 M); a new flow then pushes out the least
//    recently seen one;
//  - flush: flush() at the end of the input.
//
// Fragments: a small direct-mapped table remembers (src, dst, proto, frag id) -> ports of first
// fragments, so later fragments count to the same flow; fragments whose first fragment was not
// seen (or was forgotten) count on a flow with ports 0.
//
// Names: a payload that yields a TLS SNI, an HTTP Host or a DNS question sets the flow's
// server_name (first one wins; SNI/Host are looked for in a flow's first 32 packets only);
// DNS responses (port 53) add up to `max_dns_answers` A/AAAA answers.
// Names live in a bounded side pool (`max_named_flows`); past it names are dropped and counted.
//
// Not thread-safe: one meter per capture thread. process() does not allocate except when the
// table grows (amortised) or a name is first attached to a flow.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/flow_batch.h"
#include "ingest/packet.h"

namespace orbwatch::ingest {

struct FlowMeterConfig {
  int64_t active_timeout_ms = 1800 * 1000;
  int64_t inactive_timeout_ms = 15 * 1000;
  bool tcp_end_expiry = true;
  uint32_t max_flows = 1u << 20;
  // Written to FlowRecord::exporter. Default :: (all zero): "this host, no exporter".
  IpAddr exporter{};
  uint32_t in_if = 0;
  uint32_t obs_domain = 0;
  bool extract_names = true;
  uint32_t max_dns_answers = 16;        // per flow
  uint32_t max_named_flows = 1u << 16;  // flows holding names at once
  uint32_t fragment_slots = 4096;       // power of two
  int64_t fragment_timeout_ms = 30 * 1000;
};

enum class ExpiryReason : uint8_t { kInactive, kActive, kTcpEnd, kEmergency, kFlush, kCount };
const char* expiry_reason_name(ExpiryReason r);

struct FlowMeterStats {
  uint64_t packets = 0;  // metered (parsed IP) packets
  uint64_t bytes = 0;    // IP bytes of metered packets
  uint64_t non_ip = 0;
  uint64_t malformed = 0;
  uint64_t truncated = 0;
  uint64_t flows_created = 0;
  std::array<uint64_t, static_cast<size_t>(ExpiryReason::kCount)> expired{};
  uint64_t fragments = 0;
  uint64_t fragments_unmatched = 0;  // non-first fragments counted on a ports-0 flow
  uint64_t names = 0;                // server names attached to flows
  uint64_t dns_answers = 0;
  uint64_t names_dropped = 0;  // name pool full or per-flow answer cap reached
  uint64_t active_flows = 0;   // now in the table

  uint64_t expired_total() const;
  void merge(const FlowMeterStats& o);
};

class FlowMeter {
 public:
  explicit FlowMeter(FlowMeterConfig config = {});
  FlowMeter(const FlowMeter&) = delete;
  FlowMeter& operator=(const FlowMeter&) = delete;

  // One captured packet at capture time `ts_ms` (Unix ms). `status` is what parse_packet
  // returned; packets that are not kOk are only counted. Expired flows are appended to `out`.
  void process(PacketStatus status, const PacketInfo& pkt, int64_t ts_ms, FlowBatch& out);

  // Expires flows whose timeouts passed at event time `now_ms`.
  void advance(int64_t now_ms, FlowBatch& out);
  // Expires every flow (end of input).
  void flush(FlowBatch& out);

  const FlowMeterStats& stats() const { return stats_; }
  const FlowMeterConfig& config() const { return config_; }
  size_t active_flows() const { return active_; }

 private:
  struct Key {
    IpAddr src;
    IpAddr dst;
    uint32_t in_if;
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t vlan;
    uint8_t proto;
    uint8_t zero;  // keeps the struct free of padding so it hashes and compares as bytes
  };
  static_assert(sizeof(Key) == 44);

  static constexpr uint32_t kNil = UINT32_MAX;

  // Intrusive doubly linked lists through flows_ (indices, not pointers: flows_ may grow).
  struct Link {
    uint32_t prev, next;
  };
  struct List {
    uint32_t head = kNil, tail = kNil;
  };

  struct Flow {
    Key key;
    uint32_t hash;
    int64_t first_ms;
    int64_t last_ms;
    uint64_t packets;
    uint64_t bytes;
    Link lru;        // by last packet: head is the least recently seen
    Link age;        // by creation: head is the oldest
    uint32_t extra;  // index into extras_ + 1, 0 = none
    uint8_t tcp_flags;
    uint8_t tos;
    bool live;
  };

  struct PendingAnswer {
    std::string name;
    IpAddr addr;
    uint32_t ttl;
  };
  struct Extra {
    std::string server_name;
    std::vector<PendingAnswer> answers;
    uint32_t answer_count = 0;
  };

  struct FragSlot {
    IpAddr src;
    IpAddr dst;
    uint32_t id;
    uint8_t proto;
    bool used;
    uint16_t src_port;
    uint16_t dst_port;
    int64_t ts_ms;
  };

  static uint32_t hash_key(const Key& k);
  uint32_t find_or_create(const Key& k, uint32_t h, int64_t ts_ms, FlowBatch& out);
  void expire(uint32_t idx, ExpiryReason reason, FlowBatch& out);
  void emit(const Flow& f, FlowBatch& out);
  void grow_index();
  void index_erase(uint32_t idx);
  void unlink(List& list, Link Flow::*link, uint32_t idx);
  void push_back(List& list, Link Flow::*link, uint32_t idx);
  void resolve_fragment(const PacketInfo& pkt, int64_t ts_ms, Key& key);
  void attach_names(uint32_t idx, const PacketInfo& pkt);
  Extra* extra_for(uint32_t idx);

  FlowMeterConfig config_;
  FlowMeterStats stats_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> free_flows_;
  std::vector<uint32_t> index_;  // open addressing, linear probing; flow index or kNil
  uint32_t index_mask_ = 0;
  size_t active_ = 0;
  List lru_;
  List age_;
  std::vector<Extra> extras_;
  std::vector<uint32_t> free_extras_;
  size_t extras_used_ = 0;
  std::vector<FragSlot> frags_;
  int64_t now_ms_ = INT64_MIN;
  int64_t next_tick_ms_ = INT64_MIN;
};

}  // namespace orbwatch::ingest
