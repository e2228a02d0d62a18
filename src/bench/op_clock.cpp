// src/bench/op_clock.cpp — median time of one op call (op_clock.hpp).
#include "bench/op_clock.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "ser/error.hpp"

#ifdef SER_WITH_CUDA
#include <cuda_runtime.h>

#include "bench_blocking.cuh"
#include "cuda_check.cuh"
#endif

namespace ser::bench {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// Calls per sample so that a sample lasts about `target` seconds when one call takes `one`.
int inner_for(double target, double one, int max_inner) {
  if (!(one > 0)) return max_inner;
  return static_cast<int>(std::clamp(std::ceil(target / one), 1.0, static_cast<double>(max_inner)));
}

#ifdef SER_WITH_CUDA
// A set of timing events, destroyed with the set.
class Events {
 public:
  explicit Events(std::size_t n) {
    events_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      cudaEvent_t e = nullptr;
      SER_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDefault));
      events_.push_back(e);
    }
  }
  ~Events() {
    for (cudaEvent_t e : events_) cudaEventDestroy(e);  // errors ignored in a destructor
  }
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;
  cudaEvent_t operator[](std::size_t i) const { return events_[i]; }
  double seconds(std::size_t a, std::size_t b) const {
    float ms = 0;
    SER_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[a], events_[b]));
    return 1e-3 * ms;
  }

 private:
  std::vector<cudaEvent_t> events_;
};

constexpr int kMaxInnerGpu = 32;            // launches queued behind the blocking kernel stay well
                                            // under the driver's queue depth
constexpr std::uint64_t kBlockTimeoutNs = 100'000'000;  // 0.1 s
#endif

constexpr int kMaxInnerCpu = 10000;

}  // namespace

OpClock::OpClock(const nn::ExecContext& ctx, int warmup, int repeat, double min_sample_seconds)
    : ctx_(ctx), warmup_(warmup), repeat_(repeat), min_sample_(min_sample_seconds) {
  if (warmup < 0 || repeat < 1)
    throw Error("OpClock: need warmup >= 0 and repeat >= 1, found " + std::to_string(warmup) + " and " +
                std::to_string(repeat));
  if (min_sample_ <= 0) min_sample_ = ctx.device == Device::cuda ? 1e-4 : 1e-3;
#ifdef SER_WITH_CUDA
  if (ctx.device == Device::cuda) {
    SER_CUDA_CHECK(cudaHostAlloc(&release_host_, sizeof(unsigned), cudaHostAllocMapped));
    if (const cudaError_t e = cudaHostAlloc(&timed_out_host_, sizeof(int), cudaHostAllocMapped); e != cudaSuccess) {
      cudaFreeHost(release_host_);
      SER_CUDA_CHECK(e);
    }
    *static_cast<volatile unsigned*>(release_host_) = 0;
    *static_cast<volatile int*>(timed_out_host_) = 0;
  }
#else
  if (ctx.device == Device::cuda) throw Error("OpClock: Device::cuda requested but ser was built without CUDA");
#endif
}

OpClock::~OpClock() {
#ifdef SER_WITH_CUDA
  if (release_host_) cudaFreeHost(release_host_);
  if (timed_out_host_) cudaFreeHost(timed_out_host_);
#endif
}

OpTiming OpClock::time(const std::function<void()>& fn) {
  return ctx_.device == Device::cuda ? time_gpu(fn) : time_cpu(fn);
}

OpTiming OpClock::time_cpu(const std::function<void()>& fn) {
  for (int i = 0; i < warmup_; ++i) fn();
  auto t0 = Clock::now();
  fn();
  const double one = std::chrono::duration<double>(Clock::now() - t0).count();
  OpTiming t;
  t.inner = inner_for(min_sample_, one, kMaxInnerCpu);
  std::vector<double> per_call;
  for (int r = 0; r < repeat_; ++r) {
    t0 = Clock::now();
    for (int i = 0; i < t.inner; ++i) fn();
    per_call.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / t.inner);
  }
  t.samples = repeat_;
  t.seconds = median(per_call);
  return t;
}

OpTiming OpClock::time_gpu(const std::function<void()>& fn) {
#ifdef SER_WITH_CUDA
  const auto stream = static_cast<cudaStream_t>(ctx_.stream);
  for (int i = 0; i < warmup_; ++i) fn();
  const std::size_t n = static_cast<std::size_t>(repeat_);
  Events ev(2 * n + 2);
  SER_CUDA_CHECK(cudaEventRecord(ev[2 * n], stream));  // one unblocked call: how many per sample
  fn();
  SER_CUDA_CHECK(cudaEventRecord(ev[2 * n + 1], stream));
  SER_CUDA_CHECK(cudaEventSynchronize(ev[2 * n + 1]));
  OpTiming t;
  t.inner = inner_for(min_sample_, ev.seconds(2 * n, 2 * n + 1), kMaxInnerGpu);

  auto* release = static_cast<volatile unsigned*>(release_host_);
  auto* timed_out = static_cast<volatile int*>(timed_out_host_);
  unsigned* release_dev = nullptr;
  int* timed_out_dev = nullptr;
  SER_CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&release_dev), release_host_, 0));
  SER_CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&timed_out_dev), timed_out_host_, 0));
  *timed_out = 0;
  bool block = true;
  for (std::size_t r = 0; r < n; ++r) {
    const unsigned ticket = ++ticket_;
    // Lets the blocking kernel go however this sample ends (an op that throws included).
    struct Release {
      volatile unsigned* counter;
      unsigned value;
      ~Release() {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        *counter = value;
      }
    };
    {
      const Release let_go{release, ticket};
      if (block) cuda::launch_block_stream(release_dev, ticket, timed_out_dev, kBlockTimeoutNs, stream);
      SER_CUDA_CHECK(cudaEventRecord(ev[2 * r], stream));
      for (int i = 0; i < t.inner; ++i) fn();
      SER_CUDA_CHECK(cudaEventRecord(ev[2 * r + 1], stream));
    }
    if (r == 0) {  // an op that waits for the device inside fn cannot be held back: stop trying
      SER_CUDA_CHECK(cudaEventSynchronize(ev[1]));
      if (*timed_out) block = false;
    }
  }
  SER_CUDA_CHECK(cudaEventSynchronize(ev[2 * n - 1]));
  std::vector<double> per_call;
  for (std::size_t r = 0; r < n; ++r) per_call.push_back(ev.seconds(2 * r, 2 * r + 1) / t.inner);
  t.samples = repeat_;
  t.seconds = median(per_call);
  t.host_bound = *timed_out != 0 || !block;
  return t;
#else
  (void)fn;
  throw Error("OpClock: ser was built without CUDA");
#endif
}

void OpClock::copy(void* dst, const void* src, std::size_t bytes) const {
  if (ctx_.device == Device::cpu) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef SER_WITH_CUDA
  SER_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(ctx_.stream)));
#else
  throw Error("OpClock: ser was built without CUDA");
#endif
}

}  // namespace ser::bench
