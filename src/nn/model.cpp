// src/nn/model.cpp — building the layer list from the config, planning memory, forward/backward.
#include "nn/model.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "nn/layers/attention_layers.hpp"
#include "nn/layers/conv_layers.hpp"
#include "nn/layers/dense_layers.hpp"
#include "nn/nvtx.hpp"
#include "ser/error.hpp"
#include "util/wall_clock.hpp"

namespace ser::nn {
namespace {

std::size_t align256(std::size_t b) { return (b + 255) / 256 * 256; }

std::string mib(std::size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

}  // namespace

template <typename T>
struct Model<T>::Plan {
  std::vector<Dims> dims;                       // planned input dims of each layer, dims[L] = output
  std::vector<std::int64_t> act_offset;         // elements into the activation arena, per act index
  std::int64_t act_total = 0;
  std::vector<std::int64_t> saved_offset, saved_int_offset;
  std::int64_t saved_total = 0, saved_int_total = 0;
  std::int64_t grad_act = 0;                    // largest activation (elements)
  std::size_t scratch = 0;
  std::int64_t input = 0, prosody = 0, dlogits = 0, ints = 0;
  std::size_t bytes(std::int64_t n_params, std::int64_t n_state) const {
    return align256(sizeof(T) * n_params) * 2 + align256(sizeof(T) * n_state) +
           align256(sizeof(T) * (act_total + input + prosody + dlogits)) +
           align256(sizeof(T) * saved_total) + align256(sizeof(std::int32_t) * saved_int_total) +
           align256(sizeof(T) * grad_act) * 2 + align256(scratch) + align256(sizeof(int) * ints);
  }
};

template <typename T>
Model<T>::Model(const ModelConfig& c, const ModelInputs& in) : config_(c), inputs_(in) {
  if (in.n_classes < 2) throw Error("a classifier needs at least 2 classes, found " + std::to_string(in.n_classes));
  if (c.uses_functionals() && in.n_prosody <= 0)
    throw Error("model '" + c.name + "' reads the utterance functionals, but the cache has none");
  int ch = 1, f = in.n_mels;
  std::uint64_t id = 1;
  const std::size_t blocks = c.functionals_only() ? 0 : c.conv_channels.size();
  if (blocks > 0 && c.deltas > 0) {  // Δ (and ΔΔ) of the log-mel as extra input channels
    layers_.push_back(std::make_unique<TimeDeltasLayer<T>>(c.deltas));
    ch = 1 + c.deltas;
  }
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::string name = "blocks." + std::to_string(b);
    const int out = c.conv_channels[b];
    layers_.push_back(std::make_unique<Conv2dLayer<T>>(name + ".conv", ch, out, c.kernel_time,
                                                       c.kernel_freq, 1, 1, !c.batchnorm));
    if (c.batchnorm) layers_.push_back(std::make_unique<BatchNorm2dLayer<T>>(name + ".bn", out));
    layers_.push_back(std::make_unique<ReluLayer<T>>());
    if (c.pool_time > 1 || c.pool_freq > 1) {
      if (f / c.pool_freq < 1)
        throw Error("model '" + c.name + "': block " + std::to_string(b + 1) + " pools the " +
                    std::to_string(f) + " frequency rows below 1; use fewer blocks or a smaller pool_freq");
      layers_.push_back(std::make_unique<MaxPool2dLayer<T>>(c.pool_time, c.pool_freq));
      f /= c.pool_freq;
    }
    if (c.conv_dropout > 0) layers_.push_back(std::make_unique<DropoutLayer<T>>(c.conv_dropout, id++));
    ch = out;
    if (c.attention_after == static_cast<int>(b) + 1)
      layers_.push_back(std::make_unique<SelfAttentionLayer<T>>("attention", ch, f, c.attention_heads,
                                                                c.attention_head_dim, c.attention_identity_init,
                                                                c.attention_pre_norm));
  }
  int d = ch * f;
  if (c.functionals_only()) {
    layers_.push_back(std::make_unique<FunctionalsInputLayer<T>>(in.n_prosody));
    d = in.n_prosody;
  } else {
    layers_.push_back(std::make_unique<TemporalPoolLayer<T>>("pool", c.temporal_pool == "attention", ch, f));
  }
  if (c.fuse_prosody && !c.functionals_only()) {
    layers_.push_back(std::make_unique<ConcatProsodyLayer<T>>(in.n_prosody));
    d += in.n_prosody;
  }
  for (std::size_t j = 0; j < c.dense.size(); ++j) {
    layers_.push_back(std::make_unique<LinearLayer<T>>("dense." + std::to_string(j), d, c.dense[j]));
    layers_.push_back(std::make_unique<ReluLayer<T>>());
    if (c.dropout > 0) layers_.push_back(std::make_unique<DropoutLayer<T>>(c.dropout, id++));
    d = c.dense[j];
  }
  layers_.push_back(std::make_unique<LinearLayer<T>>("classifier", d, in.n_classes));

