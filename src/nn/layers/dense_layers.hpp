// src/nn/layers/dense_layers.hpp — ReLU, dropout (both in place, any dims), linear over utterance
// vectors (N, 1, 1, D), fusion of the utterance's prosodic vector by concatenation, and the two input
// layers without an input gradient (the functionals as the only input; Δ/ΔΔ input channels).
#pragma once
#include <string>

#include "nn/layers/layer.hpp"
#include "nn/memory.hpp"
#include "ser/error.hpp"
#include "nn/ops_any.hpp"
#include "ser/nn/counter_rng.hpp"

namespace ser::nn {

template <typename T>
class ReluLayer final : public Layer<T> {
 public:
  std::string kind() const override { return "relu"; }
  std::string describe() const override { return "relu"; }
  Dims output_dims(const Dims& in) const override { return in; }
  bool in_place() const override { return true; }
  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    any::relu_forward(p.ctx, x.dims.count(), x.data, y.data);
  }
  // y may have been overwritten in place by a following dropout: its sign pattern is the ReLU's
  // except at dropped elements, where the incoming gradient is 0 anyway, so the result is the same.
  void backward(const Pass<T>& p, const Act<T>&, const Act<T>& y, const T* dy, T* dx) override {
    if (dx) any::relu_backward(p.ctx, y.dims.count(), y.data, dy, dx);
  }
};

template <typename T>
class DropoutLayer final : public Layer<T> {
 public:
  DropoutLayer(float p, std::uint64_t layer_id) : p_(p), id_(layer_id) {}
  std::string kind() const override { return "dropout"; }
  std::string describe() const override { return "dropout p=" + std::to_string(p_).substr(0, 4); }
  Dims output_dims(const Dims& in) const override { return in; }
  bool in_place() const override { return true; }
  std::uint64_t seed(const Pass<T>& p) const { return mix64(p.seed ^ mix64(id_)); }
  // The counter of this slice's first element in the global batch (0 in one process).
  static std::uint64_t first(const Pass<T>& p, const Dims& d) {
    return static_cast<std::uint64_t>(p.first_row) * static_cast<std::uint64_t>(d.count() / d.n);
  }
  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    any::dropout_forward(p.ctx, x.dims.count(), p.training ? p_ : 0.0f, seed(p), x.data, y.data, first(p, x.dims));
  }
  void backward(const Pass<T>& p, const Act<T>& x, const Act<T>&, const T* dy, T* dx) override {
    if (dx)
      any::dropout_backward(p.ctx, x.dims.count(), p.training ? p_ : 0.0f, seed(p), dy, dx, first(p, x.dims));
  }

 private:
  float p_;
  std::uint64_t id_;
};

template <typename T>
class LinearLayer final : public Layer<T> {
 public:
  LinearLayer(std::string name, int in, int out) : name_(std::move(name)), in_(in), out_(out) {}
  std::string kind() const override { return "linear"; }
  std::string describe() const override {
    return "linear " + std::to_string(in_) + "->" + std::to_string(out_);
  }
  Dims output_dims(const Dims& in) const override { return Dims{in.n, 1, 1, out_, false}; }
  void declare(ParamTable& p, ParamTable&) override {
    p.add(name_ + ".weight", {out_, in_}, Init::kaiming_uniform, in_, true);
    p.add(name_ + ".bias", {out_}, Init::bias_uniform, in_, false);
  }
  void bind(const std::vector<T*>& p, const std::vector<T*>& g, const std::vector<T*>&) override {
    w_ = p[0]; b_ = p[1]; dw_ = g[0]; db_ = g[1];
  }
  LinearShape shape(const Dims& in) const { return LinearShape{in.n, in_, out_}; }
  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    any::linear_forward(p.ctx, shape(x.dims), x.data, w_, b_, y.data);
  }
  void backward(const Pass<T>& p, const Act<T>& x, const Act<T>&, const T* dy, T* dx) override {
    any::linear_backward(p.ctx, shape(x.dims), x.data, w_, dy, dx, dw_, db_);
  }
  double forward_flops(const Dims& in) const override { return 2.0 * in.n * in_ * out_; }

 private:
  std::string name_;
  int in_, out_;
  T *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
};

// (N, 1, 1, D) -> (N, 1, 1, D + P): the pooled acoustic vector followed by the normalised prosodic
// functionals of the utterance (Pass::prosody). No gradient flows into the prosodic input.
template <typename T>
class ConcatProsodyLayer final : public Layer<T> {
 public:
  explicit ConcatProsodyLayer(int n_prosody) : p_(n_prosody) {}
  std::string kind() const override { return "concat_prosody"; }
  std::string describe() const override { return "concat prosody (" + std::to_string(p_) + ")"; }
  Dims output_dims(const Dims& in) const override { return Dims{in.n, 1, 1, in.f + p_, false}; }
  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    any::concat(p.ctx, x.dims.n, x.dims.f, p_, x.data, p.prosody, y.data);
  }
  void backward(const Pass<T>& p, const Act<T>& x, const Act<T>&, const T* dy, T* dx) override {
    if (dx) any::concat_backward<T>(p.ctx, x.dims.n, x.dims.f, p_, dy, dx, nullptr);
  }

 private:
  int p_;
};

// The utterance functionals as the model's only input (the MLP baseline): y = prosody, (N, 1, 1, P).
// The log-mel map given to the model is ignored; there is no input gradient.
template <typename T>
class FunctionalsInputLayer final : public Layer<T> {
 public:
  explicit FunctionalsInputLayer(int n_functionals) : p_(n_functionals) {}
  std::string kind() const override { return "functionals_input"; }
  std::string describe() const override { return "functionals input (" + std::to_string(p_) + ")"; }
  Dims output_dims(const Dims& in) const override { return Dims{in.n, 1, 1, p_, false}; }
  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    copy_on_device(p.ctx, y.data, p.prosody, sizeof(T) * static_cast<std::size_t>(x.dims.n) * p_);
  }
  void backward(const Pass<T>&, const Act<T>&, const Act<T>&, const T*, T* dx) override {
    if (dx) throw Error("functionals_input must be the first layer (it has no input gradient)");
  }

 private:
  int p_;
};

// Δ (and ΔΔ) of the input log-mel as extra channels: x (N, 1, T, F) -> y (N, 1 + order, T, F)
// (ser/nn/deltas.hpp). The model's first layer; there is no input gradient.
template <typename T>
class TimeDeltasLayer final : public Layer<T> {
 public:
  explicit TimeDeltasLayer(int order) : order_(order) {}
  std::string kind() const override { return "deltas"; }
  std::string describe() const override {
    return order_ == 1 ? "log-mel + delta (window 5)" : "log-mel + delta + delta-delta (window 5)";
  }
  Dims output_dims(const Dims& in) const override { return Dims{in.n, 1 + order_, in.t, in.f, true}; }
  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    any::time_deltas(p.ctx, x.dims.n, x.dims.t, x.dims.f, order_, x.lengths, x.data, y.data);
  }
  void backward(const Pass<T>&, const Act<T>&, const Act<T>&, const T*, T* dx) override {
    if (dx) throw Error("deltas must be the first layer (it has no input gradient)");
  }

 private:
  int order_;
};

}  // namespace ser::nn
