// synth/phonetics.cpp — formant values after Peterson & Barney (1952) and Klatt (1980) for an
// average adult male; the speaker's tract factor scales them (women ~1.1-1.2).
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/phonetics.hpp"

namespace ser::synth {

const std::vector<Formants>& vowel_table() {
  static const std::vector<Formants> t = {
      {{730, 1090, 2440, 3400}, {80, 90, 120, 180}},   // a  (father)
      {{530, 1840, 2480, 3500}, {60, 100, 120, 180}},  // e  (bet)
      {{280, 2250, 2950, 3700}, {50, 90, 150, 200}},   // i  (beet)
      {{570, 840, 2410, 3400}, {70, 80, 110, 180}},    // o  (bought)
      {{310, 870, 2250, 3400}, {50, 80, 110, 180}},    // u  (boot)
      {{500, 1500, 2500, 3500}, {60, 90, 120, 180}},   // @  (schwa)
  };
  return t;
}

const std::vector<Consonant>& consonant_table() {
  // Plosive bursts: labial diffuse-low, alveolar high, velar compact mid (the "velar pinch").
  // Fricatives: s high and strong, S (sh) mid and strong, f broad and weak.
  // Nasals: a low first resonance (~250 Hz) and damped higher ones; murmur is weaker than a vowel.
  static const Formants kNoMurmur = {{0, 0, 0, 0}, {0, 0, 0, 0}};
  static const std::vector<Consonant> t = {
      {'p', OnsetKind::plosive, 1200, 1600, 0.5, kNoMurmur},
      {'t', OnsetKind::plosive, 4000, 2500, 0.6, kNoMurmur},
      {'k', OnsetKind::plosive, 2000, 900, 0.6, kNoMurmur},
      {'s', OnsetKind::fricative, 5500, 2500, 0.45, kNoMurmur},
      {'S', OnsetKind::fricative, 3000, 1400, 0.45, kNoMurmur},
      {'f', OnsetKind::fricative, 4000, 6000, 0.15, kNoMurmur},
      {'m', OnsetKind::nasal, 0, 0, 0, {{250, 1100, 2200, 3300}, {100, 250, 300, 400}}},
      {'n', OnsetKind::nasal, 0, 0, 0, {{250, 1500, 2500, 3400}, {100, 250, 300, 400}}},
  };
  return t;
}

}  // namespace ser::synth
