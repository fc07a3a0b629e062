// Fuzzes the flow archive's segment reader: header, footer, block scanning and resynchronisation,
// checksums, decompression and the column decoder. Every block either decodes to exactly its
// declared record count or fails with a message naming the file and the block.
//
// Every block is also read with only some columns decoded (the last 4 input bytes pick them).
//
// Input byte 0 selects the mode:
//  - even: the rest is a segment file, opened from memory, every block read;
//  - odd: bytes 1-2 are a record count (LE), the rest one block's payload (column directory and
//    columns), wrapped here into a valid file (block header sizes and every checksum made to
//    match, no footer), so mutations reach the directory checks and the column decoder instead
//    of stopping at a checksum.
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
  if (size < 2 + segment::kColumnDirSize || size - 2 > segment::kMaxPayloadBytes) return file;
  const size_t payload_bytes = size - 2;
  file.resize(segment::kFileHeaderSize + segment::kBlockHeaderSize + 8 + payload_bytes);
  segment::FileHeader fh;
  fh.encode(file.data());
  uint8_t* block = file.data() + segment::kFileHeaderSize;
  uint8_t* bloom = block + segment::kBlockHeaderSize;
  uint8_t* payload = bloom + 8;
  std::memset(bloom, 0xff, 8);  // a bloom filter that says "maybe"
  std::memcpy(payload, data + 2, payload_bytes);
  segment::BlockHeader h;
  h.codec = segment::Codec::kNone;
  h.records = segment::load_le16(data);
  h.bloom_bytes = 8;
  h.payload_bytes = static_cast<uint32_t>(payload_bytes);
  // Each column's checksum over the stored bytes the directory places (where they fit), and the
  // raw total the header must declare.
  uint64_t at = segment::kColumnDirSize, raw = 0;
  for (size_t c = 0; c < segment::kColumnCount; ++c) {
    uint8_t* e = payload + 4 + c * segment::kColumnEntrySize;
    const uint32_t stored = segment::load_le32(e + 4);
    raw += segment::load_le32(e + 8);
    if (stored <= payload_bytes - std::min<uint64_t>(at, payload_bytes)) {
      segment::store_le32(e + 12, segment::crc32c(0, payload + at, stored));
    }
    at += stored;
  }
  h.raw_bytes = static_cast<uint32_t>(std::min<uint64_t>(raw, segment::kMaxRawBytes));
  h.data_crc = segment::crc32c(segment::crc32c(0, bloom, 8), payload, segment::kColumnDirSize);
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
