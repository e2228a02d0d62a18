// One whole training step (forward, loss, backward, gradient clipping, AdamW) of cnn_attn on the GPU
// against the same step on the CPU twin, from the same weights and batch, for both kernel paths.
// Skips without a usable GPU.
#ifdef SER_WITH_CUDA

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nn/model.hpp"
#include "nn_test_util.hpp"
#include "ser/nn/loss.hpp"
#include "ser/nn/optim_ops.hpp"
#include "test_util.hpp"
#include "train/optimizer.hpp"

namespace ser {
namespace {

struct StepResult {
  double loss = 0;
  std::vector<float> logits, grads, params;
};

StepResult one_step(const nn::ExecContext& ctx, const ModelConfig& mc, const TrainConfig& tc) {
  const int n = 5, t = 61, mels = 64, prosody = 58, classes = 7;
  nn::Model<float> m(mc, nn::ModelInputs{mels, prosody, classes});
  m.plan(ctx, n, t, 3);
  train::Optimizer opt(ctx, m.param_table(), tc);
  const std::vector<int> lengths{61, 48, 33, 20, m.min_frames()};
  auto x = test::random_nonzero<float>(static_cast<std::size_t>(n * t * mels), 1, -2, 2);
  for (int i = 0; i < n; ++i)
    for (int r = lengths[static_cast<std::size_t>(i)]; r < t; ++r)
      for (int j = 0; j < mels; ++j) x[static_cast<std::size_t>((i * t + r) * mels + j)] = 0;
  const auto pr = test::random_nonzero<float>(static_cast<std::size_t>(n * prosody), 2);
  const std::vector<std::int32_t> labels{0, 3, 6, 2, 3};
  nn::Block lab(ctx.device, sizeof(std::int32_t) * n, "labels");
  nn::upload(ctx, m.input(), x.data(), sizeof(float) * x.size());
  nn::upload(ctx, m.prosody_input(), pr.data(), sizeof(float) * pr.size());
  nn::upload(ctx, lab.get(), labels.data(), sizeof(std::int32_t) * n);
  m.set_batch(ctx, n, t, lengths);
  nn::zero(ctx, m.param_table().total(), m.grads());
  const float* logits = m.forward(ctx, true, 99);
  StepResult r;
  r.logits.resize(static_cast<std::size_t>(n * classes));
  nn::download(ctx, r.logits.data(), logits, sizeof(float) * r.logits.size());
  r.loss = nn::softmax_xent(ctx, n, classes, logits, lab.as<std::int32_t>(), nullptr, m.dlogits(), nullptr);
  m.backward(ctx, 99, m.dlogits());
  r.grads.resize(static_cast<std::size_t>(m.param_table().total()));
  nn::download(ctx, r.grads.data(), m.grads(), sizeof(float) * r.grads.size());
  opt.step(ctx, m.params(), m.grads(), 1e-3);
  r.params.resize(r.grads.size());
  nn::download(ctx, r.params.data(), m.params(), sizeof(float) * r.params.size());
  return r;
}

TEST(TrainCuda, WholeTrainingStepMatchesTheCpu) {
  SER_SKIP_WITHOUT_GPU();
  ModelConfig mc;  // cnn_attn, attention after block 2 so both attention and later convolutions run
  mc.attention_after = 2;
  TrainConfig tc;
  const StepResult cpu = one_step(nn::ExecContext{}, mc, tc);
  for (const char* path : {"handwritten", "vendor"}) {
    nn::GpuHandles gpu(false);
    const StepResult g = one_step(gpu.context(nn::parse_kernel_path(path)), mc, tc);
    EXPECT_NEAR(g.loss, cpu.loss, 1e-4 * std::abs(cpu.loss)) << path;
    EXPECT_LT(test::nmse(g.logits, cpu.logits), 1e-8) << path;
    EXPECT_LT(test::nmse(g.grads, cpu.grads), 1e-6) << path;
    EXPECT_LT(test::nmse(g.params, cpu.params), 1e-10) << path;
    for (float v : g.grads) ASSERT_TRUE(std::isfinite(v)) << path;
  }
}

}  // namespace
}  // namespace ser

#endif  // SER_WITH_CUDA
