// src/util/rng.hpp — the sequential random generator every module shares: xoshiro256** (Blackman &
// Vigna) seeded through splitmix64. The splitmix64 mixer is the engine's counter mixer
// (ser/nn/counter_rng.hpp), so the project has one family of random numbers: counter-based where a
// value must depend only on (seed, index), this stream where draws come one after another.
// std::*_distribution are implementation-defined, so the transforms here are written out.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "ser/nn/counter_rng.hpp"

namespace ser::util {

// One splitmix64 step: returns the mix of the current state and advances it.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  const std::uint64_t z = state;
  state += 0x9E3779B97F4A7C15ull;
  return nn::mix64(z);
}

// FNV-1a: turns a tag or a name into a stream-key part. Keying by a name (an emotion's, say) rather
// than a position keeps a stream the same when a list changes.
inline std::uint64_t hash_name(std::string_view s) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

// A stream key: the seed mixed with the tag and the parts that name what the stream is for.
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

class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t key) {
    std::uint64_t sm = key;
    for (auto& w : s_) w = splitmix64(sm);
  }

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
  // [-1, 1): a cheap white-noise source.
  double symmetric() { return static_cast<double>(static_cast<std::int64_t>(next()) >> 11) * 0x1.0p-52; }
  // Integer in [0, n).
  int below(int n) { return static_cast<int>(uniform() * n); }
  bool chance(double p) { return uniform() < p; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace ser::util
