#include "ingest/decode_stats.h"

namespace orbwatch::ingest {

const char* decode_error_name(DecodeError e) {
  switch (e) {
    case DecodeError::kTruncated:
      return "truncated";
    case DecodeError::kBadVersion:
      return "bad_version";
    case DecodeError::kBadLength:
      return "bad_length";
    case DecodeError::kBadSetLength:
      return "bad_set_length";
    case DecodeError::kBadTemplate:
      return "bad_template";
    case DecodeError::kTemplateEvicted:
      return "template_evicted";
    case DecodeError::kNoTemplate:
      return "no_template";
    case DecodeError::kPendingDropped:
      return "pending_dropped";
    case DecodeError::kBadRecord:
      return "bad_record";
    case DecodeError::kBadSample:
      return "bad_sample";
    case DecodeError::kBadPacket:
      return "bad_packet";
    case DecodeError::kExporterEvicted:
      return "exporter_evicted";
    case DecodeError::kExporterDenied:
      return "exporter_denied";
    case DecodeError::kCount:
      break;
  }
  return "none";
}

uint64_t DecodeStats::total_errors() const {
  uint64_t n = 0;
  for (auto v : errors) n += v;
  return n;
}

void DecodeStats::merge(const DecodeStats& o) {
  datagrams += o.datagrams;
  records += o.records;
  templates += o.templates;
  templates_withdrawn += o.templates_withdrawn;
  options_records += o.options_records;
  pending_decoded += o.pending_decoded;
  counter_samples += o.counter_samples;
  discarded_packets += o.discarded_packets;
  seq_lost += o.seq_lost;
  seq_resets += o.seq_resets;
  for (size_t i = 0; i < errors.size(); ++i) errors[i] += o.errors[i];
  if (o.last_error.reason != DecodeError::kCount) last_error = o.last_error;
}

std::string DecodeStats::last_error_text() const {
  if (last_error.reason == DecodeError::kCount) return "";
  std::string s = decode_error_name(last_error.reason);
  s += " at offset " + std::to_string(last_error.offset);
  s += " (exporter " + last_error.exporter.to_string();
  if (last_error.id != 0) s += ", id " + std::to_string(last_error.id);
  s += ")";
  return s;
}

}  // namespace orbwatch::ingest
