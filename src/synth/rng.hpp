// synth/rng.hpp — the synthetic corpus's own random numbers.
//
// The generator is the project's xoshiro256** (util/rng.hpp) with normal transforms built on
// det_math, so the corpus has the same bits on every libm. Streams are keyed by what they are for
// (util::stream_key(seed, "utterance", speaker, emotion, index)), so every utterance, speaker and
// text can be generated on its own, in any order or in parallel.
#pragma once
#include "synth/det_math.hpp"
#include "util/rng.hpp"

#include <cstdint>

namespace ser::synth {

using util::hash_name;
using util::splitmix64;
using util::stream_key;

// The shared generator (util/rng.hpp) with the corpus's own normal transforms built on det_math.
class Rng : public util::Xoshiro256 {
 public:
  using util::Xoshiro256::Xoshiro256;

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
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace ser::synth
