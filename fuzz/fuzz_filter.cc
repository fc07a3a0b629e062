// Fuzzes the flow filter language (tokenizer, parser, bounds) and evaluates what parses against
// a few records: a filter either parses or fails with a column inside the text (or one past it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  store::FilterError error;
  auto f = store::Filter::parse(text, error);
  if (!f) {
    if (error.message.empty() || error.column == 0 || error.column > size + 1) __builtin_trap();
    return 0;
  }
  FlowRecord r;
  r.src = IpAddr::v4(0x0a010203);
  r.dst = *IpAddr::parse("2001:db8::1");
  r.src_port = 50000;
  r.dst_port = 443;
  r.proto = 6;
  r.tcp_flags = 0x1a;
  r.bytes = 1500;
  r.packets = 3;
  r.end_ms = 1000;
  f->match(r);
  r.src = r.dst;
  r.tcp_flags = 0;
  f->match(r);
  return 0;
}
