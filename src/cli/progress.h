// A one-line progress bar on stderr, shown only when stderr is a terminal and the input is
// large enough to be worth watching. Redraws at most 5 times a second.
#pragma once

#include <cstdint>
#include <string>

namespace orbwatch::cli {

class Progress {
 public:
  // Shown when stderr is a terminal, !quiet and total_bytes >= min_bytes.
  Progress(uint64_t total_bytes, bool quiet, uint64_t min_bytes = 32ull << 20);
  ~Progress() { done(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(uint64_t done_bytes, uint64_t records);
  void done();

 private:
  bool enabled_;
  uint64_t total_;
  int64_t last_draw_ms_ = 0;
  bool drawn_ = false;
};

}  // namespace orbwatch::cli
