// The flow JSON line (contract in docs/formats.md): flat snake_case, one object per line.
#pragma once

#include <string>

#include "core/flow_batch.h"

namespace orbwatch {

// Appends record `i` of `batch` as one JSON object followed by '\n'.
void append_flow_json(std::string& out, const FlowBatch& batch, size_t i);

const char* flow_source_name(FlowSource s);
const char* flow_direction_name(FlowDirection d);

}  // namespace orbwatch
