#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <fmt/core.h>

namespace orbwatch::cli {

namespace {
int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(uint64_t total_bytes, bool quiet, uint64_t min_bytes)
    : enabled_(!quiet && total_bytes >= min_bytes && isatty(STDERR_FILENO) == 1),
      total_(total_bytes) {}

void Progress::update(uint64_t done_bytes, uint64_t records) {
  if (!enabled_) return;
  int64_t t = now_ms();
  if (t - last_draw_ms_ < 200) return;
  last_draw_ms_ = t;
  double frac = total_ == 0 ? 1.0 : std::min(1.0, static_cast<double>(done_bytes) / total_);
  constexpr int kWidth = 30;
  int filled = static_cast<int>(frac * kWidth);
  fmt::print(stderr, "\r[{}{}] {:5.1f}%  {:.0f} MiB  {} records", std::string(filled, '#'),
             std::string(kWidth - filled, ' '), frac * 100,
             static_cast<double>(done_bytes) / (1 << 20), records);
  drawn_ = true;
}

void Progress::done() {
  if (drawn_) fmt::print(stderr, "\r{}\r", std::string(80, ' '));
  drawn_ = false;
}

}  // namespace orbwatch::cli
