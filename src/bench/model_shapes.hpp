// src/bench/model_shapes.hpp — the shape of every benchmarked op in a model at one batch size and
// input length: the model is built from its config (no memory planned) and the input dims are
// followed through its layers, so the shapes are those training runs.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "ser/model_config.hpp"
#include "ser/nn/attention.hpp"
#include "ser/nn/batchnorm.hpp"
#include "ser/nn/conv.hpp"
#include "ser/nn/pool.hpp"

namespace ser::bench {

struct ModelShapes {
  struct Layer {           // every layer, for the shapes table
    std::string name;      // "L0 conv2d 1->16 k3x3 s1x1 p1x1"
    std::string in, out;   // "(16, 1, 300, 64)"
  };
  struct Conv {
    std::string layer;
    nn::Conv2dShape shape;
    bool needs_dx = true;  // false for the first layer: training computes no input gradient there
  };
  struct Pool {
    std::string layer;
    nn::Pool2dShape shape;
  };
  struct Norm {
    std::string layer;
    nn::BatchNormShape shape;
  };
  struct Attention {
    std::string layer;
    nn::SdpaShape shape;
    std::int64_t tokens = 0;  // N * T * D: the residual add's element count
  };
  struct Elementwise {
    std::string layer;
    std::string op;           // "relu" | "dropout"
    std::int64_t count = 0;
    float p = 0;              // dropout probability
    std::string dims;         // "(16, 16, 300, 64)"
  };

  std::string model;          // config name
  int batch = 0, frames = 0, n_mels = 0, n_prosody = 0, n_classes = 0;
  std::vector<Layer> layers;
  std::vector<Conv> convs;
  std::vector<Norm> norms;
  std::vector<Pool> pools;
  std::vector<Attention> attentions;
  std::vector<Elementwise> elementwise;
  std::int64_t parameters = 0;  // the optimiser's element count
};

// Shapes of `config`'s model on (batch, 1, frames, n_mels) inputs (every utterance at full length),
// n_prosody fused functionals and n_classes outputs. Throws ser::Error for a config the model
// builder refuses.
ModelShapes model_shapes(const ModelConfig& config, int batch, int frames, int n_mels, int n_prosody, int n_classes);

// "(16, 1, 300, 64)"
std::string dims_string(std::initializer_list<std::int64_t> dims);

}  // namespace ser::bench
