// sFlow version 5 decoder (sflow.org, "sFlow Version 5", July 2004; drops extension
// sflow_drops.txt). One datagram in, FlowRecords for its flow samples out; interface counters and
// loss accounting kept in an injected SflowAgentState (no globals).
//
// Threading: an SflowAgentState is used by one decoding thread at a time; decode_sflow() is
// otherwise pure. Errors never throw: they are counted in DecodeStats with the offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/flow_batch.h"
#include "core/ip_addr.h"
#include "ingest/datagram.h"
#include "ingest/decode_stats.h"
#include "ingest/sequence.h"

namespace orbwatch::ingest {

// Generic interface counters (sFlow v5 5.2, counter record enterprise 0 format 1).
struct IfCounters {
  uint32_t if_index = 0, if_type = 0;
  uint64_t if_speed = 0;
  uint32_t direction = 0, status = 0;
  uint64_t in_octets = 0, in_ucast = 0, in_mcast = 0, in_bcast = 0, in_discards = 0, in_errors = 0,
           in_unknown = 0, out_octets = 0, out_ucast = 0, out_mcast = 0, out_bcast = 0,
           out_discards = 0, out_errors = 0;
  uint32_t promisc = 0;
  int64_t updated_ms = 0;  // receive time of the datagram that carried them
};

// Per-collector sFlow state: sequence tracking per agent and per data source, and the latest
// interface counters. Every table is capped; when one is full the least recently used entry is
// evicted and counted, so spoofed agents or ifIndex floods cannot grow memory.
class SflowAgentState {
 public:
  struct Limits {
    size_t max_agents = 16384;   // (agent address, sub-agent) pairs
    size_t max_sources = 65536;  // (agent, sub-agent, data source) flow-sample sources
    size_t max_counters = 4096;  // (agent, ifIndex) interface counter entries
  };

  // What the decoder saw, by kind (cumulative; tests and metrics read deltas).
  struct Counts {
    uint64_t datagrams = 0;
    uint64_t flow_samples = 0;              // format 1
    uint64_t expanded_flow_samples = 0;     // format 3
    uint64_t counter_samples = 0;           // format 2
    uint64_t expanded_counter_samples = 0;  // format 4
    uint64_t discard_samples = 0;           // format 5 (drops extension)
    uint64_t unknown_samples = 0;           // other enterprise/format, skipped by length
    uint64_t unknown_records = 0;           // flow/counter records skipped by length
    uint64_t non_ip_samples = 0;            // flow samples whose packet is not IP (ARP, LLDP, ...)
    uint64_t samples_lost = 0;              // flow samples missing by per-source sequence numbers
    uint64_t sample_seq_resets = 0;
    uint64_t agents_evicted = 0;
    uint64_t sources_evicted = 0;
    uint64_t counters_evicted = 0;
  };

  // The last datagram header that decoded (diagnostics, tests).
  struct DatagramHeader {
    IpAddr agent;  // as sent (zero when the agent did not know its address)
    uint32_t sub_agent = 0, sequence = 0, uptime_ms = 0, num_samples = 0;
  };

  SflowAgentState() : SflowAgentState(Limits{}) {}
  explicit SflowAgentState(const Limits& limits);

  // Latest generic interface counters of `agent`'s ifIndex, or nullptr.
  const IfCounters* counters(const IpAddr& agent, uint32_t if_index) const;
  size_t counters_size() const { return counters_.size(); }
  size_t agents_size() const { return agents_.size(); }
  size_t sources_size() const { return sources_.size(); }
  // Calls f(agent, counters) for every stored entry (order unspecified).
  template <class F>
  void for_each_counters(F&& f) const {
    for (const auto& [k, v] : counters_) f(k.agent, v.value);
  }
  const Counts& counts() const { return counts_; }
  const DatagramHeader& last_header() const { return last_header_; }
  const Limits& limits() const { return limits_; }

 private:
  friend class SflowDecoder;

  struct AgentKey {
    IpAddr agent;
    uint32_t sub_agent = 0;
    friend bool operator==(const AgentKey&, const AgentKey&) = default;
  };
  struct SourceKey {
    IpAddr agent;
    uint32_t sub_agent = 0;
    uint32_t source_type = 0;
    uint32_t source_index = 0;
    friend bool operator==(const SourceKey&, const SourceKey&) = default;
  };
  struct CounterKey {
    IpAddr agent;
    uint32_t if_index = 0;
    friend bool operator==(const CounterKey&, const CounterKey&) = default;
  };
  struct KeyHash {
    size_t operator()(const AgentKey& k) const noexcept {
      return IpAddrHash{}(k.agent) ^ (k.sub_agent * 0x9E3779B97F4A7C15ull);
    }
    size_t operator()(const SourceKey& k) const noexcept {
      uint64_t x = (uint64_t{k.source_type} << 32 | k.source_index) * 0x9E3779B97F4A7C15ull;
      return IpAddrHash{}(k.agent) ^ x ^ (k.sub_agent * 0xC2B2AE3D27D4EB4Full);
    }
    size_t operator()(const CounterKey& k) const noexcept {
      return IpAddrHash{}(k.agent) ^ (k.if_index * 0x9E3779B97F4A7C15ull);
    }
  };

  struct AgentEntry {
    SequenceTracker seq;
  };
  struct SourceEntry {
    SequenceTracker seq;
    uint32_t drops = 0;  // last cumulative drops counter seen
    bool drops_seen = false;
  };

  // A hash map with a size cap and least-recently-used eviction. Lookups of existing keys do
  // not allocate. When full, one pass evicts the oldest 1/16 of the entries, so a flood of new
  // keys costs amortised O(1) per key rather than a full scan each.
  template <class V>
  struct Slot {
    V value{};
    uint64_t tick = 0;
  };
  template <class K, class V>
  using Table = std::unordered_map<K, Slot<V>, KeyHash>;

  // Returns the entry for k, creating it (and evicting if full). `evicted` counts evictions.
  template <class K, class V>
  V& touch(Table<K, V>& t, const K& k, size_t cap, uint64_t& evicted, bool& created);

  Limits limits_;
  uint64_t tick_ = 0;
  Table<AgentKey, AgentEntry> agents_;
  Table<SourceKey, SourceEntry> sources_;
  Table<CounterKey, IfCounters> counters_;
  Counts counts_;
  DatagramHeader last_header_;
  std::vector<uint64_t> scratch_;  // eviction pass workspace, reused
};

// Decodes one sFlow v5 datagram. Appends one FlowRecord per flow sample whose sampled packet is
// IP (sampled header, or sampled IPv4/IPv6 record when no usable header), with bytes and packets
// scaled by the sampling rate. Counter samples update `state`; discard samples are counted.
// stats.seq_lost counts missing datagrams (per agent and sub-agent); missing flow samples are in
// state.counts().samples_lost.
void decode_sflow(const Datagram& dg, SflowAgentState& state, FlowBatch& out, DecodeStats& stats);

}  // namespace orbwatch::ingest
