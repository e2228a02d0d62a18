// src/simt/runtime_state.hpp — the emulated device's state shared by the runtime calls, the launcher
// and the vendor-library stand-ins: the calling thread's last error (with the emulator's diagnostic,
// which cudaGetErrorString returns), the table of device allocations, and kernel attributes.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <string>

namespace simt {

// Records `err` as the calling thread's last error (what cudaGetLastError returns and clears) and
// `detail` as what cudaGetErrorString says of it; prints detail to stderr. Returns err.
cudaError_t fail(cudaError_t err, const std::string& detail);

// The device memory of the emulated GPU: SIMT_DEVICE_MIB (default 16384) MiB in all.
std::size_t device_capacity();
std::size_t device_bytes_in_use();
// Whether [p, p + bytes) lies inside one live cudaMalloc allocation.
bool is_device_range(const void* p, std::size_t bytes);

// Largest dynamic shared memory a launch of `kernel` may ask for: 48 KiB unless raised.
std::size_t max_dynamic_shared(const void* kernel);
constexpr std::size_t kDefaultSharedLimit = 48 * 1024;
constexpr std::size_t kOptinSharedLimit = 227 * 1024;  // sm_90 (H100/H200)

}  // namespace simt
