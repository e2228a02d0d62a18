// src/train/optimizer.hpp — Adam / AdamW over the model's flat parameter buffer, with global-norm
// gradient clipping and the learning-rate schedule (linear warm-up, then cosine, step or constant).
#pragma once
#include <cstdint>
#include <vector>

#include "nn/memory.hpp"
#include "nn/param_table.hpp"
#include "ser/model_config.hpp"
#include "ser/nn/exec.hpp"

namespace ser::train {

// Learning rate at optimizer step `step` (0-based) of `total_steps`, `steps_per_epoch` per epoch.
double learning_rate(const TrainConfig& c, std::int64_t step, std::int64_t steps_per_epoch,
                     std::int64_t total_steps);

class Optimizer {
 public:
  Optimizer(const nn::ExecContext& ctx, const nn::ParamTable& table, const TrainConfig& config);
  // One update of params from grads at learning rate lr: clips the global gradient norm to
  // clip_norm (when > 0), then Adam/AdamW. Returns the gradient norm before clipping.
  double step(const nn::ExecContext& ctx, float* params, float* grads, double lr);
  std::int64_t steps_taken() const { return steps_; }
  void set_steps_taken(std::int64_t s) { steps_ = s; }
  float* m() const { return m_.as<float>(); }  // first moments, laid out like the parameters
  float* v() const { return v_.as<float>(); }  // second moments
  std::int64_t count() const { return count_; }

 private:
  TrainConfig config_;
  std::int64_t count_ = 0;
  std::int64_t steps_ = 0;
  nn::Block m_, v_, mask_, workspace_;
};

}  // namespace ser::train
