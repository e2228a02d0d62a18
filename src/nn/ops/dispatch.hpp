// src/nn/ops/dispatch.hpp — what every op's dispatch file needs to pick the CPU twin or the CUDA
// launcher: the context's stream as a cudaStream_t, or the error for a build without CUDA.
#pragma once
#include <string>

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

}  // namespace ser::nn
