// Corpus names, their canonical class orders and class-set resolution ("all", "paper4", "iemocap4",
// lists with merges such as "happy+excited").
#include <algorithm>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"
#include "ser/synthetic.hpp"

namespace ser {

std::vector<std::string> corpus_names() {
  return {"emodb", "ravdess", "cremad", "tess", "savee", "iemocap", "msppodcast", "csv", "synthetic"};
}

std::vector<std::string> corpus_classes(const std::string& corpus) {
  if (corpus == "emodb") return {"angry", "boredom", "disgust", "fear", "happy", "sad", "neutral"};
  if (corpus == "ravdess") return {"neutral", "calm", "happy", "sad", "angry", "fear", "disgust", "surprise"};
  if (corpus == "cremad") return {"angry", "disgust", "fear", "happy", "neutral", "sad"};
  if (corpus == "tess") return {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  if (corpus == "savee") return {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  if (corpus == "iemocap")
    return {"neutral", "happy", "excited", "angry", "sad", "frustrated", "fear", "surprise", "disgust"};
  if (corpus == "msppodcast") return {"angry", "sad", "happy", "surprise", "fear", "disgust", "contempt", "neutral"};
  // A CSV corpus may use any canonical emotion; load_manifest narrows "all" to the labels present.
  if (corpus == "csv") return corpus::canonical_emotions();
  if (corpus == "synthetic") return SyntheticCorpusConfig{}.emotions;
  throw Error("unknown corpus '" + corpus + "' (known: " + corpus::join(corpus_names(), ", ") + ")");
}

namespace {

// Named class sets, spelled as lists.
std::string named_class_set(const std::string& name) {
  if (name == "paper4") return "angry,happy,sad,neutral";
  // IEMOCAP's usual four-class task merges excited into happy (e.g. SUPERB's emotion task;
  // docs/corpora.md).
  if (name == "iemocap4") return "neutral,happy+excited,angry,sad";
  return name;
}

}  // namespace

ClassSet resolve_class_set_members(const std::string& corpus, const std::string& class_set) {
  const std::vector<std::string> available = corpus_classes(corpus);
  const std::string name = corpus::to_lower(corpus::trim(class_set));
  ClassSet out;
  if (name == "all") {
    out.names = available;
    for (const auto& c : available) out.class_of_label[c] = c;
    return out;
  }
  const std::string list = named_class_set(name);
  std::vector<std::string> items(1);
  for (char c : list) {
    if (c == ',') items.emplace_back();
    else items.back() += c;
  }
  for (const std::string& item : items) {
    if (corpus::trim(item).empty()) {
      throw Error("class set '" + class_set + "': empty class name (expected all, paper4, iemocap4 or a comma list such as angry,sad)");
    }
    std::vector<std::string> members(1);
    for (char c : item) {
      if (c == '+') members.emplace_back();
      else members.back() += c;
    }
    std::string class_name;
    for (const std::string& member : members) {
      const std::string canonical = corpus::canonical_emotion(member);
      if (corpus::trim(member).empty()) throw Error("class set '" + class_set + "': empty name in '" + corpus::trim(item) + "'");
      if (canonical.empty()) {
        throw Error("class set '" + class_set + "': unknown emotion '" + corpus::trim(member) + "' (known: " +
                    corpus::join(corpus::canonical_emotions(), " ") + ")");
      }
      if (std::find(available.begin(), available.end(), canonical) == available.end()) {
        throw Error("class set '" + class_set + "': the " + corpus + " corpus has no class '" + canonical + "' (its classes: " +
                    corpus::join(available, " ") + ")");
      }
      if (out.class_of_label.count(canonical)) throw Error("class set '" + class_set + "': class '" + canonical + "' listed twice");
      if (class_name.empty()) class_name = canonical;  // "happy+excited" is the class happy
      out.class_of_label[canonical] = class_name;
    }
    out.names.push_back(class_name);
  }
  return out;
}

std::vector<std::string> resolve_class_set(const std::string& corpus, const std::string& class_set) {
  return resolve_class_set_members(corpus, class_set).names;
}

}  // namespace ser
