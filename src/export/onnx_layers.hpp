// src/export/onnx_layers.hpp — the ONNX nodes of each part of ser's inference forward pass
// (src/nn/model.cpp order), each a pure function of its input value's name. Maps are (N, C, T, F)
// as in the engine, token sequences (N, T, D) with D = C * F (map_to_tokens' order: index c * F + f),
// utterance vectors (N, D). No masks: every frame of a batch item is valid (equal lengths).
#pragma once
#include <string>

#include "export/onnx_graph.hpp"
#include "export/onnx_weights.hpp"
#include "ser/model_config.hpp"
#include "engine/dataset.hpp"

namespace ser::onnx_export {

// ---- inputs (onnx_inputs.cpp) ------------------------------------------------------------------
// logmel (N, T, n_mels) un-normalised -> (N, 1, T', n_mels): (x - mean) / std, then zero rows
// appended up to min_frames (T' = max(T, min_frames)), as engine::BatchMaker pads a short utterance.
std::string emit_logmel_input(GraphBuilder& g, const engine::Normalizer& norm, const std::string& logmel,
                              int min_frames);
// functionals (N, P) raw -> (N, P): (v - mean) / std clamped to [-8, 8], 0 where not finite.
std::string emit_functionals_input(GraphBuilder& g, const engine::Normalizer& norm, const std::string& functionals);
// map (N, 1, T, M) -> (N, 1 + order, T, M): the map, its Δ and (order 2) ΔΔ along time, each an
// edge-replicating Pad and a (5 x 1) Conv with weights -2..2, divided by 10 (ser/nn/deltas.hpp).
std::string emit_time_deltas(GraphBuilder& g, int order, const std::string& map);

// ---- convolution block (onnx_conv_block.cpp) ---------------------------------------------------
// blocks.<b>: conv ("same" zero padding) -> batch norm (inference form, running statistics) when
// the config has it -> ReLU -> max-pool (window = stride, floor) when pooling. Dropout is dropped.
// (N, c_in, T, F) -> (N, C_out, T', F').
std::string emit_conv_block(GraphBuilder& g, CheckpointWeights& w, const ModelConfig& config, int block, int c_in,
                            const std::string& map);

// ---- attention and pooling (onnx_attention.cpp) ------------------------------------------------
std::string emit_map_to_tokens(GraphBuilder& g, int c, int f, const std::string& map);     // -> (N, T, C*F)
std::string emit_tokens_to_map(GraphBuilder& g, int c, int f, const std::string& tokens);  // -> (N, C, T, F)
// y = x + Wo · MHA(Wq u, Wk u, Wv u) over the time steps of the map, u = x or (pre_norm) LN(x);
// shape-preserving.
std::string emit_self_attention(GraphBuilder& g, CheckpointWeights& w, const std::string& name, int c, int f,
                                int heads, int head_dim, bool pre_norm, const std::string& map);
// (N, C, T, F) -> (N, C*F): mean over time, or attention pooling (softmax over time of w · x_t + b).
std::string emit_temporal_pool(GraphBuilder& g, CheckpointWeights& w, const std::string& name, bool attention,
                               int c, int f, const std::string& map);

// ---- dense (onnx_dense.cpp) --------------------------------------------------------------------
// y (N, out) = x (N, in) · W^T + b with W (out, in) as stored: Gemm(transB = 1). `out_name` names the
// result when given.
std::string emit_linear(GraphBuilder& g, CheckpointWeights& w, const std::string& name, int in, int out,
                        const std::string& x, const std::string& out_name = "");
// y (N, T, out) = x (N, T, in) · W^T + b over token rows: MatMul with Transpose(W), then Add.
std::string emit_token_linear(GraphBuilder& g, CheckpointWeights& w, const std::string& name, int in, int out,
                              const std::string& x);

}  // namespace ser::onnx_export
