// src/export/onnx_graph.hpp — a small builder over onnx::GraphProto: unique value names, weights
// and constants as initializers (little-endian raw_data), nodes with attributes, typed graph inputs
// and outputs. The layer emitters (onnx_layers.hpp) speak only through it.
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ser::onnx_export {

using Attr = onnx::AttributeProto;
Attr attr_int(const std::string& name, std::int64_t v);
Attr attr_ints(const std::string& name, const std::vector<std::int64_t>& v);
Attr attr_float(const std::string& name, float v);
Attr attr_string(const std::string& name, const std::string& v);
Attr attr_tensor(const std::string& name, const onnx::TensorProto& t);

// A dimension of a graph input or output: a fixed size, or a symbolic one ("N", "T").
struct Dim {
  std::int64_t value = -1;  // >= 0: fixed
  std::string param;        // symbolic name when value < 0
  static Dim fixed(std::int64_t v) { return Dim{v, ""}; }
  static Dim symbol(const std::string& s) { return Dim{-1, s}; }
};

// A float32 tensor as an onnx::TensorProto (raw_data, little-endian), for initializers and
// attribute values.
onnx::TensorProto float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const float* data);
onnx::TensorProto int64_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::int64_t* data);

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : g_(graph) {}

  // A value name not used before: "stem", then "stem_1", "stem_2", ...
  std::string fresh(const std::string& stem);

  // Initializers. `name` is used as given (it must be new); the constant helpers pick a name under
  // "const." and reuse an identical constant made before.
  std::string weight(const std::string& name, const std::vector<std::int64_t>& dims, const float* data);
  std::string float_const(const std::vector<std::int64_t>& dims, const std::vector<float>& values);
  std::string int64_const(const std::vector<std::int64_t>& dims, const std::vector<std::int64_t>& values);
  std::string scalar(float v) { return float_const({}, {v}); }

  // One node with one output; returns the output's name (`out` when given, else a fresh name from
  // the op type).
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<Attr>& attrs = {}, const std::string& out = "");

  void input(const std::string& name, const std::vector<Dim>& dims);   // float32
  void output(const std::string& name, const std::vector<Dim>& dims);  // float32

 private:
  onnx::GraphProto* g_;
  std::set<std::string> names_;               // every value name handed out or registered
  std::map<std::string, int> next_;           // stem -> next suffix to try
  std::map<std::string, std::string> consts_; // serialised constant -> its initializer's name
  int nodes_ = 0;
};

}  // namespace ser::onnx_export
