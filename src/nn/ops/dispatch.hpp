// src/nn/ops/dispatch.hpp — what the dispatch files of src/nn/ops need to pick the CPU twin or the
// CUDA launcher: the context's stream as a cudaStream_t, or the error for a build without CUDA; the
// element-count check of the elementwise ops; the per-op timer (ser/nn/op_timer.hpp). The ops with
// a folder of their own in kernels/ need none of it: their launchers take the context.
#pragma once
#include <cstdint>
#include <string>

#include "ser/nn/op_timer.hpp"
#include "ser/error.hpp"
#include "ser/nn/exec.hpp"

#ifdef SER_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace ser::nn {

#ifdef SER_WITH_CUDA
inline cudaStream_t stream_of(const ExecContext& ctx) { return static_cast<cudaStream_t>(ctx.stream); }
#else
[[noreturn]] inline void no_cuda(const char* op) { throw Error(std::string(op) + ": ser was built without CUDA"); }
#endif

inline void check_count(const char* op, std::int64_t count) {
  if (count < 0) throw Error(std::string(op) + ": negative element count " + std::to_string(count));
}

}  // namespace ser::nn
