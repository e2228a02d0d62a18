// Canonical emotion names and the synonyms accepted where labels are free text (CSV, class sets).
#include <algorithm>
#include <cctype>
#include <map>

#include "corpus/adapters.hpp"

namespace ser::corpus {

const std::vector<std::string>& canonical_emotions() {
  // The first nine are the basic set of the acted corpora; IEMOCAP adds excited and frustrated,
  // MSP-Podcast contempt.
  static const std::vector<std::string> names = {"neutral",  "calm",    "happy",   "sad",        "angry",
                                                 "fear",     "disgust", "surprise", "boredom",   "excited",
                                                 "frustrated", "contempt"};
  return names;
}

std::string to_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  auto b = std::find_if_not(s.begin(), s.end(), blank);
  auto e = std::find_if_not(s.rbegin(), s.rend(), blank).base();
  return b < e ? std::string(b, e) : std::string();
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

std::string canonical_emotion(const std::string& label) {
  static const std::map<std::string, std::string> synonyms = {
      {"anger", "angry"},         {"happiness", "happy"},     {"sadness", "sad"},
      {"fearful", "fear"},        {"disgusted", "disgust"},   {"surprised", "surprise"},
      {"bored", "boredom"},       {"scared", "fear"},         {"afraid", "fear"},
      {"neutrality", "neutral"},  {"calmness", "calm"},       {"pleasant surprise", "surprise"},
      {"excitement", "excited"},  {"frustration", "frustrated"}, {"contemptuous", "contempt"},
  };
  const std::string key = to_lower(trim(label));
  const auto& names = canonical_emotions();
  if (std::find(names.begin(), names.end(), key) != names.end()) return key;
  const auto it = synonyms.find(key);
  return it == synonyms.end() ? std::string() : it->second;
}

}  // namespace ser::corpus
