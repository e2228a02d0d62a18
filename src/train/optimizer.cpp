// src/train/optimizer.cpp — the update step and the schedule.
#include "train/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "ser/nn/optim_ops.hpp"

namespace ser::train {

double learning_rate(const TrainConfig& c, std::int64_t step, std::int64_t per_epoch, std::int64_t total) {
  const double warm = std::max(0.0, static_cast<double>(c.warmup_epochs) * per_epoch);
  const double s = static_cast<double>(step);
  if (warm > 0 && s < warm) return c.lr * (s + 1) / warm;
  if (c.schedule == "constant") return c.lr;
  if (c.schedule == "step") {
    const auto epoch = static_cast<int>(s / std::max<std::int64_t>(per_epoch, 1));
    return c.lr * std::pow(static_cast<double>(c.step_gamma), epoch / c.step_every_epochs);
  }
  const double span = std::max(1.0, static_cast<double>(total) - warm);
  const double progress = std::clamp((s - warm) / span, 0.0, 1.0);
  const double floor = c.lr * c.min_lr_ratio;
  return floor + (c.lr - floor) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
}

Optimizer::Optimizer(const nn::ExecContext& ctx, const nn::ParamTable& table, const TrainConfig& config)
    : config_(config), count_(table.total()) {
  m_ = nn::Block(ctx.device, sizeof(float) * count_, "Adam first moments");
  v_ = nn::Block(ctx.device, sizeof(float) * count_, "Adam second moments");
  const auto mask = table.decay_mask();
  mask_ = nn::Block(ctx.device, mask.size(), "weight-decay mask");
  nn::upload(ctx, mask_.get(), mask.data(), mask.size());
  workspace_ = nn::Block(ctx.device, std::max<std::size_t>(nn::sum_squares_workspace_bytes(ctx, count_), 256),
                         "gradient-norm workspace");
}

double Optimizer::step(const nn::ExecContext& ctx, float* params, float* grads, double lr) {
  const double norm = std::sqrt(nn::sum_squares(ctx, count_, grads, workspace_.get()));
  if (config_.clip_norm > 0 && norm > config_.clip_norm)
    nn::scale(ctx, count_, static_cast<float>(config_.clip_norm / (norm + 1e-6)), grads);
  nn::AdamStep h;
  h.lr = static_cast<float>(lr);
  h.beta1 = config_.beta1;
  h.beta2 = config_.beta2;
  h.eps = config_.eps;
  h.weight_decay = config_.weight_decay;
  h.decoupled = config_.optimizer == "adamw";
  h.step = ++steps_;
  nn::adam_update(ctx, count_, h, params, grads, m(), v(), mask_.as<std::uint8_t>());
  return norm;
}

}  // namespace ser::train
