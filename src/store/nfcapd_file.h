// NfcapdReader: reads nfdump's binary flow files (nfcapd.YYYYMMDDhhmm, files written by
// `nfdump -w`) into FlowRecord batches, so years of nfdump history can be imported.
//
// Two file layouts exist: layout 1 (nfdump 1.6: file header with ident, a stat record, blocks of
// extension maps and common records) and layout 2 (nfdump 1.7: a smaller header, blocks of V3
// records made of typed elements, ident and stat record in appendix blocks at the end). Blocks
// are stored uncompressed or compressed with LZO1X, bzip2, LZ4 or zstd, as the file header says.
// Both layouts are little-endian (nfdump writes host order; only x86/ARM files are supported).
// The record layouts and what maps to which FlowRecord field are in docs/formats.md.
//
// Errors never throw. open() refuses files without a valid nfdump header; next_block() skips a
// damaged block (bad size, failed decompression, bad records) with a message naming the file,
// the block number and its offset, and stops when a block's stated size cannot be right. Every
// length read from the file is bounded: a hostile file makes the reader allocate at most one
// capped block (kMaxBlockBytes). A reader is not thread-safe; open one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/flow_batch.h"

namespace orbwatch::store {

struct NfcapdStats {
  uint64_t blocks = 0;           // data blocks read, damaged ones included
  uint64_t records = 0;          // flow records decoded into FlowRecords
  uint64_t skipped_records = 0;  // records of types not mapped (NBAR, interface names, histograms,
                                 // 1.5 records) and 1.6 records whose extension map is unknown
  uint64_t damaged_records = 0;  // records with sizes that do not fit their block or elements
  uint64_t damaged_blocks = 0;   // blocks skipped, or cut short, because they were damaged
};

// What the file says about itself.
struct NfcapdInfo {
  int layout = 0;            // 1: nfdump 1.6, 2: nfdump 1.7
  std::string compression;   // "none", "lzo", "bz2", "lz4" or "zstd"
  std::string ident;         // the collector's ident ("none" when not set)
  uint32_t nfd_version = 0;  // layout 2: version of the nfdump that wrote it (0x01070100 = 1.7.1)
  int64_t created_s = 0;     // layout 2: creation time, Unix seconds
  bool anonymized = false;   // layout 1: the file says its addresses were anonymized
  uint32_t declared_blocks = 0;
  // From the stat record (layout 1) or the appendix (layout 2), when the file has one.
  bool has_stat = false;
  uint64_t stat_flows = 0;
  uint64_t stat_packets = 0;
  uint64_t stat_bytes = 0;
  int64_t first_ms = 0;  // first and last flow time, Unix ms; 0 when the file holds no flows
  int64_t last_ms = 0;
};

class NfcapdReader {
 public:
  // Largest block accepted, stored or decompressed. nfdump writes blocks of at most 5 MiB.
  static constexpr uint32_t kMaxBlockBytes = 16u << 20;

  NfcapdReader(NfcapdReader&&) noexcept;
  NfcapdReader& operator=(NfcapdReader&&) noexcept;
  ~NfcapdReader();

  // nullopt with `error` naming the file when it cannot be opened or is not an nfdump file
  // (bad magic, unknown layout, unknown compression, encrypted, big-endian).
  static std::optional<NfcapdReader> open(const std::string& path, std::string& error);
  // The same over bytes in memory (fuzzing, tests); `name` stands for the path in messages.
  static std::optional<NfcapdReader> open_memory(std::string name, std::vector<uint8_t> bytes,
                                                 std::string& error);

  // Appends the flow records of the next data block to `out` (a block of exporter records only
  // appends none); false at the end of the data. Damaged blocks are skipped and reported in
  // problems(); reading goes on with the next block while the damaged block's header still
  // gives a size that fits the file, else stops.
  bool next_block(FlowBatch& out);

  const std::string& name() const;
  const NfcapdInfo& info() const;
  const NfcapdStats& stats() const;
  // One message per problem ("PATH: block 3 at offset 4096: lzo decompression failed"), capped
  // at 1000 messages; stats() keeps counting after that.
  const std::vector<std::string>& problems() const;

 private:
  struct State;
  explicit NfcapdReader(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace orbwatch::store
