// src/parallel/mpi_ranks.hpp — the MPI world of data-parallel training (docs/cluster.md): rank, size,
// the engine's rank sum (nn::RankSum), a broadcast and a barrier, and stopping every rank when one
// fails. Built with MPI when CMake finds it (ser::mpi); otherwise every entry point reports that ser
// was built without MPI.
#pragma once
#include <cstdint>

#include "ser/nn/rank_sum.hpp"

namespace ser::parallel {

bool mpi_built();

class MpiRanks final : public nn::RankSum {
 public:
  // Initialises MPI once per process (MPI_Init_thread, funneled) and finalises it at exit. Started
  // without mpirun it is a world of one.
  static const MpiRanks& world();
  int rank() const { return rank_; }
  int size() const { return size_; }
  // Reduced on rank 0 in rank order, then broadcast, so every rank gets the same bits.
  void sum(double* values, std::int64_t count) const override;
  void sum(float* values, std::int64_t count) const override;
  void broadcast(std::int64_t* values, int count) const;  // rank 0's values to every rank
  void barrier() const;
  // Stops every rank of the job (MPI_Abort): a rank that failed must not leave the others waiting
  // in a collective. Callable whether or not MPI was started.
  [[noreturn]] static void abort_job(int code);
  static bool started();  // world() has been called

 private:
  MpiRanks();
  int rank_ = 0, size_ = 1;
};

}  // namespace ser::parallel
