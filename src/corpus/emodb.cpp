// Emo-DB (Berlin Database of Emotional Speech): ROOT/wav/03a01Fa.wav = speaker 03, text a01,
// emotion letter F (German initial), version a.
#include <map>
#include <regex>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {
namespace {

std::string emodb_emotion(char letter) {
  switch (letter) {
    case 'W': return "angry";    // Wut
    case 'L': return "boredom";  // Langeweile
    case 'E': return "disgust";  // Ekel
    case 'A': return "fear";     // Angst
    case 'F': return "happy";    // Freude
    case 'T': return "sad";      // Trauer
    case 'N': return "neutral";
    default: return "";
  }
}

const std::map<std::string, std::string>& emodb_genders() {
  static const std::map<std::string, std::string> g = {
      {"03", "male"},   {"10", "male"},   {"11", "male"},   {"12", "male"},   {"15", "male"},
      {"08", "female"}, {"09", "female"}, {"13", "female"}, {"14", "female"}, {"16", "female"}};
  return g;
}

}  // namespace

Scan scan_emodb(const std::string& root_arg) {
  const fs::path root = require_directory(root_arg, "emodb");
  // Accept the download folder (which holds wav/) or wav/ itself.
  std::error_code ec;
  const fs::path wav_dir = fs::is_directory(root / "wav", ec) ? root / "wav" : root;
  const std::vector<fs::path> files = list_wav_files(wav_dir, /*recursive=*/false);
  require_some(files, wav_dir, "emodb");

  // Matched against the stem: list_wav_files already accepted the extension in any case.
  static const std::regex pattern(R"(^(\d\d)([a-z]\d\d)([A-Z])([a-z])$)");
  Scan scan;
  scan.root = root.string();
  for (const fs::path& file : files) {
    const std::string stem = file.stem().string();
    std::smatch m;
    if (!std::regex_match(stem, m, pattern)) {
      throw file_error(file.string(), "not an Emo-DB file name (expected e.g. 03a01Fa.wav: speaker, text, emotion, version)");
    }
    const std::string emotion = emodb_emotion(m[3].str()[0]);
    if (emotion.empty()) {
      throw file_error(file.string(), "unknown Emo-DB emotion letter '" + m[3].str() + "' (expected one of W L E A F T N)");
    }
    const auto gender = emodb_genders().find(m[1].str());
    if (gender == emodb_genders().end()) {
      throw file_error(file.string(), "unknown Emo-DB speaker '" + m[1].str() + "' (expected 03 08 09 10 11 12 13 14 15 16)");
    }
    Utterance u;
    u.path = relative_path(file, root);
    u.label = emotion;
    u.speaker = m[1].str();
    u.fields = {{"text", m[2].str()}, {"version", m[4].str()}, {"gender", gender->second}};
    scan.utterances.push_back(std::move(u));
  }
  return scan;
}

}  // namespace ser::corpus
