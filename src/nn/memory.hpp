// src/nn/memory.hpp — one allocation on the context's device (host memory on the CPU, cudaMalloc on
// the GPU), and copies between it and host vectors. Allocation failure is a ser::Error naming what
// was being allocated and how much memory the device has free.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ser/nn/exec.hpp"

namespace ser::nn {

class Block {
 public:
  Block() = default;
  Block(Device device, std::size_t bytes, const std::string& what);
  ~Block();
  Block(Block&& o) noexcept;
  Block& operator=(Block&& o) noexcept;
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }
  template <typename T>
  T* as(std::size_t byte_offset = 0) const {
    return reinterpret_cast<T*>(static_cast<char*>(ptr_) + byte_offset);
  }

 private:
  void release();
  Device device_ = Device::cpu;
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// Every Block alive on `device`, in allocation order (what it holds, its size as allocated) and their
// total: what a run really holds there (the model's plan, the optimizer's moments, the batch
// buffers), whichever object owns each. live_bytes is the total alone.
std::string live_memory_report(Device device);
std::size_t live_bytes(Device device);

// Free and total device memory in bytes (GPU), or 0/0 on the CPU.
void device_memory_info(Device device, std::size_t* free_bytes, std::size_t* total_bytes);

// Copies on ctx's stream (the GPU versions synchronise the stream before returning, except
// upload_async, which needs `host` to stay alive until the stream reaches it: pinned memory).
void upload(const ExecContext& ctx, void* dst, const void* host, std::size_t bytes);
void upload_async(const ExecContext& ctx, void* dst, const void* host, std::size_t bytes);
void download(const ExecContext& ctx, void* host, const void* src, std::size_t bytes);
void copy_on_device(const ExecContext& ctx, void* dst, const void* src, std::size_t bytes);
void fill_zero(const ExecContext& ctx, void* dst, std::size_t bytes);
void synchronize(const ExecContext& ctx);

// Page-locked host memory on a CUDA build with a usable GPU, ordinary memory otherwise.
class HostStaging {
 public:
  HostStaging() = default;
  HostStaging(std::size_t bytes, bool pinned);
  ~HostStaging();
  HostStaging(const HostStaging&) = delete;
  HostStaging& operator=(const HostStaging&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  bool pinned_ = false;
};

}  // namespace ser::nn
