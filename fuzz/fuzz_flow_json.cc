// Fuzzes the flow JSON line reader (flows from other orbwatch instances, e.g. over Kafka): it
// never crashes, refuses with a message and adds nothing, or reads a flow that, written again
// and read again, is the same line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/flow_json.h"
#include "ingest/flow_json_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch;
  static ingest::FlowJsonReader reader;
  FlowBatch out;
  std::string error;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  if (!reader.read(line, out, error)) {
    if (error.empty() || !out.empty() || !out.names.empty() || !out.dns.empty()) __builtin_trap();
    return 0;
  }
  if (out.size() != 1) __builtin_trap();
  std::string written;
  append_flow_json(written, out, 0);
  FlowBatch again;
  if (!reader.read(written, again, error)) __builtin_trap();
  std::string rewritten;
  append_flow_json(rewritten, again, 0);
  if (rewritten != written) __builtin_trap();
  return 0;
}
