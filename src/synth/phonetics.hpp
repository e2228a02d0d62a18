// synth/phonetics.hpp — the tiny phone inventory of the synthetic language: vowels as formant
// targets (F1..F4 with bandwidths, average adult male vocal tract) and onset consonants.
#pragma once
#include <array>
#include <vector>

namespace ser::synth {

struct Formants {
  std::array<double, 4> freq;       // Hz
  std::array<double, 4> bandwidth;  // Hz
};

enum class OnsetKind { plosive, fricative, nasal };

struct Consonant {
  char symbol;          // for comments and debugging only
  OnsetKind kind;
  double noise_hz;      // centre of the burst / frication noise (scaled by the vocal tract)
  double noise_bw_hz;   // its bandwidth
  double noise_level;   // its amplitude relative to a vowel's glottal flow
  Formants murmur;      // nasals only: the nasal-murmur resonances (average male tract)
};

const std::vector<Formants>& vowel_table();       // a e i o u @
const std::vector<Consonant>& consonant_table();  // p t k s S f m n

}  // namespace ser::synth
