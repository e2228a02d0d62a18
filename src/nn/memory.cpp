// src/nn/memory.cpp — device allocations and copies for the training engine.
#include "nn/memory.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <sstream>
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

// Every live Block, keyed by its address: the one table of what the engine holds where.
struct LiveBlock {
  Device device;
  std::size_t bytes;     // as allocated (rounded up to 256)
  std::string what;
  std::uint64_t order;   // allocation order
};
std::mutex g_live_mutex;
std::map<const void*, LiveBlock>& live_blocks() {
  static std::map<const void*, LiveBlock> blocks;
  return blocks;
}
std::uint64_t g_next_order = 0;

void register_block(const void* p, Device d, std::size_t bytes, const std::string& what) {
  const std::lock_guard<std::mutex> lock(g_live_mutex);
  live_blocks()[p] = LiveBlock{d, bytes, what, g_next_order++};
}
void unregister_block(const void* p) {
  const std::lock_guard<std::mutex> lock(g_live_mutex);
  live_blocks().erase(p);
}

}  // namespace

std::size_t live_bytes(Device device) {
  const std::lock_guard<std::mutex> lock(g_live_mutex);
  std::size_t total = 0;
  for (const auto& [p, b] : live_blocks()) total += b.device == device ? b.bytes : 0;
  return total;
}

std::string live_memory_report(Device device) {
  std::vector<LiveBlock> list;
  {
    const std::lock_guard<std::mutex> lock(g_live_mutex);
    for (const auto& [p, b] : live_blocks())
      if (b.device == device) list.push_back(b);
  }
  std::sort(list.begin(), list.end(), [](const LiveBlock& a, const LiveBlock& b) { return a.order < b.order; });
  std::ostringstream os;
  std::size_t total = 0;
  char line[160];
  for (const auto& b : list) {
    std::snprintf(line, sizeof line, "  %-28s %10.3f MiB\n", b.what.c_str(), static_cast<double>(b.bytes) / (1 << 20));
    os << line;
    total += b.bytes;
  }
  std::snprintf(line, sizeof line, "  %-28s %10.3f MiB  (%zu buffers)\n", "total held", static_cast<double>(total) / (1 << 20),
                list.size());
  os << line;
  return os.str();
}

Block::Block(Device device, std::size_t bytes, const std::string& what) : device_(device), bytes_(bytes) {
  const std::size_t n = bytes == 0 ? 256 : (bytes + 255) / 256 * 256;
  if (device == Device::cpu) {
    ptr_ = std::aligned_alloc(256, n);
    if (!ptr_) throw Error("out of host memory allocating " + what + " (" + mib(bytes) + ")");
    std::memset(ptr_, 0, n);
    register_block(ptr_, device, n, what);
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
  register_block(ptr_, device, n, what);
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
  unregister_block(ptr_);
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
