// src/simt/block_scheduler.hpp — runs one thread block of an emulated kernel: one fiber per CUDA
// thread, a scheduler that resumes whichever thread can run (in the order SIMT_SCHEDULE picks), the
// __syncthreads rendezvous (same call site, no thread exited) and warp operations (every lane of the
// mask at the same operation). A rule broken is a diagnostic naming file:line, block and thread.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "simt/device_runtime.hpp"
#include "simt/fiber.hpp"
#include "simt/launch.hpp"

namespace simt {

// Thread order between synchronisation points: forward (0, 1, ...), reverse, or a fresh random
// permutation at every pass (seeded: SIMT_SCHEDULE=random:SEED).
struct Schedule {
  enum class Order { forward, reverse, random } order = Order::forward;
  std::uint64_t seed = 0;
};
Schedule schedule_from_environment();  // SIMT_SCHEDULE; an unknown value aborts with the reason
std::string to_string(const Schedule& s);

class BlockScheduler {
 public:
  BlockScheduler();
  ~BlockScheduler();
  BlockScheduler(const BlockScheduler&) = delete;
  BlockScheduler& operator=(const BlockScheduler&) = delete;

  // Runs block `block_idx` of `job` to the end. Returns "" or the diagnostic of the first broken
  // rule (the block is then abandoned). `grid_token`: ThreadSanitizer's grid-end edge.
  std::string run_block(const GridJob& job, uint3 block_idx, const Schedule& schedule, void* grid_token);

  // Shared-memory bytes (static + dynamic) the last block used.
  std::size_t shared_bytes_used() const;

  // Called from device code running in this OS thread's fibers.
  void barrier(Site site);
  std::uint64_t warp_op(WarpKind kind, unsigned mask, std::uint64_t value, int arg, int width, Site site);
  void* static_shared(const char* key, std::size_t bytes, std::size_t align);
  void* dynamic_shared(std::size_t align);

 private:
  enum class State : std::uint8_t { ready, barrier, warp, done };
  struct WarpRequest {
    WarpKind kind = WarpKind::syncwarp;
    unsigned mask = 0;
    int arg = 0;
    int width = 32;
    std::uint64_t value = 0;
    std::uint64_t result = 0;
  };
  struct Thread {
    ThreadView view;
    State state = State::ready;
    Site site;
    WarpRequest request;
  };
  struct StaticShared {
    const char* key;
    void* ptr;
    std::size_t bytes;
  };
  struct FiberStart {
    BlockScheduler* owner;
    int index;
  };

  static void fiber_main(void* start);
  void ensure_fibers(int n);
  void resume(int i);
  void yield();
  std::string schedule_block(const Schedule& schedule, std::uint64_t block_linear);
  std::string complete_warp(int lane_thread);
  std::string explain_stall() const;
  std::string describe(int i) const;
  void release_block_memory();

  Context native_;
  std::vector<std::unique_ptr<FiberStart>> starts_;
  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::vector<Thread> threads_;  // (threads of the block), linear index x + X (y + Y z)
  int running_ = -1;
  const GridJob* job_ = nullptr;
  void* grid_token_ = nullptr;
  void* block_token_ = nullptr;  // ThreadSanitizer sync object of the running block
  void* dynamic_ = nullptr;
  std::size_t dynamic_bytes_ = 0;
  std::vector<StaticShared> statics_;
  std::string fault_;  // a rule broken inside device code (e.g. misaligned shared request)
};

// This OS thread's scheduler (created on first use).
BlockScheduler& this_thread_scheduler();

}  // namespace simt
