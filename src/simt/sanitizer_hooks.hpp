// src/simt/sanitizer_hooks.hpp — what the SIMT emulator tells AddressSanitizer and ThreadSanitizer.
// Each hook is a no-op unless its build defines SIMT_ASAN / SIMT_TSAN (CMake option
// SER_CUDA_EMULATOR_SANITIZE). The runtime itself is never TSan-instrumented: its own bookkeeping
// (thread states, shuffle values) is invisible to the race detector, which sees only the kernels'
// accesses and the happens-before edges below.
#pragma once
#include <cstddef>

#if SIMT_ASAN
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old, std::size_t* size_old);
void __asan_unpoison_memory_region(void const volatile* addr, std::size_t size);
}
#endif
#if SIMT_TSAN
extern "C" {
void* __tsan_get_current_fiber();
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}
#endif

namespace simt::hooks {

inline void asan_start_switch(void** fake_stack_save, const void* bottom, std::size_t size) {
#if SIMT_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}
inline void asan_finish_switch(void* fake_stack_save) {
#if SIMT_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_save, nullptr, nullptr);
#else
  (void)fake_stack_save;
#endif
}
inline void asan_unpoison(const void* addr, std::size_t size) {
#if SIMT_ASAN
  __asan_unpoison_memory_region(addr, size);
#else
  (void)addr, (void)size;
#endif
}

inline void* tsan_current_fiber() {
#if SIMT_TSAN
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}
inline void* tsan_create_fiber() {
#if SIMT_TSAN
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}
inline void tsan_destroy_fiber(void* f) {
#if SIMT_TSAN
  if (f) __tsan_destroy_fiber(f);
#else
  (void)f;
#endif
}
// Switch without synchronisation (flag 1): a context switch alone orders nothing.
inline void tsan_switch_to(void* f) {
#if SIMT_TSAN
  if (f) __tsan_switch_to_fiber(f, 1);
#else
  (void)f;
#endif
}
// Everything fiber `f` did happens before what the running context does next: used before an
// abandoned fiber (a thread left inside a faulting kernel) is destroyed, which never reaches the
// grid-end edge. A synchronising switch there and straight back; no instrumented code runs between.
inline void tsan_join(void* f) {
#if SIMT_TSAN
  if (!f) return;
  void* self = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(f, 0);
  __tsan_switch_to_fiber(self, 0);
#else
  (void)f;
#endif
}

// Happens-before edges: everything the running context did before release(a) happens before
// everything a context does after acquire(a).
inline void tsan_release(void* a) {
#if SIMT_TSAN
  __tsan_release(a);
#else
  (void)a;
#endif
}
inline void tsan_acquire(void* a) {
#if SIMT_TSAN
  __tsan_acquire(a);
#else
  (void)a;
#endif
}

// Allocations and frees inside this scope are not accesses of the running context (TSan would
// otherwise count the emulator's allocation of a block's shared memory as a write by one CUDA
// thread that races with the others).
class TsanIgnoreScope {
 public:
  TsanIgnoreScope() {
#if SIMT_TSAN
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
#endif
  }
  ~TsanIgnoreScope() {
#if SIMT_TSAN
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
#endif
  }
  TsanIgnoreScope(const TsanIgnoreScope&) = delete;
  TsanIgnoreScope& operator=(const TsanIgnoreScope&) = delete;
};

}  // namespace simt::hooks
