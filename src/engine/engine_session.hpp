// src/engine/engine_session.hpp — what training, evaluation and benchmarks share: the device context,
// a model planned on it, its batch buffers (labels, class weights, probabilities, pinned staging), and
// uploading a host batch into the model's input slots.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/memory.hpp"
#include "nn/model.hpp"
#include "ser/nn/exec.hpp"
#include "ser/nn/loss.hpp"
#include "engine/dataset.hpp"

namespace ser::engine {

class EngineSession {
 public:
  // device: "auto" | "cpu" | "cuda"; kernels: "handwritten" | "vendor". Prints the CPU fall-back notice.
  EngineSession(const std::string& device, const std::string& kernels, bool deterministic, std::ostream& log);
  ~EngineSession();
  const nn::ExecContext& ctx() const { return ctx_; }
  bool on_gpu() const { return ctx_.device == Device::cuda; }
  std::string describe() const;  // "CPU (AMD EPYC, 2 threads)" / "GPU (NVIDIA H100 ...), handwritten kernels"

  // Allocates the per-batch buffers for `model` (already planned).
  void attach(nn::Model<float>& model);
  // Copies batch b into the model's input slots (pinned staging + async copy on the GPU) and sets
  // the batch shape. prosody is copied only when the model fuses it.
  void load_batch(const HostBatch& b);
  std::int32_t* labels() const { return labels_.as<std::int32_t>(); }   // (max_batch)
  float* class_weights() const { return weights_.as<float>(); }        // (n_classes)
  float* probs() const { return probs_.as<float>(); }                   // (max_batch, n_classes)
  void set_class_weights(const std::vector<float>& w);
  // The training loss's targets (ser/nn/loss.hpp): the config's label smoothing, and the loaded
  // batch's mixup labels and weight when it has them. Evaluation always uses the plain loss.
  nn::XentTargets training_targets() const;
  void set_label_smoothing(float eps) { label_smoothing_ = eps; }
  // Data parallel (train/data_parallel.hpp): the ranks the batch statistics, gradients and loss are
  // summed over, and the loaded slice's global loss normalisers (Σ w[y] of the whole global batch).
  void set_ranks(const nn::RankSum* ranks) { ctx_.ranks = ranks; }
  void set_global_weight_sums(double labels, double mix_labels) { weight_sum_ = labels; mix_weight_sum_ = mix_labels; }

 private:
  std::unique_ptr<nn::GpuHandles> gpu_;
  nn::ExecContext ctx_;
  nn::Model<float>* model_ = nullptr;
  nn::Block labels_, mix_labels_, weights_, probs_;
  std::unique_ptr<nn::HostStaging> staging_;
  std::size_t staging_bytes_ = 0;
  float label_smoothing_ = 0.0f;
  bool batch_is_mixed_ = false;  // the loaded batch carries mixup labels
  float mix_lambda_ = 1.0f;
  double weight_sum_ = 0, mix_weight_sum_ = 0;  // 0 = the loaded batch's own
};

}  // namespace ser::engine
