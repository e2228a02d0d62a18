// src/nn/layers/attention_layers.hpp — multi-head self-attention over the time steps of a feature
// map (tokens = the C*F features of each time step, residual, shape-preserving so it can sit after
// any convolution block), and pooling over time (masked mean or attention pooling) that turns a map
// into an utterance vector.
#pragma once
#include <cmath>
#include <string>

#include "nn/layers/layer.hpp"
#include "nn/ops_any.hpp"

namespace ser::nn {

// y = x + Wo · MHA(Wq u, Wk u, Wv u), over tokens x_t = map[:, :, t, :] (D = C * F), keys masked
// beyond each utterance's length; y is zero at padded steps. u = x, or with pre_norm u = LN(x) (a
// layer norm over each token's D features, ser/nn/layernorm.hpp; the residual stays un-normalised,
// as in pre-norm transformers).
template <typename T>
class SelfAttentionLayer final : public Layer<T> {
 public:
  // identity_init: the output projection starts at zero, so y = x at the first step.
  SelfAttentionLayer(std::string name, int channels, int freq, int heads, int head_dim, bool identity_init = false,
                     bool pre_norm = false)
      : name_(std::move(name)), c_(channels), f_(freq), d_(channels * freq), h_(heads), hd_(head_dim),
        inner_(heads * head_dim), identity_init_(identity_init), pre_norm_(pre_norm) {}
  std::string kind() const override { return "self_attention"; }
  std::string describe() const override {
    return "self-attention D=" + std::to_string(d_) + " heads=" + std::to_string(h_) +
           " head_dim=" + std::to_string(hd_) + (pre_norm_ ? " (pre-norm, " : " (") + "residual, key-padding mask)";
  }
  Dims output_dims(const Dims& in) const override { return in; }
  void declare(ParamTable& p, ParamTable&) override {
    for (const char* m : {"q", "k", "v"}) {
      p.add(name_ + "." + m + "_proj.weight", {inner_, d_}, Init::kaiming_uniform, d_, true);
      p.add(name_ + "." + m + "_proj.bias", {inner_}, Init::bias_uniform, d_, false);
    }
    p.add(name_ + ".out_proj.weight", {d_, inner_}, identity_init_ ? Init::zeros : Init::kaiming_uniform, inner_, true);
    p.add(name_ + ".out_proj.bias", {d_}, identity_init_ ? Init::zeros : Init::bias_uniform, inner_, false);
    if (pre_norm_) {  // torch.nn.LayerNorm's start: gamma = 1, beta = 0; no weight decay
      p.add(name_ + ".norm.weight", {d_}, Init::ones, d_, false);
      p.add(name_ + ".norm.bias", {d_}, Init::zeros, d_, false);
    }
  }
  void bind(const std::vector<T*>& p, const std::vector<T*>& g, const std::vector<T*>&) override {
    for (int i = 0; i < param_count(); ++i) { w_[i] = p[static_cast<std::size_t>(i)]; dw_[i] = g[static_cast<std::size_t>(i)]; }
  }
  // Saved: tokens (N, T, D), Q, K, V, O (N, T, inner) each, lse (N, heads, T); with pre_norm also
  // LN(tokens) (N, T, D), its mean and rstd (N, T) each.
  std::int64_t saved_values(const Dims& in) const override {
    const std::int64_t nt = std::int64_t(in.n) * in.t;
    return nt * d_ + 4 * nt * inner_ + nt * h_ + (pre_norm_ ? nt * d_ + 2 * nt : 0);
  }
  SdpaShape sdpa(const Dims& in) const {
    return SdpaShape{in.n, in.t, h_, hd_, static_cast<float>(1.0 / std::sqrt(double(hd_)))};
  }
  // Scratch: 3 token-sized + 4 inner-sized buffers (backward), and the SDPA workspace after them.
  std::size_t scratch_bytes(const ExecContext& ctx, const Dims& in) const override {
    const std::int64_t nt = std::int64_t(in.n) * in.t;
    return static_cast<std::size_t>(3 * nt * d_ + 4 * nt * inner_) * sizeof(T) + 256 +
           sdpa_workspace_bytes(ctx, sdpa(in));
  }
  double forward_flops(const Dims& in) const override {
    const double nt = double(in.n) * in.t;
    return 2 * nt * d_ * inner_ * 4 + 4 * double(in.n) * h_ * double(in.t) * in.t * hd_ + (pre_norm_ ? 8 * nt * d_ : 0);
  }

  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    const Dims& d = x.dims;
    const std::int64_t nt = std::int64_t(d.n) * d.t;
    T* tok = this->saved_;           // (N, T, D)
    T* q = tok + nt * d_;            // (N, T, heads, head_dim)
    T* k = q + nt * inner_;
    T* v = k + nt * inner_;
    T* o = v + nt * inner_;          // (N, T, heads, head_dim)
    T* lse = o + nt * inner_;        // (N, heads, T)
    T* normed = pre_norm_ ? lse + nt * h_ : nullptr;  // (N, T, D), pre_norm only
    T* mean = pre_norm_ ? normed + nt * d_ : nullptr;  // (N, T)
    T* rstd = pre_norm_ ? mean + nt : nullptr;         // (N, T)
    T* z = static_cast<T*>(p.scratch);  // (N, T, D)
    void* sdpa_ws = sdpa_scratch(p, d);
    const LinearShape in_proj{nt, d_, inner_}, out_proj{nt, inner_, d_};
    any::map_to_tokens(p.ctx, d.n, c_, d.t, f_, x.data, tok);
    if (pre_norm_)
      any::layer_norm_forward(p.ctx, d.n, d.t, d_, kLayerNormEps, tok, w_[8], w_[9], x.lengths, normed, mean, rstd);
    const T* u = pre_norm_ ? normed : tok;  // the projections' input
    any::linear_forward(p.ctx, in_proj, u, w_[0], w_[1], q);
    any::linear_forward(p.ctx, in_proj, u, w_[2], w_[3], k);
    any::linear_forward(p.ctx, in_proj, u, w_[4], w_[5], v);
    any::sdpa_forward(p.ctx, sdpa(d), q, k, v, x.lengths, o, lse, sdpa_ws);
    any::linear_forward(p.ctx, out_proj, o, w_[6], w_[7], z);
    any::add(p.ctx, nt * d_, z, tok, z);
    any::time_mask(p.ctx, d.n, 1, d.t, d_, x.lengths, z);  // out_proj's bias at padded steps
    any::tokens_to_map(p.ctx, d.n, c_, d.t, f_, z, y.data);
  }

