// src/train/evaluate.hpp — running a model over a set of utterances without training.
#pragma once
#include <vector>

#include "engine/dataset.hpp"
#include "engine/engine_session.hpp"

namespace ser::train {

struct Evaluation {
  std::vector<int> utterances;   // cache indices, in evaluation order
  std::vector<int> truth, predicted;
  std::vector<float> probs;      // (n, n_classes)
  double loss = 0;               // mean cross-entropy (unweighted)
};

Evaluation evaluate(nn::Model<float>& model, engine::EngineSession& session, const engine::BatchMaker& maker,
                    const std::vector<int>& utterances, int batch_size);

}  // namespace ser::train
