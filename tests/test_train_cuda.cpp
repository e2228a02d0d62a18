// One whole training step (forward, loss, backward, gradient clipping, AdamW) of cnn_attn on the GPU
// against the same step on the CPU twin, from the same weights and batch, for both kernel paths.
// Skips without a usable GPU.
#ifdef SER_WITH_CUDA

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
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
  opt.step(ctx, m.params(), m.grads(), tc.lr);
  r.params.resize(r.grads.size());
  nn::download(ctx, r.params.data(), m.params(), sizeof(float) * r.params.size());
  return r;
}

// The first AdamW step moves each parameter by about lr * g / |g|: wherever a gradient is rounding
// noise around zero (conv biases before batch norm and the attention-pooling score bias have a true
// gradient of exactly 0), the two backends' noise has random signs and the step goes either way.
// So: where the gradient's sign is settled (|g| at least 1000 times the backends' difference) the
// updated parameters agree to rounding; everywhere else they differ by at most one step (2 lr).
void expect_same_adam_step(const StepResult& g, const StepResult& cpu, double lr, const std::string& path) {
  std::vector<float> settled_gpu, settled_cpu;
  double max_step_gap = 0;
  for (std::size_t i = 0; i < cpu.params.size(); ++i) {
    const double gap = std::abs(static_cast<double>(g.params[i]) - cpu.params[i]);
    max_step_gap = std::max(max_step_gap, gap);
    if (std::abs(cpu.grads[i]) > 1e3 * std::abs(static_cast<double>(g.grads[i]) - cpu.grads[i])) {
      settled_gpu.push_back(g.params[i]);
      settled_cpu.push_back(cpu.params[i]);
    }
  }
  ASSERT_GT(settled_cpu.size(), cpu.params.size() * 9 / 10) << path << ": most gradients are settled";
  EXPECT_LT(test::nmse(settled_gpu, settled_cpu), 1e-10) << path;
  EXPECT_LE(max_step_gap, 2 * lr * 1.001) << path;
  std::printf("[ %s ] %zu of %zu parameters with settled gradients: params NMSE %.3g; largest gap anywhere %.3g (lr %.3g)\n",
              path.c_str(), settled_cpu.size(), cpu.params.size(), test::nmse(settled_gpu, settled_cpu), max_step_gap, lr);
}

TEST(TrainCuda, WholeTrainingStepMatchesTheCpu) {
  SER_SKIP_WITHOUT_GPU();
  ModelConfig mc;  // cnn_attn, attention after block 2 so both attention and later convolutions run
  mc.attention_after = 2;
  TrainConfig tc;
  const StepResult cpu = one_step(nn::ExecContext{}, mc, tc);
  for (const char* path : {"handwritten", "vendor"}) {
#ifndef SER_WITH_CUDNN
    if (std::string(path) == "vendor") {
      std::printf("[ vendor ] not run: the vendor path needs cuDNN, and this build has none\n");
      continue;
    }
#endif
    nn::GpuHandles gpu(false);
    const StepResult g = one_step(gpu.context(nn::parse_kernel_path(path)), mc, tc);
    EXPECT_NEAR(g.loss, cpu.loss, 1e-4 * std::abs(cpu.loss)) << path;
    EXPECT_LT(test::nmse(g.logits, cpu.logits), 1e-8) << path;
    EXPECT_LT(test::nmse(g.grads, cpu.grads), 1e-6) << path;
    for (float v : g.grads) ASSERT_TRUE(std::isfinite(v)) << path;
    expect_same_adam_step(g, cpu, tc.lr, path);
  }
}

}  // namespace
}  // namespace ser

#endif  // SER_WITH_CUDA
