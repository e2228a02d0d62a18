// src/bench/op_cost.cpp — FLOP and byte counts of the benchmarked ops (op_cost.hpp).
#include "bench/op_cost.hpp"

namespace ser::bench {

namespace {
constexpr double kF = 4.0;  // bytes per float / int32
double count_of(const nn::BatchNormShape& s) { return double(s.n) * s.c * s.h * s.w; }
double in_count(const nn::Pool2dShape& s) { return double(s.n) * s.c * s.h * s.w; }
double out_count(const nn::Pool2dShape& s) { return double(s.n) * s.c * s.h_out() * s.w_out(); }
}  // namespace

double conv2d_flops(const nn::Conv2dShape& s) {
  return 2.0 * s.c_out * (double(s.n) * s.h_out() * s.w_out()) * (double(s.c_in) * s.kh * s.kw);
}

double sdpa_forward_flops(const nn::SdpaShape& s) { return 4.0 * s.n * s.heads * double(s.t) * s.t * s.head_dim; }
double sdpa_backward_flops(const nn::SdpaShape& s) { return 10.0 * s.n * s.heads * double(s.t) * s.t * s.head_dim; }

double maxpool2d_forward_bytes(const nn::Pool2dShape& s) { return kF * (in_count(s) + 2 * out_count(s)); }
double maxpool2d_backward_bytes(const nn::Pool2dShape& s) { return kF * (2 * out_count(s) + in_count(s)); }

double relu_forward_bytes(std::int64_t count) { return 2 * kF * double(count); }
double relu_backward_bytes(std::int64_t count) { return 3 * kF * double(count); }
double dropout_bytes(std::int64_t count) { return 2 * kF * double(count); }
double add_bytes(std::int64_t count) { return 3 * kF * double(count); }

double batchnorm_forward_bytes(const nn::BatchNormShape& s) { return 2 * kF * count_of(s); }
double batchnorm_backward_bytes(const nn::BatchNormShape& s) { return 3 * kF * count_of(s); }

double adam_bytes(std::int64_t count, bool with_mask) { return (7 * kF + (with_mask ? 1 : 0)) * double(count); }

}  // namespace ser::bench
