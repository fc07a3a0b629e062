// Fuzzes the flow archive's segment reader: header, footer, block scanning and resynchronisation,
// checksums, decompression and the column decoder. Every block either decodes to exactly its
// declared record count or fails with a message naming the file and the block.
//
// Every block is also read with only some columns decoded (the last 4 input bytes pick them).
//
// Input byte 0 selects the mode:
//  - even: the rest is a segment file, opened from memory, every block read;
//  - odd: bytes 1-2 are a record count (LE), the rest the raw columns of one block, wrapped here
//    into a valid file (uncompressed block, correct checksums, no footer), so mutations reach
//    the column decoder instead of stopping at a checksum.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "store/segment_format.h"
#include "store/segment_reader.h"

namespace {

using namespace orbwatch;
using namespace orbwatch::store;

std::vector<uint8_t> wrap_columns(const uint8_t* data, size_t size) {
  std::vector<uint8_t> file;
  if (size < 2 || size - 2 > segment::kMaxRawBytes) return file;
  file.resize(segment::kFileHeaderSize + segment::kBlockHeaderSize + 8 + (size - 2));
  segment::FileHeader fh;
  fh.encode(file.data());
  segment::BlockHeader h;
  h.codec = segment::Codec::kNone;
  h.records = segment::load_le16(data);
  h.bloom_bytes = 8;
  h.payload_bytes = h.raw_bytes = static_cast<uint32_t>(size - 2);
  uint8_t* block = file.data() + segment::kFileHeaderSize;
  std::memset(block + segment::kBlockHeaderSize, 0xff, 8);  // a bloom filter that says "maybe"
  std::memcpy(block + segment::kBlockHeaderSize + 8, data + 2, size - 2);
  h.data_crc = segment::crc32(0, block + segment::kBlockHeaderSize, 8 + (size - 2));
  h.encode(block);
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<uint8_t> file = (data[0] & 1) != 0 ? wrap_columns(data + 1, size - 1)
                                                 : std::vector<uint8_t>(data + 1, data + size);
  std::string error;
  auto r = SegmentReader::open_memory("fuzz.seg", std::move(file), error);
  if (!r) {
    if (error.rfind("fuzz.seg: ", 0) != 0) __builtin_trap();
    return 0;
  }
  const IpAddr probe = IpAddr::v4(0x0a000001);
  const Prefix net = *Prefix::parse("10.0.0.0/8");
  for (size_t i = 0; i < r->blocks().size(); ++i) {
    (void)r->may_contain(i, probe);
    (void)r->may_contain(i, net);
    (void)r->may_contain_time(i, 0, 1000);
    FlowBatch out;
    if (r->read_block(i, out, error)) {
      if (out.size() != r->blocks()[i].header.records) __builtin_trap();
      for (const auto& rec : out.records) {
        if (rec.name_ref > out.names.size()) __builtin_trap();
      }
    } else if (error.rfind("fuzz.seg: block ", 0) != 0) {
      __builtin_trap();
    }
    // The same block with only some columns decoded (queries): a subset of the input bytes
    // picks them. Whatever decodes has the declared count, and names only when asked for.
    uint32_t columns = 0;
    std::memcpy(&columns, data + (size > 4 ? size - 4 : 0), std::min<size_t>(4, size));
    columns &= segment::column::kAll;
    FlowBatch some;
    BlockScratch scratch;
    if (r->read_block(i, some, scratch, error, columns)) {
      if (some.size() != r->blocks()[i].header.records) __builtin_trap();
      if ((columns & segment::column::kNames) == 0 && !some.names.empty()) __builtin_trap();
    } else if (error.rfind("fuzz.seg: block ", 0) != 0) {
      __builtin_trap();
    }
  }
  return 0;
}
