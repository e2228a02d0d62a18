// src/export/onnx_conv_block.cpp — one convolution block as Conv, BatchNormalization, Relu, MaxPool.
// Padding, epsilon and pooling windows come from the engine's own layer objects, so the graph follows
// them if they change.
#include <cstdint>
#include <vector>

#include "export/onnx_layers.hpp"
#include "nn/layers/conv_layers.hpp"

namespace ser::onnx_export {

std::string emit_conv_block(GraphBuilder& g, CheckpointWeights& w, const ModelConfig& cfg, int block, int c_in,
                            const std::string& map) {
  std::string prefix("blocks.");
  prefix.append(std::to_string(block));
  const int c_out = cfg.conv_channels[static_cast<std::size_t>(block)];
  const nn::Dims any_dims{1, c_in, 1, 1, true};

  const nn::Conv2dLayer<float> conv(prefix + ".conv", c_in, c_out, cfg.kernel_time, cfg.kernel_freq, 1, 1,
                                    !cfg.batchnorm);
  const nn::Conv2dShape cs = conv.shape(any_dims);
  const std::string wt = w.param(g, prefix + ".conv.weight", {c_out, c_in, cs.kh, cs.kw});
  const std::string b = w.param(g, prefix + ".conv.bias", {c_out});
  std::string y = g.node("Conv", {map, wt, b},
                         {attr_ints("kernel_shape", {cs.kh, cs.kw}), attr_ints("strides", {cs.sh, cs.sw}),
                          attr_ints("pads", {cs.ph, cs.pw, cs.ph, cs.pw}), attr_ints("dilations", {1, 1}),
                          attr_int("group", 1)});  // (N, C_out, T, F)

  if (cfg.batchnorm) {
    const nn::BatchNorm2dLayer<float> bn(prefix + ".bn", c_out);
    const float eps = bn.shape(nn::Dims{1, c_out, 1, 1, true}).eps;
    const std::string gamma = w.param(g, prefix + ".bn.weight", {c_out});
    const std::string beta = w.param(g, prefix + ".bn.bias", {c_out});
    const std::string mean = w.state(g, prefix + ".bn.running_mean", {c_out});
    const std::string var = w.state(g, prefix + ".bn.running_var", {c_out});
    y = g.node("BatchNormalization", {y, gamma, beta, mean, var}, {attr_float("epsilon", eps)});
  }
  y = g.node("Relu", {y});
  if (cfg.pool_time > 1 || cfg.pool_freq > 1) {
    const nn::MaxPool2dLayer<float> pool(cfg.pool_time, cfg.pool_freq);
    const nn::Pool2dShape ps = pool.shape(nn::Dims{1, c_out, cfg.pool_time, cfg.pool_freq, true});
    y = g.node("MaxPool", {y},
               {attr_ints("kernel_shape", {ps.kh, ps.kw}), attr_ints("strides", {ps.sh, ps.sw}),
                attr_ints("pads", {0, 0, 0, 0}), attr_int("ceil_mode", 0)});  // floor, as the engine
  }
  return y;
}

}  // namespace ser::onnx_export
