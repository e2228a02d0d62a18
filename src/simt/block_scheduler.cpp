// src/simt/block_scheduler.cpp — one thread block at a time, every CUDA thread a fiber.
#include "simt/block_scheduler.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>

#include "simt/sanitizer_hooks.hpp"
#include "util/rng.hpp"  // splitmix64: the permutations of the random schedule

namespace simt {

namespace {

thread_local ThreadView* tl_current_view = nullptr;  // the running fiber's thread; null outside kernels

constexpr int kWarpSize = 32;
constexpr unsigned char kPoison = 0xFF;  // every float and double made of these bytes is a NaN

const char* op_name(WarpKind k) {
  switch (k) {
    case WarpKind::shfl_idx: return "__shfl_sync";
    case WarpKind::shfl_up: return "__shfl_up_sync";
    case WarpKind::shfl_down: return "__shfl_down_sync";
    case WarpKind::shfl_xor: return "__shfl_xor_sync";
    case WarpKind::syncwarp: return "__syncwarp";
  }
  return "warp operation";
}

std::string where(Site s) { return std::string(s.file) + ":" + std::to_string(s.line); }

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string triple(uint3 v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}

bool same_site(Site a, Site b) { return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0); }

void* allocate_poisoned(std::size_t bytes, std::size_t align) {
  const hooks::TsanIgnoreScope ignore;
  void* p = nullptr;
  if (posix_memalign(&p, std::max<std::size_t>(align, 16), bytes) != 0 || (!p && bytes)) {
    std::fprintf(stderr, "simt: out of host memory for %zu bytes of shared memory\n", bytes);
    std::abort();
  }
  if (bytes) std::memset(p, kPoison, bytes);
  return p;
}

void release(void* p) {
  const hooks::TsanIgnoreScope ignore;
  std::free(p);
}

}  // namespace

[[noreturn]] void outside_kernel(const char* what) {
  std::fprintf(stderr, "simt: %s used outside a kernel\n", what);
  std::abort();
}

ThreadView& current_view() {
  if (!tl_current_view) outside_kernel("threadIdx/blockIdx/blockDim/gridDim");
  return *tl_current_view;
}

Schedule schedule_from_environment() {
  Schedule s;
  const char* env = std::getenv("SIMT_SCHEDULE");
  if (!env || !*env || std::strcmp(env, "forward") == 0) return s;
  if (std::strcmp(env, "reverse") == 0) {
    s.order = Schedule::Order::reverse;
    return s;
  }
  if (std::strncmp(env, "random", 6) == 0 && (env[6] == '\0' || env[6] == ':')) {
    s.order = Schedule::Order::random;
    s.seed = env[6] == ':' ? std::strtoull(env + 7, nullptr, 10) : 1;
    return s;
  }
  std::fprintf(stderr, "simt: SIMT_SCHEDULE=%s: expected forward, reverse or random:SEED\n", env);
  std::abort();
}

std::string to_string(const Schedule& s) {
  switch (s.order) {
    case Schedule::Order::forward: return "forward";
    case Schedule::Order::reverse: return "reverse";
    case Schedule::Order::random: return "random:" + std::to_string(s.seed);
  }
  return "?";
}

BlockScheduler::BlockScheduler() : native_(make_native_context()) {}

BlockScheduler::~BlockScheduler() = default;

BlockScheduler& this_thread_scheduler() {
  thread_local BlockScheduler scheduler;
  return scheduler;
}

void BlockScheduler::fiber_main(void* start) {
  fiber_entered();
  const auto* s = static_cast<const FiberStart*>(start);
  BlockScheduler& self = *s->owner;
  const int i = s->index;
  for (;;) {
    hooks::tsan_acquire(self.block_token_);  // the host's writes before the launch
    self.job_->invoke(self.job_->body);
    hooks::tsan_release(self.grid_token_);  // ... and this thread's writes before the host's next call
    self.threads_[static_cast<std::size_t>(i)].state = State::done;
    self.yield();
  }
}

