// Reads flow JSON lines (docs/formats.md, what append_flow_json writes) back into records: the
// form flows travel in between orbwatch instances (Kafka, docs/scale.md). A line that is not a
// flow is refused with the field at fault and nothing is added; fields orbwatch does not know
// are ignored, so newer writers stay readable.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/flow_batch.h"

namespace orbwatch::ingest {

class FlowJsonReader {
 public:
  static constexpr size_t kMaxLine = 64 * 1024;
  static constexpr size_t kMaxName = 1024;  // server_name, a DNS answer's name
  static constexpr size_t kMaxDnsAnswers = 64;

  // Appends the flow of `line` to `out`; false with `error` ("src_ip: expected an IP address,
  // got 42") and `out` unchanged when the line is not one.
  bool read(std::string_view line, FlowBatch& out, std::string& error);

 private:
  simdjson::dom::parser parser_;
};

}  // namespace orbwatch::ingest
