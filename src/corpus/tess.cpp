// TESS (Toronto emotional speech set): SPEAKER_WORD_EMOTION.wav in any subfolders, speakers OAF
// (older) and YAF (younger) female talkers; "ps" is pleasant surprise.
#include <cctype>
#include <map>
#include <regex>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {

Scan scan_tess(const std::string& root_arg) {
  const fs::path root = require_directory(root_arg, "tess");
  const std::vector<fs::path> files = list_wav_files(root, /*recursive=*/true);
  require_some(files, root, "tess");

  static const std::map<std::string, std::string> emotions = {
      {"angry", "angry"}, {"disgust", "disgust"}, {"fear", "fear"},    {"happy", "happy"},
      {"neutral", "neutral"}, {"sad", "sad"},     {"ps", "surprise"}};
  // Case is ignored: copies of TESS in circulation differ in capitalisation.
  static const std::regex pattern(R"(^(OAF|YAF)_([A-Za-z]+)_([A-Za-z]+)$)", std::regex::icase);
  Scan scan;
  scan.root = root.string();
  for (const fs::path& file : files) {
    const std::string stem = file.stem().string();
    std::smatch m;
    if (!std::regex_match(stem, m, pattern)) {
      throw file_error(file.string(), "not a TESS file name (expected e.g. OAF_back_angry.wav: speaker OAF/YAF, word, emotion)");
    }
    const auto emotion = emotions.find(to_lower(m[3].str()));
    if (emotion == emotions.end()) {
      throw file_error(file.string(), "unknown TESS emotion '" + m[3].str() + "' (expected angry disgust fear happy neutral sad ps)");
    }
    std::string speaker = m[1].str();
    for (char& c : speaker) c = char(std::toupper(static_cast<unsigned char>(c)));
    Utterance u;
    u.path = relative_path(file, root);
    u.label = emotion->second;
    u.speaker = speaker;
    u.fields = {{"word", to_lower(m[2].str())}};
    scan.utterances.push_back(std::move(u));
  }
  return scan;
}

}  // namespace ser::corpus
