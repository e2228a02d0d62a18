// src/experiment/experiment_config.cpp — reading and validating experiments/NAME.toml.
#include "experiment/experiment_config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "util/toml_parse.hpp"
#include "ser/error.hpp"

namespace ser::experiment {
namespace fs = std::filesystem;

namespace {

const std::set<std::string> kKinds{"engine", "svm_linear", "svm_rbf", "knn", "gmm"};
const std::set<std::string> kApproaches{"hybrid", "cnn", "classic", "mlp"};

// The [experiment] section into c, checked.
void parse_experiment_section(const toml::table& e, const std::string& origin, ExperimentConfig& c) {
  TomlSection r(e, origin, "[experiment]");
  r.get("name", c.name); r.get("title", c.title); r.get("corpus", c.corpus); r.get("classes", c.classes);
  r.get("protocol", c.protocol); r.get("folds", c.folds); r.get("validation_speakers", c.validation_speakers);
  r.get("split_seed", c.split_seed); r.get("seeds", c.seeds); r.get("normalisation", c.normalisation);
  r.get("baseline", c.baseline); r.get("attention_examples", c.attention_examples);
  r.get("engine_refit", c.engine_refit);
  r.get("test_corpus", c.test_corpus); r.get("both_directions", c.both_directions);
  r.get("filter", c.filter); r.get("train_partition", c.train_partition);
  r.get("validation_partition", c.validation_partition); r.get("test_partition", c.test_partition);
  r.get("synthetic_speakers", c.synthetic_speakers); r.get("synthetic_per_emotion", c.synthetic_per_emotion);
  r.reject_unknown();
  if (c.title.empty()) c.title = c.name;
  const std::string ex = origin + ": [experiment] ";
  if (c.name.empty() || c.name.find('/') != std::string::npos) throw Error(ex + "name: must be a plain folder name");
  if (c.protocol != "loso" && c.protocol != "logo" && c.protocol != "kfold" && c.protocol != "predefined" &&
      c.protocol != "cross_corpus")
    throw Error(ex + "protocol: expected \"loso\", \"logo\", \"kfold\", \"predefined\" or \"cross_corpus\", found \"" +
                c.protocol + "\"");
  for (auto* p : {&c.train_partition, &c.validation_partition, &c.test_partition}) {
    std::transform(p->begin(), p->end(), p->begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    if (p->empty()) throw Error(ex + "train_partition, validation_partition and test_partition must not be empty");
  }
  if (c.train_partition == c.validation_partition || c.train_partition == c.test_partition ||
      c.validation_partition == c.test_partition)
    throw Error(ex + "train_partition, validation_partition and test_partition must be three different partitions");
  if (c.protocol == "kfold" && c.folds < 2) throw Error(ex + "folds: k-fold needs at least 2 folds");
  if (c.validation_speakers < 1) throw Error(ex + "validation_speakers: at least 1 (model selection needs them)");
  if (c.seeds.empty()) throw Error(ex + "seeds: at least one seed");
  if (c.normalisation != "training" && c.normalisation != "speaker")
    throw Error(ex + "normalisation: expected \"training\" or \"speaker\", found \"" + c.normalisation + "\"");
  if (c.protocol == "cross_corpus" && c.test_corpus.empty())
    throw Error(ex + "test_corpus: a cross_corpus experiment names the corpus it tests on");
  if (c.attention_examples < 0) throw Error(ex + "attention_examples: must be >= 0");
}

// [[model]] entry #(i + 1), checked; `names` holds the names taken so far.
ModelEntry parse_model(const toml::table& t, std::size_t i, const std::string& origin, const std::string& base_dir,
                       std::set<std::string>& names) {
  const std::string where = origin + ": [[model]] #" + std::to_string(i + 1);
  ModelEntry m;
  TomlSection mr(t, origin, "[[model]] #" + std::to_string(i + 1));
  mr.get("name", m.name); mr.get("kind", m.kind); mr.get("approach", m.approach);
  mr.get("description", m.description); mr.get("config", m.config);
  mr.get("epochs", m.epochs); mr.get("attention_after", m.attention_after);
  mr.reject_unknown();
  if (m.name.empty() || m.name.find_first_of("/ ") != std::string::npos)
    throw Error(where + " name: a non-empty name without spaces or slashes is needed");
  if (!names.insert(m.name).second) throw Error(where + " name: '" + m.name + "' is used twice");
  if (!kKinds.count(m.kind))
    throw Error(where + " kind: expected engine, svm_linear, svm_rbf, knn or gmm, found \"" + m.kind + "\"");
  if (m.approach.empty()) m.approach = m.kind == "engine" ? "cnn" : "classic";
  if (!kApproaches.count(m.approach))
    throw Error(where + " approach: expected hybrid, cnn, classic or mlp, found \"" + m.approach + "\"");
  if (m.kind == "engine") {
    if (m.config.empty()) throw Error(where + " config: an engine model needs a run config (.toml)");
    if (fs::path(m.config).is_relative()) m.config = (fs::path(base_dir) / m.config).lexically_normal().string();
    if (!fs::exists(m.config)) throw Error(where + " config: " + m.config + " does not exist");
  } else if (!m.config.empty()) {
    throw Error(where + " config: only engine models take a run config");
  }
  if (m.epochs < 0) throw Error(where + " epochs: must be >= 0");
  if (m.attention_after >= 0 && m.kind != "engine") throw Error(where + " attention_after: only for engine models");
  return m;
}

}  // namespace

ExperimentConfig parse_experiment_config(const std::string& text, const std::string& origin,
                                         const std::string& base_dir) {
  const toml::table root = parse_toml(text, origin);
  ExperimentConfig c;
  c.path = origin;
  c.name = fs::path(origin).stem().string();
  for (const auto& [k, v] : root)
    if (k.str() != "experiment" && k.str() != "model")
      throw Error(origin + ": unknown section or key '" + std::string(k.str()) + "' (expected [experiment] and [[model]])");
  const toml::table* e = root["experiment"].as_table();
  if (!e) throw Error(origin + ": missing the [experiment] section");
  parse_experiment_section(*e, origin, c);

  const toml::array* models = root["model"].as_array();
  if (!models || models->empty()) throw Error(origin + ": no [[model]] entries");
  std::set<std::string> names;
  for (std::size_t i = 0; i < models->size(); ++i) {
    const toml::table* t = (*models)[i].as_table();
    if (!t) throw Error(origin + ": [[model]] #" + std::to_string(i + 1) + ": expected a table");
    c.models.push_back(parse_model(*t, i, origin, base_dir, names));
  }
  if (!c.baseline.empty() && !names.count(c.baseline))
    throw Error(origin + ": [experiment] baseline: '" + c.baseline + "' is not one of the [[model]] names");
  return c;
}

ExperimentConfig load_experiment_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw file_error(path, "cannot be opened");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_experiment_config(ss.str(), path, fs::path(path).parent_path().string());
}

}  // namespace ser::experiment
