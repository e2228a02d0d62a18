// src/simt/cublas_standin.cpp — cuBLAS Sgemm on OpenBLAS for the SIMT emulator, after the checks
// cuBLAS makes (sizes, leading dimensions) and one cuBLAS does not make but a GPU enforces: every
// matrix lies in device memory.
#include <cblas.h>
#include <cublas_v2.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "simt/runtime_state.hpp"

struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasAtomicsMode_t atomics = CUBLAS_ATOMICS_NOT_ALLOWED;
};

namespace {

cublasStatus_t refuse(cublasStatus_t st, const std::string& why) {
  std::fprintf(stderr, "simt: cublasSgemm: %s\n", why.c_str());
  return st;
}

// Elements spanned by a column-major (rows, cols) matrix with leading dimension ld.
std::size_t span(int rows, int cols, int ld) {
  if (rows == 0 || cols == 0) return 0;
  return static_cast<std::size_t>(ld) * static_cast<std::size_t>(cols - 1) + static_cast<std::size_t>(rows);
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetAtomicsMode(cublasHandle_t handle, cublasAtomicsMode_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->atomics = mode;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetAtomicsMode(cublasHandle_t handle, cublasAtomicsMode_t* mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  *mode = handle->atomics;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "cublasStatus (unlisted)";
}
const char* cublasGetStatusString(cublasStatus_t status) { return cublasGetStatusName(status); }

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
                           const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta, float* C,
                           int ldc) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool ta = transa != CUBLAS_OP_N, tb = transb != CUBLAS_OP_N;
  const int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  if (m < 0 || n < 0 || k < 0 || lda < std::max(1, a_rows) || ldb < std::max(1, b_rows) || ldc < std::max(1, m))
    return refuse(CUBLAS_STATUS_INVALID_VALUE, "m " + std::to_string(m) + ", n " + std::to_string(n) + ", k " +
                                                   std::to_string(k) + ", lda " + std::to_string(lda) + ", ldb " +
                                                   std::to_string(ldb) + ", ldc " + std::to_string(ldc));
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  const std::size_t fa = span(a_rows, a_cols, lda), fb = span(b_rows, b_cols, ldb), fc = span(m, n, ldc);
  if ((k > 0 && (!simt::is_device_range(A, fa * sizeof(float)) || !simt::is_device_range(B, fb * sizeof(float)))) ||
      !simt::is_device_range(C, fc * sizeof(float)))
    return refuse(CUBLAS_STATUS_INVALID_VALUE, "a matrix is not inside one device allocation");
  if (k == 0) {  // C = beta C; cblas would do the same, but say it once for every path
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        float& c = C[static_cast<std::size_t>(j) * ldc + i];
        c = *beta == 0.0f ? 0.0f : *beta * c;
      }
    return CUBLAS_STATUS_SUCCESS;
  }
  cblas_sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, *alpha, A, lda, B,
              ldb, *beta, C, ldc);
  return CUBLAS_STATUS_SUCCESS;
}