  for (std::size_t i = 0; i < layers_.size(); ++i) {  // NVTX range names: "L5 conv2d fwd"
    std::string name("L");
    name.append(std::to_string(i)).append(" ").append(layers_[i]->kind());
    range_names_.push_back(name + " fwd");
    range_names_.push_back(name + " bwd");
  }
  for (auto& l : layers_) {
    const std::size_t p0 = params_.entries().size(), s0 = state_.entries().size();
    l->declare(params_, state_);
    std::vector<int> pi, si;
    for (std::size_t i = p0; i < params_.entries().size(); ++i) pi.push_back(static_cast<int>(i));
    for (std::size_t i = s0; i < state_.entries().size(); ++i) si.push_back(static_cast<int>(i));
    layer_params_.push_back(pi);
    layer_state_.push_back(si);
  }
  // Smallest input length whose every layer keeps at least one valid step.
  for (min_frames_ = 1; min_frames_ < 1 << 20; ++min_frames_) {
    int len = min_frames_;
    bool ok = true;
    for (auto& l : layers_) {
      if (len < l->min_input_length()) { ok = false; break; }
      len = l->output_length(len);
      if (len < 1) { ok = false; break; }
    }
    if (ok) break;
  }
}

template <typename T>
Model<T>::~Model() = default;

template <typename T>
typename Model<T>::Plan Model<T>::make_plan(const ExecContext& ctx, int max_batch, int max_frames) const {
  Plan p;
  Dims d{max_batch, 1, max_frames, inputs_.n_mels, true};
  p.input = d.count();
  p.prosody = std::int64_t(max_batch) * std::max(inputs_.n_prosody, 1);
  p.dlogits = std::int64_t(max_batch) * inputs_.n_classes;
  p.dims.push_back(d);
  p.act_offset.push_back(-1);  // the input slot
  p.grad_act = d.count();
  for (const auto& l : layers_) {
    const Dims out = l->output_dims(d);
    p.saved_offset.push_back(p.saved_total);
    p.saved_int_offset.push_back(p.saved_int_total);
    p.saved_total += (l->saved_values(d) + 63) / 64 * 64;
    p.saved_int_total += (l->saved_ints(d) + 63) / 64 * 64;
    p.scratch = std::max(p.scratch, l->scratch_bytes(ctx, d));
    if (l->in_place()) {
      p.act_offset.push_back(p.act_offset.back());
    } else {
      p.act_offset.push_back(p.act_total);
      p.act_total += (out.count() + 63) / 64 * 64;
    }
    p.grad_act = std::max(p.grad_act, out.count());
    p.dims.push_back(out);
    d = out;
  }
  p.ints = std::int64_t(layers_.size() + 1) * max_batch;
  return p;
}

template <typename T>
std::size_t Model<T>::bytes_for(const ExecContext& ctx, int max_batch, int max_frames) const {
  return make_plan(ctx, max_batch, max_frames).bytes(params_.total(), state_.total());
}

template <typename T>
void Model<T>::plan(const ExecContext& ctx, int max_batch, int max_frames, std::uint64_t seed) {
  if (max_batch < 1) throw Error("batch size must be at least 1");
  max_frames = std::max(max_frames, min_frames_);
  const Plan p = make_plan(ctx, max_batch, max_frames);
  const std::size_t need = p.bytes(params_.total(), state_.total());
  if (ctx.device == Device::cuda) {
    std::size_t free_b = 0, total_b = 0;
    device_memory_info(ctx.device, &free_b, &total_b);
    if (need > free_b) {
      int fit = 0;
      for (int b = max_batch - 1; b >= 1; --b)
        if (bytes_for(ctx, b, max_frames) <= free_b) { fit = b; break; }
      throw Error("out of GPU memory: the plan for batch " + std::to_string(max_batch) + " x " +
                  std::to_string(max_frames) + " frames needs " + mib(need) + " but " + mib(free_b) +
                  " are free; " + (fit > 0 ? "the largest batch that fits is " + std::to_string(fit) +
                  " (--batch-size " + std::to_string(fit) + " or a smaller [train] max_frames)"
                  : std::string("not even batch 1 fits; lower [train] max_frames")));
    }
  }
  max_batch_ = max_batch;
  max_frames_ = max_frames;
  const Device dev = ctx.device;
  params_mem_ = Block(dev, sizeof(T) * params_.total(), "parameters");
  grads_mem_ = Block(dev, sizeof(T) * params_.total(), "gradients");
  state_mem_ = Block(dev, sizeof(T) * std::max<std::int64_t>(state_.total(), 1), "running statistics");
  acts_mem_ = Block(dev, sizeof(T) * (p.act_total + p.input + p.prosody + p.dlogits), "activations");
  saved_mem_ = Block(dev, sizeof(T) * std::max<std::int64_t>(p.saved_total, 1), "saved activations");
  ints_mem_ = Block(dev, sizeof(std::int32_t) * std::max<std::int64_t>(p.saved_int_total, 1) +
                             sizeof(int) * p.ints + 256, "argmax indices and lengths");
  grads_act_mem_ = Block(dev, align256(sizeof(T) * p.grad_act) * 2, "activation gradients");
  scratch_mem_ = Block(dev, std::max<std::size_t>(p.scratch, 256), "scratch");
  planned_bytes_ = need;

  T* acts = acts_mem_.template as<T>();
  input_ = acts + p.act_total;
  prosody_ = input_ + p.input;
  dlogits_ = prosody_ + p.prosody;
  act_ptr_.clear();
  for (std::size_t i = 0; i < p.act_offset.size(); ++i)
    act_ptr_.push_back(p.act_offset[i] < 0 ? input_ : acts + p.act_offset[i]);
  grad_buf_[0] = grads_act_mem_.template as<T>();
  grad_buf_[1] = grads_act_mem_.template as<T>(align256(sizeof(T) * p.grad_act));
  auto* ints = ints_mem_.template as<std::int32_t>();
  lengths_dev_ = reinterpret_cast<int*>(ints + (p.saved_int_total + 63) / 64 * 64);

  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::vector<T*> pp, gg, ss;
    for (int k : layer_params_[i]) {
      pp.push_back(params() + params_.at(k).offset);
      gg.push_back(grads() + params_.at(k).offset);
    }
    for (int k : layer_state_[i]) ss.push_back(state() + state_.at(k).offset);
    layers_[i]->bind(pp, gg, ss);
    layers_[i]->bind_saved(saved_mem_.template as<T>() + p.saved_offset[i], ints + p.saved_int_offset[i]);
  }
  const auto init = params_.template initial_values<T>(seed);
  upload(ctx, params(), init.data(), sizeof(T) * init.size());
  const auto st = state_.template initial_values<T>(0);
  upload(ctx, state(), st.data(), sizeof(T) * st.size());