  void backward(const Pass<T>& p, const Act<T>& x, const Act<T>&, const T* dy, T* dx) override {
    const Dims& d = x.dims;
    const std::int64_t nt = std::int64_t(d.n) * d.t;
    const T* tok = this->saved_;
    const T* q = tok + nt * d_;
    const T* k = q + nt * inner_;
    const T* v = k + nt * inner_;
    const T* o = v + nt * inner_;
    const T* lse = o + nt * inner_;
    const T* normed = pre_norm_ ? lse + nt * h_ : nullptr;
    const T* mean = pre_norm_ ? normed + nt * d_ : nullptr;
    const T* rstd = pre_norm_ ? mean + nt : nullptr;
    const T* u = pre_norm_ ? normed : tok;
    T* dz = static_cast<T*>(p.scratch);  // (N, T, D) gradient at the residual sum
    T* dtok = dz + nt * d_;              // (N, T, D) gradient of the projections' input u, accumulated
    T* part = dtok + nt * d_;            // (N, T, D) one projection's share
    T* d_o = part + nt * d_;             // (N, T, inner)
    T* dq = d_o + nt * inner_;
    T* dk = dq + nt * inner_;
    T* dv = dk + nt * inner_;
    void* sdpa_ws = sdpa_scratch(p, d);
    const LinearShape in_proj{nt, d_, inner_}, out_proj{nt, inner_, d_};
    any::map_to_tokens(p.ctx, d.n, c_, d.t, f_, dy, dz);
    any::time_mask(p.ctx, d.n, 1, d.t, d_, x.lengths, dz);
    any::linear_backward(p.ctx, out_proj, o, w_[6], dz, d_o, dw_[6], dw_[7]);
    any::sdpa_backward(p.ctx, sdpa(d), q, k, v, o, lse, d_o, x.lengths, dq, dk, dv, sdpa_ws);
    any::linear_backward(p.ctx, in_proj, u, w_[0], dq, dtok, dw_[0], dw_[1]);
    any::linear_backward(p.ctx, in_proj, u, w_[2], dk, part, dw_[2], dw_[3]);
    any::accumulate(p.ctx, nt * d_, part, dtok);
    any::linear_backward(p.ctx, in_proj, u, w_[4], dv, part, dw_[4], dw_[5]);
    any::accumulate(p.ctx, nt * d_, part, dtok);
    T* dx_tok = dtok;  // (N, T, D) gradient of the tokens
    if (pre_norm_) {
      any::layer_norm_backward(p.ctx, d.n, d.t, d_, tok, w_[8], mean, rstd, dtok, x.lengths, part, dw_[8], dw_[9]);
      dx_tok = part;
    }
    any::accumulate(p.ctx, nt * d_, dz, dx_tok);  // the residual path
    if (dx) any::tokens_to_map(p.ctx, d.n, c_, d.t, f_, dx_tok, dx);
  }

