// ExportEncoder: FlowRecords back into NetFlow v5 / v9 or IPFIX export datagrams, as a router
// would send them, for the simulator (and for tests that need a collector's real input).
//
// Times: the exporter's clock is event time. A datagram's header time is the latest end of its
// records, v5/v9 record times are relative to a system uptime that starts an hour before the
// first datagram (and restarts before it would wrap), IPFIX carries absolute milliseconds.
// v9/IPFIX templates (one for IPv4, one for IPv6 records) lead the first datagram and are sent
// again every `template_every` datagrams. v5 cannot carry IPv6: such records are skipped and
// counted. Sequence numbers follow each protocol's rule (v5/IPFIX: records, v9: datagrams).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/flow_record.h"

namespace orbwatch::sim {

enum class ExportFormat : uint8_t { kV5, kV9, kIpfix };

// "v5", "v9", "ipfix" (also "netflow5", "netflow9").
bool parse_export_format(std::string_view text, ExportFormat& out);
const char* export_format_name(ExportFormat f);

struct ExportEncoderOptions {
  ExportFormat format = ExportFormat::kV9;
  uint32_t source_id = 1;        // v9 source id / IPFIX observation domain / v5 engine id
  size_t max_datagram = 1400;    // bytes: fits a 1500-byte MTU (v5: 30 records, 1,464 bytes)
  uint32_t template_every = 64;  // datagrams between template refreshes (v9, IPFIX)
};

class ExportEncoder {
 public:
  using Emit = std::function<void(std::span<const uint8_t> datagram, int64_t export_ms)>;

  explicit ExportEncoder(ExportEncoderOptions options = {});

  // Encodes the records (in the order given) into datagrams handed to `emit`.
  void encode(std::span<const FlowRecord> records, const Emit& emit);

  uint64_t datagrams() const { return datagrams_; }
  uint64_t records() const { return records_; }
  uint64_t skipped() const { return skipped_; }  // IPv6 records a v5 export cannot carry

 private:
  void flush(const Emit& emit);
  void put_record(const FlowRecord& r, bool v6);
  uint32_t uptime(int64_t ms);

  ExportEncoderOptions o_;
  std::vector<uint8_t> buf_;
  size_t count_ = 0;       // records in buf_
  size_t set_at_ = 0;      // where the open data set starts (v9/IPFIX)
  int set_v6_ = -1;        // family of the open data set: -1 none, 0 IPv4, 1 IPv6
  int64_t latest_ms_ = 0;  // the latest record end in buf_
  int64_t boot_ms_ = INT64_MIN;
  uint64_t datagrams_ = 0;
  uint64_t records_ = 0;
  uint64_t skipped_ = 0;
  uint32_t sequence_ = 0;
  uint32_t since_templates_ = 0;
};

}  // namespace orbwatch::sim
