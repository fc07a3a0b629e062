// What NetFlow v9 and IPFIX share above the record level: learning templates from a template
// set, and decoding (or holding) a data set. Only the message and set headers differ.
#pragma once

#include <optional>

#include "core/flow_batch.h"
#include "ingest/data_set.h"

namespace orbwatch::ingest {

// Learns every template in a (options) template set body; decodes held data sets that were
// waiting for them.
void learn_templates(ByteReader body, bool options, const MessageContext& ctx, ExporterState& ex,
                     FlowBatch& out, DecodeStats& stats);

// Decodes a data set, or holds it until its template arrives. Returns the records read, or
// std::nullopt when the set was held (its record count is unknown until then).
std::optional<size_t> data_set(uint16_t template_id, std::span<const uint8_t> body,
                               const MessageContext& ctx, ExporterState& ex, FlowBatch& out,
                               DecodeStats& stats);

}  // namespace orbwatch::ingest
