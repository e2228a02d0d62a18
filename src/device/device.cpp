// Device probing and selection. The CUDA runtime is linked statically, so a machine without the
// driver gets an error code from cudaGetDeviceCount here rather than a loader failure at start-up.
#include "ser/device.hpp"

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <thread>
#include <vector>

#include "ser/error.hpp"

#ifdef SER_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace ser {

namespace {
std::mutex device_mutex;
bool probed = false;             // the CUDA runtime has been asked (it reads CUDA_VISIBLE_DEVICES once)
std::optional<int> chosen_ordinal;  // use_cuda_device's choice
}  // namespace

int cuda_ordinal(const std::string& s) {
  if (s.rfind("cuda:", 0) != 0) return -1;
  const std::string n = s.substr(5);
  if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos)
    throw Error("--device: expected cuda:N with N a GPU number (0, 1, ...), found '" + s + "'");
  return std::stoi(n);
}

std::string visible_devices_for(int ordinal, const char* current) {
  if (!current) return std::to_string(ordinal);
  std::vector<std::string> listed;
  std::stringstream in(current);
  for (std::string item; std::getline(in, item, ',');) listed.push_back(item);
  if (ordinal < 0 || static_cast<std::size_t>(ordinal) >= listed.size())
    throw Error("--device cuda:" + std::to_string(ordinal) + ": CUDA_VISIBLE_DEVICES='" + current + "' makes " +
                std::to_string(listed.size()) + " GPU(s) visible (cuda:0 .. cuda:" +
                std::to_string(static_cast<int>(listed.size()) - 1) + ")");
  return listed[static_cast<std::size_t>(ordinal)];
}

void use_cuda_device(int ordinal) {
  const std::lock_guard<std::mutex> lock(device_mutex);
  if (chosen_ordinal) {
    if (*chosen_ordinal == ordinal) return;
    throw Error("--device cuda:" + std::to_string(ordinal) + ": this process already runs on cuda:" +
                std::to_string(*chosen_ordinal));
  }
  if (probed)
    throw Error("--device cuda:" + std::to_string(ordinal) + ": the CUDA runtime has already started; choose the GPU "
                "before anything runs on one");
  const std::string visible = visible_devices_for(ordinal, std::getenv("CUDA_VISIBLE_DEVICES"));
  ::setenv("CUDA_VISIBLE_DEVICES", visible.c_str(), 1);
  chosen_ordinal = ordinal;
}

DeviceRequest parse_device_request(const std::string& s) {
  if (s == "auto") return DeviceRequest::automatic;
  if (s == "cpu") return DeviceRequest::cpu;
  if (s == "cuda" || s == "gpu") return DeviceRequest::cuda;
  if (const int n = cuda_ordinal(s); n >= 0) {
    use_cuda_device(n);
    return DeviceRequest::cuda;
  }
  throw Error("--device: expected auto, cpu, cuda or cuda:N, found '" + s + "'");
}

std::string to_string(Device d) { return d == Device::cuda ? "cuda" : "cpu"; }

static CudaProbe run_probe() {
  {
    const std::lock_guard<std::mutex> lock(device_mutex);
    probed = true;
  }
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
  const unsigned cores = std::thread::hardware_concurrency();
  const int used = cpu_threads();  // --threads, when it limits this process
  if (static_cast<unsigned>(used) < cores)
    return model + ", " + std::to_string(used) + " of " + std::to_string(cores) + " threads";
  return model + ", " + std::to_string(cores) + " threads";
}

}  // namespace ser
