// GpuHandles (ser/nn/exec.hpp): the stream, cuBLAS handle and (with cuDNN) cuDNN handle of a GPU
// execution context. Created in that order, destroyed in reverse; a failed creation releases what was
// already made and throws ser::Error naming the call.
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/nn/exec.hpp"

#ifdef SER_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#ifdef SER_WITH_CUDNN
#include <cudnn.h>
#endif
#endif

#include <string>

namespace ser::nn {

#ifdef SER_WITH_CUDA

namespace {

[[noreturn]] void fail_cuda(const char* call, cudaError_t err) {
  cudaGetLastError();  // clear a non-sticky error so later calls start clean
  throw Error(std::string("GpuHandles: ") + call + " failed: " + cudaGetErrorName(err) + " (" +
              cudaGetErrorString(err) + ")");
}

[[noreturn]] void fail_cublas(const char* call, cublasStatus_t st) {
  throw Error(std::string("GpuHandles: ") + call + " failed: " + cublasGetStatusName(st) + " (" +
              cublasGetStatusString(st) + ")");
}

#ifdef SER_WITH_CUDNN
[[noreturn]] void fail_cudnn(const char* call, cudnnStatus_t st) {
  throw Error(std::string("GpuHandles: ") + call + " failed: " + cudnnGetErrorString(st));
}
#endif

// Reverse order of creation; every argument may be null. Errors are ignored (also called from the
// destructor and from a constructor that is already throwing).
void release(void* stream, void* cublas, void* cudnn) {
#ifdef SER_WITH_CUDNN
  if (cudnn) cudnnDestroy(static_cast<cudnnHandle_t>(cudnn));
#else
  (void)cudnn;
#endif
  if (cublas) cublasDestroy(static_cast<cublasHandle_t>(cublas));
  if (stream) cudaStreamDestroy(static_cast<cudaStream_t>(stream));
}

}  // namespace

GpuHandles::GpuHandles(bool deterministic) : deterministic_(deterministic) {
  const CudaProbe& probe = probe_cuda();
  if (!probe.usable) throw Error("GpuHandles: no usable GPU (" + probe.reason + ")");
  try {
    cudaStream_t stream = nullptr;
    // Non-blocking: no implicit synchronisation with work on the legacy default stream.
    if (const cudaError_t e = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking); e != cudaSuccess)
      fail_cuda("cudaStreamCreateWithFlags", e);
    stream_ = stream;

    cublasHandle_t blas = nullptr;
    if (const cublasStatus_t s = cublasCreate(&blas); s != CUBLAS_STATUS_SUCCESS) fail_cublas("cublasCreate", s);
    cublas_ = blas;
    if (const cublasStatus_t s = cublasSetStream(blas, stream); s != CUBLAS_STATUS_SUCCESS)
      fail_cublas("cublasSetStream", s);
    // Some cuBLAS routines (e.g. symv/hemv) reduce with atomics unless told not to.
    if (deterministic_)
      if (const cublasStatus_t s = cublasSetAtomicsMode(blas, CUBLAS_ATOMICS_NOT_ALLOWED); s != CUBLAS_STATUS_SUCCESS)
        fail_cublas("cublasSetAtomicsMode", s);

#ifdef SER_WITH_CUDNN
    cudnnHandle_t dnn = nullptr;
    if (const cudnnStatus_t s = cudnnCreate(&dnn); s != CUDNN_STATUS_SUCCESS) fail_cudnn("cudnnCreate", s);
    cudnn_ = dnn;
    if (const cudnnStatus_t s = cudnnSetStream(dnn, stream); s != CUDNN_STATUS_SUCCESS)
      fail_cudnn("cudnnSetStream", s);
#endif
  } catch (...) {
    release(stream_, cublas_, cudnn_);
    stream_ = cublas_ = cudnn_ = nullptr;
    throw;
  }
}

GpuHandles::~GpuHandles() { release(stream_, cublas_, cudnn_); }

ExecContext GpuHandles::context(KernelPath kernels) const {
  ExecContext ctx;
  ctx.device = Device::cuda;
  ctx.kernels = kernels;
  ctx.stream = stream_;
  ctx.cublas = cublas_;
  ctx.cudnn = cudnn_;
  ctx.deterministic = deterministic_;
  return ctx;
}

void GpuHandles::synchronize() const {
  if (const cudaError_t e = cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)); e != cudaSuccess)
    throw Error(std::string("GPU stream: cudaStreamSynchronize failed: ") + cudaGetErrorName(e) + " (" +
                cudaGetErrorString(e) + ")");
}

#else  // !SER_WITH_CUDA

GpuHandles::GpuHandles(bool deterministic) : deterministic_(deterministic) {
  throw Error("GpuHandles: ser was built without CUDA");
}
GpuHandles::~GpuHandles() = default;
ExecContext GpuHandles::context(KernelPath kernels) const {
  throw Error("GpuHandles: ser was built without CUDA");
}
void GpuHandles::synchronize() const {}

#endif

}  // namespace ser::nn
