// ser/nn/deltas.hpp — Δ and ΔΔ of the input log-mel along time, as extra input channels.
//
// x (N, 1, T, F) -> y (N, 1 + order, T, F), order 1 or 2: channel 0 is x, channel 1 is Δx, channel
// 2 is Δ(Δx), with the regression formula of HTK, Kaldi's add-deltas and torchaudio's
// compute_deltas (window 5, edge frames replicated):
//   Δ[t] = ((x[t+1] - x[t-1]) + 2 (x[t+2] - x[t-2])) / 10,  indices clamped to [0, len - 1],
// where len = lengths[n] (nullptr: T). Clamping to each utterance's own length keeps its deltas
// independent of the padding; y is 0 at t >= len. Computed in float (double in the double twin) in
// that order of operations, so the CPU twin and the CUDA kernel agree bit for bit. No backward:
// only the model's input is differenced, and it needs no gradient.
#pragma once

#include "ser/nn/exec.hpp"

namespace ser::nn {

template <typename T>
void time_deltas_cpu(int n, int t, int f, int order, const int* lengths, const T* x, T* y);
void time_deltas(const ExecContext&, int n, int t, int f, int order, const int* lengths, const float* x, float* y);

}  // namespace ser::nn
