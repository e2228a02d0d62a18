// tests/simt/simt_test_kernels.cuh — launchers of the small kernels that pin down the SIMT emulator's
// own semantics (tests/simt/test_simt_runtime.cpp). Built only into the emulator's test executables.
#pragma once
#include <cuda_runtime.h>

namespace simt_test {

enum class Shuffle { idx = 0, up = 1, down = 2, bfly = 3 };

// out[i] = the shuffle of in[i] over one block of `threads` threads, full mask.
void shuffle(Shuffle kind, int arg, int width, const int* in, int* out, int threads);
void shuffle(Shuffle kind, int arg, int width, const float* in, float* out, int threads);
void shuffle(Shuffle kind, int arg, int width, const double* in, double* out, int threads);

// Lanes 0-15 of each warp shuffle among themselves (mask 0x0000ffff, width 16), lanes 16-31 do not.
void half_warp_shuffle(const int* in, int* out, int threads);

// out[linear global thread id] = that id, over a 3-D grid of 3-D blocks.
void write_indices(dim3 grid, dim3 block, int* out);

// Each block: every thread writes its value to static shared memory, barrier, reads its neighbour's;
// thread 0 first records whether the block's shared array was fresh (NaN) before anyone wrote it.
// out (blocks * threads): neighbour values; fresh (blocks): 1 if fresh.
void shared_neighbours(int blocks, int threads, float* out, int* fresh);

// out[i] = dynamic shared memory element i, never written (the emulator's poison).
void read_unwritten_dynamic_shared(int threads, float* out);

// Broken kernels: each must be reported by the emulator.
void divergent_barrier(int threads);          // two halves wait at different __syncthreads
void exit_before_barrier(int threads);        // thread 1 returns before a __syncthreads
void shuffle_without_own_lane(int threads);   // mask leaves out the calling lane
void shuffle_reading_outside_mask(int threads);  // lane 0 reads lane 1, which the mask leaves out

// A kernel with `bytes` of dynamic shared memory (checks the launch limits).
void touch_dynamic_shared(std::size_t bytes);
cudaError_t allow_dynamic_shared(int bytes);  // cudaFuncSetAttribute on that kernel

// A kernel launched with the given configuration (checks the launch limits).
void launch_empty(dim3 grid, dim3 block);

}  // namespace simt_test
