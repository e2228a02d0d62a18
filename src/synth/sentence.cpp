// synth/sentence.cpp — draws a text: words of 1-3 syllables, stress on the first syllable of each
// word, an occasional pause between words.
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/sentence.hpp"

#include "synth/phonetics.hpp"
#include "synth/rng.hpp"

namespace ser::synth {

Sentence make_sentence(std::uint64_t seed, int index) {
  Rng rng(stream_key(seed, "text", {static_cast<std::uint64_t>(index)}));
  const int n_syllables = 4 + rng.below(5);
  const int n_vowels = static_cast<int>(vowel_table().size());
  const int n_consonants = static_cast<int>(consonant_table().size());
  Sentence s;
  int left_in_word = 0;
  for (int i = 0; i < n_syllables; ++i) {
    Syllable syl;
    if (left_in_word == 0) {
      left_in_word = 1 + rng.below(3);
      syl.stressed = true;
      // pause before this word (i.e. after the previous syllable) at some word boundaries
      if (!s.syllables.empty() && rng.chance(0.3)) s.syllables.back().pause_after = true;
    }
    --left_in_word;
    syl.consonant = rng.chance(0.2) ? -1 : rng.below(n_consonants);
    syl.vowel = rng.below(n_vowels);
    syl.length = rng.uniform(0.85, 1.15);
    s.syllables.push_back(syl);
  }
  return s;
}

}  // namespace ser::synth