  std::ostringstream os;
  os << "memory plan (" << (dev == Device::cuda ? "GPU" : "CPU") << ", batch " << max_batch << " x "
     << max_frames << " frames, " << (sizeof(T) == 4 ? "fp32" : "fp64") << "):\n";
  auto line = [&](const char* what, std::size_t b, const std::string& note) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-22s %12s  %s\n", what, mib(b).c_str(), note.c_str());
    os << buf;
  };
  line("parameters", sizeof(T) * params_.total(), std::to_string(params_.payload()) + " values in " +
       std::to_string(params_.entries().size()) + " tensors");
  line("gradients", sizeof(T) * params_.total(), "");
  line("running statistics", sizeof(T) * state_.total(), "");
  line("activations", sizeof(T) * (p.act_total + p.input + p.prosody + p.dlogits),
       std::to_string(layers_.size()) + " layers (ReLU and dropout in place)");
  line("saved for backward", sizeof(T) * p.saved_total + sizeof(std::int32_t) * p.saved_int_total, "");
  line("activation gradients", align256(sizeof(T) * p.grad_act) * 2, "two ping-pong buffers");
  line("scratch", p.scratch, "shared by all layers");
  line("model total", need, "(the optimizer's and the batch's buffers come on top)");
  plan_report_ = os.str();
}

