// src/simt/sanitizer_defaults.cpp — the sanitizer variants' run-time options, built into the
// executables (ctest cannot hand a list of environment variables through gtest discovery).
//   ASan: no leak report (the CUDA suites keep device buffers in function-local statics on purpose),
//         abort on the first error.
//   TSan: stop at the first race; OpenBLAS on one thread (its spin-wait synchronisation is invisible
//         to ThreadSanitizer and would be reported as races inside OpenBLAS).
#if SIMT_ASAN
extern "C" const char* __asan_default_options() { return "detect_leaks=0:abort_on_error=1"; }
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1"; }
#endif

#if SIMT_TSAN
#include <cblas.h>

extern "C" const char* __tsan_default_options() { return "halt_on_error=1:report_signal_unsafe=0"; }

namespace {
const bool one_blas_thread = [] {
  openblas_set_num_threads(1);
  return true;
}();
}  // namespace
#endif
