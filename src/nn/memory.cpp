// src/nn/memory.cpp — device allocations and copies for the training engine.
#include "nn/memory.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "ser/error.hpp"

#ifdef SER_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace ser::nn {
namespace {

std::string mib(std::size_t bytes) {
  return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

#ifdef SER_WITH_CUDA
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw Error(std::string("CUDA error: ") + what + " -> " + cudaGetErrorName(e) + " (" +
                cudaGetErrorString(e) + ")");
}
cudaStream_t stream_of(const ExecContext& ctx) { return static_cast<cudaStream_t>(ctx.stream); }
#endif

}  // namespace

Block::Block(Device device, std::size_t bytes, const std::string& what) : device_(device), bytes_(bytes) {
  const std::size_t n = bytes == 0 ? 256 : (bytes + 255) / 256 * 256;
  if (device == Device::cpu) {
    ptr_ = std::aligned_alloc(256, n);
    if (!ptr_) throw Error("out of host memory allocating " + what + " (" + mib(bytes) + ")");
    std::memset(ptr_, 0, n);
    return;
  }
#ifdef SER_WITH_CUDA
  const cudaError_t e = cudaMalloc(&ptr_, n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    ptr_ = nullptr;
    std::size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    throw Error("out of GPU memory allocating " + what + " (" + mib(bytes) + "; " + mib(free_b) +
                " free of " + mib(total_b) + ")");
  }
  check(cudaMemset(ptr_, 0, n), "cudaMemset");
#else
  throw Error("cannot allocate " + what + " on the GPU: ser was built without CUDA");
#endif
}

Block::~Block() { release(); }

Block::Block(Block&& o) noexcept { *this = std::move(o); }

Block& Block::operator=(Block&& o) noexcept {
  if (this != &o) {
    release();
    device_ = o.device_;
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

void Block::release() {
  if (!ptr_) return;
  if (device_ == Device::cpu) std::free(ptr_);
#ifdef SER_WITH_CUDA
  else cudaFree(ptr_);
#endif
  ptr_ = nullptr;
}

void device_memory_info(Device device, std::size_t* free_bytes, std::size_t* total_bytes) {
  *free_bytes = *total_bytes = 0;
#ifdef SER_WITH_CUDA
  if (device == Device::cuda) check(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
#else
  (void)device;
#endif
}

void upload(const ExecContext& ctx, void* dst, const void* host, std::size_t bytes) {
  if (bytes == 0) return;
  if (ctx.device == Device::cpu) { std::memcpy(dst, host, bytes); return; }
#ifdef SER_WITH_CUDA
  check(cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice, stream_of(ctx)), "cudaMemcpyAsync H2D");
  check(cudaStreamSynchronize(stream_of(ctx)), "cudaStreamSynchronize");
#endif
}

void upload_async(const ExecContext& ctx, void* dst, const void* host, std::size_t bytes) {
  if (bytes == 0) return;
  if (ctx.device == Device::cpu) { std::memcpy(dst, host, bytes); return; }
#ifdef SER_WITH_CUDA
  check(cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice, stream_of(ctx)), "cudaMemcpyAsync H2D");
#endif
}

void download(const ExecContext& ctx, void* host, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  if (ctx.device == Device::cpu) { std::memcpy(host, src, bytes); return; }
#ifdef SER_WITH_CUDA
  check(cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost, stream_of(ctx)), "cudaMemcpyAsync D2H");
  check(cudaStreamSynchronize(stream_of(ctx)), "cudaStreamSynchronize");
#endif
}

void copy_on_device(const ExecContext& ctx, void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0 || dst == src) return;
  if (ctx.device == Device::cpu) { std::memmove(dst, src, bytes); return; }
#ifdef SER_WITH_CUDA
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_of(ctx)), "cudaMemcpyAsync D2D");
#endif
}

void fill_zero(const ExecContext& ctx, void* dst, std::size_t bytes) {
  if (bytes == 0) return;
  if (ctx.device == Device::cpu) { std::memset(dst, 0, bytes); return; }
#ifdef SER_WITH_CUDA
  check(cudaMemsetAsync(dst, 0, bytes, stream_of(ctx)), "cudaMemsetAsync");
#endif
}

void synchronize(const ExecContext& ctx) {
#ifdef SER_WITH_CUDA
  if (ctx.device == Device::cuda) check(cudaStreamSynchronize(stream_of(ctx)), "cudaStreamSynchronize");
#else
  (void)ctx;
#endif
}

HostStaging::HostStaging(std::size_t bytes, bool pinned) {
  const std::size_t n = std::max<std::size_t>(bytes, 1);
#ifdef SER_WITH_CUDA
  if (pinned) {
    check(cudaMallocHost(&ptr_, n), "cudaMallocHost (pinned batch staging)");
    pinned_ = true;
    return;
  }
#else
  (void)pinned;
#endif
  ptr_ = std::malloc(n);
  if (!ptr_) throw Error("out of host memory allocating batch staging (" + mib(bytes) + ")");
}

HostStaging::~HostStaging() {
  if (!ptr_) return;
#ifdef SER_WITH_CUDA
  if (pinned_) { cudaFreeHost(ptr_); return; }
#endif
  std::free(ptr_);
}

}  // namespace ser::nn
