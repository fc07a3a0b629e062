// CaseTable: the open alert cases of a detector, one per key and window of event time, with
// bounded memory. Detectors that aggregate flows into alerts (intel, allowlist, segmentation)
// share it: a case opens with its first flow, closes when the watermark passes its window's end
// (or when a flow after that end arrives first), and when the table is full the case whose
// window ends first is closed early and counted.
//
// `Case` derives from CaseBase; `on_close(Case&)` is the detector's chance to raise the final
// version of the alert before the case is dropped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/alert.h"

namespace orbwatch::detect {

struct CaseBase {
  std::string key;
  uint64_t raised_count = 0;  // Alert::count when last raised; 0 = never
  Severity raised_severity = Severity::kLow;
  std::pair<int64_t, uint64_t> closes_at;  // (window end, sequence)
  int64_t window_end_ms() const { return closes_at.first; }
};

template <typename Case>
class CaseTable {
 public:
  CaseTable(int64_t window_ms, size_t max_cases) : window_ms_(window_ms), max_(max_cases) {}

  // The open case of `key` for a flow starting at `start_ms`; `fresh` tells whether it was
  // just opened. A case whose window ended before `start_ms` is closed first.
  template <typename OnClose>
  Case& get(const std::string& key, int64_t start_ms, bool& fresh, OnClose&& on_close) {
    auto it = cases_.find(key);
    if (it != cases_.end() && start_ms >= it->second.window_end_ms()) {
      close(it, on_close);
      it = cases_.end();
    }
    fresh = it == cases_.end();
    if (!fresh) return it->second;
    if (cases_.size() >= max_) {
      close(cases_.find(closing_.begin()->second), on_close);
      ++evicted_;
    }
    it = cases_.emplace(key, Case{}).first;
    Case& c = it->second;
    c.key = key;
    c.closes_at = {start_ms + window_ms_, seq_++};
    closing_.emplace(c.closes_at, key);
    return c;
  }

  // The open case of `key`, or null.
  Case* find(const std::string& key) {
    auto it = cases_.find(key);
    return it == cases_.end() ? nullptr : &it->second;
  }

  // Closes every case whose window ends at or before `watermark_ms`.
  template <typename OnClose>
  void close_until(int64_t watermark_ms, OnClose&& on_close) {
    while (!closing_.empty() && closing_.begin()->first.first <= watermark_ms) {
      close(cases_.find(closing_.begin()->second), on_close);
    }
  }

  size_t size() const { return cases_.size(); }
  uint64_t evicted() const { return evicted_; }

 private:
  template <typename OnClose>
  void close(typename std::unordered_map<std::string, Case>::iterator it, OnClose& on_close) {
    on_close(it->second);
    closing_.erase(it->second.closes_at);
    cases_.erase(it);
  }

  int64_t window_ms_;
  size_t max_;
  std::unordered_map<std::string, Case> cases_;
  std::map<std::pair<int64_t, uint64_t>, std::string> closing_;  // (window end, seq) -> key
  uint64_t seq_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace orbwatch::detect
