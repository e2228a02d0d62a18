// src/simt/fiber.cpp — stacks and the context switch of the SIMT emulator's fibers.
#include "simt/fiber.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "simt/sanitizer_hooks.hpp"

#if !defined(__x86_64__)
#error "the SIMT emulator's context switch is written for x86-64 (System V ABI)"
#endif

// simt_switch_context(save, load): pushes the callee-saved registers and the SSE/x87 control words
// on the current stack, stores the stack pointer in *save, loads `load` and pops the same frame
// there. A new fiber's stack is prepared with such a frame whose return address is the trampoline,
// which calls r12(r13) = entry(arg).
extern "C" void simt_switch_context(void** save, void* load);
extern "C" void simt_fiber_trampoline();
asm(R"(
  .pushsection .text
  .globl simt_switch_context
  .type simt_switch_context,@function
simt_switch_context:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size simt_switch_context, .-simt_switch_context

  .globl simt_fiber_trampoline
  .type simt_fiber_trampoline,@function
simt_fiber_trampoline:
  movq %r13, %rdi
  callq *%r12
  ud2
  .size simt_fiber_trampoline, .-simt_fiber_trampoline
  .popsection
)");

namespace simt {

namespace {

std::size_t page_size() {
  static const std::size_t p = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "simt: %s\n", what.c_str());
  std::abort();
}

}  // namespace

std::size_t fiber_stack_bytes() {
  static const std::size_t bytes = [] {
    std::size_t kb = 256;
    if (const char* s = std::getenv("SIMT_STACK_KB")) kb = std::strtoul(s, nullptr, 10);
    if (kb < 16) kb = 16;
    return kb * 1024;
  }();
  return bytes;
}

Fiber::Fiber(std::size_t stack_bytes, Entry entry, void* arg) : entry_(entry), arg_(arg) {
  const std::size_t page = page_size();
  const std::size_t usable = (stack_bytes + page - 1) / page * page;
  mapped_ = usable + page;
  stack_ = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (stack_ == MAP_FAILED) die("cannot map a fiber stack of " + std::to_string(mapped_) + " bytes");
  if (mprotect(stack_, page, PROT_NONE) != 0) die("cannot protect a fiber stack's guard page");
  ctx_.stack_bottom = static_cast<char*>(stack_) + page;
  ctx_.stack_size = usable;
  ctx_.tsan_fiber = hooks::tsan_create_fiber();
  prepare_stack();
}

Fiber::~Fiber() {
  hooks::tsan_destroy_fiber(ctx_.tsan_fiber);
  munmap(stack_, mapped_);
}

void Fiber::prepare_stack() {
  auto top = reinterpret_cast<std::uintptr_t>(ctx_.stack_bottom) + ctx_.stack_size - 16;  // 16-aligned
  auto* frame = reinterpret_cast<std::uint64_t*>(top - 64);  // 8 words, popped by simt_switch_context
  std::uint32_t mxcsr = 0;
  std::uint16_t fpcw = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  frame[0] = static_cast<std::uint64_t>(mxcsr) | (static_cast<std::uint64_t>(fpcw) << 32);
  frame[1] = 0;                                           // r15
  frame[2] = 0;                                           // r14
  frame[3] = reinterpret_cast<std::uint64_t>(arg_);       // r13
  frame[4] = reinterpret_cast<std::uint64_t>(entry_);     // r12
  frame[5] = 0;                                           // rbx
  frame[6] = 0;                                           // rbp
  frame[7] = reinterpret_cast<std::uint64_t>(&simt_fiber_trampoline);  // return address
  reinterpret_cast<std::uint64_t*>(top)[0] = 0;           // a null slot above: ends backtraces
  reinterpret_cast<std::uint64_t*>(top)[1] = 0;
  ctx_.sp = frame;
}

void Fiber::reset() {
  // The abandoned frames may have left AddressSanitizer redzones poisoned on this stack, and
  // ThreadSanitizer a shadow call stack: start both afresh.
  hooks::asan_unpoison(ctx_.stack_bottom, ctx_.stack_size);
  hooks::tsan_join(ctx_.tsan_fiber);
  hooks::tsan_destroy_fiber(ctx_.tsan_fiber);
  ctx_.tsan_fiber = hooks::tsan_create_fiber();
  ctx_.asan_fake_stack = nullptr;
  prepare_stack();
}

void switch_context(Context& from, Context& to) {
  hooks::asan_start_switch(&from.asan_fake_stack, to.stack_bottom, to.stack_size);
  hooks::tsan_switch_to(to.tsan_fiber);
  simt_switch_context(&from.sp, to.sp);
  // Back in `from`; the context that switched here is described by the hooks' out parameters.
  hooks::asan_finish_switch(from.asan_fake_stack);
}

void fiber_entered() { hooks::asan_finish_switch(nullptr); }

Context make_native_context() {
  Context c;
  c.tsan_fiber = hooks::tsan_current_fiber();
  // AddressSanitizer must be told the bounds of the stack it switches back to.
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      c.stack_bottom = addr;
      c.stack_size = size;
    }
    pthread_attr_destroy(&attr);
  }
  return c;
}

}  // namespace simt
