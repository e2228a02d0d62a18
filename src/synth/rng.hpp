// synth/rng.hpp — the synthetic corpus's own random numbers.
//
// std::*_distribution are implementation-defined (libstdc++ and libc++ give different numbers for
// the same engine), so the generator uses xoshiro256** seeded through splitmix64 and its own
// uniform / normal transforms built on det_math. Streams are keyed by what they are for
// (stream_key(seed, "utterance", speaker, emotion, index)), so every utterance, speaker and text
// can be generated on its own, in any order or in parallel.
#pragma once
#include "synth/det_math.hpp"

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace ser::synth {

// splitmix64 step: the recommended seeder for xoshiro, also a good 64-bit mixer.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// FNV-1a: turns a tag or an emotion name into a stream-key part. Keying by the emotion's *name*
// (not its position in cfg.emotions) keeps an utterance's audio the same when the list changes.
inline std::uint64_t hash_name(std::string_view s) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

// Combines the corpus seed with the parts that name a stream.
inline std::uint64_t stream_key(std::uint64_t seed, std::string_view tag,
                                std::initializer_list<std::uint64_t> parts) {
  std::uint64_t state = seed ^ hash_name(tag);
  std::uint64_t key = splitmix64(state);
  for (std::uint64_t p : parts) {
    state = key ^ (p * 0xD1342543DE82EF95ull);
    key = splitmix64(state);
  }
  return key;
}

class Rng {
 public:
  explicit Rng(std::uint64_t key) {
    std::uint64_t sm = key;
    for (auto& w : s_) w = splitmix64(sm);
  }

  // xoshiro256** (Blackman & Vigna).
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // [-1, 1): the per-sample noise source (cheap; white like a Gaussian once filtered).
  double symmetric() { return static_cast<double>(static_cast<std::int64_t>(next()) >> 11) * 0x1.0p-52; }
  // Integer in [0, n).
  int below(int n) { return static_cast<int>(uniform() * n); }
  bool chance(double p) { return uniform() < p; }

  // Standard normal by Box-Muller (the second value of each pair is kept for the next call).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * det_log(u1));
    const double angle = kTwoPi * u2;
    spare_ = radius * det_sin(angle);
    has_spare_ = true;
    return radius * det_cos(angle);
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }
  // A multiplicative factor exp(N(0, sd)), clipped to +-2.5 sd so no draw is absurd.
  double lognormal_factor(double sd) {
    double z = normal();
    if (z > 2.5) z = 2.5;
    if (z < -2.5) z = -2.5;
    return det_exp(sd * z);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace ser::synth
