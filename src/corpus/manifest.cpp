// load_manifest: runs the corpus adapter, keeps the requested classes, orders the utterances.
#include <algorithm>
#include <set>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"
#include "ser/synthetic.hpp"

namespace ser {

int Manifest::label_index(const std::string& label) const {
  const auto it = std::find(class_names.begin(), class_names.end(), label);
  return it == class_names.end() ? -1 : int(it - class_names.begin());
}

std::vector<std::string> Manifest::speakers() const {
  std::set<std::string> unique;
  for (const Utterance& u : utterances) unique.insert(u.speaker);
  return {unique.begin(), unique.end()};
}

namespace {

corpus::Scan scan_corpus(const std::string& name, const std::string& root) {
  if (name == "emodb") return corpus::scan_emodb(root);
  if (name == "ravdess") return corpus::scan_ravdess(root);
  if (name == "cremad") return corpus::scan_cremad(root);
  if (name == "tess") return corpus::scan_tess(root);
  if (name == "csv") return corpus::scan_csv(root);
  throw Error("unknown corpus '" + name + "' (known: " + corpus::join(corpus_names(), ", ") + ")");
}

// A CSV corpus has the classes its rows use: "all" means those, in canonical order, and a named
// class that no row uses is an error as for the fixed corpora.
std::vector<std::string> csv_classes(const std::vector<Utterance>& utterances, const std::string& class_set,
                                     const std::string& where) {
  std::set<std::string> present;
  for (const Utterance& u : utterances) present.insert(u.label);
  const std::vector<std::string> requested = resolve_class_set("csv", class_set);
  const bool all = corpus::to_lower(corpus::trim(class_set)) == "all";
  std::vector<std::string> classes;
  for (const std::string& c : requested) {
    if (present.count(c)) {
      classes.push_back(c);
    } else if (!all) {
      throw file_error(where, "class set '" + class_set + "': no utterance is labelled '" + c + "' (labels present: " +
                                  corpus::join({present.begin(), present.end()}, " ") + ")");
    }
  }
  return classes;
}

}  // namespace

Manifest load_manifest(const std::string& corpus_name, const std::string& root, const std::string& class_set) {
  Manifest m;
  m.corpus = corpus_name;
  std::vector<Utterance> all;
  if (corpus_name == "synthetic") {
    // The generator's own order is kept: synthesize_utterance() addresses utterances by index.
    Manifest synth = synthetic_manifest(SyntheticCorpusConfig{});
    m.root = synth.root;
    all = std::move(synth.utterances);
    m.class_names = resolve_class_set(corpus_name, class_set);
  } else {
    // Fixed corpora: a bad class set is reported before the folder is scanned.
    if (corpus_name != "csv") m.class_names = resolve_class_set(corpus_name, class_set);
    corpus::Scan scan = scan_corpus(corpus_name, root);
    m.root = scan.root;
    all = std::move(scan.utterances);
    if (corpus_name == "csv") m.class_names = csv_classes(all, class_set, scan.source);
    std::sort(all.begin(), all.end(), [](const Utterance& a, const Utterance& b) { return a.path < b.path; });
  }

  for (Utterance& u : all) {
    if (m.label_index(u.label) >= 0) m.utterances.push_back(std::move(u));
  }
  if (m.utterances.empty()) {
    throw Error((root.empty() ? corpus_name : root) + ": no utterances of the classes " +
                corpus::join(m.class_names, " ") + " in the " + corpus_name + " corpus");
  }
  return m;
}

}  // namespace ser
