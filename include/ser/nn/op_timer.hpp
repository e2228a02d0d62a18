// ser/nn/op_timer.hpp — how an op's dispatch function reports its span to the per-op time table
// (src/nn/kernel_timer.hpp, `ser bench train --kernel-timing`): an OpTimer at the top of the
// function. With no table recording on the calling thread it costs one thread-local read.
#pragma once
#include "ser/nn/exec.hpp"

namespace ser::nn {

class KernelTimer;

class OpTimer {
 public:
  OpTimer(const ExecContext& ctx, const char* name);  // name: the dispatch function, e.g. "conv2d_forward"
  ~OpTimer();
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  KernelTimer* timer_;  // the thread's recording timer, or nullptr
};

}  // namespace ser::nn
