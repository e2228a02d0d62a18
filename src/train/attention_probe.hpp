// src/train/attention_probe.hpp — the attention-pooling weights of a few test utterances, read back
// after a forward pass, for the experiment report's attention maps.
#pragma once
#include <vector>

#include "ser/train.hpp"
#include "engine/dataset.hpp"
#include "engine/engine_session.hpp"
#include "train/evaluate.hpp"

namespace ser::train {

// Up to `count` test utterances for examples: correctly classified ones of distinct classes first,
// then any; deterministic (evaluation order).
std::vector<int> pick_examples(const Evaluation& test, int count);

// Runs each utterance alone (inference mode) and reads the attention-pooling layer's weights over the
// pooled time steps. Empty when the model pools by mean.
std::vector<AttentionExample> probe_attention(nn::Model<float>& model, engine::EngineSession& session,
                                              const engine::BatchMaker& maker, const std::vector<int>& utterances);

}  // namespace ser::train
