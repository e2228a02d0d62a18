// synth/corpus_layout.cpp — see corpus_layout.hpp.
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/corpus_layout.hpp"

#include <cstdio>
#include <set>

#include "ser/error.hpp"
#include "synth/emotion_prosody.hpp"

namespace ser::synth {
namespace {

std::string padded(int value, int width) {
  std::string s = std::to_string(value);
  return s.size() < static_cast<std::size_t>(width) ? std::string(width - s.size(), '0') + s : s;
}

}  // namespace

void validate_config(const SyntheticCorpusConfig& cfg) {
  const auto fail = [](const std::string& what) { throw Error("synthetic corpus config: " + what); };
  if (cfg.n_speakers < 1) fail("n_speakers must be >= 1, got " + std::to_string(cfg.n_speakers));
  if (cfg.utterances_per_emotion < 1)
    fail("utterances_per_emotion must be >= 1, got " + std::to_string(cfg.utterances_per_emotion));
  if (cfg.sample_rate < 8000 || cfg.sample_rate > 192000)
    fail("sample_rate must be in 8000..192000 Hz, got " + std::to_string(cfg.sample_rate));
  if (cfg.emotions.empty()) fail("emotions must not be empty");
  std::set<std::string> seen;
  for (const auto& e : cfg.emotions) {
    emotion_prosody(e);  // throws for unknown names
    if (!seen.insert(e).second) fail("emotion '" + e + "' is listed twice");
  }
}

std::size_t corpus_size(const SyntheticCorpusConfig& cfg) {
  return static_cast<std::size_t>(cfg.n_speakers) * cfg.emotions.size() *
         static_cast<std::size_t>(cfg.utterances_per_emotion);
}

UtteranceSlot locate(const SyntheticCorpusConfig& cfg, std::size_t index) {
  if (index >= corpus_size(cfg))
    throw Error("synthetic corpus: utterance index " + std::to_string(index) + " out of range (corpus has " +
                std::to_string(corpus_size(cfg)) + ")");
  const std::size_t per_emotion = static_cast<std::size_t>(cfg.utterances_per_emotion);
  const std::size_t per_speaker = per_emotion * cfg.emotions.size();
  UtteranceSlot s;
  s.speaker = static_cast<int>(index / per_speaker);
  s.emotion = static_cast<int>((index % per_speaker) / per_emotion);
  s.utterance = static_cast<int>(index % per_emotion);
  return s;
}

std::string speaker_dir(int speaker) { return "spk" + padded(speaker + 1, 2); }
std::string speaker_id(int speaker) { return "syn" + padded(speaker + 1, 2); }
std::string file_name(const std::string& emotion, int utterance) {
  return emotion + "_" + padded(utterance + 1, 3) + ".wav";
}
std::string relative_path(const SyntheticCorpusConfig& cfg, const UtteranceSlot& s) {
  return speaker_dir(s.speaker) + "/" + file_name(cfg.emotions[s.emotion], s.utterance);
}

}  // namespace ser::synth
