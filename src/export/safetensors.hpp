// src/export/safetensors.hpp — the safetensors file format (Hugging Face), float32 tensors only:
//
//   8 bytes   N, unsigned 64-bit little-endian: the header's length in bytes
//   N bytes   JSON object, UTF-8, starting with '{' (may end with spaces):
//               {"NAME": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [BEGIN, END]}, ...,
//                "__metadata__": {"key": "string value", ...}}
//             offsets are bytes into the data buffer that follows, END one past the last byte
//   rest      the data buffer: each tensor row-major (C order), little-endian, every byte belonging
//             to exactly one tensor (no holes, no overlaps)
//
// The writer pads the header with spaces so the data buffer starts 8-byte aligned, and writes to a
// temporary name renamed when complete. The reader checks everything above and throws
// ser::file_error(path, ...) naming what is wrong.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ser::safetensors {

struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;  // row-major; [] is a scalar
  std::vector<float> values;        // product(shape) values
};

struct File {
  std::map<std::string, std::string> metadata;  // "__metadata__"
  std::vector<Tensor> tensors;                  // in data-buffer order
  const Tensor* find(const std::string& name) const;  // nullptr when absent
};

// Throws ser::Error on a duplicate or empty name, a name "__metadata__", a shape whose product
// differs from values.size(), or a failed write.
void write_file(const std::string& path, const File& file);
File read_file(const std::string& path);
// Cheap check of the first bytes: a plausible header length followed by '{'.
bool looks_like_safetensors(const std::string& path);

}  // namespace ser::safetensors
