// src/train/attention_probe.cpp — attention-pooling weights of example utterances.
#include "train/attention_probe.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "nn/layers/attention_layers.hpp"

namespace ser::train {

std::vector<int> pick_examples(const Evaluation& test, int count) {
  std::vector<int> picked;
  std::set<int> classes;
  for (std::size_t i = 0; i < test.utterances.size() && static_cast<int>(picked.size()) < count; ++i)
    if (test.truth[i] == test.predicted[i] && classes.insert(test.truth[i]).second) picked.push_back(static_cast<int>(i));
  for (std::size_t i = 0; i < test.utterances.size() && static_cast<int>(picked.size()) < count; ++i)
    if (std::find(picked.begin(), picked.end(), static_cast<int>(i)) == picked.end()) picked.push_back(static_cast<int>(i));
  std::vector<int> utterances;
  for (int i : picked) utterances.push_back(test.utterances[static_cast<std::size_t>(i)]);
  return utterances;
}

std::vector<AttentionExample> probe_attention(nn::Model<float>& model, engine::EngineSession& session,
                                              const engine::BatchMaker& maker, const std::vector<int>& utterances) {
  const nn::TemporalPoolLayer<float>* pool = nullptr;
  std::size_t pool_index = 0;
  for (std::size_t i = 0; i < model.layer_count(); ++i)
    if (const auto* p = dynamic_cast<const nn::TemporalPoolLayer<float>*>(&model.layer(i));
        p && p->kind() == "attention_pool") {
      pool = p;
      pool_index = i;
    }
  std::vector<AttentionExample> out;
  if (!pool) return out;
  const int k = model.inputs().n_classes;
  engine::HostBatch b;
  for (int u : utterances) {
    maker.make({u}, 0, 0, b);
    session.load_batch(b);
    const float* logits = model.forward(session.ctx(), false, 0);
    std::vector<float> z(static_cast<std::size_t>(k));
    nn::download(session.ctx(), z.data(), logits, sizeof(float) * z.size());
    // The pooled input's time steps: the length after every layer before the pooling layer.
    int steps = b.lengths[0];
    for (std::size_t i = 0; i < pool_index; ++i) steps = model.layer(i).output_length(steps);
    AttentionExample e;
    e.utterance = u;
    e.predicted = static_cast<int>(std::max_element(z.begin(), z.end()) - z.begin());
    e.weights.resize(static_cast<std::size_t>(steps));
    nn::download(session.ctx(), e.weights.data(), pool->alpha(), sizeof(float) * e.weights.size());
    e.frames_per_step = std::max(1, static_cast<int>(std::lround(double(b.lengths[0]) / steps)));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ser::train
