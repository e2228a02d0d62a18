// src/train/evaluate.cpp — inference over a split.
#include "train/evaluate.hpp"

#include <algorithm>

#include "ser/nn/loss.hpp"

namespace ser::train {

Evaluation evaluate(nn::Model<float>& model, engine::EngineSession& session, const engine::BatchMaker& maker,
                    const std::vector<int>& utterances, int batch_size) {
  Evaluation ev;
  const int k = model.inputs().n_classes;
  double loss_sum = 0;
  engine::HostBatch b;
  for (const auto& ids : engine::eval_batches(utterances, maker, batch_size)) {
    maker.make(ids, 0, 0, b);
    session.load_batch(b);
    const float* logits = model.forward(session.ctx(), false, 0);
    loss_sum += b.n * nn::softmax_xent(session.ctx(), b.n, k, logits, session.labels(), nullptr, nullptr,
                                       session.probs());
    std::vector<float> p(static_cast<std::size_t>(b.n) * k);
    nn::download(session.ctx(), p.data(), session.probs(), sizeof(float) * p.size());
    for (int i = 0; i < b.n; ++i) {
      const float* row = &p[static_cast<std::size_t>(i) * k];
      ev.predicted.push_back(static_cast<int>(std::max_element(row, row + k) - row));
      ev.truth.push_back(b.labels[static_cast<std::size_t>(i)]);
      ev.utterances.push_back(ids[static_cast<std::size_t>(i)]);
    }
    ev.probs.insert(ev.probs.end(), p.begin(), p.end());
  }
  ev.loss = ev.truth.empty() ? 0.0 : loss_sum / static_cast<double>(ev.truth.size());
  return ev;
}

}  // namespace ser::train
