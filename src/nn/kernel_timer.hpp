// src/nn/kernel_timer.hpp — a per-op time table for when Nsight is not at hand (`ser bench train
// --kernel-timing`). While a KernelTimer records on a thread, every op dispatch function (an
// OpTimer at its top, ser/nn/op_timer.hpp) is bracketed: on the GPU by a pair of CUDA events on the
// op's stream, read only when the table is resolved (no synchronisation per op while recording); on
// the CPU by steady_clock. Ops called from inside another op are counted in the outer one only.
//
// What a GPU row measures: the stream time from the op's first enqueued work to its last, so gaps
// in which the GPU waited for the host to enqueue (launch-bound small ops) count towards the op.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ser/nn/exec.hpp"
#include "ser/nn/op_timer.hpp"

namespace ser::nn {

class KernelTimer {
 public:
  // ctx: the device and stream the step brackets (begin_step/end_step) are timed on.
  explicit KernelTimer(const ExecContext& ctx);
  ~KernelTimer();
  KernelTimer(const KernelTimer&) = delete;
  KernelTimer& operator=(const KernelTimer&) = delete;

  // Makes this the calling thread's recording timer (one at a time per thread; throws ser::Error
  // if another is recording), and stops it.
  void start_recording();
  void stop_recording();
  bool recording() const;

  // Brackets one training step: the denominator of "% of step".
  void begin_step();
  void end_step();

  // Waits for the recorded GPU work once and turns every event pair into time; afterwards the
  // events are reused. Idempotent. Throws ser::Error for a failed CUDA call during recording.
  void resolve();

  struct Row {
    std::string name;        // the op's dispatch function, e.g. "conv2d_forward"
    std::int64_t calls = 0;
    double seconds = 0;      // total over all calls
  };
  // Rows by total time, largest first (resolve() first for GPU timers).
  std::vector<Row> rows() const;
  std::int64_t steps() const { return steps_; }
  double step_seconds() const { return step_seconds_; }  // total over the bracketed steps
  // Markdown table: op, calls, total ms, mean µs, % of step; then what the ops leave uncovered.
  std::string table() const;

  // The thread's recording timer, or nullptr (the fast path of every op).
  static KernelTimer* active();
  // Called by OpTimer.
  void op_begin(const ExecContext& ctx, const char* name);
  void op_end() noexcept;

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kStep = -1;  // row index of a step bracket
  struct Pending {                  // a GPU event pair not yet read
    int row;
    void* start;
    void* end;
  };
  int row_index(const char* name);
  void* next_event();
  void record(void* event, void* stream);

  ExecContext ctx_;
  std::vector<Row> rows_;
  std::unordered_map<std::string, int> index_;
  std::vector<void*> events_;  // cudaEvent_t pool; events_[0, used_) are in pending_
  std::size_t used_ = 0;
  std::vector<Pending> pending_;
  std::string error_;          // first CUDA failure while recording (reported by resolve)
  int depth_ = 0;              // nesting of op_begin on this timer
  int open_row_ = 0;
  bool open_gpu_ = false;
  void* open_start_ = nullptr;
  void* open_stream_ = nullptr;
  Clock::time_point open_t0_{};
  bool in_step_ = false;
  void* step_start_ = nullptr;
  Clock::time_point step_t0_{};
  std::int64_t steps_ = 0;
  double step_seconds_ = 0;
};

}  // namespace ser::nn
