// src/nn/layers/conv_layers.hpp — the convolutional block's layers: 2-D convolution, batch
// normalisation (statistics over valid time steps), 2-D max-pooling, each over (N, C, T, F) maps.
#pragma once
#include <string>
#include <type_traits>

#include "ser/error.hpp"

#include "nn/layers/layer.hpp"
#include "nn/ops_any.hpp"

namespace ser::nn {

template <typename T>
class Conv2dLayer final : public Layer<T> {
 public:
  // mask_output: zero the output at t >= length (needed when no batch norm follows, since the bias
  // and the kernel's reach make padded steps non-zero).
  Conv2dLayer(std::string name, int c_in, int c_out, int kh, int kw, int stride_t, int stride_f,
              bool mask_output)
      : name_(std::move(name)), c_in_(c_in), c_out_(c_out), kh_(kh), kw_(kw), st_(stride_t),
        sf_(stride_f), mask_(mask_output) {}
  std::string kind() const override { return "conv2d"; }
  std::string describe() const override {
    return "conv2d " + std::to_string(c_in_) + "->" + std::to_string(c_out_) + " k" +
           std::to_string(kh_) + "x" + std::to_string(kw_) + " s" + std::to_string(st_) + "x" +
           std::to_string(sf_) + " p" + std::to_string(kh_ / 2) + "x" + std::to_string(kw_ / 2);
  }
  Conv2dShape shape(const Dims& in) const {
    Conv2dShape s;
    s.n = in.n; s.c_in = in.c; s.h = in.t; s.w = in.f; s.c_out = c_out_;
    s.kh = kh_; s.kw = kw_; s.sh = st_; s.sw = sf_; s.ph = kh_ / 2; s.pw = kw_ / 2;
    return s;
  }
  Dims output_dims(const Dims& in) const override {
    const auto s = shape(in);
    return Dims{in.n, c_out_, s.h_out(), s.w_out(), true};
  }
  int output_length(int len) const override {
    return len <= 0 ? 0 : (len + 2 * (kh_ / 2) - kh_) / st_ + 1;
  }
  void declare(ParamTable& p, ParamTable&) override {
    const int fan_in = c_in_ * kh_ * kw_;
    p.add(name_ + ".weight", {c_out_, c_in_, kh_, kw_}, Init::kaiming_uniform, fan_in, true);
    p.add(name_ + ".bias", {c_out_}, Init::bias_uniform, fan_in, false);
  }
  void bind(const std::vector<T*>& p, const std::vector<T*>& g, const std::vector<T*>&) override {
    w_ = p[0]; b_ = p[1]; dw_ = g[0]; db_ = g[1];
  }
  std::size_t scratch_bytes(const ExecContext& ctx, const Dims& in) const override {
    return conv2d_workspace_bytes(ctx, shape(in));
  }
  // The scratch was planned at the largest shape; cuDNN's algorithm choice (vendor path) may want
  // more at another shape, which is refused here rather than overrun.
  void check_scratch(const Pass<T>& p, const Dims& in) const {
    if constexpr (std::is_same_v<T, float>) {
      const std::size_t need = conv2d_workspace_bytes(p.ctx, shape(in));
      if (need > p.scratch_size)
        throw Error(name_ + ": the convolution wants " + std::to_string(need) + " bytes of workspace at batch " +
                    std::to_string(in.n) + " x " + std::to_string(in.t) + ", the plan has " +
                    std::to_string(p.scratch_size) + " (try --kernels handwritten)");
    }
  }
  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    check_scratch(p, x.dims);
    any::conv2d_forward(p.ctx, shape(x.dims), x.data, w_, b_, y.data, p.scratch);
    if (mask_) any::time_mask(p.ctx, y.dims.n, y.dims.c, y.dims.t, y.dims.f, y.lengths, y.data);
  }
  void backward(const Pass<T>& p, const Act<T>& x, const Act<T>&, const T* dy, T* dx) override {
    check_scratch(p, x.dims);
    any::conv2d_backward(p.ctx, shape(x.dims), x.data, w_, dy, dx, dw_, db_, p.scratch);
  }
  double forward_flops(const Dims& in) const override { return shape(in).flops_forward(); }

