// src/train/train_step.hpp — one optimizer step on a batch already loaded into the session:
// zero the gradients, forward, fused softmax cross-entropy, backward, clip + Adam. The trainer and
// `ser bench train` both run exactly this. Data parallel (session.ctx().ranks), the gradients and the
// loss are summed over the ranks before the optimizer step, so every rank takes the same step.
#pragma once
#include <cstdint>

#include "engine/engine_session.hpp"
#include "train/optimizer.hpp"

namespace ser::train {

// Returns the loss (of the global batch when data parallel). When `probs` is true the class probabilities are left in session.probs().
double train_step(nn::Model<float>& model, engine::EngineSession& session, Optimizer& opt, int n, std::uint64_t seed,
                  double lr, bool probs);

}  // namespace ser::train
