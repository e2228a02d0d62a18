// synth/corpus_layout.hpp — config checks, naming and the index <-> (speaker, emotion, utterance)
// mapping shared by the manifest, the renderer and the writer.
#pragma once
#include <cstddef>
#include <string>

#include "ser/synthetic.hpp"

namespace ser::synth {

// Throws ser::Error naming the field for an unusable config (no speakers, unknown or repeated
// emotion, unsupported sample rate, ...).
void validate_config(const SyntheticCorpusConfig& cfg);

struct UtteranceSlot {
  int speaker = 0;    // 0-based
  int emotion = 0;    // index into cfg.emotions
  int utterance = 0;  // 0-based index within (speaker, emotion); also the text index
};

std::size_t corpus_size(const SyntheticCorpusConfig& cfg);
// Manifest order is speaker-major, then emotion, then utterance. Throws when index is out of range.
UtteranceSlot locate(const SyntheticCorpusConfig& cfg, std::size_t index);

std::string speaker_dir(int speaker);                                        // "spk01"
std::string speaker_id(int speaker);                                         // "syn01"
std::string file_name(const std::string& emotion, int utterance);            // "angry_001.wav"
std::string relative_path(const SyntheticCorpusConfig& cfg, const UtteranceSlot& s);  // "spk01/angry_001.wav"

}  // namespace ser::synth