template <typename T>
std::string Model<T>::plan_report() const { return plan_report_; }

template <typename T>
void Model<T>::set_batch(const ExecContext& ctx, int n, int t, const std::vector<int>& lengths) {
  if (n < 1 || n > max_batch_ || t > max_frames_ || static_cast<int>(lengths.size()) != n)
    throw Error("batch " + std::to_string(n) + " x " + std::to_string(t) + " exceeds the plan (" +
                std::to_string(max_batch_) + " x " + std::to_string(max_frames_) + ")");
  std::vector<int> all(static_cast<std::size_t>(layers_.size() + 1) * n);
  std::vector<int> len(lengths);
  for (int v : len)
    if (v < min_frames_ || v > t)
      throw Error("utterance length " + std::to_string(v) + " outside [" + std::to_string(min_frames_) +
                  ", " + std::to_string(t) + "]");
  dims_.assign(1, Dims{n, 1, t, inputs_.n_mels, true});
  std::copy(len.begin(), len.end(), all.begin());
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    dims_.push_back(layers_[i]->output_dims(dims_.back()));
    for (auto& v : len) v = dims_.back().timed ? layers_[i]->output_length(v) : 0;
    std::copy(len.begin(), len.end(), all.begin() + static_cast<std::ptrdiff_t>((i + 1) * n));
  }
  upload(ctx, lengths_dev_, all.data(), sizeof(int) * all.size());
}

template <typename T>
Pass<T> Model<T>::pass(const ExecContext& ctx, bool training, std::uint64_t seed) const {
  Pass<T> p;
  p.ctx = ctx;
  p.training = training;
  p.seed = seed;
  p.first_row = first_row_;
  p.prosody = prosody_;
  p.scratch = scratch_mem_.get();
  p.scratch_size = scratch_mem_.bytes();
  return p;
}

template <typename T>
const T* Model<T>::forward(const ExecContext& ctx, bool training, std::uint64_t seed) {
  const Pass<T> p = pass(ctx, training, seed);
  const int n = dims_[0].n;
  fwd_s_.assign(layers_.size(), 0.0);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Act<T> x{act_ptr_[i], dims_[i], dims_[i].timed ? lengths_dev_ + i * n : nullptr};
    Act<T> y{act_ptr_[i + 1], dims_[i + 1], dims_[i + 1].timed ? lengths_dev_ + (i + 1) * n : nullptr};
    const double t0 = timing_ ? now_seconds() : 0;
    const NvtxRange range(range_names_[2 * i]);
    layers_[i]->forward(p, x, y);
    if (timing_) { synchronize(ctx); fwd_s_[i] = now_seconds() - t0; }
  }
  return act_ptr_.back();
}

template <typename T>
void Model<T>::backward(const ExecContext& ctx, std::uint64_t seed, const T* dlogits) {
  const Pass<T> p = pass(ctx, true, seed);
  const int n = dims_[0].n;
  bwd_s_.assign(layers_.size(), 0.0);
  const T* dy = dlogits;
  int which = 0;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    Act<T> x{act_ptr_[i], dims_[i], dims_[i].timed ? lengths_dev_ + i * n : nullptr};
    Act<T> y{act_ptr_[i + 1], dims_[i + 1], dims_[i + 1].timed ? lengths_dev_ + (i + 1) * n : nullptr};
    T* dx = nullptr;
    if (i > 0) {
      if (layers_[i]->in_place() && dy != dlogits) dx = const_cast<T*>(dy);
      else { dx = grad_buf_[which]; which ^= 1; }
    }
    const double t0 = timing_ ? now_seconds() : 0;
    const NvtxRange range(range_names_[2 * i + 1]);
    layers_[i]->backward(p, x, y, dy, dx);
    if (timing_) { synchronize(ctx); bwd_s_[i] = now_seconds() - t0; }
    dy = dx;
  }
}

template class Model<float>;
template class Model<double>;

}  // namespace ser::nn
