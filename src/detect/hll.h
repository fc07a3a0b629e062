// A small HyperLogLog (2^10 registers, ~3% error): distinct counts with fixed memory, for the
// counts that must not grow with hostile input (spray's sources beyond its exact cap).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace orbwatch::detect {

class HyperLogLog {
 public:
  void add(uint64_t hash) {
    const uint64_t h = mix(hash);
    const size_t i = h >> (64 - kBits);
    const uint64_t rest = h << kBits;
    const auto rank = static_cast<uint8_t>(rest == 0 ? 64 - kBits + 1 : __builtin_clzll(rest) + 1);
    if (rank > reg_[i]) reg_[i] = rank;
  }
  double estimate() const {
    double sum = 0;
    size_t zeros = 0;
    for (uint8_t r : reg_) {
      sum += std::ldexp(1.0, -r);
      zeros += r == 0;
    }
    constexpr double m = kRegisters;
    const double raw = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    // Small range: linear counting is exact enough and unbiased there.
    if (raw <= 2.5 * m && zeros != 0) return m * std::log(m / static_cast<double>(zeros));
    return raw;
  }
  void clear() { reg_.fill(0); }

 private:
  static constexpr unsigned kBits = 10;
  static constexpr size_t kRegisters = size_t{1} << kBits;
  static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
  }
  std::array<uint8_t, kRegisters> reg_{};
};

}  // namespace orbwatch::detect
