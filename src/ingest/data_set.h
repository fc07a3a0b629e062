// Decoding the records of one NetFlow v9 / IPFIX data set with its compiled template: flow
// records become FlowRecords, options records update the exporter's samplers and clocks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/flow_batch.h"
#include "ingest/exporter_state.h"

namespace orbwatch::ingest {

// What the message header says, needed to turn relative times into absolute ones.
struct MessageContext {
  ExportKind kind = ExportKind::kNone;
  uint32_t domain = 0;         // v9 source id / IPFIX observation domain id
  int64_t export_ms = 0;       // header export time (unix secs * 1000)
  uint32_t sys_uptime_ms = 0;  // v9 only: exporter uptime at export
  int64_t recv_ms = 0;
  size_t set_offset = 0;  // byte offset of the set body in the datagram (for errors)
};

// Decodes every record in body[0..len). Trailing bytes shorter than a record are padding
// (RFC 7011 3.3.1). Returns the number of records read from the wire (flow and options
// records; a biflow counts once), which is what IPFIX sequence numbers count.
size_t decode_data_set(const Template& t, const uint8_t* body, size_t len,
                       const MessageContext& ctx, ExporterState& ex, FlowBatch& out,
                       DecodeStats& stats);

}  // namespace orbwatch::ingest
