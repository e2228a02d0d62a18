// src/nn/layers/layer.hpp — the layer interface of the engine. A layer owns no memory: the model
// plans one arena for activations, one for what layers save for backward, one shared scratch, and
// one flat buffer each for parameters, gradients and Adam moments, and hands every layer its slices.
//
// Activations are (N, C, T, F) maps; token sequences are maps with C = 1 (N, 1, T, D); utterance
// vectors are (N, 1, 1, D) with no time axis. Timed activations carry per-utterance valid lengths and
// are zero at t >= length (include/ser/nn/README.md). Contract: forward overwrites its output;
// backward overwrites dx and accumulates parameter gradients.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nn/param_table.hpp"
#include "ser/nn/exec.hpp"

namespace ser::nn {

struct Dims {
  int n = 1, c = 1, t = 1, f = 1;
  bool timed = true;  // has a time axis with lengths (false for (N, 1, 1, D) vectors)
  std::int64_t count() const { return std::int64_t(n) * c * t * f; }
  std::int64_t per_item() const { return std::int64_t(c) * t * f; }
};

template <typename T>
struct Act {
  T* data = nullptr;
  Dims dims;
  const int* lengths = nullptr;  // (N) valid time steps, on the context's device; nullptr = untimed
};

// What a forward/backward call needs besides its input and output.
template <typename T>
struct Pass {
  ExecContext ctx;
  bool training = true;
  std::uint64_t seed = 0;           // this step's dropout seed (layers mix in their index)
  int first_row = 0;                // data parallel: this slice's first row in the global batch
  const T* prosody = nullptr;       // (N, n_prosody) utterance vector for fusion, on the device
  void* scratch = nullptr;          // shared workspace, Layer::scratch_bytes() at least
  std::size_t scratch_size = 0;     // its size in bytes (planned at the largest batch x length)
};

template <typename T>
class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string kind() const = 0;       // "conv2d"
  virtual std::string describe() const = 0;   // "conv2d 1->32 k3x3 s1 p1"

  // Output dims for input dims (max batch and length at planning; the actual ones at run time).
  virtual Dims output_dims(const Dims& in) const = 0;
  // Valid output time steps for `len` valid input steps.
  virtual int output_length(int len) const { return len; }
  // Smallest input length that leaves at least one valid output step.
  virtual int min_input_length() const { return 1; }

  // Parameters (names prefixed by the model) and running state (saved, not optimised).
  virtual void declare(ParamTable& params, ParamTable& state) { (void)params; (void)state; }
  // Pointers to this layer's parameters, their gradients and its state, in declare() order.
  virtual void bind(const std::vector<T*>& params, const std::vector<T*>& grads,
                    const std::vector<T*>& state) { (void)params; (void)grads; (void)state; }

  // Elements this layer saves between forward and backward at the planned max input dims (T
  // values and int32 values), and the shared scratch it needs in bytes.
  virtual std::int64_t saved_values(const Dims& max_in) const { (void)max_in; return 0; }
  virtual std::int64_t saved_ints(const Dims& max_in) const { (void)max_in; return 0; }
  virtual std::size_t scratch_bytes(const ExecContext& ctx, const Dims& max_in) const {
    (void)ctx; (void)max_in; return 0;
  }
  void bind_saved(T* values, std::int32_t* ints) { saved_ = values; saved_int_ = ints; }

  // The output may share the input's buffer (ReLU, dropout).
  virtual bool in_place() const { return false; }
  // Backward needs its input activation (true for almost every layer).
  virtual void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) = 0;
  // dx may be nullptr for the first layer (no input gradient needed); dx may equal dy for in-place layers.
  virtual void backward(const Pass<T>& p, const Act<T>& x, const Act<T>& y, const T* dy, T* dx) = 0;

  // FLOPs of one forward pass at these input dims (for benchmarks), 0 when negligible.
  virtual double forward_flops(const Dims& in) const { (void)in; return 0; }

 protected:
  T* saved_ = nullptr;
  std::int32_t* saved_int_ = nullptr;
};

}  // namespace ser::nn
