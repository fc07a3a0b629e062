// Per-exporter decoder state: templates, samplers, per-domain clocks and sequence trackers,
// and data sets held until their template arrives. Every container is capped: a hostile or
// spoofed exporter can cost at most the limits below, and every eviction is counted.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/ip_addr.h"
#include "ingest/datagram.h"
#include "ingest/decode_stats.h"
#include "ingest/sequence.h"
#include "ingest/template.h"

namespace orbwatch::ingest {

struct IngestLimits {
  size_t max_exporters = 4096;
  size_t max_templates_per_exporter = 1024;
  size_t max_domains_per_exporter = 256;  // observation domains / source ids / engines
  size_t max_samplers_per_exporter = 1024;
  size_t max_pending_sets_per_exporter = 64;
  size_t max_pending_bytes_per_exporter = 256 * 1024;
  size_t max_pending_bytes_total = 32 * 1024 * 1024;
  int64_t pending_ttl_ms = 10 * 60 * 1000;
};

struct DomainState {
  SequenceTracker seq;              // NetFlow v5/v9
  RecordSequenceTracker ipfix_seq;  // IPFIX
  int64_t system_init_ms = -1;      // IPFIX systemInitTimeMilliseconds (IE 160), -1 = unknown
  uint32_t default_rate = 0;        // sampling rate from options without a sampler id
  uint32_t last_rate = 0;           // most recent sampler rate (used when data names no sampler)
};

// A data set that arrived before its template (RFC 7011 8: collectors may buffer it).
struct PendingSet {
  ExportKind kind = ExportKind::kNone;
  uint32_t domain = 0;
  uint16_t template_id = 0;
  int64_t export_ms = 0;
  uint32_t sys_uptime_ms = 0;
  int64_t recv_ms = 0;
  std::vector<uint8_t> bytes;  // set body without its 4-byte header
};

struct ExporterCounters {
  uint64_t datagrams = 0;
  uint64_t records = 0;
  uint64_t errors = 0;
  uint64_t seq_lost = 0;
  int64_t last_seen_ms = 0;
  ExportKind last_kind = ExportKind::kNone;
};

class ExporterState {
 public:
  ExporterState(const IpAddr& addr, const IngestLimits& limits, size_t* pending_total)
      : addr_(addr), limits_(&limits), pending_total_(pending_total) {}
  ~ExporterState();
  ExporterState(const ExporterState&) = delete;
  ExporterState& operator=(const ExporterState&) = delete;

  const IpAddr& addr() const { return addr_; }

  // Templates are keyed by (protocol, domain, id): v9 and IPFIX never share one.
  const Template* find_template(ExportKind kind, uint32_t domain, uint16_t id);
  // Stores t (replacing one with the same key). Evicts the least recently used when full.
  void put_template(ExportKind kind, uint32_t domain, Template t, DecodeStats& stats);
  bool withdraw_template(ExportKind kind, uint32_t domain, uint16_t id);
  size_t withdraw_all(ExportKind kind, uint32_t domain, bool options);
  size_t template_count() const { return templates_.size(); }

  // nullptr when the per-exporter domain cap is reached (counted by the caller).
  DomainState* domain(ExportKind kind, uint32_t id);

  void set_sampler_rate(uint32_t domain, uint64_t sampler_id, uint32_t rate);
  uint32_t sampler_rate(uint32_t domain, uint64_t sampler_id) const;  // 0 = unknown

  // Holds a data set for later; false (and counted) when limits forbid.
  bool hold(PendingSet p, DecodeStats& stats);
  // Removes and returns held sets for (kind, domain, id), oldest first; drops expired ones.
  std::vector<PendingSet> take_pending(ExportKind kind, uint32_t domain, uint16_t id,
                                       int64_t now_ms, DecodeStats& stats);
  size_t pending_bytes() const { return pending_bytes_; }

  ExporterCounters counters;
  uint64_t clock = 0;  // advances per datagram; LRU stamp for templates

 private:
  static uint64_t key(ExportKind kind, uint32_t domain, uint16_t id) {
    return (uint64_t{static_cast<uint8_t>(kind)} << 48) | (uint64_t{domain} << 16) | id;
  }
  void drop_pending_front(DecodeStats& stats);

  IpAddr addr_;
  const IngestLimits* limits_;
  size_t* pending_total_;
  std::unordered_map<uint64_t, Template> templates_;
  std::unordered_map<uint64_t, DomainState> domains_;
  std::unordered_map<uint64_t, uint32_t> samplers_;  // domain << 32 ^ sampler id -> rate
  std::vector<PendingSet> pending_;
  size_t pending_bytes_ = 0;
};

// All exporters, least recently seen evicted first when full (spoofed-source floods).
class ExporterTable {
 public:
  explicit ExporterTable(IngestLimits limits = {}) : limits_(limits) {}

  // Finds or creates the state for `addr`, marking it most recently seen.
  ExporterState& get(const IpAddr& addr, DecodeStats& stats);
  size_t size() const { return map_.size(); }
  const IngestLimits& limits() const { return limits_; }
  size_t pending_bytes() const { return pending_total_; }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : lru_) f(*s);
  }

 private:
  using List = std::list<std::unique_ptr<ExporterState>>;
  IngestLimits limits_;
  size_t pending_total_ = 0;
  List lru_;  // front = most recently seen
  std::unordered_map<IpAddr, List::iterator, IpAddrHash> map_;
  ExporterState* last_ = nullptr;  // consecutive datagrams mostly come from one exporter
};

}  // namespace orbwatch::ingest
