// src/bench/op_cost.hpp — the work each benchmarked op does, for turning a time into TFLOP/s or
// GB/s. FLOPs count a multiply-add as 2. Bytes are the compulsory traffic: every tensor the op must
// read or write, once, at 4 bytes per float or int32 (1 per decay-mask byte); per-channel
// parameters and length vectors are left out (under 0.1 % at the models' shapes). An op whose
// kernels read an input twice (batch norm: statistics, then normalisation) moves more than this,
// so its GB/s is an effective bandwidth.
#pragma once
#include <cstdint>

#include "ser/nn/attention.hpp"
#include "ser/nn/batchnorm.hpp"
#include "ser/nn/conv.hpp"
#include "ser/nn/pool.hpp"

namespace ser::bench {

// Convolution: forward, backward-data and backward-weight are each one GEMM of the same
// M x N x K = C_out x (N*H_out*W_out) x (C_in*kh*kw), so each is 2 M N K FLOPs (the bias and its
// gradient are not counted).
double conv2d_flops(const nn::Conv2dShape& s);

// Attention core, all T x T scores (the key-padding mask is not discounted): forward is
// Q K^T and P V, 4 N heads T^2 head_dim; backward recomputes S and forms dV, dP, dS->dQ, dK:
// 5 products, 10 N heads T^2 head_dim (2.5 x forward, the usual flash-attention count).
double sdpa_forward_flops(const nn::SdpaShape& s);
double sdpa_backward_flops(const nn::SdpaShape& s);

// Max-pooling forward: read x, write y and argmax (int32). Backward: read dy and argmax, write dx.
double maxpool2d_forward_bytes(const nn::Pool2dShape& s);
double maxpool2d_backward_bytes(const nn::Pool2dShape& s);

// Over `count` floats: ReLU forward reads x, writes y (8 B/element); backward reads y and dy,
// writes dx (12); dropout forward or backward reads one, writes one (8; the mask is recomputed,
// never stored); residual add reads a and b, writes y (12).
double relu_forward_bytes(std::int64_t count);
double relu_backward_bytes(std::int64_t count);
double dropout_bytes(std::int64_t count);
double add_bytes(std::int64_t count);

// Batch norm (training) forward: read x, write y. Backward: read x and dy, write dx.
double batchnorm_forward_bytes(const nn::BatchNormShape& s);
double batchnorm_backward_bytes(const nn::BatchNormShape& s);

// Adam / AdamW over `count` parameters: read params, grads, m, v (and the decay mask when
// with_mask), write params, m, v: 28 B per parameter (+1 with the mask).
double adam_bytes(std::int64_t count, bool with_mask);

}  // namespace ser::bench
