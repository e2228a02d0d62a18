// synth/sentence.hpp — the "texts" of the synthetic corpus: syllable sequences.
// Text i is the same for every speaker and emotion (as in Emo-DB, where ten sentences are acted in
// every emotion), so the words carry no emotion cue.
#pragma once
#include <cstdint>
#include <vector>

namespace ser::synth {

struct Syllable {
  int consonant = -1;         // index into consonant_table(), -1 = vowel onset
  int vowel = 0;              // index into vowel_table()
  bool stressed = false;      // word-initial syllables carry the word stress (and a pitch accent)
  bool pause_after = false;   // a short pause at some word boundaries
  double length = 1.0;        // intrinsic duration factor of this syllable
};

struct Sentence {
  std::vector<Syllable> syllables;  // 4..8 syllables in 2..5 words
};

// Text `index` of a corpus with this seed.
Sentence make_sentence(std::uint64_t seed, int index);

}  // namespace ser::synth
