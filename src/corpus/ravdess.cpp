// RAVDESS: Actor_NN/MM-VV-EE-II-SS-RR-AA.wav (modality, vocal channel, emotion, intensity,
// statement, repetition, actor). Only audio-only (03) speech (01) files are utterances.
#include <regex>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {
namespace {

std::string ravdess_emotion(int code) {
  static const char* const names[] = {"neutral", "calm", "happy", "sad", "angry", "fear", "disgust", "surprise"};
  return code >= 1 && code <= 8 ? names[code - 1] : "";
}

bool in_range(const std::string& two_digits, int lo, int hi) {
  const int v = std::stoi(two_digits);
  return v >= lo && v <= hi;
}

}  // namespace

Scan scan_ravdess(const std::string& root_arg) {
  const fs::path root = require_directory(root_arg, "ravdess");
  const std::vector<fs::path> files = list_wav_files(root, /*recursive=*/true);
  require_some(files, root, "ravdess");

  static const std::regex pattern(R"(^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$)");
  Scan scan;
  scan.root = root.string();
  for (const fs::path& file : files) {
    const std::string stem = file.stem().string();
    std::smatch m;
    if (!std::regex_match(stem, m, pattern)) {
      throw file_error(file.string(), "not a RAVDESS file name (expected e.g. 03-01-05-01-02-01-12.wav)");
    }
    const std::string modality = m[1], channel = m[2], emotion = m[3], intensity = m[4],
                      statement = m[5], repetition = m[6], actor = m[7];
    if (!in_range(modality, 1, 3) || !in_range(channel, 1, 2) || !in_range(intensity, 1, 2) ||
        !in_range(statement, 1, 2) || !in_range(repetition, 1, 2) || !in_range(actor, 1, 24)) {
      throw file_error(file.string(), "RAVDESS file name field out of range (modality 01-03, vocal channel 01-02, "
                                      "intensity/statement/repetition 01-02, actor 01-24)");
    }
    const std::string label = ravdess_emotion(std::stoi(emotion));
    if (label.empty()) throw file_error(file.string(), "unknown RAVDESS emotion code '" + emotion + "' (expected 01-08)");
    // 01 full audio-video and 02 video-only recordings share names with the audio-only ones; song
    // (channel 02) is a different task. Neither belongs in a speech corpus.
    if (modality != "03" || channel != "01") continue;

    Utterance u;
    u.path = relative_path(file, root);
    u.label = label;
    u.speaker = actor;
    u.fields = {{"intensity", intensity},
                {"statement", statement},
                {"repetition", repetition},
                {"gender", std::stoi(actor) % 2 == 1 ? "male" : "female"}};
    scan.utterances.push_back(std::move(u));
  }
  if (scan.utterances.empty()) {
    throw file_error(root.string(), "no audio-only speech files (03-01-*.wav) found in the ravdess corpus");
  }
  return scan;
}

}  // namespace ser::corpus
