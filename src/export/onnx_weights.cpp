// src/export/onnx_weights.cpp — checkpoint tensors as ONNX initializers.
#include "export/onnx_weights.hpp"

#include "ser/error.hpp"

namespace ser::onnx_export {

std::string CheckpointWeights::param(GraphBuilder& g, const std::string& name, const std::vector<int>& shape) {
  return place(g, ck_.param_entries, ck_.params, name, shape);
}

std::string CheckpointWeights::state(GraphBuilder& g, const std::string& name, const std::vector<int>& shape) {
  return place(g, ck_.state_entries, ck_.state, name, shape);
}

std::string CheckpointWeights::place(GraphBuilder& g, const std::vector<nn::ParamEntry>& entries,
                                     const std::vector<float>& values, const std::string& name,
                                     const std::vector<int>& shape) {
  const nn::ParamEntry* e = nullptr;
  for (const auto& c : entries)
    if (c.name == name) { e = &c; break; }
  if (!e) throw Error("onnx export: the checkpoint has no tensor '" + name + "'");
  if (e->shape != shape)
    throw Error("onnx export: tensor '" + name + "' is " + nn::shape_string(e->shape) + " in the checkpoint, the model needs " +
                nn::shape_string(shape));
  if (e->offset < 0 || e->offset + e->count() > static_cast<std::int64_t>(values.size()))
    throw Error("onnx export: tensor '" + name + "' lies outside the checkpoint's flat buffer");
  if (!placed_.insert(name).second) throw Error("onnx export: tensor '" + name + "' placed twice");
  const std::vector<std::int64_t> dims(shape.begin(), shape.end());
  return g.weight(name, dims, values.data() + e->offset);
}

std::vector<std::string> CheckpointWeights::unused() const {
  std::vector<std::string> out;
  for (const auto* list : {&ck_.param_entries, &ck_.state_entries})
    for (const auto& e : *list)
      if (!placed_.count(e.name)) out.push_back(e.name);
  return out;
}

}  // namespace ser::onnx_export