void BlockScheduler::ensure_fibers(int n) {
  while (static_cast<int>(fibers_.size()) < n) {
    starts_.push_back(std::make_unique<FiberStart>(FiberStart{this, static_cast<int>(fibers_.size())}));
    fibers_.push_back(std::make_unique<Fiber>(fiber_stack_bytes(), &BlockScheduler::fiber_main, starts_.back().get()));
  }
}

void BlockScheduler::resume(int i) {
  running_ = i;
  tl_current_view = &threads_[static_cast<std::size_t>(i)].view;
  switch_context(native_, fibers_[static_cast<std::size_t>(i)]->context());
  tl_current_view = nullptr;
  running_ = -1;
}

void BlockScheduler::yield() { switch_context(fibers_[static_cast<std::size_t>(running_)]->context(), native_); }

std::string BlockScheduler::describe(int i) const {
  const int lane = i % kWarpSize;
  return "thread " + triple(threads_[static_cast<std::size_t>(i)].view.thread_idx) + " (warp " +
         std::to_string(i / kWarpSize) + ", lane " + std::to_string(lane) + ")";
}

std::string BlockScheduler::run_block(const GridJob& job, uint3 block_idx, const Schedule& schedule, void* grid_token) {
  const int n = static_cast<int>(job.block.x * job.block.y * job.block.z);
  ensure_fibers(n);
  job_ = &job;
  grid_token_ = grid_token;
  fault_.clear();
  threads_.assign(static_cast<std::size_t>(n), Thread{});
  for (int i = 0; i < n; ++i) {
    ThreadView& v = threads_[static_cast<std::size_t>(i)].view;
    const auto u = static_cast<unsigned>(i);
    v.thread_idx = uint3{u % job.block.x, (u / job.block.x) % job.block.y, u / (job.block.x * job.block.y)};
    v.block_idx = block_idx;
    v.block_dim = job.block;
    v.grid_dim = job.grid;
  }
  dynamic_bytes_ = job.dynamic_smem;
  dynamic_ = allocate_poisoned(dynamic_bytes_, 16);
  block_token_ = allocate_poisoned(1, 16);
  hooks::tsan_release(block_token_);  // host -> every thread of this block

  const std::uint64_t linear =
      block_idx.x + static_cast<std::uint64_t>(job.grid.x) * (block_idx.y + static_cast<std::uint64_t>(job.grid.y) * block_idx.z);
  std::string error = schedule_block(schedule, linear);
  if (!error.empty()) {
    // Threads left inside the kernel are abandoned: their fibers start afresh next time.
    for (int i = 0; i < n; ++i)
      if (threads_[static_cast<std::size_t>(i)].state != State::done) fibers_[static_cast<std::size_t>(i)]->reset();
    error = "block " + triple(block_idx) + ": " + error;
  }
  release_block_memory();
  job_ = nullptr;
  return error;
}

std::size_t BlockScheduler::shared_bytes_used() const {
  std::size_t total = dynamic_bytes_;
  for (const StaticShared& s : statics_) total += s.bytes;
  return total;
}

void BlockScheduler::release_block_memory() {
  for (const StaticShared& s : statics_) release(s.ptr);
  statics_.clear();
  release(dynamic_);
  release(block_token_);
  dynamic_ = nullptr;
  block_token_ = nullptr;
}

