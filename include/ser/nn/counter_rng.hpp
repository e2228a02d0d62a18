// ser/nn/counter_rng.hpp — counter-based random numbers shared by the CPU twins and the CUDA
// kernels, so dropout masks (and anything else drawn per element) are identical on both and need no
// stored state: a value depends only on (seed, index). The mixer is SplitMix64's finaliser.
#pragma once
#include <cstdint>

#include "ser/host_device.hpp"

namespace ser::nn {

SER_HD std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform float in [0, 1) with 24 random bits.
SER_HD float uniform01(std::uint64_t seed, std::uint64_t index) {
  return static_cast<float>(mix64(seed ^ mix64(index)) >> 40) * (1.0f / 16777216.0f);
}

}  // namespace ser::nn
