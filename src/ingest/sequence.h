// Export loss from sequence numbers. Each protocol counts something different (v5: flows,
// v9: export packets, IPFIX: data records, sFlow: datagrams or samples); the caller says how many
// units the current message carries and the tracker expects the next number to follow on.
#pragma once

#include <cstdint>

namespace orbwatch::ingest {

class SequenceTracker {
 public:
  // Gaps above this are not loss but a restart or reordering: resynchronise and count a reset.
  static constexpr uint32_t kMaxGap = 1u << 20;

  struct Result {
    uint32_t lost = 0;
    bool reset = false;
  };

  Result observe(uint32_t seq, uint32_t units) {
    Result r;
    if (started_) {
      uint32_t delta = seq - next_;  // modulo 2^32: wraps are not gaps
      if (delta != 0) {
        if (delta <= kMaxGap) {
          r.lost = delta;
        } else {
          r.reset = true;
        }
      }
    }
    started_ = true;
    next_ = seq + units;
    return r;
  }

 private:
  bool started_ = false;
  uint32_t next_ = 0;
};

// IPFIX sequence numbers count data records (RFC 7011 3.1: those sent before this message,
// options records included), but exporters differ: softflowd counts flow records up to and
// including the current message. Counting such an exporter by the RFC would report loss that
// never happened, so the tracker learns which of four readings the exporter follows (the first
// one that explains a step) and measures gaps by that one.
class RecordSequenceTracker {
 public:
  using Result = SequenceTracker::Result;

  // `records`: data records in this message (flow and options); `flow_records`: flows only.
  Result observe(uint32_t seq, uint32_t records, uint32_t flow_records) {
    Result r;
    if (started_) {
      const uint32_t step = seq - prev_seq_;
      const uint32_t expect[4] = {prev_records_, prev_flows_, records, flow_records};
      if (step != expect[mode_]) {
        int match = -1;
        for (int m = 0; m < 4 && match < 0; ++m) match = step == expect[m] ? m : -1;
        if (match >= 0) {
          mode_ = match;  // the exporter's reading: no loss
        } else if (uint32_t gap = step - expect[mode_]; gap <= SequenceTracker::kMaxGap) {
          r.lost = gap;
        } else {
          r.reset = true;
        }
      }
    }
    started_ = true;
    prev_seq_ = seq;
    prev_records_ = records;
    prev_flows_ = flow_records;
    return r;
  }

 private:
  bool started_ = false;
  int mode_ = 0;  // index into expect[]: 0 = RFC 7011
  uint32_t prev_seq_ = 0, prev_records_ = 0, prev_flows_ = 0;
};

}  // namespace orbwatch::ingest
