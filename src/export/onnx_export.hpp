#pragma once
#include <string>
#include "engine/checkpoint.hpp"
namespace ser {
// Writes the inference graph of a checkpoint's model as ONNX (opset 17), atomically. Inputs:
// "logmel" float (N, T, n_mels) un-normalised log-mel frames (N, T dynamic; every frame valid), and
// "functionals" float (N, n_functionals) when the model fuses prosody. Outputs "logits" (N, k) and
// "probabilities" (N, k). The checkpoint's normaliser is part of the graph. Runs the ONNX checker
// and shape inference before writing; throws ser::Error on failure.
void export_onnx(const engine::Checkpoint& checkpoint, const std::string& out_path);
}
