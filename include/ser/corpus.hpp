// ser/corpus.hpp — corpus adapters: a corpus folder becomes a manifest of utterances.
// Canonical emotion names are shared across corpora so class sets can be compared:
//   neutral calm happy sad angry fear disgust surprise boredom excited frustrated contempt
#pragma once
#include <map>
#include <string>
#include <vector>

namespace ser {

struct Utterance {
  std::string path;      // relative to the corpus root (the cache stores this)
  std::string label;     // canonical emotion name
  std::string speaker;   // speaker id as the corpus spells it (e.g. "03", "Actor_01" -> "01");
                         // kUnknownSpeaker when the corpus does not know it (MSP-Podcast "Unknown")
  std::string group;     // fold group the speaker belongs to (IEMOCAP session "Ses01"); "" = none
  std::string split;     // the corpus's own partition ("train", "development", "test1", ...); "" = none
  std::map<std::string, std::string> fields;  // the corpus's own fields (text code, gender, ...)
};

// The speaker id of utterances whose speaker the corpus does not know. Speaker-based protocols
// leave such utterances out (they cannot be kept apart from any speaker); "predefined" keeps them.
inline constexpr const char* kUnknownSpeaker = "unknown";

struct Manifest {
  std::string corpus;                 // "emodb", "ravdess", "cremad", "tess", "csv", "synthetic"
  std::string root;                   // folder the paths are relative to ("" for synthetic)
  std::vector<std::string> class_names;  // index = integer label
  std::vector<Utterance> utterances;
  std::map<std::string, int> left_out;  // labels the corpus marks as no emotion (IEMOCAP xxx/oth,
                                        // MSP-Podcast O/X) -> how many utterances were dropped

  int label_index(const std::string& label) const;  // -1 when absent
  std::vector<std::string> speakers() const;        // sorted, unique
};

// Known corpora: "emodb", "ravdess", "cremad", "tess", "savee", "iemocap", "msppodcast", "csv"
// (DIR/manifest.csv or a .csv path: header path,label,speaker), "synthetic" (embedded generator;
// no folder). docs/corpora.md gives each corpus's conventions and their sources.
std::vector<std::string> corpus_names();

// Builds the manifest for `corpus` under `root` keeping only `class_set`:
//   "all"      — every class the corpus has, in the corpus's canonical order;
//   "paper4"   — angry, happy, sad, neutral (the paper's four);
//   "iemocap4" — neutral, happy+excited, angry, sad (IEMOCAP's usual four);
//   or a comma-separated list of canonical names ("angry,sad,neutral"), where "a+b" is one class
//   named a that also takes the utterances labelled b ("happy+excited").
// and, when `filter` is "FIELD=VALUE", only utterances whose corpus field FIELD equals VALUE
// (e.g. IEMOCAP "type=improvised"). Utterances whose class is outside the set are dropped; a file
// whose label cannot be parsed or is not a known emotion is an error naming the file. A missing
// folder is an error.
Manifest load_manifest(const std::string& corpus, const std::string& root,
                       const std::string& class_set = "all", const std::string& filter = "");

// A resolved class set: the class names (index = integer label) and which canonical labels each
// class takes (a label maps to at most one class).
struct ClassSet {
  std::vector<std::string> names;
  std::map<std::string, std::string> class_of_label;  // canonical label -> class name
};
ClassSet resolve_class_set_members(const std::string& corpus, const std::string& class_set);
// The class names a class set resolves to for a corpus (throws on unknown names).
std::vector<std::string> resolve_class_set(const std::string& corpus, const std::string& class_set);

// Canonical class order of a corpus ("all").
std::vector<std::string> corpus_classes(const std::string& corpus);

}  // namespace ser
