// src/experiment/protocol.hpp — speaker-independent folds: leave-one-speaker-out, leave-one-group-out
// (IEMOCAP: one session, both its speakers), k-fold over speakers balanced by utterances and classes,
// and a corpus's predefined partition. Every fold's validation speakers come from its training side,
// so the test speakers never influence training, normalisation or model selection.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ser::experiment {

struct Fold {
  int index = 0;
  std::vector<std::string> test, validation, train;  // speakers, disjoint
};

// What the fold rules know about a corpus: per speaker its fold group and utterances per class.
struct SpeakerTable {
  std::vector<std::string> speakers;     // sorted, unique
  std::vector<std::string> groups;       // (speakers,) fold group; the speaker's own id when none
  std::vector<std::vector<int>> counts;  // (speakers, classes) utterances
  int n_classes = 0;
};
// From per-utterance speakers, fold groups ("" or an empty vector = the speaker) and labels.
SpeakerTable speaker_table(const std::vector<std::string>& speakers, const std::vector<std::string>& groups,
                           const std::vector<int>& labels, int n_classes);

// The validation rule shared by every protocol. `candidates` are the fold's non-test speakers in
// preference order (for LOSO the speakers after the test speaker, cyclically, so that every speaker
// validates as often as it tests). The first n are kept when they give every class of the training
// side at least min(2, its utterances there) validation utterances; otherwise the n are chosen
// greedily (each step the candidate that most raises the sum over classes of min(2, validation
// utterances), earlier candidates on ties) and the greedy choice replaces the first n when it covers
// more. So no class's validation recall hangs on one utterance when the corpus allows better.
std::vector<std::string> choose_validation(const SpeakerTable& table, const std::vector<std::string>& candidates,
                                           int n_validation);

// LOSO: fold i tests the i-th speaker (sorted order); validation by choose_validation from the
// speakers after it, cyclically.
std::vector<Fold> leave_one_speaker_out(const SpeakerTable& table, int n_validation);
// Leave one fold group out: fold i tests every speaker of the i-th group (sorted), validation from
// the speakers of the groups after it, cyclically. Needs at least 3 groups.
std::vector<Fold> leave_one_group_out(const SpeakerTable& table, int n_validation);
// k-fold over speakers, balanced as grouped stratified k-fold: speakers shuffled by split_seed, then
// taken largest first, each into the fold where it leaves the folds' class proportions and sizes
// most even (sum over classes of the variance across folds of the fold's share of the class, plus
// the variance of the fold's share of all utterances; fewer utterances, then lower index, on ties).
// Fold i tests group i; validation from the speakers of the groups after it, cyclically.
std::vector<Fold> speaker_k_fold(const SpeakerTable& table, int k, int n_validation, std::uint64_t split_seed);
// Throws ser::Error when a fold would have no training speaker left.
void check_folds(const std::vector<Fold>& folds, const std::string& origin);

// Utterances per class of each side of a fold: (3, classes) in the order test, validation, train.
std::vector<std::vector<int>> fold_class_counts(const SpeakerTable& table, const Fold& fold);

}  // namespace ser::experiment
