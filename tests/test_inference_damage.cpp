// tests/test_inference_damage.cpp — model files whose numbers are damaged (found by fuzz_model_file,
// docs/fuzzing.md): a NaN or infinite weight is refused at load, naming the tensor, and finite
// weights that overflow give an error for the input instead of NaN probabilities.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "checkpoint_test_util.hpp"
#include "ser/feature_config.hpp"
#include "ser/inference.hpp"
#include "ser/prosody.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

engine::Checkpoint loadable_checkpoint() {
  const RunConfig rc = parse_run_config("[model]\nname = \"tiny\"\nconv_channels = [4, 8]\nattention_after = 2\n"
                                        "attention_heads = 2\nattention_head_dim = 4\ndense = [8]\n", "test config");
  const FeatureConfig fc;
  engine::Checkpoint ck = test::random_model_checkpoint(rc, fc.logmel.n_mels, static_cast<int>(functional_names().size()),
                                                       {"angry", "neutral", "sad"}, 41);
  ck.feature_config_json = fc.to_json();
  return ck;
}

std::vector<float> one_second() {
  std::vector<float> x(16000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * std::sin(0.05f * static_cast<float>(i));
  return x;
}

TEST(InferenceDamage, TheUndamagedModelClassifies) {
  test::TempDir dir;
  engine::write_checkpoint(dir.file("m.h5"), loadable_checkpoint());
  const Classifier clf = Classifier::load(dir.file("m.h5"), "cpu");
  const auto x = one_second();
  const Prediction p = clf.classify(x.data(), x.size(), 16000);
  ASSERT_EQ(p.probabilities.size(), 3u);
  for (const float q : p.probabilities) EXPECT_TRUE(std::isfinite(q));
}

TEST(InferenceDamage, ANanOrInfiniteWeightIsRefusedNamingTheTensor) {
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    test::TempDir dir;
    engine::Checkpoint ck = loadable_checkpoint();
    const nn::ParamEntry& e = ck.param_entries.back();
    ck.params[static_cast<std::size_t>(e.offset)] = bad;
    engine::write_checkpoint(dir.file("m.h5"), ck);
    test::expect_error([&] { (void)Classifier::load(dir.file("m.h5"), "cpu"); },
                       {dir.file("m.h5"), "tensor '" + e.name + "'", "NaN or infinite"});
  }
}

TEST(InferenceDamage, WeightsThatOverflowAreAnErrorNotNanProbabilities) {
  test::TempDir dir;
  engine::Checkpoint ck = loadable_checkpoint();
  for (float& w : ck.params) w *= 1e30f;  // finite, but the first layers overflow
  engine::write_checkpoint(dir.file("m.h5"), ck);
  const Classifier clf = Classifier::load(dir.file("m.h5"), "cpu");
  const auto x = one_second();
  test::expect_error([&] { (void)clf.classify(x.data(), x.size(), 16000); }, {dir.file("m.h5"), "NaN or infinite logit"});
}

}  // namespace
}  // namespace ser
