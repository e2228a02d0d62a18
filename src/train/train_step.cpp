// src/train/train_step.cpp — the training step, with an NVTX range per phase.
#include "train/train_step.hpp"

#include "nn/nvtx.hpp"
#include "ser/nn/loss.hpp"
#include "ser/nn/optim_ops.hpp"

namespace ser::train {

double train_step(nn::Model<float>& model, engine::EngineSession& session, Optimizer& opt, int n, std::uint64_t seed,
                  double lr, bool probs) {
  const nn::ExecContext& ctx = session.ctx();
  nn::zero(ctx, model.param_table().total(), model.grads());
  const float* logits = nullptr;
  {
    const nn::NvtxRange r("forward");
    logits = model.forward(ctx, true, seed);
  }
  double loss = 0;
  {
    const nn::NvtxRange r("loss");
    loss = nn::softmax_xent(ctx, n, model.inputs().n_classes, logits, session.labels(), session.class_weights(),
                            model.dlogits(), probs ? session.probs() : nullptr, session.training_targets());
  }
  {
    const nn::NvtxRange r("backward");
    model.backward(ctx, seed, model.dlogits());
  }
  if (ctx.ranks) {  // data parallel: each rank holds its slice's share of the global batch's
    const nn::NvtxRange r("all-reduce");
    ctx.ranks->sum(model.grads(), model.param_table().total());
    ctx.ranks->sum(&loss, 1);
  }
  {
    const nn::NvtxRange r("optimizer");
    opt.step(ctx, model.params(), model.grads(), lr);
  }
  return loss;
}

}  // namespace ser::train
