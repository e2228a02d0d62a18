// ser/nn/exec.hpp — where an op runs. Every op of the training engine has one dispatch function
// taking an ExecContext: on Device::cpu it runs the CPU twin (host pointers), on Device::cuda the
// CUDA implementation (device pointers, enqueued on `stream`, asynchronous).
#pragma once
#include <cstdint>
#include <string>

#include "ser/device.hpp"
#include "ser/nn/rank_sum.hpp"

namespace ser::nn {

// Which GPU implementation an op uses: ser's hand-written kernels, or the vendor library (cuDNN for
// convolution). Ops without a vendor implementation ignore it. The CPU twin ignores it.
enum class KernelPath { handwritten, vendor };
KernelPath parse_kernel_path(const std::string&);  // "handwritten" | "vendor"; throws ser::Error
std::string to_string(KernelPath);

struct ExecContext {
  Device device = Device::cpu;
  KernelPath kernels = KernelPath::handwritten;
  void* stream = nullptr;  // cudaStream_t (nullptr = the legacy default stream)
  void* cublas = nullptr;  // cublasHandle_t bound to `stream` (GPU only; see GpuHandles)
  void* cudnn = nullptr;   // cudnnHandle_t bound to `stream` (GPU only, when built with cuDNN)
  bool deterministic = false;  // GPU: avoid atomics whose order varies between runs
  // Data parallel (CPU only): batch-norm statistics are summed over the ranks, so every rank
  // normalises its slice with the whole global batch's statistics. nullptr = one process.
  const RankSum* ranks = nullptr;
};

// Owns the cuBLAS/cuDNN handles and the stream of a GPU context. Creating one on a machine without
// a usable GPU throws ser::Error; the CPU context needs none.
class GpuHandles {
 public:
  explicit GpuHandles(bool deterministic = false);
  ~GpuHandles();
  GpuHandles(const GpuHandles&) = delete;
  GpuHandles& operator=(const GpuHandles&) = delete;
  ExecContext context(KernelPath kernels) const;
  void synchronize() const;  // waits for the stream; rethrows asynchronous errors as ser::Error

 private:
  void* stream_ = nullptr;
  void* cublas_ = nullptr;
  void* cudnn_ = nullptr;
  bool deterministic_ = false;
};

}  // namespace ser::nn
