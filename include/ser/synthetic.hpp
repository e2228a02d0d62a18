// ser/synthetic.hpp — the embedded default corpus: deterministic SYNTHETIC "acted emotion" speech.
// Source-filter synthesis: glottal pulses with emotion-dependent prosody (F0 level, range and
// contour, speaking rate, energy, jitter, shimmer, spectral tilt) through speaker-dependent formant
// filters (vocal-tract length, pitch range). Same config + seed => bit-identical audio on any machine.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ser/corpus.hpp"

namespace ser {

struct SyntheticCorpusConfig {
  int n_speakers = 8;
  int utterances_per_emotion = 10;   // per speaker
  std::vector<std::string> emotions = {"neutral", "happy", "sad", "angry", "fear", "disgust", "boredom"};
  int sample_rate = 16000;
  std::uint64_t seed = 20261124;
};

// The manifest of the synthetic corpus: corpus "synthetic", paths "synthetic/spkNN/EMOTION_UUU.wav"
// (virtual: nothing on disk), speakers "synNN", fields {"synthetic": "yes", "gender": ...}.
Manifest synthetic_manifest(const SyntheticCorpusConfig& cfg);

// Renders utterance `index` of synthetic_manifest(cfg) (mono float, cfg.sample_rate).
std::vector<float> synthesize_utterance(const SyntheticCorpusConfig& cfg, std::size_t index);

// Writes the whole corpus as 16-bit WAV files under dir (dir/spkNN/EMOTION_UUU.wav) plus
// dir/manifest.csv (path,label,speaker) and a README that says it is synthetic.
void write_synthetic_corpus(const SyntheticCorpusConfig& cfg, const std::string& dir);

// The emotion names the generator can render, in canonical order (neutral calm happy sad angry
// fear disgust surprise boredom). Any other name in cfg.emotions is a ser::Error.
std::vector<std::string> synthetic_emotions();

}  // namespace ser
