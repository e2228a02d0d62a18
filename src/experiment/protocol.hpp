// src/experiment/protocol.hpp — speaker-independent folds: leave-one-speaker-out or k-fold over
// speaker groups. Every fold's validation speakers come from its training side, so the test speakers
// never influence training, normalisation or model selection.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ser::experiment {

struct Fold {
  int index = 0;
  std::vector<std::string> test, validation, train;  // speakers, disjoint
};

// LOSO: fold i tests the i-th speaker (sorted order); validation = the next `n_validation` speakers
// after it, cyclically (so every speaker validates as often as it tests).
std::vector<Fold> leave_one_speaker_out(std::vector<std::string> speakers, int n_validation);
// k-fold: speakers sorted, shuffled by split_seed, dealt round-robin into k groups; fold i tests
// group i and validates on the first n_validation speakers of group i+1 (cyclically).
std::vector<Fold> speaker_k_fold(std::vector<std::string> speakers, int k, int n_validation,
                                 std::uint64_t split_seed);
// Throws ser::Error when a fold would have no training speaker left.
void check_folds(const std::vector<Fold>& folds, const std::string& origin);

}  // namespace ser::experiment
