// src/train/data_parallel.hpp — how `ser train --data-parallel` shares a global batch between MPI ranks
// (docs/cluster.md). Every rank draws the same epoch order and builds the same global batch (crops,
// SpecAugment and mixup pairs included), then keeps its rows; the batch-norm statistics, the loss
// normalisers, the gradients and the loss are those of the global batch, so N ranks take the steps
// one process takes with the same batch, up to float rounding.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <vector>

#include "nn/model.hpp"
#include "parallel/mpi_ranks.hpp"
#include "engine/dataset.hpp"

namespace ser::train {

// Rank `rank` of `ranks` holds rows [first, first + count) of an n-row batch: contiguous, sizes
// differing by at most one, none empty when n >= ranks.
struct RankSlice {
  int first = 0, count = 0;
};
RankSlice slice_of(int n, int rank, int ranks);
engine::HostBatch take_rows(const engine::HostBatch& global, RankSlice slice);

// Σ_n w[y_n] of the global batch's labels and of its mixup labels (0 without mixup): the loss's
// normalisers (ser/nn/loss.hpp), summed in row order as the loss itself sums them.
struct WeightSums {
  double labels = 0, mix_labels = 0;
};
WeightSums weight_sums(const engine::HostBatch& global, const std::vector<float>& class_weights);

// A batch needs a row on every rank. An epoch's one short batch (the remainder of the shuffle) with
// fewer utterances than ranks is left out of that epoch; `per_epoch` counts the batches kept.
std::vector<std::vector<int>> shareable_batches(std::vector<std::vector<int>> batches, int ranks);
std::int64_t batches_per_epoch(std::size_t utterances, int batch_size, int ranks);

// Bytes every rank sends into the sums of one step: gradients (float), batch-norm statistics and
// their backward sums (double), the loss. The model's batch-norm layers are read off its state table.
std::int64_t bytes_summed_per_step(const nn::Model<float>& model);

}  // namespace ser::train
