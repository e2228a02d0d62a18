// src/export/onnx_dense.cpp — linear layers as Gemm (utterance vectors) or MatMul + Add (tokens),
// weights kept in the checkpoint's (out, in) layout.
#include "export/onnx_layers.hpp"

namespace ser::onnx_export {

std::string emit_linear(GraphBuilder& g, CheckpointWeights& w, const std::string& name, int in, int out,
                        const std::string& x, const std::string& out_name) {
  const std::string wt = w.param(g, name + ".weight", {out, in});
  const std::string b = w.param(g, name + ".bias", {out});
  return g.node("Gemm", {x, wt, b}, {attr_int("transB", 1)}, out_name);
}

std::string emit_token_linear(GraphBuilder& g, CheckpointWeights& w, const std::string& name, int in, int out,
                              const std::string& x) {
  const std::string wt = w.param(g, name + ".weight", {out, in});
  const std::string b = w.param(g, name + ".bias", {out});
  const std::string w_in_out = g.node("Transpose", {wt}, {attr_ints("perm", {1, 0})});  // (in, out)
  return g.node("Add", {g.node("MatMul", {x, w_in_out}), b});
}

}  // namespace ser::onnx_export