std::string BlockScheduler::schedule_block(const Schedule& schedule, std::uint64_t block_linear) {
  const int n = static_cast<int>(threads_.size());
  std::vector<int> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (schedule.order == Schedule::Order::reverse) std::reverse(order.begin(), order.end());
  std::uint64_t rng = schedule.seed * 0x2545F4914F6CDD1Dull + block_linear;
  for (;;) {
    if (schedule.order == Schedule::Order::random)
      for (int i = n - 1; i > 0; --i) {
        const std::uint64_t j = ser::util::splitmix64(rng) % (static_cast<unsigned>(i) + 1);
        std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
      }
    bool ran = false;
    for (const int i : order) {
      Thread& t = threads_[static_cast<std::size_t>(i)];
      if (t.state != State::ready) continue;
      resume(i);
      ran = true;
      if (!fault_.empty()) return fault_;
      if (t.state == State::warp) {
        std::string e = complete_warp(i);
        if (!e.empty()) return e;
      }
    }
    if (ran) continue;

    // Nothing can run: the block is finished, waits at a barrier, or is stuck.
    int done = 0, at_barrier = 0, first_done = -1, first_barrier = -1;
    for (int i = 0; i < n; ++i) {
      const State s = threads_[static_cast<std::size_t>(i)].state;
      if (s == State::warp) return explain_stall();
      if (s == State::done) {
        ++done;
        if (first_done < 0) first_done = i;
      } else if (s == State::barrier) {
        ++at_barrier;
        if (first_barrier < 0) first_barrier = i;
      }
    }
    if (at_barrier == 0) return "";
    const Site site = threads_[static_cast<std::size_t>(first_barrier)].site;
    if (done > 0)
      return where(site) + ": " + std::to_string(done) + (done == 1 ? " thread" : " threads") + " exited while " +
             std::to_string(at_barrier) + " wait at __syncthreads (first exited: " + describe(first_done) +
             "; first waiting: " + describe(first_barrier) + ")";
    for (int i = 0; i < n; ++i) {
      const Thread& t = threads_[static_cast<std::size_t>(i)];
      if (!same_site(t.site, site))
        return "divergent __syncthreads: " + describe(first_barrier) + " waits at " + where(site) + " while " +
               describe(i) + " waits at " + where(t.site);
    }
    for (Thread& t : threads_) t.state = State::ready;
  }
}

// Lane `i` has just arrived at a warp operation. When every lane its mask names has arrived at the
// same operation, computes all their results and lets them run on.
std::string BlockScheduler::complete_warp(int i) {
  const int n = static_cast<int>(threads_.size());
  const int base = i / kWarpSize * kWarpSize;
  const int lanes = std::min(kWarpSize, n - base);  // a block's last warp may be partial
  const Thread& me = threads_[static_cast<std::size_t>(i)];
  const WarpRequest& r = me.request;
  const int my_lane = i - base;
  const std::string who = where(me.site) + ": " + op_name(r.kind) + " by " + describe(i) + " with mask " + hex(r.mask);
  if (!((r.mask >> my_lane) & 1u)) return who + " leaves out the calling lane";
  if (r.width < 1 || r.width > kWarpSize || (r.width & (r.width - 1)) != 0)
    return who + ": width " + std::to_string(r.width) + " is not a power of two in [1, 32]";
  for (int l = 0; l < lanes; ++l) {
    if (!((r.mask >> l) & 1u)) continue;
    const Thread& t = threads_[static_cast<std::size_t>(base + l)];
    switch (t.state) {
      case State::ready: return "";  // not there yet
      case State::done: return who + ": lane " + std::to_string(l) + " exited";
      case State::barrier:
        return who + ": lane " + std::to_string(l) + " waits at __syncthreads " + where(t.site) + " instead";
      case State::warp:
        if (t.request.kind != r.kind || t.request.mask != r.mask || t.request.width != r.width || !same_site(t.site, me.site))
          return who + " meets " + op_name(t.request.kind) + " at " + where(t.site) + " with mask " + hex(t.request.mask) +
                 " by lane " + std::to_string(l);
        break;
    }
  }
  // Everyone is here: CUDA's source-lane rules, segment by segment of `width` lanes.
  const unsigned w = static_cast<unsigned>(r.width);
  for (int l = 0; l < lanes; ++l) {
    if (!((r.mask >> l) & 1u)) continue;
    Thread& t = threads_[static_cast<std::size_t>(base + l)];
    t.state = State::ready;
    if (r.kind == WarpKind::syncwarp) continue;
    const unsigned lane = static_cast<unsigned>(l), seg = lane & ~(w - 1);
    const auto arg = static_cast<unsigned>(r.arg);
    unsigned src = lane;
    switch (r.kind) {
      case WarpKind::shfl_idx: src = seg + (arg & (w - 1)); break;
      case WarpKind::shfl_up: src = lane - seg >= arg ? lane - arg : lane; break;
      case WarpKind::shfl_down: src = lane - seg + arg < w ? lane + arg : lane; break;
      case WarpKind::shfl_xor: src = (lane ^ arg) < seg + w ? (lane ^ arg) : lane; break;
      case WarpKind::syncwarp: break;
    }
    if (src >= static_cast<unsigned>(lanes) || !((r.mask >> src) & 1u))
      return where(me.site) + ": " + op_name(r.kind) + " with mask " + hex(r.mask) + ": lane " + std::to_string(l) +
             " reads lane " + std::to_string(src) + (src >= static_cast<unsigned>(lanes) ? ", which does not exist" : ", which is not in the mask");
    t.request.result = threads_[static_cast<std::size_t>(base + static_cast<int>(src))].request.value;
  }
  return "";
}

