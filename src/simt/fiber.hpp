// src/simt/fiber.hpp — execution contexts with their own stacks for the SIMT emulator: one fiber per
// CUDA thread of a block, switched by hand (a few instructions on x86-64; ucontext elsewhere).
//
// A Fiber runs `entry(arg)` on an mmap'ed stack with a guard page below it. `entry` never returns:
// it switches back to whoever resumed it. AddressSanitizer and ThreadSanitizer are told about every
// switch (SIMT_ASAN / SIMT_TSAN), so stack checks and race detection see each fiber as a thread.
#pragma once
#include <cstddef>

namespace simt {

// The saved state of a context that is not running: its stack pointer plus what the sanitizers
// need to know about its stack.
struct Context {
  void* sp = nullptr;
  const void* stack_bottom = nullptr;  // lowest usable address (the scheduler's: learnt on first switch)
  std::size_t stack_size = 0;
  void* asan_fake_stack = nullptr;
  void* tsan_fiber = nullptr;
};

class Fiber {
 public:
  using Entry = void (*)(void* arg);
  Fiber(std::size_t stack_bytes, Entry entry, void* arg);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Forgets where the fiber was suspended: the next resume starts `entry` afresh (used after an
  // emulated fault left the fiber inside a kernel).
  void reset();
  Context& context() { return ctx_; }

 private:
  void prepare_stack();
  void* stack_ = nullptr;     // mapping, guard page first
  std::size_t mapped_ = 0;
  Entry entry_;
  void* arg_;
  Context ctx_;
};

// Saves the running context into `from` and continues `to`. Returns when something switches back.
void switch_context(Context& from, Context& to);

// The context of the OS thread itself (the block scheduler runs on it), set up for the sanitizers.
Context make_native_context();

// First thing an Entry does: completes the sanitizers' view of the switch that started it.
void fiber_entered();

// Stack size of every fiber: SIMT_STACK_KB, else 256 KiB (sanitizers need several times what the
// kernels' locals take).
std::size_t fiber_stack_bytes();

}  // namespace simt
