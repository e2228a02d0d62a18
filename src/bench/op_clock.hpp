// src/bench/op_clock.hpp — times one op call on its context's device: warm-up calls, then `repeat`
// samples, each of `inner` back-to-back calls (inner chosen so a sample lasts about
// min_sample_seconds), and the median per call.
//
// GPU: each sample is bracketed by CUDA events, and a blocking kernel (kernels/bench_blocking.cuh)
// holds the stream until the whole sample is enqueued, so small ops are timed on the GPU rather than
// at the host's launch rate; the device is waited for once, after the last sample. CPU:
// steady_clock around each sample.
#pragma once
#include <cstddef>
#include <functional>

#include "ser/nn/exec.hpp"

namespace ser::bench {

struct OpTiming {
  double seconds = 0;      // median time of one call
  int inner = 1;           // calls per sample
  int samples = 0;         // timed samples
  bool host_bound = false; // GPU: the blocking kernel gave up waiting (the op synchronised or
                           // enqueued too much); the time may include host gaps
};

class OpClock {
 public:
  // warmup >= 0, repeat >= 1; min_sample_seconds <= 0 picks 100 µs on the GPU, 1 ms on the CPU.
  OpClock(const nn::ExecContext& ctx, int warmup, int repeat, double min_sample_seconds = 0);
  ~OpClock();
  OpClock(const OpClock&) = delete;
  OpClock& operator=(const OpClock&) = delete;

  // fn enqueues one call of the op on ctx (GPU: asynchronously, on ctx.stream).
  OpTiming time(const std::function<void()>& fn);

  // A copy of `bytes` bytes from src to dst on ctx: cudaMemcpyAsync device-to-device on the
  // stream, std::memcpy on the CPU. The bandwidth baseline.
  void copy(void* dst, const void* src, std::size_t bytes) const;

 private:
  OpTiming time_cpu(const std::function<void()>& fn);
  OpTiming time_gpu(const std::function<void()>& fn);

  nn::ExecContext ctx_;
  int warmup_, repeat_;
  double min_sample_;
  void* release_host_ = nullptr;  // GPU: host-mapped counter the blocking kernel waits on
  void* timed_out_host_ = nullptr;
  unsigned ticket_ = 0;
};

}  // namespace ser::bench
