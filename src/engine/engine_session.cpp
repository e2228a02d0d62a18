// src/engine/engine_session.cpp — device context and batch upload.
#include "engine/engine_session.hpp"

#include <cstring>
#include <ostream>

#include "ser/device.hpp"

namespace ser::engine {

EngineSession::EngineSession(const std::string& device, const std::string& kernels, bool deterministic,
                             std::ostream& log) {
  const Device d = select_device(parse_device_request(device), log);
  if (d == Device::cuda) {
    gpu_ = std::make_unique<nn::GpuHandles>(deterministic);
    ctx_ = gpu_->context(nn::parse_kernel_path(kernels));
  } else {
    ctx_.device = Device::cpu;
    ctx_.kernels = nn::parse_kernel_path(kernels);
  }
  ctx_.deterministic = deterministic;
}

EngineSession::~EngineSession() = default;

std::string EngineSession::describe() const {
  if (ctx_.device == Device::cpu) return "CPU (" + cpu_description() + ")";
  const auto& p = probe_cuda();
  return "GPU (" + p.name + ", sm_" + std::to_string(p.compute_major) + std::to_string(p.compute_minor) +
         "), " + nn::to_string(ctx_.kernels) + " kernels" + (ctx_.deterministic ? ", deterministic" : "");
}

void EngineSession::attach(nn::Model<float>& model) {
  model_ = &model;
  const int b = model.max_batch(), k = model.inputs().n_classes;
  labels_ = nn::Block(ctx_.device, sizeof(std::int32_t) * b, "batch labels");
  mix_labels_ = nn::Block(ctx_.device, sizeof(std::int32_t) * b, "batch mixup labels");
  weights_ = nn::Block(ctx_.device, sizeof(float) * k, "class weights");
  probs_ = nn::Block(ctx_.device, sizeof(float) * b * k, "class probabilities");
  staging_bytes_ = sizeof(float) * (static_cast<std::size_t>(b) * model.max_frames() * model.inputs().n_mels +
                                    static_cast<std::size_t>(b) * std::max(model.inputs().n_prosody, 1)) +
                   2 * sizeof(std::int32_t) * b;  // labels and mixup labels
  staging_ = std::make_unique<nn::HostStaging>(staging_bytes_, on_gpu());
}

void EngineSession::set_class_weights(const std::vector<float>& w) {
  nn::upload(ctx_, weights_.get(), w.data(), sizeof(float) * w.size());
}

nn::XentTargets EngineSession::training_targets() const {
  nn::XentTargets t;
  t.label_smoothing = label_smoothing_;
  t.weight_sum = weight_sum_;
  if (batch_is_mixed_) {
    t.mix_labels = mix_labels_.as<std::int32_t>();
    t.mix_lambda = mix_lambda_;
    t.mix_weight_sum = mix_weight_sum_;
  }
  return t;
}

void EngineSession::load_batch(const HostBatch& b) {
  nn::Model<float>& m = *model_;
  const std::size_t xb = sizeof(float) * b.x.size();
  const std::size_t pb = m.inputs().n_prosody > 0 ? sizeof(float) * static_cast<std::size_t>(b.n) * m.inputs().n_prosody : 0;
  const std::size_t lb = sizeof(std::int32_t) * b.labels.size();
  batch_is_mixed_ = !b.mix_labels.empty();
  mix_lambda_ = b.mix_lambda;
  const std::size_t mb = batch_is_mixed_ ? sizeof(std::int32_t) * b.mix_labels.size() : 0;
  char* s = static_cast<char*>(staging_->get());
  if (on_gpu()) {
    // The stream has finished with the staging buffer: every step synchronises when it reads the loss.
    std::memcpy(s, b.x.data(), xb);
    if (pb) std::memcpy(s + xb, b.prosody.data(), pb);
    std::memcpy(s + xb + pb, b.labels.data(), lb);
    if (mb) std::memcpy(s + xb + pb + lb, b.mix_labels.data(), mb);
    nn::upload_async(ctx_, m.input(), s, xb);
    if (pb) nn::upload_async(ctx_, m.prosody_input(), s + xb, pb);
    nn::upload_async(ctx_, labels(), s + xb + pb, lb);
    if (mb) nn::upload_async(ctx_, mix_labels_.get(), s + xb + pb + lb, mb);
  } else {
    nn::upload(ctx_, m.input(), b.x.data(), xb);
    if (pb) nn::upload(ctx_, m.prosody_input(), b.prosody.data(), pb);
    nn::upload(ctx_, labels(), b.labels.data(), lb);
    if (mb) nn::upload(ctx_, mix_labels_.get(), b.mix_labels.data(), mb);
  }
  m.set_batch(ctx_, b.n, b.t, b.lengths);
}

}  // namespace ser::engine
