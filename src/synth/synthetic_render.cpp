// synth/synthetic_render.cpp — ser::synthesize_utterance: one utterance from its own random
// stream (seed, speaker, emotion name, utterance index), so utterances render independently.
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file

#include <algorithm>
#include <cmath>

#include "ser/error.hpp"
#include "ser/synthetic.hpp"
#include "synth/control_tracks.hpp"
#include "synth/corpus_layout.hpp"
#include "synth/emotion_prosody.hpp"
#include "synth/rng.hpp"
#include "synth/sentence.hpp"
#include "synth/source_filter.hpp"
#include "synth/speaker_profiles.hpp"
#include "synth/timeline.hpp"
#include "synth/utterance_voice.hpp"

namespace ser {

std::vector<float> synthesize_utterance(const SyntheticCorpusConfig& cfg, std::size_t index) {
  using namespace synth;
  validate_config(cfg);
  const UtteranceSlot slot = locate(cfg, index);
  const std::string& emotion = cfg.emotions[slot.emotion];
  const SpeakerProfile speaker = make_speaker(cfg.seed, slot.speaker);
  const Sentence text = make_sentence(cfg.seed, slot.utterance);
  Rng rng(stream_key(cfg.seed, "utterance",
                     {static_cast<std::uint64_t>(slot.speaker), hash_name(emotion),
                      static_cast<std::uint64_t>(slot.utterance)}));
  const UtteranceVoice voice = make_voice(speaker, emotion_prosody(emotion), rng);
  const Timeline timeline = layout_timeline(text, voice, rng);
  const ControlTracks tracks = make_control_tracks(text, timeline, voice, cfg.sample_rate);
  const std::vector<double> raw = render_source_filter(tracks, voice, cfg.sample_rate, rng);

  // Peak-normalise to the emotion's level (<= -0.5 dBFS), then add a -60 dBFS noise floor so the
  // silences are not digital zero, as in a real recording. Peak + floor stays well below 1.
  double peak = 0.0;
  for (double x : raw) {
    if (!std::isfinite(x)) throw Error("synthetic corpus: non-finite sample in utterance " + std::to_string(index));
    peak = std::max(peak, std::abs(x));
  }
  if (!(peak > 0.0)) throw Error("synthetic corpus: silent utterance " + std::to_string(index));
  const double gain = db_to_amp(voice.peak_db) / peak;
  const double floor_amp = db_to_amp(-60.0 + rng.uniform(-2.0, 2.0)) * 1.7320508075688772;  // rms -> uniform
  std::vector<float> out(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i)
    out[i] = static_cast<float>(raw[i] * gain + floor_amp * rng.symmetric());
  return out;
}

}  // namespace ser
