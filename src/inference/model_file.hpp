// src/inference/model_file.hpp — the two files a model can live in, read into one form:
//   a training checkpoint (HDF5, src/engine/checkpoint.hpp) and a safetensors export
//   (docs/export.md: the parameters and running statistics by name, the normaliser, and in the
//   metadata the run config, feature config, class names and input sizes).
// Both become a engine::Checkpoint holding the weights (no Adam moments, no data order), so every
// consumer (the Classifier, `ser export --format onnx`) reads either.
#pragma once
#include <string>

#include "engine/checkpoint.hpp"

namespace ser::inference {

inline constexpr const char* kExportFormat = "ser-model";
inline constexpr int kExportFormatVersion = 1;

enum class ModelFileKind { checkpoint, safetensors, unknown };
ModelFileKind sniff_model_file(const std::string& path);  // from the first bytes; never throws

// Reads either kind and checks that the weights fit the network its run config describes (every
// tensor present with its shape, none left over) and the normaliser fits the inputs. Throws
// ser::file_error(path, ...) otherwise.
engine::Checkpoint load_model_file(const std::string& path);

// Writes the weights, normaliser and configs of `c` as a safetensors export (atomically).
void write_safetensors_export(const engine::Checkpoint& c, const std::string& path);

}  // namespace ser::inference
