// Whole-model tests of the engine on the CPU: the backward of every layer, composed, against central
// finite differences in double precision; masking (an utterance's output does not depend on what it
// is batched with); every attention placement builds and runs; the memory plan; run-config errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "nn/model.hpp"
#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/model_config.hpp"
#include "ser/nn/loss.hpp"

namespace ser {
namespace {

using nn::Model;

ModelConfig tiny_config(int attention_after, const std::string& pool, bool prosody) {
  ModelConfig c;
  c.name = "tiny";
  c.conv_channels = {3, 4};
  c.conv_dropout = 0.2f;
  c.attention_after = attention_after;
  c.attention_heads = 2;
  c.attention_head_dim = 3;
  c.temporal_pool = pool;
  c.fuse_prosody = prosody;
  c.dense = {5};
  c.dropout = 0.25f;
  return c;
}

struct Problem {
  int n = 3, t = 13, mels = 8, prosody = 3, classes = 3;
  std::vector<int> lengths{13, 9, 6};
  std::vector<double> x, pros;
  std::vector<std::int32_t> labels{2, 0, 1};
};

Problem make_problem() {
  Problem p;
  p.x = test::random_nonzero<double>(static_cast<std::size_t>(p.n * p.t * p.mels), 11);
  for (int i = 0; i < p.n; ++i)  // zero beyond each length: the loader's padding
    for (int r = p.lengths[static_cast<std::size_t>(i)]; r < p.t; ++r)
      for (int j = 0; j < p.mels; ++j) p.x[static_cast<std::size_t>((i * p.t + r) * p.mels + j)] = 0;
  p.pros = test::random_nonzero<double>(static_cast<std::size_t>(p.n * p.prosody), 12);
  return p;
}

// Loss of the model on the problem in training mode (batch statistics, fixed dropout seed).
double loss_of(Model<double>& m, const Problem& p, bool with_backward) {
  const nn::ExecContext ctx;
  std::copy(p.x.begin(), p.x.end(), m.input());
  std::copy(p.pros.begin(), p.pros.end(), m.prosody_input());
  m.set_batch(ctx, p.n, p.t, p.lengths);
  const double* logits = m.forward(ctx, true, 77);
  const double loss = nn::softmax_xent_cpu<double>(p.n, p.classes, logits, p.labels.data(), nullptr,
                                                   with_backward ? m.dlogits() : nullptr, nullptr);
  if (with_backward) {
    std::fill(m.grads(), m.grads() + m.param_table().total(), 0.0);
    m.backward(ctx, 77, m.dlogits());
  }
  return loss;
}

// The gradients left in m.grads() by loss_of(m, p, true) against central finite differences of
// the loss over every parameter.
void expect_gradients_match_finite_differences(Model<double>& m, const Problem& p, const std::string& what) {
  const std::int64_t total = m.param_table().total();
  std::vector<double> analytic(m.grads(), m.grads() + total);
  std::vector<double> params(m.params(), m.params() + total);
  auto f = [&] {
    std::copy(params.begin(), params.end(), m.params());
    return loss_of(m, p, false);
  };
  test::expect_gradient_matches(what, params, analytic, f, 1e-6, 1e-4, 1e-8);
}

void check_model_gradients(int attention_after, const std::string& pool, bool prosody, int deltas = 0,
                           bool pre_norm = false) {
  const Problem p = make_problem();
  ModelConfig c = tiny_config(attention_after, pool, prosody);
  c.deltas = deltas;
  c.attention_pre_norm = pre_norm;
  Model<double> m(c, nn::ModelInputs{p.mels, prosody ? p.prosody : 0, p.classes});
  m.plan(nn::ExecContext{}, p.n, p.t, 5);
  // Running statistics change at every training forward; they do not enter the training loss.
  loss_of(m, p, true);
  expect_gradients_match_finite_differences(
      m, p, "model (attention_after=" + std::to_string(attention_after) + ", " + pool + ")");
}

// attention_identity_init: the output projection starts at zero, so the residual block is the
// identity; only the output projection receives a gradient at the first step, and the composed
// gradients still match finite differences.
TEST(NnModel, IdentityInitAttentionStartsAsTheIdentityAndStillLearns) {
  const Problem p = make_problem();
  ModelConfig c = tiny_config(2, "attention", true);
  c.attention_identity_init = true;
  Model<double> m(c, nn::ModelInputs{p.mels, p.prosody, p.classes});
  m.plan(nn::ExecContext{}, p.n, p.t, 5);
  // The same model without identity init differs only in the attention block's initial weights.
  ModelConfig plain = c;
  plain.attention_identity_init = false;
  Model<double> r(plain, nn::ModelInputs{p.mels, p.prosody, p.classes});
  r.plan(nn::ExecContext{}, p.n, p.t, 5);
  loss_of(m, p, true);
  int out_proj = 0, qkv = 0;
  for (const auto& e : m.param_table().entries()) {
    const double* w = m.params() + e.offset;
    const double* g = m.grads() + e.offset;
    double w_abs = 0, g_abs = 0, r_abs = 0;
    for (std::int64_t i = 0; i < e.count(); ++i) {
      w_abs += std::fabs(w[i]);
      g_abs += std::fabs(g[i]);
      r_abs += std::fabs(r.params()[e.offset + i]);
    }
    if (e.name.find("out_proj") != std::string::npos) {
      ++out_proj;
      EXPECT_EQ(w_abs, 0.0) << e.name;
      EXPECT_GT(r_abs, 0.0) << e.name << " (random init)";
      if (e.name.find("weight") != std::string::npos) {
        EXPECT_GT(g_abs, 0.0) << e.name << ": no gradient";
      }
    } else if (e.name.find("q_proj") != std::string::npos || e.name.find("k_proj") != std::string::npos ||
               e.name.find("v_proj") != std::string::npos) {
      ++qkv;
      EXPECT_GT(w_abs, 0.0) << e.name;
      EXPECT_EQ(g_abs, 0.0) << e.name << ": the zero output projection blocks its gradient";
    }
  }
  EXPECT_EQ(out_proj, 2);
  EXPECT_EQ(qkv, 6);
  expect_gradients_match_finite_differences(m, p, "model (identity-init attention after block 2)");
}

TEST(NnModel, GradientsMatchFiniteDifferencesAttentionAfterBlock1) { check_model_gradients(1, "attention", true); }
TEST(NnModel, GradientsMatchFiniteDifferencesAttentionAfterBlock2) { check_model_gradients(2, "mean", true); }
TEST(NnModel, GradientsMatchFiniteDifferencesNoAttention) { check_model_gradients(0, "attention", false); }
// Δ/ΔΔ input channels: the first convolution reads three channels (the deltas layer has no
// parameters and no input gradient).
TEST(NnModel, GradientsMatchFiniteDifferencesWithDeltaChannels) { check_model_gradients(1, "attention", true, 2); }
// Pre-norm attention: the layer norm's gain and bias are parameters too, and its backward sits
// between the projections' input gradient and the residual.
TEST(NnModel, GradientsMatchFiniteDifferencesPreNormAttention) {
  check_model_gradients(1, "attention", true, 0, true);
  check_model_gradients(2, "mean", true, 0, true);
}

TEST(NnModel, PreNormAttentionDeclaresUnitGainZeroBiasWithoutWeightDecay) {
  ModelConfig c = tiny_config(2, "attention", true);
  c.attention_pre_norm = true;
  Model<double> m(c, nn::ModelInputs{8, 3, 3});
  m.plan(nn::ExecContext{}, 2, 13, 5);  // allocates and initialises the parameters
  int found = 0;
  for (const auto& e : m.param_table().entries()) {
    if (e.name != "attention.norm.weight" && e.name != "attention.norm.bias") continue;
    ++found;
    EXPECT_EQ(e.count(), 4 * 2) << e.name << ": C * F of block 2";  // 4 channels x 8 / 2 / 2 mel rows
    EXPECT_FALSE(e.decay) << e.name;
    const double want = e.name == "attention.norm.weight" ? 1.0 : 0.0;
    for (std::int64_t i = 0; i < e.count(); ++i) EXPECT_EQ(m.params()[e.offset + i], want) << e.name << "[" << i << "]";
  }
  EXPECT_EQ(found, 2);
  c.attention_pre_norm = false;
  Model<double> plain(c, nn::ModelInputs{8, 3, 3});
  auto values = [](const Model<double>& model) {  // total() includes alignment gaps
    std::int64_t v = 0;
    for (const auto& e : model.param_table().entries()) v += e.count();
    return v;
  };
  EXPECT_EQ(values(m), values(plain) + 2 * 8);
  EXPECT_EQ(m.param_table().entries().size(), plain.param_table().entries().size() + 2);
}

// The MLP baseline: the functionals are the only input; the log-mel map must not matter.
TEST(NnModel, FunctionalsOnlyMlpGradientsAndIgnoresTheMap) {
  Problem p = make_problem();
  ModelConfig c = tiny_config(0, "mean", false);
  c.input = "functionals";
  c.dense = {6, 4};
  Model<double> m(c, nn::ModelInputs{p.mels, p.prosody, p.classes});
  ASSERT_EQ(m.layer(0).kind(), "functionals_input");
  m.plan(nn::ExecContext{}, p.n, p.t, 5);
  const double base = loss_of(m, p, true);
  const std::int64_t total = m.param_table().total();
  EXPECT_EQ(m.param_table().payload(), (3 * 6 + 6) + (6 * 4 + 4) + (4 * 3 + 3));  // three linear layers, nothing else
  std::vector<double> analytic(m.grads(), m.grads() + total);
  std::vector<double> params(m.params(), m.params() + total);
  auto f = [&] {
    std::copy(params.begin(), params.end(), m.params());
    return loss_of(m, p, false);
  };
  test::expect_gradient_matches("mlp on functionals", params, analytic, f, 1e-6, 1e-4, 1e-8);
  for (auto& v : p.x) v = -v * 3.0;  // a different map, same functionals: same loss
  std::copy(params.begin(), params.end(), m.params());
  EXPECT_DOUBLE_EQ(loss_of(m, p, false), base);
}

// In inference an utterance's logits must not depend on the other utterances of its batch or on
// how much padding the batch adds: masking keeps padded steps out of every layer.
// Run with and without Δ/ΔΔ input channels (the deltas replicate each utterance's own last frame,
// never the padding) and with pre-norm attention (padded tokens are not normalised).
struct PaddingCase {
  int deltas;
  bool pre_norm;
};
class NnModelPadding : public ::testing::TestWithParam<PaddingCase> {};

TEST_P(NnModelPadding, LogitsDoNotDependOnPaddingOrBatchmates) {
  const int mels = 8, classes = 3, prosody = 3;
  ModelConfig config = tiny_config(2, "attention", true);
  config.deltas = GetParam().deltas;
  config.attention_pre_norm = GetParam().pre_norm;
  Model<double> m(config, nn::ModelInputs{mels, prosody, classes});
  const nn::ExecContext ctx;
  m.plan(ctx, 3, 20, 9);
  // Make running statistics non-trivial first.
  Problem p = make_problem();
  std::copy(p.x.begin(), p.x.end(), m.input());
  std::copy(p.pros.begin(), p.pros.end(), m.prosody_input());
  m.set_batch(ctx, p.n, p.t, p.lengths);
  m.forward(ctx, true, 1);

  const int len = 9;
  const auto utt = test::random_nonzero<double>(static_cast<std::size_t>(len * mels), 21);
  const auto pv = test::random_nonzero<double>(static_cast<std::size_t>(prosody), 22);
  // Alone, padded to its own length.
  std::fill(m.input(), m.input() + 3 * 20 * mels, 0.0);
  std::copy(utt.begin(), utt.end(), m.input());
  std::copy(pv.begin(), pv.end(), m.prosody_input());
  m.set_batch(ctx, 1, len, {len});
  const double* l1 = m.forward(ctx, false, 0);
  const std::vector<double> alone(l1, l1 + classes);
  // Second in a batch padded to 20 frames, beside a longer and a shorter utterance.
  const auto other = test::random_nonzero<double>(static_cast<std::size_t>(3 * 20 * mels), 23);
  std::copy(other.begin(), other.end(), m.input());
  for (int r = 0; r < 20; ++r)
    for (int j = 0; j < mels; ++j) {
      m.input()[(1 * 20 + r) * mels + j] = r < len ? utt[static_cast<std::size_t>(r * mels + j)] : 0.0;
      if (r >= 7) m.input()[(2 * 20 + r) * mels + j] = 0.0;  // third utterance: 7 frames
    }
  const auto pother = test::random_nonzero<double>(9, 24);
  std::copy(pother.begin(), pother.end(), m.prosody_input());
  std::copy(pv.begin(), pv.end(), m.prosody_input() + prosody);
  m.set_batch(ctx, 3, 20, {20, len, 7});
  const double* l3 = m.forward(ctx, false, 0);
  for (int c = 0; c < classes; ++c) EXPECT_NEAR(l3[classes + c], alone[static_cast<std::size_t>(c)], 1e-12) << c;
}
INSTANTIATE_TEST_SUITE_P(Inputs, NnModelPadding,
                         ::testing::Values(PaddingCase{0, false}, PaddingCase{2, false}, PaddingCase{0, true}),
                         [](const ::testing::TestParamInfo<PaddingCase>& i) {
                           return std::string(i.param.deltas ? "Deltas" : "LogMel") + (i.param.pre_norm ? "PreNorm" : "");
                         });

TEST(NnModel, EveryAttentionPlacementBuildsAndRuns) {
  ModelConfig c;  // the default cnn_attn shape, scaled down
  c.conv_channels = {4, 4, 8, 8};
  c.attention_head_dim = 4;
  for (int after = 0; after <= 4; ++after) {
    c.attention_after = after;
    Model<float> m(c, nn::ModelInputs{64, 58, 7});
    const nn::ExecContext ctx;
    m.plan(ctx, 2, 40, 3);
    EXPECT_NE(m.plan_report().find("total"), std::string::npos);
    int attention_layers = 0;
    for (std::size_t i = 0; i < m.layer_count(); ++i) attention_layers += m.layer(i).kind() == "self_attention";
    EXPECT_EQ(attention_layers, after > 0 ? 1 : 0);
    const auto x = test::random_nonzero<float>(2 * 40 * 64, 5);
    std::copy(x.begin(), x.end(), m.input());
    const auto pr = test::random_nonzero<float>(2 * 58, 6);
    std::copy(pr.begin(), pr.end(), m.prosody_input());
    m.set_batch(ctx, 2, 40, {40, m.min_frames()});
    const float* logits = m.forward(ctx, true, 1);
    for (int i = 0; i < 2 * 7; ++i) EXPECT_TRUE(std::isfinite(logits[i])) << "placement " << after;
  }
}

TEST(NnModel, RejectsLengthsOutsideThePlan) {
  Model<float> m(tiny_config(1, "mean", false), nn::ModelInputs{8, 0, 3});
  const nn::ExecContext ctx;
  m.plan(ctx, 2, 10, 1);
  EXPECT_THROW(m.set_batch(ctx, 3, 10, {10, 10, 10}), Error);
  EXPECT_THROW(m.set_batch(ctx, 2, 11, {11, 11}), Error);
  EXPECT_THROW(m.set_batch(ctx, 2, 10, {10, m.min_frames() - 1}), Error);
}

TEST(RunConfig, ParsesAndRoundTrips) {
  const RunConfig c = parse_run_config(
      "[model]\nconv_channels = [8, 16]\nattention_after = 2\ntemporal_pool = \"mean\"\n"
      "[train]\nepochs = 3\nlr = 0.002\noptimizer = \"adam\"\n", "x.toml");
  EXPECT_EQ(c.model.conv_channels, (std::vector<int>{8, 16}));
  EXPECT_EQ(c.model.attention_after, 2);
  EXPECT_EQ(c.train.epochs, 3);
  EXPECT_FLOAT_EQ(c.train.lr, 0.002f);
  const RunConfig back = parse_run_config(to_toml(c), "back.toml");
  EXPECT_EQ(to_toml(back), to_toml(c));
  // The recipe options round-trip too.
  const RunConfig r = parse_run_config(
      "[model]\nattention_identity_init = true\nattention_pre_norm = true\ndeltas = 2\n[train]\ntime_masks = 2\ntime_mask_frames = 30\n"
      "freq_masks = 1\nfreq_mask_bins = 12\nlabel_smoothing = 0.1\nmixup_alpha = 0.2\n", "recipe.toml");
  EXPECT_TRUE(r.model.attention_identity_init);
  EXPECT_TRUE(r.model.attention_pre_norm);
  EXPECT_TRUE(parse_run_config(to_toml(r), "back.toml").model.attention_pre_norm);
  EXPECT_EQ(r.model.deltas, 2);
  EXPECT_EQ(r.train.time_masks, 2);
  EXPECT_EQ(r.train.time_mask_frames, 30);
  EXPECT_EQ(r.train.freq_masks, 1);
  EXPECT_EQ(r.train.freq_mask_bins, 12);
  EXPECT_FLOAT_EQ(r.train.label_smoothing, 0.1f);
  EXPECT_FLOAT_EQ(r.train.mixup_alpha, 0.2f);
  EXPECT_EQ(to_toml(parse_run_config(to_toml(r), "again")), to_toml(r));
}

// The error parse_run_config gives for `text` (named bad.toml), or "no error".
std::string message(const std::string& text) {
  try {
    parse_run_config(text, "bad.toml");
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::string("no error");
}

TEST(RunConfig, FunctionalsInputRulesAndRoundTrip) {
  const RunConfig c = parse_run_config("[model]\ninput = \"functionals\"\nconv_channels = []\nattention_after = 0\n"
                                       "fuse_prosody = false\ndense = [32]\n", "mlp.toml");
  EXPECT_TRUE(c.model.functionals_only());
  EXPECT_TRUE(c.model.uses_functionals());
  EXPECT_EQ(parse_run_config(to_toml(c), "again").model.input, "functionals");
  EXPECT_NE(message("[model]\ninput = \"wav\"\n").find("[model] input"), std::string::npos);
  // The convolution, attention and fusion keys do not apply to the MLP and are ignored, defaults included.
  const RunConfig d = parse_run_config("[model]\ninput = \"functionals\"\nattention_after = 9\n", "mlp.toml");
  Model<double> m(d.model, nn::ModelInputs{8, 5, 3});
  for (std::size_t i = 0; i < m.layer_count(); ++i) {
    EXPECT_NE(m.layer(i).kind(), "conv2d");
    EXPECT_NE(m.layer(i).kind(), "self_attention");
    EXPECT_NE(m.layer(i).kind(), "concat_prosody");
  }
  EXPECT_EQ(m.layer(0).kind(), "functionals_input");
}

TEST(RunConfig, ErrorsNameTheFileAndKey) {
  EXPECT_NE(message("[model]\nconv_chanels = [8]\n").find("bad.toml: unknown key [model] conv_chanels"), std::string::npos);
  EXPECT_NE(message("[model]\nattention_after = 9\n").find("attention_after"), std::string::npos);
  EXPECT_NE(message("[train]\nlr = \"fast\"\n").find("[train] lr: expected a number"), std::string::npos);
  EXPECT_NE(message("[model\n").find("bad.toml:1: TOML syntax error"), std::string::npos);
  EXPECT_NE(message("[training]\n").find("unknown section"), std::string::npos);
  EXPECT_NE(message("[model]\ntemporal_pool = \"max\"\n").find("temporal_pool"), std::string::npos);
  EXPECT_NE(message("[train]\ntime_masks = -1\n").find("[train] time_masks"), std::string::npos);
  EXPECT_NE(message("[train]\nfreq_mask_bins = -3\n").find("[train] freq_mask_bins"), std::string::npos);
  EXPECT_NE(message("[train]\nlabel_smoothing = 1.0\n").find("[train] label_smoothing"), std::string::npos);
  EXPECT_NE(message("[train]\nlabel_smoothing = -0.1\n").find("[train] label_smoothing"), std::string::npos);
  EXPECT_NE(message("[train]\nmixup_alpha = -1\n").find("[train] mixup_alpha"), std::string::npos);
  EXPECT_NE(message("[model]\ndeltas = 3\n").find("[model] deltas"), std::string::npos);
}

}  // namespace
}  // namespace ser
