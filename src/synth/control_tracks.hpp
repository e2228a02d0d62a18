// synth/control_tracks.hpp — the synthesiser's control parameters at a 1 ms frame rate.
#pragma once
#include <array>
#include <cstddef>
#include <vector>

#include "synth/sentence.hpp"
#include "synth/timeline.hpp"
#include "synth/utterance_voice.hpp"

namespace ser::synth {

// Value k of each track holds at sample k * block; the renderer interpolates in between.
struct ControlTracks {
  int block = 16;             // samples per control frame (1 ms)
  std::size_t n_samples = 0;
  std::vector<double> f0;          // Hz
  std::vector<double> voicing;     // glottal-flow amplitude (0 = unvoiced)
  std::vector<double> aspiration;  // extra aspiration noise (plosive release, VOT)
  std::vector<double> frication;   // frication / burst noise amplitude
  std::vector<double> creak;       // 0..1 amount of creaky (alternating-period) phonation
  std::vector<double> noise_hz, noise_bw_hz;       // frication resonance
  std::array<std::vector<double>, 4> formant_hz;   // F1..F4
  std::array<std::vector<double>, 4> bandwidth_hz;
};

ControlTracks make_control_tracks(const Sentence& text, const Timeline& tl, const UtteranceVoice& voice,
                                  int sample_rate);

}  // namespace ser::synth
