// kernels/conv2d/cudnn.cu — the vendor path of 2-D convolution (--kernels vendor, cudnn.hpp): cuDNN's
// legacy convolution API, NCHW FP32. Host code only; without SER_WITH_CUDNN only the stand-ins at
// the end, which say that cuDNN is missing.
//
// Per (handle, shape, deterministic) a Plan holds the descriptors, the algorithm of each pass and
// its workspace size, chosen once by cuDNN's heuristics (cudnnGetConvolution*Algorithm_v7) and
// cached, so a repeated call costs a map look-up. Algorithm choice takes the first heuristic
// candidate that (a) succeeded, (b) is deterministic when the context asks for it, (c) does not use
// tensor-core math, and (d) needs at most kMaxWorkspace bytes.
//
// Arithmetic is plain FP32: the convolution descriptor's math type is CUDNN_FMA_MATH. (Not
// CUDNN_DEFAULT_MATH: on Ampere and later that one lets cuDNN run FP32 convolutions as TF32 on the
// tensor cores, with 10-bit mantissas — the comparison with the hand-written FP32 kernels would be
// unfair and the CPU-twin tests would fail.)
#ifdef SER_WITH_CUDNN

#include <cudnn.h>

#include <algorithm>
#include <array>
#include <compare>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "conv2d/cudnn.hpp"
#include "ser/error.hpp"

namespace ser::cuda {
namespace {

[[noreturn]] void cudnn_fail(const char* what, cudnnStatus_t st, const char* file, int line) {
  throw Error(std::string("cuDNN error: ") + what + " -> " + cudnnGetErrorString(st) + " at " + file + ":" +
              std::to_string(line));
}

#define SER_CUDNN_CHECK(stmt)                                                           \
  do {                                                                                  \
    const cudnnStatus_t ser_st_ = (stmt);                                               \
    if (ser_st_ != CUDNN_STATUS_SUCCESS) cudnn_fail(#stmt, ser_st_, __FILE__, __LINE__); \
  } while (0)

constexpr std::size_t kMaxWorkspace = std::size_t(512) << 20;  // 512 MiB per pass at most
constexpr std::size_t kMaxCachedPlans = 256;

struct PlanKey {
  void* handle = nullptr;
  bool deterministic = false;
  std::array<int, 11> dims{};  // n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw
  auto operator<=>(const PlanKey&) const = default;
};

struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t fwd_algo{};
  cudnnConvolutionBwdDataAlgo_t data_algo{};
  cudnnConvolutionBwdFilterAlgo_t filter_algo{};
  std::size_t fwd_ws = 0, data_ws = 0, filter_ws = 0;

  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {  // destruction errors cannot be reported from here
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (bias) cudnnDestroyTensorDescriptor(bias);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
  std::size_t workspace() const { return std::max({fwd_ws, data_ws, filter_ws}); }
};

bool is_tensor_op(cudnnMathType_t m) {
  return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
}

// Index of the first acceptable heuristic candidate, or -1.
template <class Perf>
int choose(const Perf* perf, int count, bool deterministic) {
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (deterministic && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
    if (is_tensor_op(perf[i].mathType)) continue;
    if (perf[i].memory > kMaxWorkspace) continue;
    return i;
  }
  return -1;
}

[[noreturn]] void no_algorithm(const char* pass, const nn::Conv2dShape& s, bool deterministic) {
  throw Error(std::string("cuDNN: no ") + (deterministic ? "deterministic " : "") + "FP32 " + pass +
              " algorithm within " + std::to_string(kMaxWorkspace >> 20) + " MiB of workspace for N " +
              std::to_string(s.n) + ", C_in " + std::to_string(s.c_in) + ", " + std::to_string(s.h) + "x" +
              std::to_string(s.w) + ", C_out " + std::to_string(s.c_out) + ", kernel " + std::to_string(s.kh) +
              "x" + std::to_string(s.kw));
}

std::unique_ptr<Plan> build_plan(cudnnHandle_t h, bool deterministic, const nn::Conv2dShape& s) {
  auto plan = std::make_unique<Plan>();
  Plan& p = *plan;
  SER_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.x));
  SER_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.y));
  SER_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.bias));
  SER_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p.w));
  SER_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p.conv));
  SER_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.n, s.c_in, s.h, s.w));
  SER_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s.c_out, s.c_in, s.kh, s.kw));
  SER_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p.conv, s.ph, s.pw, s.sh, s.sw, 1, 1, CUDNN_CROSS_CORRELATION,
                                                  CUDNN_DATA_FLOAT));
  SER_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, CUDNN_FMA_MATH));  // FP32 FMA only, no TF32
  int on = 0, co = 0, oh = 0, ow = 0;
  SER_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p.conv, p.x, p.w, &on, &co, &oh, &ow));
  if (on != s.n || co != s.c_out || oh != s.h_out() || ow != s.w_out())
    throw Error("cuDNN: output shape " + std::to_string(oh) + "x" + std::to_string(ow) + " differs from ser's " +
                std::to_string(s.h_out()) + "x" + std::to_string(s.w_out()));
  SER_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.n, s.c_out, oh, ow));
  SER_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, s.c_out, 1, 1));

  int got = 0;
  {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    SER_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p.x, p.w, p.conv, p.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                           &got, perf));
    const int i = choose(perf, got, deterministic);
    if (i < 0) no_algorithm("forward", s, deterministic);
    p.fwd_algo = perf[i].algo;
    SER_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, p.x, p.w, p.conv, p.y, p.fwd_algo, &p.fwd_ws));
  }
  {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    SER_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w, p.y, p.conv, p.x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf));
    const int i = choose(perf, got, deterministic);
    if (i < 0) no_algorithm("backward-data", s, deterministic);
    p.data_algo = perf[i].algo;
    SER_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, p.w, p.y, p.conv, p.x, p.data_algo, &p.data_ws));
  }
  {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    SER_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x, p.y, p.conv, p.w,
                                                                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, perf));
    const int i = choose(perf, got, deterministic);
    if (i < 0) no_algorithm("backward-filter", s, deterministic);
    p.filter_algo = perf[i].algo;
    SER_CUDNN_CHECK(
        cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p.x, p.y, p.conv, p.w, p.filter_algo, &p.filter_ws));
  }
  return plan;
}

