// src/nn/model.hpp — a network built from a ModelConfig: the list of layers, its parameter and state
// tables, and the memory plan (parameters, gradients, state, activations, saved values, activation
// gradients, scratch) for the largest batch x length, allocated once on the context's device.
//
//   input (N, 1, T, n_mels) ─► [conv → BN → ReLU → max-pool → dropout] × blocks, self-attention after
//   block k (config) ─► temporal pooling ─► (N, D) ─► ⊕ prosody (N, P) ─► [linear → ReLU → dropout]* ─►
//   linear ─► logits (N, n_classes)
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/layers/layer.hpp"
#include "nn/memory.hpp"
#include "nn/param_table.hpp"
#include "ser/model_config.hpp"

namespace ser::nn {

struct ModelInputs {
  int n_mels = 64;
  int n_prosody = 0;   // utterance functionals fused before the dense layers (0 when not fused)
  int n_classes = 2;
};

template <typename T>
class Model {
 public:
  Model(const ModelConfig& config, const ModelInputs& inputs);
  ~Model();

  const ModelConfig& config() const { return config_; }
  const ModelInputs& inputs() const { return inputs_; }
  const ParamTable& param_table() const { return params_; }
  const ParamTable& state_table() const { return state_; }
  int min_frames() const { return min_frames_; }  // shortest input that keeps one valid step everywhere
  std::size_t layer_count() const { return layers_.size(); }
  const Layer<T>& layer(std::size_t i) const { return *layers_[i]; }
  Layer<T>& layer(std::size_t i) { return *layers_[i]; }

  // Allocates everything on ctx's device for batches of up to max_batch utterances of up to
  // max_frames frames, initialises parameters from `seed` and state to its defaults. Throws
  // ser::Error on out of memory, naming the largest batch that would fit.
  void plan(const ExecContext& ctx, int max_batch, int max_frames, std::uint64_t seed);
  // The plan as a table (one line per buffer, sizes in MiB), printed at start-up.
  std::string plan_report() const;
  std::size_t planned_bytes() const { return planned_bytes_; }
  // Bytes the plan would take for (max_batch, max_frames) without allocating.
  std::size_t bytes_for(const ExecContext& ctx, int max_batch, int max_frames) const;
  int max_batch() const { return max_batch_; }
  int max_frames() const { return max_frames_; }

  // Device buffers. params/grads/state are flat, laid out by param_table()/state_table().
  T* params() const { return params_mem_.template as<T>(); }
  T* grads() const { return grads_mem_.template as<T>(); }
  T* state() const { return state_mem_.template as<T>(); }
  T* input() const { return input_; }              // (max_batch, 1, max_frames, n_mels)
  T* prosody_input() const { return prosody_; }    // (max_batch, n_prosody)

  // Sets the batch shape: n utterances, padded length t (the input slot holds (n, 1, t, n_mels)),
  // and the valid lengths (host, n values, each >= min_frames() and <= t). Uploads every layer's lengths.
  void set_batch(const ExecContext& ctx, int n, int t, const std::vector<int>& lengths);
  // Data parallel: the loaded batch is rows [first_row, first_row + n) of the global batch (dropout
  // draws by global position). 0 in one process.
  void set_first_row(int first_row) { first_row_ = first_row; }
  // Forward through every layer; returns the logits (n, n_classes) on the device.
  const T* forward(const ExecContext& ctx, bool training, std::uint64_t step_seed);
  // Backward from dlogits (n, n_classes); parameter gradients accumulate into grads().
  void backward(const ExecContext& ctx, std::uint64_t step_seed, const T* dlogits);
  T* dlogits() const { return dlogits_; }          // (max_batch, n_classes) slot for the loss gradient

  // Per-layer wall time of the last forward/backward when timing is on (synchronises after each
  // layer; for benchmarks only).
  void set_layer_timing(bool on) { timing_ = on; }
  const std::vector<double>& forward_seconds() const { return fwd_s_; }
  const std::vector<double>& backward_seconds() const { return bwd_s_; }
  const std::vector<Dims>& current_dims() const { return dims_; }  // dims_[i] = input of layer i

 private:
  Pass<T> pass(const ExecContext& ctx, bool training, std::uint64_t seed) const;
  struct Plan;
  Plan make_plan(const ExecContext& ctx, int max_batch, int max_frames) const;

  ModelConfig config_;
  ModelInputs inputs_;
  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<std::vector<int>> layer_params_, layer_state_;  // indices into the tables per layer
  ParamTable params_, state_;
  int min_frames_ = 1;
  int max_batch_ = 0, max_frames_ = 0;
  std::size_t planned_bytes_ = 0;
  std::string plan_report_;

  Block params_mem_, grads_mem_, state_mem_, acts_mem_, saved_mem_, grads_act_mem_, scratch_mem_, ints_mem_;
  std::vector<T*> act_ptr_;        // act_ptr_[i] = input of layer i; act_ptr_[L] = logits
  T* grad_buf_[2] = {nullptr, nullptr};
  T* input_ = nullptr;
  T* prosody_ = nullptr;
  T* dlogits_ = nullptr;
  int* lengths_dev_ = nullptr;     // (L + 1, max_batch)
  std::vector<Dims> dims_;         // current batch: dims_[i] = input dims of layer i, dims_[L] = logits
  bool timing_ = false;
  int first_row_ = 0;
  std::vector<double> fwd_s_, bwd_s_;
  std::vector<std::string> range_names_;  // NVTX: forward and backward name of each layer
};

extern template class Model<float>;
extern template class Model<double>;

}  // namespace ser::nn
