// Decoders for NetFlow v5 (Cisco), NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) messages.
// Each is a pure function of the datagram and the exporter's state: it appends FlowRecords to
// `out`, updates templates/samplers/sequence trackers in `ex`, and counts every problem in
// `stats` without stopping at the first one when the rest is still usable.
#pragma once

#include "core/flow_batch.h"
#include "ingest/datagram.h"
#include "ingest/decode_stats.h"
#include "ingest/exporter_state.h"

namespace orbwatch::ingest {

void decode_netflow5(const Datagram& dg, ExporterState& ex, FlowBatch& out, DecodeStats& stats);
void decode_netflow9(const Datagram& dg, ExporterState& ex, FlowBatch& out, DecodeStats& stats);
void decode_ipfix(const Datagram& dg, ExporterState& ex, FlowBatch& out, DecodeStats& stats);

}  // namespace orbwatch::ingest
