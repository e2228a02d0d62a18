// src/nn/kernel_timer.cpp — the per-op time table (kernel_timer.hpp): event pairs recorded while
// the ops are enqueued and read once in resolve(), or steady_clock for ops on the CPU.
#include "nn/kernel_timer.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>

#include "ser/error.hpp"

#ifdef SER_WITH_CUDA
#include <cuda_runtime.h>

#include "cuda_check.cuh"
#endif

namespace ser::nn {

namespace {
thread_local KernelTimer* t_active = nullptr;
}  // namespace

KernelTimer::KernelTimer(const ExecContext& ctx) : ctx_(ctx) {}

KernelTimer::~KernelTimer() {
  if (t_active == this) t_active = nullptr;
#ifdef SER_WITH_CUDA
  for (void* e : events_) cudaEventDestroy(static_cast<cudaEvent_t>(e));  // errors ignored in a destructor
#endif
}

KernelTimer* KernelTimer::active() { return t_active; }

OpTimer::OpTimer(const ExecContext& ctx, const char* name) : timer_(t_active) {
  if (timer_) timer_->op_begin(ctx, name);
}

OpTimer::~OpTimer() {
  if (timer_) timer_->op_end();
}

void KernelTimer::start_recording() {
  if (t_active == this) return;
  if (t_active) throw Error("kernel timing: another timer is already recording on this thread");
  t_active = this;
}

void KernelTimer::stop_recording() {
  if (t_active == this) t_active = nullptr;
}

bool KernelTimer::recording() const { return t_active == this; }

int KernelTimer::row_index(const char* name) {
  const auto [it, inserted] = index_.try_emplace(name, static_cast<int>(rows_.size()));
  if (inserted) rows_.push_back(Row{name, 0, 0.0});
  return it->second;
}

void* KernelTimer::next_event() {
#ifdef SER_WITH_CUDA
  if (used_ == events_.size()) {
    cudaEvent_t e = nullptr;
    SER_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDefault));  // timing enabled
    events_.push_back(e);
  }
  return events_[used_++];
#else
  throw Error("kernel timing: GPU events requested but ser was built without CUDA");
#endif
}

void KernelTimer::record(void* event, void* stream) {
#ifdef SER_WITH_CUDA
  SER_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event), static_cast<cudaStream_t>(stream)));
#else
  (void)event;
  (void)stream;
#endif
}

void KernelTimer::op_begin(const ExecContext& ctx, const char* name) {
  if (depth_++ > 0) return;  // nested inside another op: counted there
  open_row_ = row_index(name);
  open_gpu_ = ctx.device == Device::cuda;
  open_start_ = nullptr;
  if (!open_gpu_) {
    open_t0_ = Clock::now();
    return;
  }
  open_stream_ = ctx.stream;
  try {
    void* e = next_event();
    record(e, open_stream_);
    open_start_ = e;
  } catch (const std::exception& ex) {  // reported by resolve(); the op itself still runs
    if (error_.empty()) error_ = ex.what();
  }
}

void KernelTimer::op_end() noexcept {
  if (depth_ == 0) return;
  if (--depth_ > 0) return;
  Row& row = rows_[static_cast<std::size_t>(open_row_)];
  ++row.calls;
  if (!open_gpu_) {
    row.seconds += std::chrono::duration<double>(Clock::now() - open_t0_).count();
    return;
  }
  if (!open_start_) return;  // the start event failed (error_ says why)
  try {
    void* e = next_event();
    record(e, open_stream_);
    pending_.push_back(Pending{open_row_, open_start_, e});
  } catch (const std::exception& ex) {
    if (error_.empty()) error_ = ex.what();
  } catch (...) {
    if (error_.empty()) error_ = "unknown failure recording an event";
  }
}

void KernelTimer::begin_step() {
  if (in_step_) throw Error("kernel timing: begin_step() twice without end_step()");
  in_step_ = true;
  step_start_ = nullptr;
  if (ctx_.device == Device::cuda) {
    step_start_ = next_event();
    record(step_start_, ctx_.stream);
  } else {
    step_t0_ = Clock::now();
  }
}

void KernelTimer::end_step() {
  if (!in_step_) throw Error("kernel timing: end_step() without begin_step()");
  in_step_ = false;
  ++steps_;
  if (ctx_.device == Device::cuda) {
    void* e = next_event();
    record(e, ctx_.stream);
    pending_.push_back(Pending{kStep, step_start_, e});
  } else {
    step_seconds_ += std::chrono::duration<double>(Clock::now() - step_t0_).count();
  }
}

void KernelTimer::resolve() {
  if (depth_ > 0 || in_step_) throw Error("kernel timing: resolve() inside an op or a step");
#ifdef SER_WITH_CUDA
  for (const Pending& p : pending_) {
    const auto start = static_cast<cudaEvent_t>(p.start), end = static_cast<cudaEvent_t>(p.end);
    SER_CUDA_CHECK(cudaEventSynchronize(end));
    float ms = 0;
    SER_CUDA_CHECK(cudaEventElapsedTime(&ms, start, end));
    if (p.row == kStep) step_seconds_ += 1e-3 * ms;
    else rows_[static_cast<std::size_t>(p.row)].seconds += 1e-3 * ms;
  }
#endif
  pending_.clear();
  used_ = 0;
  if (!error_.empty()) {
    const std::string e = error_;
    error_.clear();
    throw Error("kernel timing: " + e);
  }
}

std::vector<KernelTimer::Row> KernelTimer::rows() const {
  std::vector<Row> r = rows_;
  std::stable_sort(r.begin(), r.end(), [](const Row& a, const Row& b) { return a.seconds > b.seconds; });
  return r;
}

std::string KernelTimer::table() const {
  const std::vector<Row> r = rows();
  double ops_s = 0;
  std::int64_t calls = 0;
  for (const Row& row : r) {
    ops_s += row.seconds;
    calls += row.calls;
  }
  const auto pct = [&](double s) {
    char b[32];
    if (step_seconds_ > 0) std::snprintf(b, sizeof b, "%.1f", 100.0 * s / step_seconds_);
    else std::snprintf(b, sizeof b, "-");
    return std::string(b);
  };
  std::string out = "| op | calls | total ms | mean us | % of step |\n|---|---:|---:|---:|---:|\n";
  char line[256];
  for (const Row& row : r) {
    std::snprintf(line, sizeof line, "| %s | %lld | %.3f | %.1f | %s |\n", row.name.c_str(),
                  static_cast<long long>(row.calls), 1e3 * row.seconds,
                  row.calls > 0 ? 1e6 * row.seconds / static_cast<double>(row.calls) : 0.0, pct(row.seconds).c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "| (all ops) | %lld | %.3f | | %s |\n", static_cast<long long>(calls), 1e3 * ops_s,
                pct(ops_s).c_str());
  out += line;
  if (steps_ > 0) {
    std::snprintf(line, sizeof line, "| (outside ops: host work, copies, idle) | | %.3f | | %s |\n",
                  1e3 * (step_seconds_ - ops_s), pct(step_seconds_ - ops_s).c_str());
    out += line;
    std::snprintf(line, sizeof line, "%lld steps, %.3f ms in all (%.3f ms per step)\n", static_cast<long long>(steps_),
                  1e3 * step_seconds_, 1e3 * step_seconds_ / static_cast<double>(steps_));
    out += line;
  }
  return out;
}

}  // namespace ser::nn
