// Parallel scans of the flow archive: the engine under `orbwatch query`, `hunt` and
// `analyze DIR`.
//
// Files whose names' time bounds miss the range are passed over unopened; in the rest, blocks
// whose header bounds miss the range, whose address bounds and bloom filter hold none of the
// filter's addresses (Filter::address_hint()) or that the caller's block test rejects are not
// read. Remaining blocks are read, checked and filtered on all cores. A damaged block or file is
// reported by name in the stats and skipped; the rest of the scan goes on.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/flow_batch.h"
#include "store/filter.h"
#include "store/segment_reader.h"

namespace orbwatch::store {

struct ScanSpec {
  // Flows that overlap [from_ms, to_ms].
  int64_t from_ms = std::numeric_limits<int64_t>::min();
  int64_t to_ms = std::numeric_limits<int64_t>::max();
  const Filter* filter = nullptr;  // null: every flow
  // Optional extra block test: false when block `i` of `reader` certainly holds nothing wanted.
  std::function<bool(const SegmentReader& reader, size_t i)> block_may_match;
  // The record fields the consumer reads (segment::column bits); the filter's and the time
  // range's are added. Others stay zero: fewer columns decode faster.
  uint32_t columns = segment::column::kAll;
  unsigned threads = 0;  // 0: one per core
  // Deliver blocks in archive order (time order of the files, then block order) on the calling
  // thread; otherwise on the worker threads as they finish.
  bool ordered = false;
};

struct ScanStats {
  uint64_t files = 0;
  uint64_t files_skipped = 0;  // by the time bounds in their names
  uint64_t blocks = 0;         // in the opened files
  uint64_t blocks_skipped = 0;
  uint64_t records_read = 0;
  uint64_t records_matched = 0;
  uint64_t bytes_read = 0;  // stored bytes of the blocks read
  std::vector<std::string> problems;
};

// Receives one block's matching records (with the names they reference). `worker` is in
// [0, threads) (0 when ordered). Return false to stop the scan.
using ScanConsumer = std::function<bool(unsigned worker, FlowBatch& matched)>;

// The number of workers `spec` asks for.
unsigned scan_threads(const ScanSpec& spec);

ScanStats scan(const std::string& dir, const ScanSpec& spec, const ScanConsumer& consume);

}  // namespace orbwatch::store
