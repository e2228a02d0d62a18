// Corpus names, their canonical class orders and class-set resolution ("all", "paper4", lists).
#include <algorithm>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"
#include "ser/synthetic.hpp"

namespace ser {

std::vector<std::string> corpus_names() { return {"emodb", "ravdess", "cremad", "tess", "csv", "synthetic"}; }

std::vector<std::string> corpus_classes(const std::string& corpus) {
  if (corpus == "emodb") return {"angry", "boredom", "disgust", "fear", "happy", "sad", "neutral"};
  if (corpus == "ravdess") return {"neutral", "calm", "happy", "sad", "angry", "fear", "disgust", "surprise"};
  if (corpus == "cremad") return {"angry", "disgust", "fear", "happy", "neutral", "sad"};
  if (corpus == "tess") return {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  // A CSV corpus may use any canonical emotion; load_manifest narrows "all" to the labels present.
  if (corpus == "csv") return corpus::canonical_emotions();
  if (corpus == "synthetic") return SyntheticCorpusConfig{}.emotions;
  throw Error("unknown corpus '" + corpus + "' (known: " + corpus::join(corpus_names(), ", ") + ")");
}

std::vector<std::string> resolve_class_set(const std::string& corpus, const std::string& class_set) {
  const std::vector<std::string> available = corpus_classes(corpus);
  const std::string name = corpus::to_lower(corpus::trim(class_set));
  if (name == "all") return available;

  std::vector<std::string> wanted;
  if (name == "paper4") {
    wanted = {"angry", "happy", "sad", "neutral"};
  } else {
    std::string item;
    for (std::size_t i = 0; i <= name.size(); ++i) {
      if (i < name.size() && name[i] != ',') {
        item += name[i];
        continue;
      }
      const std::string canonical = corpus::canonical_emotion(item);
      if (corpus::trim(item).empty()) {
        throw Error("class set '" + class_set + "': empty class name (expected all, paper4 or a comma list such as angry,sad)");
      }
      if (canonical.empty()) {
        throw Error("class set '" + class_set + "': unknown emotion '" + corpus::trim(item) + "' (known: " +
                    corpus::join(corpus::canonical_emotions(), " ") + ")");
      }
      if (std::find(wanted.begin(), wanted.end(), canonical) != wanted.end()) {
        throw Error("class set '" + class_set + "': class '" + canonical + "' listed twice");
      }
      wanted.push_back(canonical);
      item.clear();
    }
  }
  for (const std::string& c : wanted) {
    if (std::find(available.begin(), available.end(), c) == available.end()) {
      throw Error("class set '" + class_set + "': the " + corpus + " corpus has no class '" + c + "' (its classes: " +
                  corpus::join(available, " ") + ")");
    }
  }
  return wanted;
}

}  // namespace ser
