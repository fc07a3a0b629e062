// ExportDecoder: one datagram in, FlowRecords out. Detects the protocol per datagram (NetFlow
// v5/v9, IPFIX, sFlow v5), finds the exporter's state and calls the matching decoder.
// Single-threaded: give each receive thread its own decoder (exporters hash to one socket
// with SO_REUSEPORT, so template state is never shared across threads).
#pragma once

#include <array>

#include "core/flow_batch.h"
#include "ingest/datagram.h"
#include "ingest/decode_stats.h"
#include "ingest/exporter_state.h"
#include "ingest/sflow.h"

namespace orbwatch::ingest {

class ExportDecoder {
 public:
  explicit ExportDecoder(IngestLimits limits = {}) : exporters_(limits) {}

  // Decodes one datagram, appending its flows to `out`. Returns what it was (kNone when it is
  // not a flow export; counted as kBadVersion).
  ExportKind decode(const Datagram& dg, FlowBatch& out);

  const DecodeStats& stats() const { return stats_; }
  const ExporterTable& exporters() const { return exporters_; }
  const SflowAgentState& sflow() const { return sflow_; }
  // Datagrams per protocol, indexed by ExportKind.
  const std::array<uint64_t, 5>& datagrams_by_kind() const { return by_kind_; }

 private:
  ExporterTable exporters_;
  SflowAgentState sflow_;  // sFlow state is keyed by agent address, inside the datagram
  DecodeStats stats_;
  std::array<uint64_t, 5> by_kind_{};
};

}  // namespace orbwatch::ingest