 private:
  void* sdpa_scratch(const Pass<T>& p, const Dims& d) const {
    const std::int64_t nt = std::int64_t(d.n) * d.t;
    const std::size_t off = static_cast<std::size_t>(3 * nt * d_ + 4 * nt * inner_) * sizeof(T);
    return static_cast<char*>(p.scratch) + (off + 255) / 256 * 256;
  }
  int param_count() const { return pre_norm_ ? 10 : 8; }
  std::string name_;
  int c_, f_, d_, h_, hd_, inner_;
  bool identity_init_, pre_norm_;
  T* w_[10] = {};  // q, k, v, out projections (weight, bias); norm gamma, beta
  T* dw_[10] = {};
};

// (N, C, T, F) -> (N, 1, 1, C*F): masked mean over valid time steps, or attention pooling
// (softmax over valid steps of w · x_t + b).
template <typename T>
class TemporalPoolLayer final : public Layer<T> {
 public:
  TemporalPoolLayer(std::string name, bool attention, int channels, int freq)
      : name_(std::move(name)), attention_(attention), c_(channels), f_(freq), d_(channels * freq) {}
  std::string kind() const override { return attention_ ? "attention_pool" : "mean_pool"; }
  std::string describe() const override {
    return std::string(attention_ ? "attention pooling" : "masked mean pooling") + " over time, D=" +
           std::to_string(d_);
  }
  Dims output_dims(const Dims& in) const override { return Dims{in.n, 1, 1, d_, false}; }
  void declare(ParamTable& p, ParamTable&) override {
    if (!attention_) return;
    p.add(name_ + ".score.weight", {1, d_}, Init::kaiming_uniform, d_, true);
    p.add(name_ + ".score.bias", {1}, Init::bias_uniform, d_, false);
  }
  void bind(const std::vector<T*>& p, const std::vector<T*>& g, const std::vector<T*>&) override {
    if (!attention_) return;
    w_ = p[0]; b_ = p[1]; dw_ = g[0]; db_ = g[1];
  }
  // Saved: tokens (N, T, D) and alpha (N, T).
  std::int64_t saved_values(const Dims& in) const override {
    return std::int64_t(in.n) * in.t * (d_ + 1);
  }
  std::size_t scratch_bytes(const ExecContext&, const Dims& in) const override {
    return static_cast<std::size_t>(std::int64_t(in.n) * in.t * d_) * sizeof(T);
  }
  const T* alpha() const { return this->saved_ + last_tokens_; }

  void forward(const Pass<T>& p, const Act<T>& x, Act<T>& y) override {
    const Dims& d = x.dims;
    T* tok = this->saved_;  // (N, T, D)
    last_tokens_ = std::int64_t(d.n) * d.t * d_;
    T* alpha = tok + last_tokens_;  // (N, T)
    any::map_to_tokens(p.ctx, d.n, c_, d.t, f_, x.data, tok);
    if (attention_) any::attn_pool_forward(p.ctx, d.n, d.t, d_, tok, w_, b_, x.lengths, y.data, alpha);
    else any::mean_pool_forward(p.ctx, d.n, d.t, d_, tok, x.lengths, y.data);
  }
  void backward(const Pass<T>& p, const Act<T>& x, const Act<T>&, const T* dy, T* dx) override {
    const Dims& d = x.dims;
    const T* tok = this->saved_;
    const T* alpha = tok + std::int64_t(d.n) * d.t * d_;
    T* dtok = static_cast<T*>(p.scratch);  // (N, T, D)
    if (attention_) any::attn_pool_backward(p.ctx, d.n, d.t, d_, tok, w_, alpha, dy, x.lengths, dtok, dw_, db_);
    else any::mean_pool_backward(p.ctx, d.n, d.t, d_, dy, x.lengths, dtok);
    if (dx) any::tokens_to_map(p.ctx, d.n, c_, d.t, f_, dtok, dx);
  }

 private:
  std::string name_;
  bool attention_;
  int c_, f_, d_;
  std::int64_t last_tokens_ = 0;
  T *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
};

}  // namespace ser::nn
