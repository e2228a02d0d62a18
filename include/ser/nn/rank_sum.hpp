// ser/nn/rank_sum.hpp — the one collective that data-parallel training (docs/cluster.md) needs inside
// the engine: an element-wise sum over the ranks, in place. Every rank calls it in the same order
// with the same count, and every rank gets the same bits back. One process has none (nullptr in
// ExecContext::ranks), and then nothing is summed.
#pragma once
#include <cstdint>

namespace ser::nn {

class RankSum {
 public:
  virtual ~RankSum() = default;
  virtual void sum(double* values, std::int64_t count) const = 0;
  virtual void sum(float* values, std::int64_t count) const = 0;
};

}  // namespace ser::nn
