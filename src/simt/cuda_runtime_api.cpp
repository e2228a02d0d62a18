// src/simt/cuda_runtime_api.cpp — the CUDA runtime calls of ser's hosts, on the CPU. Device memory
// is host memory filled with 0xFF (every unwritten float or double reads as NaN, as an initcheck
// would flag it), registered so that copies and frees of anything else are errors. Streams run
// everything at once; events hold host clock readings.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "simt/runtime_state.hpp"

struct CUstream_st {
  unsigned flags = 0;
};
struct CUevent_st {
  unsigned flags = 0;
  bool recorded = false;
  std::chrono::steady_clock::time_point when;
};

namespace simt {

namespace {

thread_local cudaError_t tl_last_error = cudaSuccess;
thread_local cudaError_t tl_detail_code = cudaSuccess;
thread_local std::string tl_detail;

struct Memory {
  std::mutex mutex;
  std::map<const char*, std::size_t> device;  // base -> bytes
  std::set<const void*> pinned;
  std::size_t in_use = 0;
  std::map<const void*, std::size_t> shared_limits;  // kernel -> max dynamic shared bytes
};
Memory& memory() {
  static Memory m;
  return m;
}

bool inside_device_locked(const Memory& m, const void* p, std::size_t bytes) {
  const auto* c = static_cast<const char*>(p);
  auto it = m.device.upper_bound(c);
  if (it == m.device.begin()) return false;
  --it;
  return c >= it->first && static_cast<std::size_t>(c - it->first) + bytes <= it->second;
}

bool is_pinned(const void* p) {
  Memory& m = memory();
  const std::lock_guard<std::mutex> lock(m.mutex);
  return m.pinned.count(p) != 0;
}

const char* kind_name(cudaMemcpyKind k) {
  switch (k) {
    case cudaMemcpyHostToHost: return "cudaMemcpyHostToHost";
    case cudaMemcpyHostToDevice: return "cudaMemcpyHostToDevice";
    case cudaMemcpyDeviceToHost: return "cudaMemcpyDeviceToHost";
    case cudaMemcpyDeviceToDevice: return "cudaMemcpyDeviceToDevice";
    case cudaMemcpyDefault: return "cudaMemcpyDefault";
  }
  return "unknown cudaMemcpyKind";
}

std::string pointer(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

}  // namespace

cudaError_t fail(cudaError_t err, const std::string& detail) {
  tl_last_error = err;
  tl_detail_code = err;
  tl_detail = detail;
  std::fprintf(stderr, "simt: %s\n", detail.c_str());
  return err;
}

std::size_t device_capacity() {
  static const std::size_t bytes = [] {
    std::size_t mib = 16384;
    if (const char* s = std::getenv("SIMT_DEVICE_MIB")) mib = std::strtoull(s, nullptr, 10);
    return mib << 20;
  }();
  return bytes;
}

std::size_t device_bytes_in_use() {
  Memory& m = memory();
  const std::lock_guard<std::mutex> lock(m.mutex);
  return m.in_use;
}

bool is_device_range(const void* p, std::size_t bytes) {
  Memory& m = memory();
  const std::lock_guard<std::mutex> lock(m.mutex);
  return inside_device_locked(m, p, bytes);
}

std::size_t max_dynamic_shared(const void* kernel) {
  Memory& m = memory();
  const std::lock_guard<std::mutex> lock(m.mutex);
  const auto it = m.shared_limits.find(kernel);
  return it == m.shared_limits.end() ? kDefaultSharedLimit : it->second;
}

cudaError_t set_function_attribute(const void* kernel, cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize)
    return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: attribute " + std::to_string(attr) + " is not emulated");
  if (value < 0 || static_cast<std::size_t>(value) > kOptinSharedLimit)
    return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: " + std::to_string(value) +
                                           " bytes of dynamic shared memory exceed the 227 KiB of sm_90");
  Memory& m = memory();
  const std::lock_guard<std::mutex> lock(m.mutex);
  m.shared_limits[kernel] = static_cast<std::size_t>(value);
  return cudaSuccess;
}

}  // namespace simt

using simt::fail;

// ---- errors, devices, versions -----------------------------------------------------------------

cudaError_t cudaGetLastError() {
  const cudaError_t e = simt::tl_last_error;
  simt::tl_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() { return simt::tl_last_error; }

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "cudaError (unlisted)";
}

static const char* generic_error_string(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    default: return cudaGetErrorName(err);
  }
}

// The emulator's diagnostic for the calling thread's latest failure of this code, else CUDA's text.
const char* cudaGetErrorString(cudaError_t err) {
  thread_local std::string text;
  text = generic_error_string(err);
  if (err != cudaSuccess && err == simt::tl_detail_code && !simt::tl_detail.empty())
    text += " [SIMT emulator: " + simt::tl_detail + "]";
  return text.c_str();
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice, "cudaSetDevice(" + std::to_string(device) + "): the emulator has device 0 only");
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice, "cudaGetDeviceProperties: no device " + std::to_string(device));
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "SIMT emulator (CPU)");
  prop->totalGlobalMem = simt::device_capacity();
  prop->sharedMemPerBlock = simt::kDefaultSharedLimit;
  prop->sharedMemPerBlockOptin = simt::kOptinSharedLimit;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->multiProcessorCount = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->major = 9;  // the architecture the kernels are written for
  prop->minor = 0;
  prop->canMapHostMemory = 1;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaDeviceReset() { return cudaSuccess; }
cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}

// ---- memory --------------------------------------------------------------------------------------

cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
  *ptr = nullptr;
  simt::Memory& m = simt::memory();
  {
    const std::lock_guard<std::mutex> lock(m.mutex);
    if (bytes > simt::device_capacity() - m.in_use)
      return fail(cudaErrorMemoryAllocation, "cudaMalloc(" + std::to_string(bytes) + " bytes): out of memory, " +
                                                 std::to_string(m.in_use) + " of " + std::to_string(simt::device_capacity()) +
                                                 " bytes in use (SIMT_DEVICE_MIB sets the size)");
  }
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes ? bytes : 1) != 0)
    return fail(cudaErrorMemoryAllocation, "cudaMalloc(" + std::to_string(bytes) + " bytes): the host is out of memory");
  std::memset(p, 0xFF, bytes);
  const std::lock_guard<std::mutex> lock(m.mutex);
  m.device[static_cast<const char*>(p)] = bytes;
  m.in_use += bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  simt::Memory& m = simt::memory();
  {
    const std::lock_guard<std::mutex> lock(m.mutex);
    const auto it = m.device.find(static_cast<const char*>(ptr));
    if (it == m.device.end())
      return fail(cudaErrorInvalidValue, "cudaFree(" + simt::pointer(ptr) + "): not a pointer cudaMalloc returned (or freed twice)");
    m.in_use -= it->second;
    m.device.erase(it);
  }
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMallocAsync(void** ptr, std::size_t bytes, cudaStream_t) { return cudaMalloc(ptr, bytes); }
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t) { return cudaFree(ptr); }

cudaError_t cudaHostAlloc(void** ptr, std::size_t bytes, unsigned) {
  *ptr = nullptr;
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes ? bytes : 1) != 0)
    return fail(cudaErrorMemoryAllocation, "cudaHostAlloc(" + std::to_string(bytes) + " bytes): out of host memory");
  std::memset(p, 0xFF, bytes);
  simt::Memory& m = simt::memory();
  const std::lock_guard<std::mutex> lock(m.mutex);
  m.pinned.insert(p);
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, std::size_t bytes) { return cudaHostAlloc(ptr, bytes, cudaHostAllocDefault); }

cudaError_t cudaFreeHost(void* ptr) {
  if (!ptr) return cudaSuccess;
  simt::Memory& m = simt::memory();
  {
    const std::lock_guard<std::mutex> lock(m.mutex);
    if (m.pinned.erase(ptr) == 0)
      return fail(cudaErrorInvalidValue, "cudaFreeHost(" + simt::pointer(ptr) + "): not a pointer cudaHostAlloc returned");
  }
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaHostGetDevicePointer(void** device_ptr, void* host_ptr, unsigned) {
  if (!simt::is_pinned(host_ptr))
    return fail(cudaErrorInvalidValue, "cudaHostGetDevicePointer(" + simt::pointer(host_ptr) + "): not pinned host memory");
  *device_ptr = host_ptr;  // one address space
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  const bool dst_dev = simt::is_device_range(dst, bytes), src_dev = simt::is_device_range(src, bytes);
  const bool dst_ok = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice ? dst_dev : true;
  const bool src_ok = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice ? src_dev : true;
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
    return fail(cudaErrorInvalidMemcpyDirection, "cudaMemcpy: unknown direction " + std::to_string(kind));
  if (!dst_ok || !src_ok)
    return fail(cudaErrorInvalidValue, std::string("cudaMemcpy(") + simt::kind_name(kind) + ", " + std::to_string(bytes) +
                                           " bytes): the " + (dst_ok ? "source " + simt::pointer(src) : "destination " + simt::pointer(dst)) +
                                           " is not inside one device allocation");
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* ptr, int value, std::size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (!simt::is_device_range(ptr, bytes))
    return fail(cudaErrorInvalidValue, "cudaMemset(" + simt::pointer(ptr) + ", " + std::to_string(bytes) +
                                           " bytes): not inside one device allocation");
  std::memset(ptr, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t) { return cudaMemset(ptr, value, bytes); }

cudaError_t cudaMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes) {
  *total_bytes = simt::device_capacity();
  *free_bytes = *total_bytes - simt::device_bytes_in_use();
  return cudaSuccess;
}

// ---- streams and events ----------------------------------------------------------------------------

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  *stream = new CUstream_st{flags};
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!stream) return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy of the default stream");
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamGetFlags(cudaStream_t stream, unsigned* flags) {
  *flags = stream ? stream->flags : cudaStreamDefault;
  return cudaSuccess;
}
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned) { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  *event = new CUevent_st{flags, false, {}};
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  if (!event) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord of a null event");
  event->recorded = true;
  event->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventQuery(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start || !end || !start->recorded || !end->recorded || (start->flags & cudaEventDisableTiming) ||
      (end->flags & cudaEventDisableTiming))
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event was not recorded or does not time");
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}
