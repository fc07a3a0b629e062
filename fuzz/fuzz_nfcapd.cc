// Fuzzes the nfdump file reader (store/nfcapd_file): both file layouts, the appendix, block
// framing, the LZO/bzip2/LZ4/zstd decompressors, extension maps, 1.6 common records, 1.7 V3
// records with their elements, exporter and sampler records. Every message names the input, the
// batch holds exactly the records the stats count, and reading ends.
//
// Input byte 0 selects the mode:
//  - even: the rest is a file, opened from memory and read to the end;
//  - odd: the rest is the payload of one uncompressed record block, wrapped here into a valid
//    file (bit 1: layout 1, else layout 2) so that mutations reach the record decoders instead
//    of stopping at the headers.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "store/nfcapd_file.h"

namespace {

using orbwatch::FlowBatch;
using orbwatch::store::NfcapdReader;

void put(std::vector<uint8_t>& b, size_t at, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

std::vector<uint8_t> wrap_block(bool layout1, const uint8_t* data, size_t size) {
  const size_t head = layout1 ? 140 + 136 : 40;
  std::vector<uint8_t> f(head + 12 + size, 0);
  put(f, 0, 0xa50c, 2);
  put(f, 2, layout1 ? 1 : 2, 2);
  if (layout1) {
    put(f, 8, 1, 4);  // NumBlocks
  } else {
    put(f, 36, 1, 4);
  }
  // Record count: at most one per 4 bytes, as many as could be there.
  put(f, head, size / 4, 4);
  put(f, head + 4, size, 4);
  put(f, head + 8, layout1 ? 2 : 3, 2);
  if (size > 0) std::memcpy(f.data() + head + 12, data, size);
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<uint8_t> file = (data[0] & 1) != 0
                                  ? wrap_block((data[0] & 2) != 0, data + 1, size - 1)
                                  : std::vector<uint8_t>(data + 1, data + size);
  const size_t file_size = file.size();
  std::string error;
  auto r = NfcapdReader::open_memory("fuzz.nf", std::move(file), error);
  if (!r) {
    if (error.rfind("fuzz.nf: ", 0) != 0) __builtin_trap();
    return 0;
  }
  FlowBatch out;
  size_t blocks = 0;
  while (r->next_block(out)) {
    if (++blocks > file_size / 12) __builtin_trap();  // every block takes a 12-byte header
  }
  if (out.size() != r->stats().records) __builtin_trap();
  if (r->stats().damaged_blocks > r->stats().blocks) __builtin_trap();
  for (const auto& p : r->problems()) {
    if (p.rfind("fuzz.nf: ", 0) != 0) __builtin_trap();
  }
  return 0;
}
