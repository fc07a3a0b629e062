// The simulator's random numbers: splitmix64 and distributions written out here (not <random>'s),
// so one seed gives the same network and traffic with every compiler and standard library.
#pragma once

#include <cmath>
#include <cstdint>

namespace orbwatch::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  // A stream of its own for (seed, a, b): generators draw independently of each other's order.
  static Rng stream(uint64_t seed, uint64_t a, uint64_t b = 0) {
    Rng r(seed ^ (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full));
    r.next();
    return r;
  }

  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }              // [0, n)
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool chance(double p) { return uniform() < p; }
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }
  double normal(double mean, double sd) {
    const double u = uniform(), v = uniform();
    return mean + sd * std::sqrt(-2.0 * std::log1p(-u)) * std::cos(6.283185307179586 * v);
  }
  double lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }
  // Poisson by inversion for small means, a rounded normal for large ones.
  uint64_t poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 30) {
      const double x = normal(mean, std::sqrt(mean));
      return x < 0 ? 0 : static_cast<uint64_t>(std::llround(x));
    }
    const double limit = std::exp(-mean);
    double p = uniform();
    uint64_t k = 0;
    while (p > limit) {
      p *= uniform();
      ++k;
    }
    return k;
  }
  // Index in [0, n) favouring low ones (popularity): Zipf-like by squaring a uniform.
  uint64_t popular(uint64_t n) {
    const double u = uniform();
    return static_cast<uint64_t>(u * u * static_cast<double>(n));
  }

 private:
  uint64_t s_;
};

}  // namespace orbwatch::sim
