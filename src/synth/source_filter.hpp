// synth/source_filter.hpp — renders control tracks to audio (Klatt-style source-filter model).
#pragma once
#include <vector>

#include "synth/control_tracks.hpp"
#include "synth/rng.hpp"
#include "synth/utterance_voice.hpp"

namespace ser::synth {

// The two outputs of the synthesiser before mixing (both after lip radiation).
struct SourceFilterBranches {
  std::vector<double> voiced;     // glottal source + aspiration through the formant cascade
  std::vector<double> frication;  // frication and bursts at unit level (scaled by mix_branches)
};
SourceFilterBranches render_branches(const ControlTracks& c, const UtteranceVoice& voice, int sample_rate,
                                     Rng& rng);

// Adds the frication at a level tied to this utterance's own vowel RMS: a dark, quiet voice must
// not end up with consonants louder than its vowels. voice.frication_gain adds the effort effect.
std::vector<double> mix_branches(const SourceFilterBranches& b, const ControlTracks& c,
                                 const UtteranceVoice& voice);

// render_branches + mix_branches: the raw (un-normalised) waveform of c.n_samples samples.
std::vector<double> render_source_filter(const ControlTracks& c, const UtteranceVoice& voice,
                                         int sample_rate, Rng& rng);

}  // namespace ser::synth
