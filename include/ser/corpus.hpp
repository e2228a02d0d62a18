// ser/corpus.hpp — corpus adapters: a corpus folder becomes a manifest of utterances.
// Canonical emotion names are shared across corpora so class sets can be compared:
//   neutral calm happy sad angry fear disgust surprise boredom
#pragma once
#include <map>
#include <string>
#include <vector>

namespace ser {

struct Utterance {
  std::string path;      // relative to the corpus root (the cache stores this)
  std::string label;     // canonical emotion name
  std::string speaker;   // speaker id as the corpus spells it (e.g. "03", "Actor_01" -> "01")
  std::map<std::string, std::string> fields;  // the corpus's own fields (text code, gender, ...)
};

struct Manifest {
  std::string corpus;                 // "emodb", "ravdess", "cremad", "tess", "csv", "synthetic"
  std::string root;                   // folder the paths are relative to ("" for synthetic)
  std::vector<std::string> class_names;  // index = integer label
  std::vector<Utterance> utterances;

  int label_index(const std::string& label) const;  // -1 when absent
  std::vector<std::string> speakers() const;        // sorted, unique
};

// Known corpora: "emodb", "ravdess", "cremad", "tess", "csv" (DIR/manifest.csv or a .csv path:
// header path,label,speaker), "synthetic" (embedded generator; no folder).
std::vector<std::string> corpus_names();

// Builds the manifest for `corpus` under `root` keeping only `class_set`:
//   "all"    — every class the corpus has, in the corpus's canonical order;
//   "paper4" — angry, happy, sad, neutral (the paper's four);
//   or a comma-separated list of canonical names ("angry,sad,neutral").
// Utterances whose class is outside the set are dropped; a file whose label cannot be parsed or
// is not a known emotion is an error naming the file. A missing folder is an error.
Manifest load_manifest(const std::string& corpus, const std::string& root,
                       const std::string& class_set = "all");

// The class list a class-set name resolves to for a corpus (throws on unknown names).
std::vector<std::string> resolve_class_set(const std::string& corpus, const std::string& class_set);

// Canonical class order of a corpus ("all").
std::vector<std::string> corpus_classes(const std::string& corpus);

}  // namespace ser
