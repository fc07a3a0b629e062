// Fuzzes the flow filter language (tokenizer, parser, bounds) and evaluates what parses against
// a few records: a filter either parses or fails with a column inside the text (or one past it),
// and the batch evaluation (queries) selects exactly the records match() accepts.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

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
  FlowRecord rs[3];
  FlowRecord& r = rs[0];
  r.src = IpAddr::v4(0x0a010203);
  r.dst = *IpAddr::parse("2001:db8::1");
  r.src_port = 50000;
  r.dst_port = 443;
  r.proto = 6;
  r.tcp_flags = 0x1a;
  r.bytes = 1500;
  r.packets = 3;
  r.end_ms = 1000;
  rs[1] = r;
  rs[1].src = r.dst;
  rs[1].tcp_flags = 0;
  rs[2].src = IpAddr::v4(0xc0000201);
  rs[2].dst = rs[2].src;
  rs[2].proto = 17;
  rs[2].dst_port = 53;
  std::vector<uint32_t> sel = {0, 1, 2}, want;
  for (uint32_t i = 0; i < 3; ++i) {
    if (f->match(rs[i])) want.push_back(i);
  }
  f->select(rs, sel);
  if (sel != want) __builtin_trap();
  return 0;
}
