// kernels/cuda_check.cuh — every CUDA call and every launch is checked; failures throw ser::Error
// naming the statement, file and line.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "ser/error.hpp"

namespace ser::cuda {

[[noreturn]] inline void fail(const char* what, cudaError_t err, const char* file, int line) {
  throw Error(std::string("CUDA error: ") + what + " -> " + cudaGetErrorName(err) + " (" +
              cudaGetErrorString(err) + ") at " + file + ":" + std::to_string(line));
}

}  // namespace ser::cuda

#define SER_CUDA_CHECK(stmt)                                               \
  do {                                                                     \
    cudaError_t ser_err_ = (stmt);                                         \
    if (ser_err_ != cudaSuccess) ::ser::cuda::fail(#stmt, ser_err_, __FILE__, __LINE__); \
  } while (0)

// After a <<<>>> launch: catches bad configurations at once (asynchronous faults surface at the
// next synchronising call, which is checked too).
#define SER_CUDA_CHECK_LAUNCH(name) SER_CUDA_CHECK(cudaPeekAtLastError())