// The cached plan (built on first use). Shared ownership: evicting a plan never frees one in use.
std::shared_ptr<const Plan> get_plan(void* handle, bool deterministic, const nn::Conv2dShape& s) {
  if (!handle) throw Error("conv2d (cuDNN): the execution context has no cuDNN handle (ctx.cudnn is null)");
  static std::mutex mu;
  static std::map<PlanKey, std::shared_ptr<const Plan>> cache;
  const PlanKey key{handle, deterministic, {s.n, s.c_in, s.h, s.w, s.c_out, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw}};
  const std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= kMaxCachedPlans) cache.clear();  // many distinct shapes (e.g. varying T): start over
  std::shared_ptr<const Plan> plan = build_plan(static_cast<cudnnHandle_t>(handle), deterministic, s);
  cache.emplace(key, plan);
  return plan;
}

void require_workspace(std::size_t need, const void* workspace, const char* pass) {
  if (need > 0 && !workspace)
    throw Error(std::string("conv2d (cuDNN) ") + pass + ": needs " + std::to_string(need) +
                " bytes of workspace (conv2d_workspace_bytes) and got none");
}

}  // namespace

std::size_t conv2d_cudnn_workspace_bytes(void* cudnn, bool deterministic, const nn::Conv2dShape& s) {
  return get_plan(cudnn, deterministic, s)->workspace();
}

void conv2d_cudnn_forward(void* cudnn, bool deterministic, const nn::Conv2dShape& s, const float* x,
                          const float* w, const float* b, float* y, void* workspace) {
  const auto plan = get_plan(cudnn, deterministic, s);
  const auto h = static_cast<cudnnHandle_t>(cudnn);
  const float one = 1.0f, zero = 0.0f;
  require_workspace(plan->fwd_ws, workspace, "forward");
  SER_CUDNN_CHECK(cudnnConvolutionForward(h, &one, plan->x, x, plan->w, w, plan->conv, plan->fwd_algo, workspace,
                                          plan->fwd_ws, &zero, plan->y, y));
  if (b) SER_CUDNN_CHECK(cudnnAddTensor(h, &one, plan->bias, b, &one, plan->y, y));
}

void conv2d_cudnn_backward(void* cudnn, bool deterministic, const nn::Conv2dShape& s, const float* x,
                           const float* w, const float* dy, float* dx, float* dw, float* db, void* workspace) {
  const auto plan = get_plan(cudnn, deterministic, s);
  const auto h = static_cast<cudnnHandle_t>(cudnn);
  const float one = 1.0f, zero = 0.0f;
  if (dx) {  // overwrite: beta = 0
    require_workspace(plan->data_ws, workspace, "backward data");
    SER_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, plan->w, w, plan->y, dy, plan->conv, plan->data_algo,
                                                 workspace, plan->data_ws, &zero, plan->x, dx));
  }
  if (dw) {  // accumulate: beta = 1
    require_workspace(plan->filter_ws, workspace, "backward filter");
    SER_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &one, plan->x, x, plan->y, dy, plan->conv, plan->filter_algo,
                                                   workspace, plan->filter_ws, &one, plan->w, dw));
  }
  if (db) SER_CUDNN_CHECK(cudnnConvolutionBackwardBias(h, &one, plan->y, dy, &one, plan->bias, db));
}

}  // namespace ser::cuda

#else  // !SER_WITH_CUDNN

#include <string>

#include "conv2d/cudnn.hpp"
#include "ser/error.hpp"

namespace ser::cuda {
namespace {

[[noreturn]] void no_cudnn(const char* who) {
  throw Error(std::string(who) + ": --kernels vendor needs cuDNN, and ser was built without it "
                                 "(cudnn.h / libcudnn not found at configure time); use --kernels handwritten");
}

}  // namespace

std::size_t conv2d_cudnn_workspace_bytes(void*, bool, const nn::Conv2dShape&) {
  no_cudnn("conv2d_workspace_bytes");
}
void conv2d_cudnn_forward(void*, bool, const nn::Conv2dShape&, const float*, const float*, const float*, float*,
                          void*) {
  no_cudnn("conv2d_forward");
}
void conv2d_cudnn_backward(void*, bool, const nn::Conv2dShape&, const float*, const float*, const float*, float*,
                           float*, float*, void*) {
  no_cudnn("conv2d_backward");
}

}  // namespace ser::cuda

#endif  // SER_WITH_CUDNN