// No thread can run and one waits at a warp operation whose lanes never all arrived.
std::string BlockScheduler::explain_stall() const {
  for (int i = 0; i < static_cast<int>(threads_.size()); ++i) {
    const Thread& t = threads_[static_cast<std::size_t>(i)];
    if (t.state != State::warp) continue;
    const int base = i / kWarpSize * kWarpSize;
    for (int l = 0; l < kWarpSize && base + l < static_cast<int>(threads_.size()); ++l) {
      if (!((t.request.mask >> l) & 1u)) continue;
      const Thread& o = threads_[static_cast<std::size_t>(base + l)];
      const std::string who = where(t.site) + ": " + op_name(t.request.kind) + " by " + describe(i) + " with mask " +
                              hex(t.request.mask);
      if (o.state == State::done) return who + " waits for lane " + std::to_string(l) + ", which exited";
      if (o.state == State::barrier)
        return who + " waits for lane " + std::to_string(l) + ", which waits at __syncthreads " + where(o.site);
    }
  }
  return "warp operation deadlock";
}

void BlockScheduler::barrier(Site site) {
  Thread& t = threads_[static_cast<std::size_t>(running_)];
  t.state = State::barrier;
  t.site = site;
  hooks::tsan_release(block_token_);
  yield();
  hooks::tsan_acquire(block_token_);
}

std::uint64_t BlockScheduler::warp_op(WarpKind kind, unsigned mask, std::uint64_t value, int arg, int width, Site site) {
  Thread& t = threads_[static_cast<std::size_t>(running_)];
  t.state = State::warp;
  t.site = site;
  t.request = WarpRequest{kind, mask, arg, width, value, 0};
  yield();
  return threads_[static_cast<std::size_t>(running_)].request.result;
}

void* BlockScheduler::static_shared(const char* key, std::size_t bytes, std::size_t align) {
  for (const StaticShared& s : statics_)
    if (s.key == key || std::strcmp(s.key, key) == 0) return s.ptr;
  statics_.push_back(StaticShared{key, allocate_poisoned(bytes, align), bytes});
  return statics_.back().ptr;
}

void* BlockScheduler::dynamic_shared(std::size_t align) {
  if (reinterpret_cast<std::uintptr_t>(dynamic_) % align != 0) {
    fault_ = "extern __shared__ array needs " + std::to_string(align) + "-byte alignment";
    threads_[static_cast<std::size_t>(running_)].state = State::barrier;  // inside the kernel: reset
    yield();
  }
  return dynamic_;
}

// ---- the device-side entry points (device_runtime.hpp) ----------------------------------------------

void syncthreads(Site site) {
  if (!tl_current_view) outside_kernel("__syncthreads");
  this_thread_scheduler().barrier(site);
}

std::uint64_t warp_op(WarpKind kind, unsigned mask, std::uint64_t value, int arg, int width, Site site) {
  if (!tl_current_view) outside_kernel(op_name(kind));
  return this_thread_scheduler().warp_op(kind, mask, value, arg, width, site);
}

void* static_shared(const char* key, std::size_t bytes, std::size_t align) {
  if (!tl_current_view) outside_kernel("__shared__");
  return this_thread_scheduler().static_shared(key, bytes, align);
}

void* dynamic_shared(std::size_t align) {
  if (!tl_current_view) outside_kernel("extern __shared__");
  return this_thread_scheduler().dynamic_shared(align);
}

}  // namespace simt
