// tests/simt/simt_test_kernels.cu — small kernels that pin down the SIMT emulator's semantics. Written
// as ordinary CUDA and built through simt_rewrite like kernels/*.cu.
#include "simt_test_kernels.cuh"

#include <cmath>

namespace simt_test {

namespace {

template <class T>
__global__ void shuffle_kernel(Shuffle kind, int arg, int width, const T* in, T* out) {
  const int i = threadIdx.x;
  const T v = in[i];
  T r = v;
  if (kind == Shuffle::idx) r = __shfl_sync(0xffffffffu, v, arg, width);
  else if (kind == Shuffle::up) r = __shfl_up_sync(0xffffffffu, v, static_cast<unsigned>(arg), width);
  else if (kind == Shuffle::down) r = __shfl_down_sync(0xffffffffu, v, static_cast<unsigned>(arg), width);
  else r = __shfl_xor_sync(0xffffffffu, v, arg, width);
  out[i] = r;
}

__global__ void half_warp_shuffle_kernel(const int* in, int* out) {
  const int i = threadIdx.x, lane = i % 32;
  int r = -1;
  if (lane < 16) r = __shfl_xor_sync(0x0000ffffu, in[i], 1, 16);
  out[i] = r;
}

__global__ void index_kernel(int* out) {
  const int tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const int per_block = blockDim.x * blockDim.y * blockDim.z;
  out[block * per_block + tx] = block * per_block + tx;
}

__global__ void shared_neighbours_kernel(float* out, int* fresh) {
  __shared__ float values[256];
  const int t = threadIdx.x, n = blockDim.x;
  if (t == 0) fresh[blockIdx.x] = std::isnan(values[0]) ? 1 : 0;
  __syncthreads();
  values[t] = static_cast<float>(blockIdx.x * 1000 + t);
  __syncthreads();
  out[blockIdx.x * n + t] = values[(t + 1) % n];
}

__global__ void unwritten_shared_kernel(float* out) {
  extern __shared__ float dyn[];
  out[threadIdx.x] = dyn[threadIdx.x];
}

__global__ void divergent_barrier_kernel() {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
}

__global__ void exit_before_barrier_kernel() {
  if (threadIdx.x == 1) return;
  __syncthreads();
}

__global__ void shuffle_without_own_lane_kernel(int* out) {
  out[threadIdx.x] = __shfl_sync(0xfffffffeu, 1, 1);  // lane 0 is not in the mask it passes
}

__global__ void shuffle_outside_mask_kernel(int* out) {
  int r = 0;
  if (threadIdx.x % 32 != 1) r = __shfl_sync(0xfffffffdu, 7, 1);  // source lane 1 is not in the mask
  out[threadIdx.x] = r;
}

__global__ void touch_shared_kernel(float* out) {
  extern __shared__ float dyn[];
  dyn[threadIdx.x] = 1.0f;
  out[0] = dyn[0];
}

__global__ void empty_kernel() {}

struct DeviceInts {
  int* p = nullptr;
  explicit DeviceInts(int n) { cudaMalloc(&p, sizeof(int) * static_cast<std::size_t>(n)); }
  ~DeviceInts() { cudaFree(p); }
};

}  // namespace

void shuffle(Shuffle kind, int arg, int width, const int* in, int* out, int threads) {
  shuffle_kernel<int><<<1, threads>>>(kind, arg, width, in, out);
}
void shuffle(Shuffle kind, int arg, int width, const float* in, float* out, int threads) {
  shuffle_kernel<float><<<1, threads>>>(kind, arg, width, in, out);
}
void shuffle(Shuffle kind, int arg, int width, const double* in, double* out, int threads) {
  shuffle_kernel<double><<<1, threads>>>(kind, arg, width, in, out);
}
void half_warp_shuffle(const int* in, int* out, int threads) { half_warp_shuffle_kernel<<<1, threads>>>(in, out); }
void write_indices(dim3 grid, dim3 block, int* out) { index_kernel<<<grid, block>>>(out); }
void shared_neighbours(int blocks, int threads, float* out, int* fresh) {
  shared_neighbours_kernel<<<blocks, threads>>>(out, fresh);
}
void read_unwritten_dynamic_shared(int threads, float* out) {
  unwritten_shared_kernel<<<1, threads, sizeof(float) * threads>>>(out);
}
void divergent_barrier(int threads) { divergent_barrier_kernel<<<1, threads>>>(); }
void exit_before_barrier(int threads) { exit_before_barrier_kernel<<<1, threads>>>(); }
void shuffle_without_own_lane(int threads) {
  DeviceInts out(threads);
  shuffle_without_own_lane_kernel<<<1, threads>>>(out.p);
}
void shuffle_reading_outside_mask(int threads) {
  DeviceInts out(threads);
  shuffle_outside_mask_kernel<<<1, threads>>>(out.p);
}
void touch_dynamic_shared(std::size_t bytes) {
  float* out = nullptr;
  cudaMalloc(&out, sizeof(float));
  touch_shared_kernel<<<1, 1, bytes>>>(out);
  cudaFree(out);
}
cudaError_t allow_dynamic_shared(int bytes) {
  return cudaFuncSetAttribute(touch_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
}
void launch_empty(dim3 grid, dim3 block) { empty_kernel<<<grid, block>>>(); }

}  // namespace simt_test
