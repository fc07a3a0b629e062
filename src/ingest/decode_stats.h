// Counted decode errors. Every way input can be bad has a reason; a decoder never throws and
// never stops at the first problem when the rest of the datagram is still usable.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/ip_addr.h"

namespace orbwatch::ingest {

enum class DecodeError : uint8_t {
  kTruncated,        // shorter than a header or a length field claims
  kBadVersion,       // unknown export version / not a flow export
  kBadLength,        // header length or count inconsistent with the datagram
  kBadSetLength,     // (flow)set length < 4 or past the end
  kBadTemplate,      // zero fields, too many fields, bad field length, record too long
  kTemplateEvicted,  // per-exporter template cap reached: the least recently used was dropped
  kNoTemplate,       // data set whose template is unknown (held for later, see kPendingDropped)
  kPendingDropped,   // held data set dropped (buffer full or expired) before its template came
  kBadRecord,        // record truncated or a variable-length field runs past its set
  kBadSample,        // sFlow sample/record structure malformed
  kBadPacket,        // sampled or captured packet header could not be parsed
  kExporterEvicted,  // exporter table full: the least recently seen exporter's state was dropped
  kExporterDenied,   // source not in the exporter allow-list
  kCount
};

const char* decode_error_name(DecodeError e);

// Where the last error happened, for a message that names the place.
struct ErrorPlace {
  DecodeError reason = DecodeError::kCount;
  IpAddr exporter;
  uint32_t offset = 0;  // byte offset inside the datagram / packet
  uint32_t id = 0;      // template id, set id or sample type, when meaningful
};

struct DecodeStats {
  uint64_t datagrams = 0;
  uint64_t records = 0;    // flow records produced
  uint64_t templates = 0;  // (options) templates learned or refreshed
  uint64_t templates_withdrawn = 0;
  uint64_t options_records = 0;    // options data records consumed (sampling, system init, ...)
  uint64_t pending_decoded = 0;    // held data sets decoded once their template arrived
  uint64_t counter_samples = 0;    // sFlow counter samples kept as interface statistics
  uint64_t discarded_packets = 0;  // sFlow discard (drops) reported by agents
  uint64_t seq_lost = 0;           // export loss estimated from sequence gaps
  uint64_t seq_resets = 0;         // sequence jumps too large to be loss (restarts, reordering)
  std::array<uint64_t, static_cast<size_t>(DecodeError::kCount)> errors{};
  ErrorPlace last_error;

  void fail(DecodeError e, const IpAddr& exporter, size_t offset, uint32_t id = 0) {
    ++errors[static_cast<size_t>(e)];
    last_error = {e, exporter, static_cast<uint32_t>(offset), id};
  }
  // Counts what a SequenceTracker found (ExportDecoder also charges it to the exporter).
  void sequence(uint32_t lost, bool reset) {
    seq_lost += lost;
    seq_resets += reset;
  }
  uint64_t error(DecodeError e) const { return errors[static_cast<size_t>(e)]; }
  uint64_t total_errors() const;
  void merge(const DecodeStats& o);
  // "truncated at offset 24 (exporter 192.0.2.1, id 256)"
  std::string last_error_text() const;
};

}  // namespace orbwatch::ingest
