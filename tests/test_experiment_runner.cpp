// tests/test_experiment_runner.cpp — `ser experiment`: experiment files, derived caches, and a whole (tiny) experiment on the synthetic corpus through the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "experiment/experiment_config.hpp"
#include "experiment/feature_sets.hpp"
#include "ser/build_info.hpp"
#include "ser/error.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

using namespace experiment;

std::string config_error(const std::string& text, const std::string& dir = ".") {
  try {
    parse_experiment_config(text, "x.toml", dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ExperimentConfigFile, ParsesModelsAndNamesTheKeyOfEveryError) {
  test::TempDir dir;
  { std::ofstream(dir.file("run.toml")) << "[model]\nconv_channels = [4]\n"; }
  const std::string head = "[experiment]\nprotocol = \"kfold\"\nfolds = 3\nseeds = [1, 2]\nbaseline = \"b\"\n";
  const ExperimentConfig c = parse_experiment_config(
      head + "[[model]]\nname = \"a\"\nkind = \"engine\"\nconfig = \"run.toml\"\nattention_after = 1\n"
             "[[model]]\nname = \"b\"\nkind = \"svm_rbf\"\n",
      "x.toml", dir.path().string());
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].config, dir.file("run.toml"));
  EXPECT_EQ(c.models[0].approach, "cnn");
  EXPECT_EQ(c.models[1].approach, "classic");
  EXPECT_EQ(c.seeds, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(c.name, "x");
  const std::string d = dir.path().string();
  EXPECT_NE(config_error(head + "[[model]]\nname = \"b\"\nkind = \"svm_rbf\"\ncolour = 1\n", d).find("colour"), std::string::npos);
  EXPECT_NE(config_error(head + "[[model]]\nname = \"b\"\nkind = \"forest\"\n", d).find("kind"), std::string::npos);
  EXPECT_NE(config_error(head + "[[model]]\nname = \"b\"\nkind = \"knn\"\n[[model]]\nname = \"b\"\nkind = \"gmm\"\n", d)
                .find("used twice"), std::string::npos);
  EXPECT_NE(config_error(head + "[[model]]\nname = \"b\"\nkind = \"engine\"\nconfig = \"none.toml\"\n", d)
                .find("does not exist"), std::string::npos);
  EXPECT_NE(config_error("[experiment]\nbaseline = \"zz\"\n[[model]]\nname = \"b\"\nkind = \"knn\"\n", d).find("baseline"),
            std::string::npos);
  EXPECT_NE(config_error("[experiment]\nprotocol = \"random\"\n[[model]]\nname = \"b\"\nkind = \"knn\"\n", d).find("protocol"),
            std::string::npos);
  EXPECT_NE(config_error("[experiment]\nnormalisation = \"global\"\n[[model]]\nname = \"b\"\nkind = \"knn\"\n", d)
                .find("normalisation"), std::string::npos);
  EXPECT_NE(config_error("[experiment]\n", d).find("no [[model]]"), std::string::npos);
  EXPECT_NE(config_error("[experiment]\nengine_refit = 1\n[[model]]\nname = \"b\"\nkind = \"knn\"\n", d)
                .find("engine_refit: expected true or false"), std::string::npos);
  EXPECT_TRUE(parse_experiment_config("[experiment]\nengine_refit = true\n[[model]]\nname = \"b\"\nkind = \"knn\"\n",
                                      "x.toml", d).engine_refit);
}

FeatureCache small_cache() {
  FeatureCache c;
  c.config.logmel.n_mels = 3;
  c.class_names = {"angry", "sad"};
  c.functional_names = {"f0", "f1"};
  c.speakers = {"a", "a", "b", "b"};
  c.paths = {"1.wav", "2.wav", "3.wav", "4.wav"};
  c.labels = {0, 1, 0, 1};
  c.offsets = {0, 2, 5, 7, 8};
  const auto v = test::random_signal(8 * 3, 5, 0.5f, 3.0f);
  c.logmel.assign(v.begin(), v.end());
  const auto w = test::random_signal(4 * 2, 6, -2.0f, 4.0f);
  c.functionals.assign(w.begin(), w.end());
  return c;
}

TEST(ExperimentFeatures, SpeakerNormalisationUsesEachSpeakersOwnStatistics) {
  const FeatureCache c = speaker_normalised(small_cache());
  auto check = [](const std::vector<float>& data, int cols, std::int64_t r0, std::int64_t r1) {
    for (int j = 0; j < cols; ++j) {
      double s = 0, s2 = 0;
      for (std::int64_t r = r0; r < r1; ++r) {
        s += data[static_cast<std::size_t>(r * cols + j)];
        s2 += double(data[static_cast<std::size_t>(r * cols + j)]) * data[static_cast<std::size_t>(r * cols + j)];
      }
      const double n = double(r1 - r0), mean = s / n;
      EXPECT_NEAR(mean, 0.0, 1e-5);
      EXPECT_NEAR(s2 / n - mean * mean, 1.0, 1e-4);
    }
  };
  check(c.logmel, 3, 0, 5);  // speaker a: frames of utterances 0 and 1
  check(c.logmel, 3, 5, 8);  // speaker b
  check(c.functionals, 2, 0, 2);
  check(c.functionals, 2, 2, 4);
}

TEST(ExperimentFeatures, MergedCachesKeepCorporaApartAndOffsetsConsistent) {
  const FeatureCache a = small_cache(), b = small_cache();
  const FeatureCache m = merge_caches(a, "emodb", b, "synthetic");
  ASSERT_EQ(m.n_utterances(), 8u);
  EXPECT_EQ(m.speakers[0], "emodb:a");
  EXPECT_EQ(m.speakers[4], "synthetic:a");
  EXPECT_EQ(m.offsets.back(), 16);
  EXPECT_EQ(m.offsets[5], 10);
  EXPECT_EQ(m.logmel.size(), 16u * 3);
  EXPECT_EQ(m.logmel[static_cast<std::size_t>(8 * 3 + 4)], b.logmel[4]);
  FeatureCache other = small_cache();
  other.class_names = {"angry", "happy"};
  EXPECT_THROW(merge_caches(a, "emodb", other, "x"), Error);
}

// A whole experiment through the CLI on a tiny synthetic corpus: engine and classic models, results
// files, and a second invocation that reuses every finished run instead of training again.
TEST(ExperimentRun, TinySyntheticExperimentWritesResultsAndReusesFinishedRuns) {
  test::TempDir dir;
  { std::ofstream(dir.file("cnn.toml")) << "[model]\nconv_channels = [4, 8]\nattention_after = 0\ntemporal_pool = \"mean\"\n"
                                            "fuse_prosody = false\ndense = [16]\n[train]\nepochs = 2\nbatch_size = 8\n"; }
  { std::ofstream(dir.file("hybrid.toml")) << "[model]\nconv_channels = [4, 8]\nattention_after = 2\nattention_heads = 2\n"
                                               "attention_head_dim = 4\ndense = [16]\n[train]\nepochs = 2\nbatch_size = 8\n"; }
  { std::ofstream(dir.file("mlp.toml")) << "[model]\ninput = \"functionals\"\nfuse_prosody = false\nattention_after = 0\n"
                                            "functionals = \"utterance\"\ndense = [16]\n[train]\nepochs = 3\nbatch_size = 8\n"; }
  { std::ofstream(dir.file("tiny.toml")) << "[experiment]\nname = \"tiny\"\ncorpus = \"synthetic\"\nprotocol = \"kfold\"\n"
      "folds = 2\nvalidation_speakers = 1\nsynthetic_speakers = 4\nsynthetic_per_emotion = 1\nbaseline = \"cnn\"\n"
      "attention_examples = 1\n"
      "[[model]]\nname = \"hybrid\"\nkind = \"engine\"\napproach = \"hybrid\"\nconfig = \"hybrid.toml\"\n"
      "[[model]]\nname = \"cnn\"\nkind = \"engine\"\nconfig = \"cnn.toml\"\n"
      "[[model]]\nname = \"svm_rbf\"\nkind = \"svm_rbf\"\n"
      "[[model]]\nname = \"gmm\"\nkind = \"gmm\"\n"
      "[[model]]\nname = \"mlp\"\nkind = \"engine\"\napproach = \"mlp\"\nconfig = \"mlp.toml\"\n"; }
  std::string out;
  const std::string cmd = std::string("experiment ").append(dir.file("tiny.toml")).append(" --runs ").append(dir.file("runs"))
                              .append(" --device cpu --no-progress");
  ASSERT_EQ(test::run_ser(cmd, &out), 0) << out;
  const std::filesystem::path res = dir.path() / "runs" / "tiny";
  std::ifstream in((res / "results.json").string());
  const nlohmann::json r = nlohmann::json::parse(in);
  EXPECT_EQ(r["class_names"].size(), 7u);
  EXPECT_TRUE(r["synthetic"].get<bool>());
  // The commit is the one the binary was built from, not that of the working directory's checkout;
  // built from a git checkout it is a hash, "+dirty" when the tree had changes.
  EXPECT_EQ(r["commit"], build_commit());
  EXPECT_EQ(r["models"]["svm_rbf"]["folds"][0]["commit"], build_commit());
  if (std::filesystem::exists(std::string(SER_REPO_DIR) + "/.git")) {
    EXPECT_TRUE(std::regex_match(std::string(build_commit()), std::regex("[0-9a-f]{7,}(\\+dirty)?"))) << build_commit();
  }
  for (const char* name : {"hybrid", "cnn", "svm_rbf", "gmm", "mlp"}) {
    const auto& m = r["models"][name];
    ASSERT_EQ(m["folds"].size(), 2u) << name;
    std::set<std::string> tested;
    for (const auto& f : m["folds"]) {
      for (const auto& s : f["test_speakers"]) EXPECT_TRUE(tested.insert(s.get<std::string>()).second);
      long total = 0;
      for (const auto& row : f["confusion"]) for (const auto& v : row) total += v.get<long>();
      EXPECT_EQ(total, 2 * 7) << name;  // 2 test speakers x 7 emotions x 1 utterance
      EXPECT_GE(f["ua"].get<double>(), 0.0);
    }
    EXPECT_EQ(tested.size(), 4u) << name;
    EXPECT_TRUE(m.contains("ua_mean") && m.contains("ua_std") && m.contains("accuracy_mean") && m.contains("macro_f1_mean"))
        << name;
    EXPECT_GT(m["parameters"].get<long>(), 0) << name;
  }
  EXPECT_FALSE(r["models"]["hybrid"]["folds"][0]["learning_curve"].empty());
  EXPECT_EQ(r["models"]["mlp"]["folds"][0]["learning_curve"].size(), 3u);
  ASSERT_EQ(r["attention_examples"].size(), 1u);
  const auto& ex = r["attention_examples"][0];
  double total_attention = 0;
  for (const auto& a : ex["attention"]) total_attention += a.get<double>();
  EXPECT_NEAR(total_attention, 1.0, 1e-6);
  EXPECT_EQ(ex["attention"].size(), ex["logmel"].size());
  EXPECT_TRUE(r.contains("significance"));
  EXPECT_TRUE(std::filesystem::exists(res / "results.md"));
  EXPECT_TRUE(std::filesystem::exists(res / "report.html"));
  EXPECT_TRUE(std::filesystem::exists(res / "models" / "hybrid" / "seed1" / "fold0" / "best.h5"));

  // The MLP reads MFCC statistics + functionals: predict and export compute that vector themselves.
  const std::string mlp = (res / "models" / "mlp" / "seed1" / "fold0" / "best.h5").string();
  std::string predicted;
  ASSERT_EQ(test::run_ser(std::string("predict --model ").append(mlp).append(" --cache ")
                              .append((res / "features_synthetic.h5").string()).append(" --limit 3 --format json --device cpu"),
                          &predicted), 0) << predicted;
  EXPECT_NE(predicted.find("\"probabilities\""), std::string::npos) << predicted;
  std::string exported;
  EXPECT_EQ(test::run_ser(std::string("export --checkpoint ").append(mlp).append(" --format onnx --out ")
                              .append(dir.file("mlp.onnx")), &exported), 0) << exported;

  std::string again;
  ASSERT_EQ(test::run_ser(cmd, &again), 0) << again;
  EXPECT_NE(again.find(std::string("reusing ").append((res / "features_synthetic.h5").string())), std::string::npos) << again;
  std::size_t reused = 0;
  for (std::size_t p = again.find("reusing the finished run"); p != std::string::npos;
       p = again.find("reusing the finished run", p + 1)) ++reused;
  EXPECT_EQ(reused, 10u) << again;
  std::ifstream in2((res / "results.json").string());
  const nlohmann::json r2 = nlohmann::json::parse(in2);
  EXPECT_EQ(r2["models"]["hybrid"]["ua_mean"], r["models"]["hybrid"]["ua_mean"]);
}

// engine_refit: every engine run is retrained on training + validation speakers for the epoch count
// its validation run chose; the fold reports the refit's test results and keeps the validation-selected
// model's beside them, and the aggregate compares the two on the same utterances.
TEST(ExperimentRun, EngineRefitTestsTheRetrainedModelAndKeepsTheSelectedOne) {
  test::TempDir dir;
  { std::ofstream(dir.file("cnn.toml")) << "[model]\nconv_channels = [4, 8]\nattention_after = 0\ntemporal_pool = \"mean\"\n"
                                            "fuse_prosody = false\ndense = [16]\n[train]\nepochs = 3\nbatch_size = 8\n"; }
  { std::ofstream(dir.file("refit.toml")) << "[experiment]\nname = \"refit\"\ncorpus = \"synthetic\"\nprotocol = \"kfold\"\n"
      "folds = 2\nvalidation_speakers = 1\nsynthetic_speakers = 4\nsynthetic_per_emotion = 2\nattention_examples = 0\n"
      "engine_refit = true\nbaseline = \"svm\"\n"
      "[[model]]\nname = \"cnn\"\nkind = \"engine\"\nconfig = \"cnn.toml\"\n"
      "[[model]]\nname = \"svm\"\nkind = \"svm_rbf\"\n"; }
  std::string out;
  ASSERT_EQ(test::run_ser(std::string("experiment ").append(dir.file("refit.toml")).append(" --runs ")
                              .append(dir.file("runs")).append(" --device cpu --no-progress"), &out), 0) << out;
  const std::filesystem::path res = dir.path() / "runs" / "refit";
  std::ifstream in((res / "results.json").string());
  const nlohmann::json r = nlohmann::json::parse(in);
  EXPECT_NE(r["protocol"]["engine_models"].get<std::string>().find("refit"), std::string::npos);
  const auto& cnn = r["models"]["cnn"];
  ASSERT_EQ(cnn["folds"].size(), 2u);
  double selected_ua = 0;
  for (const auto& f : cnn["folds"]) {
    const int e = f["best_epoch"].get<int>();
    EXPECT_EQ(f["refit_epochs"], e);
    const std::filesystem::path run = res / "models" / "cnn" / "seed1" / ("fold" + f["fold"].dump());
    std::ifstream sin((run / ("refit_e" + std::to_string(e)) / "summary.json").string());
    const auto summary = nlohmann::json::parse(sin);
    // The refit trains on the fold's training and validation speakers: every speaker but the test ones.
    EXPECT_EQ(summary["split"]["train"].size(), 4u - f["test_speakers"].size());
    for (const auto& v : f["validation_speakers"])
      EXPECT_NE(std::find(summary["split"]["train"].begin(), summary["split"]["train"].end(), v), summary["split"]["train"].end());
    EXPECT_EQ(f["ua"], summary["test"]["ua"]);  // the fold reports the refit model
    const auto& sel = f["validation_selected"];
    std::ifstream selin((run / "summary.json").string());
    EXPECT_EQ(sel["ua"], nlohmann::json::parse(selin)["test"]["ua"]);
    EXPECT_EQ(sel["predictions"]["paths"], f["predictions"]["paths"]);
    EXPECT_FALSE(std::filesystem::exists(run / ("refit_e" + std::to_string(e)) / "last.h5"));
    selected_ua += sel["ua"].get<double>() / 2;
  }
  ASSERT_TRUE(cnn.contains("refit_effect"));
  EXPECT_NEAR(cnn["refit_effect"]["validation_selected_ua_mean"].get<double>(), selected_ua, 1e-12);
  EXPECT_TRUE(cnn["refit_effect"]["validation_selected_pooled_ua"].is_number());
  EXPECT_TRUE(cnn["refit_effect"]["per_utterance"].contains("p_value") ||
              cnn["refit_effect"]["per_utterance"].contains("reason"));
  EXPECT_FALSE(r["models"]["svm"].contains("refit_effect"));
  std::ifstream md((res / "results.md").string());
  const std::string text{std::istreambuf_iterator<char>(md), std::istreambuf_iterator<char>()};
  EXPECT_NE(text.find("Refit engine models"), std::string::npos);

  // Interrupted during a refit (its summary and the fold's result not yet written): started again,
  // the fold reuses its finished validation run (summary.json keeps every test posterior) instead of
  // training it again, and ends with the same results.
  const std::filesystem::path run0 = res / "models" / "cnn" / "seed1" / "fold0";
  const int e0 = cnn["folds"][0]["best_epoch"].get<int>();
  std::ifstream s0in((run0 / "summary.json").string());
  const auto summary0 = nlohmann::json::parse(s0in);
  ASSERT_EQ(summary0["test_predictions"][0]["probabilities"].size(), r["class_names"].size());
  std::filesystem::remove(run0 / "fold.json");
  std::filesystem::remove(run0 / ("refit_e" + std::to_string(e0)) / "summary.json");
  std::filesystem::remove(run0 / ("refit_e" + std::to_string(e0)) / "best.h5");
  ASSERT_EQ(test::run_ser(std::string("experiment ").append(dir.file("refit.toml")).append(" --runs ")
                              .append(dir.file("runs")).append(" --device cpu --no-progress"), &out), 0) << out;
  const std::string train_log = test::read_all((run0 / "train.log").string());
  EXPECT_NE(train_log.find("reusing the finished training run in " + run0.string()), std::string::npos) << train_log;
  std::ifstream again_in((res / "results.json").string());
  const nlohmann::json again = nlohmann::json::parse(again_in);
  for (const char* key : {"ua", "best_epoch", "validation_ua", "predictions", "validation_selected"})
    EXPECT_EQ(again["models"]["cnn"]["folds"][0][key], cnn["folds"][0][key]) << key;
}

TEST(ExperimentRun, BadInputsAreClearErrors) {
  test::TempDir dir;
  { std::ofstream(dir.file("e.toml")) << "[experiment]\ncorpus = \"emodb\"\n[[model]]\nname = \"k\"\nkind = \"knn\"\n"; }
  std::string out;
  EXPECT_EQ(test::run_ser(std::string("experiment ").append(dir.file("e.toml")).append(" --runs ").append(dir.file("runs")), &out), 1);
  EXPECT_NE(out.find("--data"), std::string::npos) << out;
  EXPECT_EQ(test::run_ser(std::string("experiment ").append(dir.file("missing.toml")), &out), 1);
  EXPECT_NE(out.find("missing.toml"), std::string::npos) << out;
}

}  // namespace
}  // namespace ser

namespace ser {
namespace {

// Every experiment file shipped in experiments/ parses, and the models' run configs exist.
TEST(ExperimentConfigFile, EveryShippedExperimentFileParses) {
  int parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SER_REPO_DIR) + "/experiments")) {
    if (entry.path().extension() != ".toml") continue;
    std::ifstream in(entry.path());
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (text.find("[experiment]") == std::string::npos) continue;  // a run config
    EXPECT_NO_THROW(experiment::load_experiment_config(entry.path().string())) << entry.path();
    ++parsed;
  }
  EXPECT_GE(parsed, 10);
}

}  // namespace
}  // namespace ser