 private:
  std::string name_;
  int c_in_, c_out_, kh_, kw_, st_, sf_;
  bool mask_;
  T *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
};

template <typename T>
class BatchNorm2dLayer final : public Layer<T> {
 public:
  BatchNorm2dLayer(std::string name, int channels) : name_(std::move(name)), c_(channels) {}
  std::string kind() const override { return "batchnorm2d"; }
  std::string describe() const override { return "batchnorm2d " + std::to_string(c_) + " (masked)"; }
  Dims output_dims(const Dims& in) const override { return in; }
  void declare(ParamTable& p, ParamTable& s) override {
    p.add(name_ + ".weight", {c_}, Init::ones, 1, false);
    p.add(name_ + ".bias", {c_}, Init::zeros, 1, false);
    s.add(name_ + ".running_mean", {c_}, Init::zeros, 1, false);
    s.add(name_ + ".running_var", {c_}, Init::ones, 1, false);
  }
  void bind(const std::vector<T*>& p, const std::vector<T*>& g, const std::vector<T*>& s) override {
    gamma_ = p[0]; beta_ = p[1]; dgamma_ = g[0]; dbeta_ = g[1]; rmean_ = s[0]; rvar_ = s[1];
  }
  std::int64_t saved_values(const Dims&) const override { return 2 * std::int64_t(c_); }
  BatchNormShape shape(const Dims& d) const { return BatchNormShape{d.n, d.c, d.t, d.f, 1e-5f, 0.1f}; }
  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    if (p.training)
      any::batchnorm_forward_train(p.ctx, shape(x.dims), x.data, x.lengths, gamma_, beta_, y.data,
                                   this->saved_, this->saved_ + c_, rmean_, rvar_);
    else
      any::batchnorm_forward_infer(p.ctx, shape(x.dims), x.data, x.lengths, gamma_, beta_, rmean_,
                                   rvar_, y.data);
  }
  void backward(const Pass<T>& p, const Act<T>& x, const Act<T>&, const T* dy, T* dx) override {
    any::batchnorm_backward(p.ctx, shape(x.dims), x.data, dy, x.lengths, gamma_, this->saved_,
                            this->saved_ + c_, dx, dgamma_, dbeta_);
  }

 private:
  std::string name_;
  int c_;
  T *gamma_ = nullptr, *beta_ = nullptr, *dgamma_ = nullptr, *dbeta_ = nullptr;
  T *rmean_ = nullptr, *rvar_ = nullptr;
};

template <typename T>
class MaxPool2dLayer final : public Layer<T> {
 public:
  MaxPool2dLayer(int kt, int kf) : kt_(kt), kf_(kf) {}
  std::string kind() const override { return "maxpool2d"; }
  std::string describe() const override {
    return "maxpool2d " + std::to_string(kt_) + "x" + std::to_string(kf_);
  }
  Pool2dShape shape(const Dims& d) const {
    Pool2dShape s;
    s.n = d.n; s.c = d.c; s.h = d.t; s.w = d.f; s.kh = kt_; s.kw = kf_; s.sh = kt_; s.sw = kf_;
    return s;
  }
  Dims output_dims(const Dims& in) const override {
    const auto s = shape(in);
    return Dims{in.n, in.c, s.h_out(), s.w_out(), true};
  }
  int output_length(int len) const override { return Pool2dShape::out_length(len, kt_, kt_); }
  int min_input_length() const override { return kt_; }
  std::int64_t saved_ints(const Dims& in) const override { return output_dims(in).count(); }
  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    any::maxpool2d_forward(p.ctx, shape(x.dims), x.data, x.lengths, y.data, this->saved_int_);
  }
  void backward(const Pass<T>& p, const Act<T>& x, const Act<T>&, const T* dy, T* dx) override {
    if (dx) any::maxpool2d_backward(p.ctx, shape(x.dims), dy, this->saved_int_, dx);
  }

 private:
  int kt_, kf_;
};

}  // namespace ser::nn
