// src/export/onnx_attention.cpp — layout changes between maps and tokens, multi-head self-attention
// over time (residual) and temporal pooling, as ONNX nodes. Without padding every key is valid, so
// the engine's key-padding mask and time masking have nothing to do and are left out.
#include <cstdint>

#include "export/onnx_layers.hpp"
#include "nn/layers/attention_layers.hpp"
#include "ser/nn/layernorm.hpp"

namespace ser::onnx_export {

// tokens[n, t, c * F + f] = map[n, c, t, f]: (N, C, T, F) -> (N, T, C, F) -> (N, T, C*F).
std::string emit_map_to_tokens(GraphBuilder& g, int c, int f, const std::string& map) {
  const std::string ntcf = g.node("Transpose", {map}, {attr_ints("perm", {0, 2, 1, 3})});
  return g.node("Reshape", {ntcf, g.int64_const({3}, {0, 0, std::int64_t(c) * f})});
}

std::string emit_tokens_to_map(GraphBuilder& g, int c, int f, const std::string& tokens) {
  const std::string ntcf = g.node("Reshape", {tokens, g.int64_const({4}, {0, 0, c, f})});
  return g.node("Transpose", {ntcf}, {attr_ints("perm", {0, 2, 1, 3})});
}

std::string emit_self_attention(GraphBuilder& g, CheckpointWeights& w, const std::string& name, int c, int f,
                                int heads, int head_dim, bool pre_norm, const std::string& map) {
  const int d = c * f, inner = heads * head_dim;
  const nn::SelfAttentionLayer<float> layer(name, c, f, heads, head_dim);
  const float scale = layer.sdpa(nn::Dims{1, c, 1, f, true}).scale;
  const std::string tok = emit_map_to_tokens(g, c, f, map);                    // (N, T, D)
  // Pre-norm: the projections read the layer norm of each token over its D features.
  const std::string u = pre_norm ? g.node("LayerNormalization",
                                          {tok, w.param(g, name + ".norm.weight", {d}), w.param(g, name + ".norm.bias", {d})},
                                          {attr_int("axis", -1), attr_float("epsilon", nn::kLayerNormEps)})
                                 : tok;
  const std::string q = emit_token_linear(g, w, name + ".q_proj", d, inner, u);  // (N, T, inner)
  const std::string k = emit_token_linear(g, w, name + ".k_proj", d, inner, u);
  const std::string v = emit_token_linear(g, w, name + ".v_proj", d, inner, u);
  // inner index = head * head_dim + j (the engine's (N, T, heads, head_dim) layout).
  const std::string split = g.int64_const({4}, {0, 0, heads, head_dim});
  const std::string qh = g.node("Transpose", {g.node("Reshape", {q, split})}, {attr_ints("perm", {0, 2, 1, 3})});
  const std::string kt = g.node("Transpose", {g.node("Reshape", {k, split})}, {attr_ints("perm", {0, 2, 3, 1})});
  const std::string vh = g.node("Transpose", {g.node("Reshape", {v, split})}, {attr_ints("perm", {0, 2, 1, 3})});
  // qh (N, h, T, hd), kt (N, h, hd, T): scores (N, h, T, T), softmax over keys.
  const std::string scores = g.node("Mul", {g.node("MatMul", {qh, kt}), g.scalar(scale)});
  const std::string p = g.node("Softmax", {scores}, {attr_int("axis", -1)});
  const std::string o = g.node("MatMul", {p, vh});                                   // (N, h, T, hd)
  const std::string merged = g.node("Reshape", {g.node("Transpose", {o}, {attr_ints("perm", {0, 2, 1, 3})}),
                                                g.int64_const({3}, {0, 0, inner})});  // (N, T, inner)
  const std::string z = emit_token_linear(g, w, name + ".out_proj", inner, d, merged);
  return emit_tokens_to_map(g, c, f, g.node("Add", {z, tok}));  // the residual
}

std::string emit_temporal_pool(GraphBuilder& g, CheckpointWeights& w, const std::string& name, bool attention,
                               int c, int f, const std::string& map) {
  const int d = c * f;
  const std::string tok = emit_map_to_tokens(g, c, f, map);  // (N, T, D)
  if (!attention)
    return g.node("ReduceMean", {tok}, {attr_ints("axes", {1}), attr_int("keepdims", 0)});
  const std::string sw = w.param(g, name + ".score.weight", {1, d});  // (1, D)
  const std::string sb = w.param(g, name + ".score.bias", {1});
  const std::string wt = g.node("Transpose", {sw}, {attr_ints("perm", {1, 0})});  // (D, 1)
  const std::string score = g.node("Add", {g.node("MatMul", {tok, wt}), sb});    // (N, T, 1)
  const std::string alpha = g.node("Softmax", {score}, {attr_int("axis", 1)});   // over time
  return g.node("ReduceSum", {g.node("Mul", {tok, alpha}), g.int64_const({1}, {1})}, {attr_int("keepdims", 0)});
}

}  // namespace ser::onnx_export
