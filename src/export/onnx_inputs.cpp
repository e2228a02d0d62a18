// src/export/onnx_inputs.cpp — the checkpoint's normaliser as the first nodes of the graph.
#include <cstdint>
#include <vector>

#include "export/onnx_layers.hpp"

namespace ser::onnx_export {

std::string emit_logmel_input(GraphBuilder& g, const engine::Normalizer& norm, const std::string& logmel,
                              int min_frames) {
  const auto m = static_cast<std::int64_t>(norm.logmel_mean.size());
  const std::string mean = g.weight("normalizer.logmel_mean", {m}, norm.logmel_mean.data());
  const std::string sd = g.weight("normalizer.logmel_std", {m}, norm.logmel_std.data());
  std::string z = g.node("Div", {g.node("Sub", {logmel, mean}), sd});  // (N, T, M)
  if (min_frames > 1) {
    // The loader zero-pads an utterance shorter than the network's minimum (after normalisation)
    // and treats the padding as frames: append max(min_frames - T, 0) zero rows.
    const std::string shape = g.node("Shape", {logmel});                                   // (3)
    const std::string n = g.node("Gather", {shape, g.int64_const({1}, {0})}, {attr_int("axis", 0)});
    const std::string t = g.node("Gather", {shape, g.int64_const({1}, {1})}, {attr_int("axis", 0)});
    const std::string missing =
        g.node("Max", {g.node("Sub", {g.int64_const({1}, {min_frames}), t}), g.int64_const({1}, {0})});
    const std::string zeros_shape = g.node("Concat", {n, missing, g.int64_const({1}, {m})}, {attr_int("axis", 0)});
    const float zero = 0.0f;
    const std::string zeros =
        g.node("ConstantOfShape", {zeros_shape}, {attr_tensor("value", float_tensor("value", {1}, &zero))});
    z = g.node("Concat", {z, zeros}, {attr_int("axis", 1)});  // (N, T', M)
  }
  return g.node("Unsqueeze", {z, g.int64_const({1}, {1})});  // (N, 1, T', M)
}

std::string emit_time_deltas(GraphBuilder& g, int order, const std::string& map) {
  const std::string pads = g.int64_const({8}, {0, 0, 2, 0, 0, 0, 2, 0});  // two frames before and after
  const std::string taps = g.float_const({1, 1, 5, 1}, {-2.0f, -1.0f, 0.0f, 1.0f, 2.0f});
  const std::string no_bias = g.float_const({1}, {0.0f});
  std::vector<std::string> channels{map};
  for (int k = 1; k <= order; ++k) {
    const std::string padded = g.node("Pad", {channels.back(), pads}, {attr_string("mode", "edge")});  // (N, 1, T + 4, M)
    const std::string weighted =
        g.node("Conv", {padded, taps, no_bias},
               {attr_ints("kernel_shape", {5, 1}), attr_ints("strides", {1, 1}), attr_ints("pads", {0, 0, 0, 0}),
                attr_ints("dilations", {1, 1}), attr_int("group", 1)});
    channels.push_back(g.node("Div", {weighted, g.scalar(10.0f)}));  // (N, 1, T, M)
  }
  return g.node("Concat", channels, {attr_int("axis", 1)});  // (N, 1 + order, T, M)
}

std::string emit_functionals_input(GraphBuilder& g, const engine::Normalizer& norm, const std::string& functionals) {
  const auto p = static_cast<std::int64_t>(norm.functional_mean.size());
  const std::string mean = g.weight("normalizer.functional_mean", {p}, norm.functional_mean.data());
  const std::string sd = g.weight("normalizer.functional_std", {p}, norm.functional_std.data());
  const std::string z = g.node("Div", {g.node("Sub", {functionals, mean}), sd});  // (N, P)
  const std::string bad = g.node("Or", {g.node("IsNaN", {z}), g.node("IsInf", {z})});
  const std::string clamped = g.node("Clip", {z, g.scalar(-8.0f), g.scalar(8.0f)});
  return g.node("Where", {bad, g.scalar(0.0f), clamped});
}

}  // namespace ser::onnx_export
