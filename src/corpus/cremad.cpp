// CREMA-D: AudioWAV/1001_DFA_ANG_XX.wav = actor 1001, sentence DFA, emotion ANG, level XX.
#include <map>
#include <regex>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {

Scan scan_cremad(const std::string& root_arg) {
  const fs::path root = require_directory(root_arg, "cremad");
  const std::vector<fs::path> files = list_wav_files(root, /*recursive=*/true);
  require_some(files, root, "cremad");

  static const std::map<std::string, std::string> emotions = {
      {"ANG", "angry"}, {"DIS", "disgust"}, {"FEA", "fear"}, {"HAP", "happy"}, {"NEU", "neutral"}, {"SAD", "sad"}};
  // LO/MD/HI: low, medium, high intensity; XX: unspecified.
  static const std::regex pattern(R"(^(\d{4})_([A-Z]{3})_([A-Z]{3})_(LO|MD|HI|XX)$)");
  Scan scan;
  scan.root = root.string();
  for (const fs::path& file : files) {
    const std::string stem = file.stem().string();
    std::smatch m;
    if (!std::regex_match(stem, m, pattern)) {
      throw file_error(file.string(), "not a CREMA-D file name (expected e.g. 1001_DFA_ANG_XX.wav: actor, sentence, "
                                      "emotion, level LO/MD/HI/XX)");
    }
    const auto emotion = emotions.find(m[3].str());
    if (emotion == emotions.end()) {
      throw file_error(file.string(), "unknown CREMA-D emotion code '" + m[3].str() + "' (expected ANG DIS FEA HAP NEU SAD)");
    }
    Utterance u;
    u.path = relative_path(file, root);
    u.label = emotion->second;
    u.speaker = m[1].str();
    u.fields = {{"sentence", m[2].str()}, {"level", m[4].str()}};
    scan.utterances.push_back(std::move(u));
  }
  return scan;
}

}  // namespace ser::corpus
