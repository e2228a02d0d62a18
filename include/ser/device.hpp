// ser/device.hpp — which processor runs the work. Never crashes for a missing GPU or driver.
#pragma once
#include <cstddef>
#include <iosfwd>
#include <string>

namespace ser {

enum class Device { cpu, cuda };
enum class DeviceRequest { automatic, cpu, cuda };

// "auto" | "cpu" | "cuda" | "cuda:N". "cuda:N" also calls use_cuda_device(N).
DeviceRequest parse_device_request(const std::string&);
std::string to_string(Device);

// N of "cuda:N"; -1 for any other spelling; throws ser::Error for "cuda:" followed by anything but
// a non-negative integer.
int cuda_ordinal(const std::string& device);
// Makes GPU N (counted among the visible devices) the only one this process sees, by narrowing
// CUDA_VISIBLE_DEVICES before the CUDA runtime starts, so every thread and library of the process
// uses it. Throws ser::Error when N is not visible, when CUDA has already been probed, or when
// another ordinal was chosen before.
void use_cuda_device(int ordinal);
// CUDA_VISIBLE_DEVICES for ordinal N given its current value (nullptr: unset, all devices visible):
// N itself, or the N-th entry of the list. Throws ser::Error when the list is shorter.
std::string visible_devices_for(int ordinal, const char* current);

struct CudaProbe {
  bool built_with_cuda = false;  // compiled with the CUDA kernels
  bool usable = false;           // a device answered and can run our kernels
  std::string reason;            // why not usable (no driver, no device, too old ...)
  std::string name;              // device name when usable
  int compute_major = 0, compute_minor = 0;
  std::size_t total_memory = 0;  // bytes
  int driver_version = 0, runtime_version = 0;
};

// Asks the CUDA runtime once (cached); never throws.
const CudaProbe& probe_cuda();

// auto: CUDA when usable, else CPU with a one-line notice on `notice`.
// cuda: throws ser::Error with the probe's reason when no usable GPU is present.
Device select_device(DeviceRequest request, std::ostream& notice);

// The CPU threads a process uses for its own parallel work: the CPU front-end's default, the engine's
// GEMMs (OpenBLAS) and its direct kernels. 0 (the default) means every core. Several processes
// sharing a machine (experiment workers) each take a share with --threads.
void set_cpu_threads(int threads);
int cpu_threads();  // the limit, or the core count when none is set

// One line describing the host CPU (model name, cores) for benchmark records.
std::string cpu_description();

// The host's nominal FP32 peak for benchmark records: cores x clock x FLOPs per cycle per core,
// assuming two FMA units per core (a multiply-add counts 2). Lanes per unit from the instruction
// set: AVX-512 16 on Intel, 8 on AMD (Zen 4 runs 512-bit operations on 256-bit units); AVX2 + FMA
// 8; without FMA, 4 lanes of separate multiply and add. Clock: /proc/cpuinfo's "cpu MHz" (boost
// not counted). `how` spells the product out.
struct CpuPeak {
  double flops_per_second = 0;
  std::string how;
};
CpuPeak cpu_fma_peak();

}  // namespace ser
