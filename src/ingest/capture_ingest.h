// CaptureIngest: the glue for packet captures. Each packet is parsed once; UDP datagrams sent
// to an export port whose payload sniffs as NetFlow/IPFIX/sFlow go to the export decoder
// callback (the capture holds flow exports), everything else goes to the FlowMeter (the capture
// holds raw traffic). A capture may mix both.
//
// Export datagrams that arrive IP-fragmented are not reassembled: they are counted
// (export_fragments) and metered like other traffic.
//
// Not thread-safe; one instance per capture. Callbacks run on the calling thread; the Datagram
// and the FlowBatch passed to them are valid only during the call.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/flow_batch.h"
#include "ingest/datagram.h"
#include "ingest/flow_meter.h"
#include "ingest/pcap_source.h"

namespace orbwatch::ingest {

struct CaptureOptions {
  FlowMeterConfig meter;
  bool force_meter = false;            // --meter: meter export datagrams too, decode nothing
  std::vector<uint16_t> decode_ports;  // --decode-ports: export ports beside is_export_port()
  size_t batch_size = 4096;            // flows handed on once the batch holds this many
};

enum class CaptureError : uint8_t {
  kTruncatedPacket,  // parse_packet: cut before the L3 header ends
  kMalformedPacket,  // parse_packet: impossible lengths, bad version, ...
  kFileTruncated,    // the file ends mid-record
  kReadError,        // any other libpcap read error
  kCount
};
const char* capture_error_name(CaptureError e);

struct CaptureStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;                 // on-wire frame lengths
  std::array<uint64_t, 5> exports{};  // by ExportKind (index 0, kNone, unused)
  uint64_t export_fragments = 0;
  uint64_t metered = 0;  // IP packets given to the meter
  uint64_t non_ip = 0;
  uint64_t flows = 0;  // flow records handed on by the meter
  std::array<uint64_t, static_cast<size_t>(CaptureError::kCount)> errors{};
  CaptureError last_error = CaptureError::kCount;
  std::string last_error_source;   // file or interface
  uint64_t last_error_packet = 0;  // 1-based packet number in that source
  std::string last_error_detail;   // libpcap's message for read errors
  FlowMeterStats meter;

  uint64_t exports_total() const;
  uint64_t total_errors() const;
  uint64_t error(CaptureError e) const { return errors[static_cast<size_t>(e)]; }
  // "capture.pcap: packet 17: truncated_packet"
  std::string last_error_text() const;
};

class CaptureIngest {
 public:
  using DatagramFn = std::function<void(const Datagram&)>;
  // Receives flows in batches; the batch is cleared after the call.
  using FlowsFn = std::function<void(FlowBatch&)>;

  // Without `on_datagram`, export datagrams are metered like any traffic.
  CaptureIngest(CaptureOptions options, DatagramFn on_datagram, FlowsFn on_flows);

  // Reads `src` to its end. False when it stopped on a read error (counted; the packets before
  // it were processed). Live sources return on kTimeout too, so the caller can check for stop.
  // `tick`, when given, is called every 1024 packets; returning false stops the read early.
  bool run(PacketSource& src, const std::function<bool()>& tick = {});

  // One packet from `source` (a name for error messages).
  void on_packet(const PacketView& pkt, const std::string& source);

  // End of input: expire every flow and hand on the last batch.
  void finish();

  const CaptureStats& stats();
  const FlowMeter& meter() const { return meter_; }

 private:
  bool is_decode_port(uint16_t port) const;
  void fail(CaptureError e, const std::string& source, uint64_t packet);
  void deliver(bool force);

  CaptureOptions options_;
  DatagramFn on_datagram_;
  FlowsFn on_flows_;
  FlowMeter meter_;
  FlowBatch batch_;
  CaptureStats stats_;
  std::string current_source_;
  uint64_t source_packets_ = 0;
  std::array<uint64_t, 1024> port_bits_{};  // decode_ports as a 65536-bit set
};

}  // namespace orbwatch::ingest
