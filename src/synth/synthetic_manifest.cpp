// synth/synthetic_manifest.cpp — ser::synthetic_manifest and ser::synthetic_emotions.
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file

#include "ser/synthetic.hpp"
#include "synth/corpus_layout.hpp"
#include "synth/emotion_prosody.hpp"
#include "synth/speaker_profiles.hpp"

namespace ser {

Manifest synthetic_manifest(const SyntheticCorpusConfig& cfg) {
  synth::validate_config(cfg);
  Manifest m;
  m.corpus = "synthetic";
  m.root = "";
  m.class_names = cfg.emotions;
  const std::size_t n = synth::corpus_size(cfg);
  m.utterances.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const synth::UtteranceSlot s = synth::locate(cfg, i);
    Utterance u;
    u.path = "synthetic/" + synth::relative_path(cfg, s);
    u.label = cfg.emotions[s.emotion];
    u.speaker = synth::speaker_id(s.speaker);
    // "index" addresses the generator: a manifest filtered to a class set keeps rendering the right utterance.
    u.fields = {{"synthetic", "yes"}, {"gender", s.speaker % 2 == 0 ? "female" : "male"}, {"index", std::to_string(i)}};
    m.utterances.push_back(std::move(u));
  }
  return m;
}

std::vector<std::string> synthetic_emotions() { return synth::synthetic_emotion_names(); }

}  // namespace ser
