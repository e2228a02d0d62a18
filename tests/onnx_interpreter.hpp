// tests/onnx_interpreter.hpp — a small reference interpreter of ONNX graphs for the export tests:
// double precision, naive loops, exactly the ops ser's exporter emits (an op it does not know is an
// error naming it). Without an ONNX runtime in C++, this is what runs the exported file
// (tests/test_onnx_export.cpp); tools/onnx_parity.py runs it with onnxruntime.
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ser::onnx_reference {

using Dims = std::vector<std::int64_t>;

struct Tensor {
  Dims dims;
  std::vector<double> v;  // int64 and bool values held as doubles (small integers, exact)
  std::int64_t count() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
};

// A TensorProto (FLOAT or INT64, raw or typed data) as a Tensor.
Tensor from_proto(const onnx::TensorProto& t);

// Runs the graph on `env` (its inputs by name; the initializers are added); returns its outputs.
// Throws std::runtime_error for an unknown op, a missing input or a malformed tensor.
std::map<std::string, Tensor> interpret(const onnx::ModelProto& model, std::map<std::string, Tensor> env);

}  // namespace ser::onnx_reference
