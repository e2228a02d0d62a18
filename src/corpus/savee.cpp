// SAVEE (Surrey Audio-Visual Expressed Emotion): four male speakers DC, JE, JK, KL. The original
// distribution has AudioData/DC/a01.wav (speaker folder, emotion code, sentence number); common
// redistributions flatten it to DC_a01.wav. Both are read, in any subfolder.
// Emotion codes: a anger, d disgust, f fear, h happiness, n neutral, sa sadness, su surprise.
#include <map>
#include <regex>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {
namespace {

std::string savee_emotion(const std::string& code) {
  static const std::map<std::string, std::string> names = {{"a", "angry"}, {"d", "disgust"}, {"f", "fear"},
                                                           {"h", "happy"}, {"n", "neutral"}, {"sa", "sad"},
                                                           {"su", "surprise"}};
  const auto it = names.find(code);
  return it == names.end() ? "" : it->second;
}

bool is_savee_speaker(const std::string& s) { return s == "DC" || s == "JE" || s == "JK" || s == "KL"; }

}  // namespace

Scan scan_savee(const std::string& root_arg) {
  const fs::path root = require_directory(root_arg, "savee");
  const std::vector<fs::path> files = list_wav_files(root, /*recursive=*/true);
  require_some(files, root, "savee");

  static const std::regex flat(R"(^([A-Z]{2})_([a-z]{1,2})(\d\d)$)");  // DC_a01
  static const std::regex nested(R"(^([a-z]{1,2})(\d\d)$)");           // DC/a01
  Scan scan;
  scan.root = root.string();
  for (const fs::path& file : files) {
    const std::string stem = file.stem().string();
    std::smatch m;
    std::string speaker, code, sentence;
    if (std::regex_match(stem, m, flat)) {
      speaker = m[1];
      code = m[2];
      sentence = m[3];
    } else if (std::regex_match(stem, m, nested)) {
      speaker = file.parent_path().filename().string();
      code = m[1];
      sentence = m[2];
    } else {
      throw file_error(file.string(), "not a SAVEE file name (expected DC_a01.wav, or a01.wav in a speaker folder DC/)");
    }
    if (!is_savee_speaker(speaker)) {
      throw file_error(file.string(), "unknown SAVEE speaker '" + speaker + "' (expected DC JE JK KL)");
    }
    const std::string label = savee_emotion(code);
    if (label.empty()) {
      throw file_error(file.string(), "unknown SAVEE emotion code '" + code + "' (expected a d f h n sa su)");
    }
    Utterance u;
    u.path = relative_path(file, root);
    u.label = label;
    u.speaker = speaker;
    u.fields = {{"sentence", sentence}, {"gender", "male"}};
    scan.utterances.push_back(std::move(u));
  }
  return scan;
}

}  // namespace ser::corpus
