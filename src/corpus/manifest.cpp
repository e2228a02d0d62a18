// load_manifest: runs the corpus adapter, keeps the requested classes (merging where the class set
// says so) and the filtered utterances, orders them.
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
  if (name == "savee") return corpus::scan_savee(root);
  if (name == "iemocap") return corpus::scan_iemocap(root);
  if (name == "msppodcast") return corpus::scan_msppodcast(root);
  if (name == "csv") return corpus::scan_csv(root);
  throw Error("unknown corpus '" + name + "' (known: " + corpus::join(corpus_names(), ", ") + ")");
}

// A CSV corpus has the classes its rows use: "all" means those, in canonical order, and a named
// class that no row uses is an error as for the fixed corpora.
ClassSet csv_classes(const std::vector<Utterance>& utterances, const std::string& class_set, const std::string& where) {
  std::set<std::string> present;
  for (const Utterance& u : utterances) present.insert(u.label);
  const ClassSet requested = resolve_class_set_members("csv", class_set);
  const bool all = corpus::to_lower(corpus::trim(class_set)) == "all";
  ClassSet out;
  for (const auto& [label, cls] : requested.class_of_label) {
    if (present.count(label)) out.class_of_label[label] = cls;
  }
  for (const std::string& c : requested.names) {
    const bool used = std::any_of(out.class_of_label.begin(), out.class_of_label.end(),
                                  [&](const auto& kv) { return kv.second == c; });
    if (used) {
      out.names.push_back(c);
    } else if (!all) {
      throw file_error(where, "class set '" + class_set + "': no utterance is labelled '" + c + "' (labels present: " +
                                  corpus::join({present.begin(), present.end()}, " ") + ")");
    }
  }
  return out;
}

struct Filter {
  std::string field, value;  // empty field = keep everything
};

Filter parse_filter(const std::string& text) {
  const std::string t = corpus::trim(text);
  if (t.empty()) return {};
  const auto eq = t.find('=');
  if (eq == std::string::npos || corpus::trim(t.substr(0, eq)).empty())
    throw Error("filter '" + text + "': expected FIELD=VALUE (e.g. type=improvised)");
  return {corpus::trim(t.substr(0, eq)), corpus::trim(t.substr(eq + 1))};
}

}  // namespace

Manifest load_manifest(const std::string& corpus_name, const std::string& root, const std::string& class_set,
                       const std::string& filter_text) {
  Manifest m;
  m.corpus = corpus_name;
  const Filter filter = parse_filter(filter_text);
  std::vector<Utterance> all;
  ClassSet classes;
  if (corpus_name == "synthetic") {
    // The generator's own order is kept: synthesize_utterance() addresses utterances by index.
    Manifest synth = synthetic_manifest(SyntheticCorpusConfig{});
    m.root = synth.root;
    all = std::move(synth.utterances);
    classes = resolve_class_set_members(corpus_name, class_set);
  } else {
    // Fixed corpora: a bad class set is reported before the folder is scanned.
    if (corpus_name != "csv") classes = resolve_class_set_members(corpus_name, class_set);
    corpus::Scan scan = scan_corpus(corpus_name, root);
    m.root = scan.root;
    m.left_out = scan.left_out;
    all = std::move(scan.utterances);
    if (corpus_name == "csv") classes = csv_classes(all, class_set, scan.source);
    std::sort(all.begin(), all.end(), [](const Utterance& a, const Utterance& b) { return a.path < b.path; });
  }
  m.class_names = classes.names;

  bool field_seen = false;
  for (Utterance& u : all) {
    if (!filter.field.empty()) {
      const auto f = u.fields.find(filter.field);
      field_seen |= f != u.fields.end();
      if (f == u.fields.end() || f->second != filter.value) continue;
    }
    const auto cls = classes.class_of_label.find(u.label);
    if (cls == classes.class_of_label.end()) continue;
    u.label = cls->second;
    m.utterances.push_back(std::move(u));
  }
  if (!filter.field.empty() && !field_seen) {
    throw Error((root.empty() ? corpus_name : root) + ": filter '" + filter_text + "': the " + corpus_name +
                " corpus has no field '" + filter.field + "' (see `ser corpus` for its fields)");
  }
  if (m.utterances.empty()) {
    throw Error((root.empty() ? corpus_name : root) + ": no utterances of the classes " +
                corpus::join(m.class_names, " ") + " in the " + corpus_name + " corpus" +
                (filter.field.empty() ? "" : " with " + filter.field + " = " + filter.value));
  }
  return m;
}

}  // namespace ser
