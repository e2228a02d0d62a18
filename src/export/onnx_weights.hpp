// src/export/onnx_weights.hpp — a checkpoint's tensors handed to the ONNX graph by name: each is
// placed as an initializer of the same name and shape (PyTorch's layout, as in the checkpoint), at
// most once, and what the graph never asked for is reported.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "export/onnx_graph.hpp"
#include "engine/checkpoint.hpp"

namespace ser::onnx_export {

class CheckpointWeights {
 public:
  explicit CheckpointWeights(const engine::Checkpoint& checkpoint) : ck_(checkpoint) {}
  // The parameter (or running statistic) `name` as an initializer; throws ser::Error when the
  // checkpoint lacks it, its shape is not `shape`, or it was placed already.
  std::string param(GraphBuilder& g, const std::string& name, const std::vector<int>& shape);
  std::string state(GraphBuilder& g, const std::string& name, const std::vector<int>& shape);
  // The checkpoint's parameters and statistics the graph has not placed.
  std::vector<std::string> unused() const;

 private:
  std::string place(GraphBuilder& g, const std::vector<nn::ParamEntry>& entries, const std::vector<float>& values,
                    const std::string& name, const std::vector<int>& shape);
  const engine::Checkpoint& ck_;
  std::set<std::string> placed_;
};

}  // namespace ser::onnx_export
