// src/nn/param_table.hpp — the table of named parameter tensors that is the memory plan for
// parameters, gradients and Adam moments: each is one flat allocation carved at these offsets.
// Running statistics (batch normalisation) are "state": saved and restored, never optimised.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ser::nn {

enum class Init {
  zeros,
  ones,
  kaiming_uniform,  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for Conv2d/Linear weights
  bias_uniform,     // U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for their biases
};

struct ParamEntry {
  std::string name;          // "blocks.0.conv.weight"
  std::vector<int> shape;    // PyTorch's layout for the same tensor
  std::int64_t offset = 0;   // elements from the start of the flat buffer
  Init init = Init::zeros;
  int fan_in = 1;
  bool decay = false;        // weight decay applies (weights of conv/linear, not biases or norms)
  std::int64_t count() const;
};

class ParamTable {
 public:
  // Adds a tensor; returns its index. Offsets are aligned to 64 elements (256 bytes).
  int add(std::string name, std::vector<int> shape, Init init, int fan_in, bool decay);
  const std::vector<ParamEntry>& entries() const { return entries_; }
  const ParamEntry& at(int i) const { return entries_.at(static_cast<std::size_t>(i)); }
  std::int64_t total() const { return total_; }   // elements including alignment gaps
  std::int64_t payload() const;                   // elements excluding gaps
  int find(const std::string& name) const;        // -1 when absent

  // Host values for every element following each entry's init (gaps zero), drawn from the
  // counter-based generator so the CPU and GPU start from the same weights.
  template <typename T>
  std::vector<T> initial_values(std::uint64_t seed) const;
  // 1 where weight decay applies, 0 elsewhere (gaps 0).
  std::vector<std::uint8_t> decay_mask() const;

 private:
  std::vector<ParamEntry> entries_;
  std::int64_t total_ = 0;
};

std::string shape_string(const std::vector<int>& shape);  // "32x1x3x3"

}  // namespace ser::nn
