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

}  // namespace orbwatch::ingest
