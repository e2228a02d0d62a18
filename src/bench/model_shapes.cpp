// src/bench/model_shapes.cpp — following the input dims through a model's layers (model_shapes.hpp).
#include "bench/model_shapes.hpp"

#include "nn/layers/attention_layers.hpp"
#include "nn/layers/conv_layers.hpp"
#include "nn/model.hpp"
#include "ser/error.hpp"

namespace ser::bench {

std::string dims_string(std::initializer_list<std::int64_t> dims) {
  std::string s = "(";
  for (const std::int64_t d : dims) {
    if (s.size() > 1) s += ", ";
    s += std::to_string(d);
  }
  return s + ")";
}

namespace {
std::string dims_of(const nn::Dims& d) {
  return d.timed ? dims_string({d.n, d.c, d.t, d.f}) : dims_string({d.n, d.f});
}
}  // namespace

ModelShapes model_shapes(const ModelConfig& config, int batch, int frames, int n_mels, int n_prosody, int n_classes) {
  if (batch < 1 || frames < 1 || n_mels < 1)
    throw Error("model shapes: batch, frames and mels must be >= 1, found " + std::to_string(batch) + ", " +
                std::to_string(frames) + ", " + std::to_string(n_mels));
  const nn::Model<float> model(config, nn::ModelInputs{n_mels, config.uses_functionals() ? n_prosody : 0, n_classes});
  if (frames < model.min_frames())
    throw Error("model shapes: model '" + config.name + "' needs at least " + std::to_string(model.min_frames()) +
                " frames, found " + std::to_string(frames));
  ModelShapes s;
  s.model = config.name;
  s.batch = batch;
  s.frames = frames;
  s.n_mels = n_mels;
  s.n_prosody = config.uses_functionals() ? n_prosody : 0;
  s.n_classes = n_classes;
  s.parameters = model.param_table().total();
  nn::Dims d{batch, 1, frames, n_mels, true};
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    const nn::Layer<float>& layer = model.layer(i);
    const nn::Dims out = layer.output_dims(d);
    std::string name("L");
    name.append(std::to_string(i)).append(" ").append(layer.describe());
    s.layers.push_back({name, dims_of(d), dims_of(out)});
    const std::string kind = layer.kind();
    if (const auto* conv = dynamic_cast<const nn::Conv2dLayer<float>*>(&layer)) {
      s.convs.push_back({name, conv->shape(d), i > 0});
    } else if (const auto* bn = dynamic_cast<const nn::BatchNorm2dLayer<float>*>(&layer)) {
      s.norms.push_back({name, bn->shape(d)});
    } else if (const auto* pool = dynamic_cast<const nn::MaxPool2dLayer<float>*>(&layer)) {
      s.pools.push_back({name, pool->shape(d)});
    } else if (const auto* att = dynamic_cast<const nn::SelfAttentionLayer<float>*>(&layer)) {
      s.attentions.push_back({name, att->sdpa(d), std::int64_t(d.n) * d.t * d.c * d.f});
    } else if (kind == "relu" || kind == "dropout") {
      const float p = kind == "relu" ? 0.0f : (d.timed ? config.conv_dropout : config.dropout);
      s.elementwise.push_back({name, kind, d.count(), p, dims_of(d)});
    }
    d = out;
  }
  return s;
}

}  // namespace ser::bench
