// Device probing and selection. The CUDA runtime is linked statically, so a machine without the
// driver gets an error code from cudaGetDeviceCount here rather than a loader failure at start-up.
#include "ser/device.hpp"

#include <fstream>
#include <ostream>
#include <thread>

#include "ser/error.hpp"

#ifdef SER_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace ser {

DeviceRequest parse_device_request(const std::string& s) {
  if (s == "auto") return DeviceRequest::automatic;
  if (s == "cpu") return DeviceRequest::cpu;
  if (s == "cuda" || s == "gpu") return DeviceRequest::cuda;
  throw Error("--device: expected auto, cpu or cuda, found '" + s + "'");
}

std::string to_string(Device d) { return d == Device::cuda ? "cuda" : "cpu"; }

static CudaProbe run_probe() {
  CudaProbe p;
#ifdef SER_WITH_CUDA
  p.built_with_cuda = true;
  cudaRuntimeGetVersion(&p.runtime_version);
  cudaDriverGetVersion(&p.driver_version);  // 0 when no driver is installed
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    p.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return p;
  }
  if (count == 0) {
    p.reason = "no CUDA device found";
    return p;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    p.reason = "cudaGetDeviceProperties failed";
    cudaGetLastError();
    return p;
  }
  p.name = prop.name;
  p.compute_major = prop.major;
  p.compute_minor = prop.minor;
  p.total_memory = prop.totalGlobalMem;
  // A trivial allocation proves the context can be created (catches unsupported architectures
  // and exhausted or exclusive devices).
  void* ptr = nullptr;
  const cudaError_t alloc = cudaMalloc(&ptr, 256);
  if (alloc != cudaSuccess) {
    p.reason = std::string("device present but unusable: ") + cudaGetErrorString(alloc);
    cudaGetLastError();
    return p;
  }
  cudaFree(ptr);
  p.usable = true;
#else
  p.reason = "ser was built without CUDA";
#endif
  return p;
}

const CudaProbe& probe_cuda() {
  static const CudaProbe probe = run_probe();
  return probe;
}

Device select_device(DeviceRequest request, std::ostream& notice) {
  if (request == DeviceRequest::cpu) return Device::cpu;
  const CudaProbe& p = probe_cuda();
  if (p.usable) return Device::cuda;
  if (request == DeviceRequest::cuda) throw Error("--device cuda: no usable GPU (" + p.reason + ")");
  notice << "ser: no usable GPU (" << p.reason << "); running on the CPU\n";
  return Device::cpu;
}

std::string cpu_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(colon + 2);
      break;
    }
  }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " threads";
}

}  // namespace ser
