// src/parallel/mpi_ranks.cpp — MpiRanks over OpenMPI (or any MPI 3), or its stand-in without MPI.
#include "parallel/mpi_ranks.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "ser/error.hpp"

#ifdef SER_WITH_MPI
#include <mpi.h>
#endif

namespace ser::parallel {

namespace {
bool g_started = false;
}  // namespace

bool MpiRanks::started() { return g_started; }

#ifdef SER_WITH_MPI

namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string("MPI ") + what + " failed: " + std::string(text, static_cast<std::size_t>(len)));
}

// MPI counts are int: long buffers go in pieces.
template <typename T>
void sum_in_pieces(T* values, std::int64_t count, MPI_Datatype type, int rank) {
  constexpr std::int64_t kPiece = std::int64_t(1) << 30;
  for (std::int64_t at = 0; at < count; at += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, count - at));
    T* p = values + at;
    // Reduce then broadcast rather than MPI_Allreduce: MPI does not promise that an all-reduce
    // hands every rank the same bits, and the ranks' parameters must never drift apart.
    check(MPI_Reduce(rank == 0 ? MPI_IN_PLACE : p, rank == 0 ? p : nullptr, n, type, MPI_SUM, 0, MPI_COMM_WORLD),
          "reduce");
    check(MPI_Bcast(p, n, type, 0, MPI_COMM_WORLD), "broadcast");
  }
}

}  // namespace

bool mpi_built() { return true; }

MpiRanks::MpiRanks() {
  int ready = 0;
  check(MPI_Initialized(&ready), "initialized");
  if (!ready) {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "init");
    std::atexit([] {
      int done = 0;
      MPI_Finalized(&done);
      if (!done) MPI_Finalize();
    });
  }
  g_started = true;
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "size");
}

void MpiRanks::sum(double* values, std::int64_t count) const {
  if (size_ > 1) sum_in_pieces(values, count, MPI_DOUBLE, rank_);
}
void MpiRanks::sum(float* values, std::int64_t count) const {
  if (size_ > 1) sum_in_pieces(values, count, MPI_FLOAT, rank_);
}
void MpiRanks::broadcast(std::int64_t* values, int count) const {
  if (size_ > 1) check(MPI_Bcast(values, count, MPI_INT64_T, 0, MPI_COMM_WORLD), "broadcast");
}
void MpiRanks::barrier() const {
  if (size_ > 1) check(MPI_Barrier(MPI_COMM_WORLD), "barrier");
}

void MpiRanks::abort_job(int code) {
  if (g_started) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

#else  // built without MPI

namespace {
[[noreturn]] void no_mpi() {
  throw Error("ser was built without MPI: install Debian's libopenmpi-dev and openmpi-bin (tools/setup_debian.sh) "
              "and rebuild for --data-parallel");
}
}  // namespace

bool mpi_built() { return false; }
MpiRanks::MpiRanks() { no_mpi(); }
void MpiRanks::sum(double*, std::int64_t) const { no_mpi(); }
void MpiRanks::sum(float*, std::int64_t) const { no_mpi(); }
void MpiRanks::broadcast(std::int64_t*, int) const { no_mpi(); }
void MpiRanks::barrier() const { no_mpi(); }
void MpiRanks::abort_job(int code) { std::_Exit(code); }

#endif

const MpiRanks& MpiRanks::world() {
  static const MpiRanks ranks;
  return ranks;
}

}  // namespace ser::parallel
