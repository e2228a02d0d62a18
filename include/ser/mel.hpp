// ser/mel.hpp — window and mel filterbank, the parts of the log-mel front-end shared by every path.
#pragma once
#include <vector>

#include "ser/feature_config.hpp"

namespace ser {

// Analysis window of length n_fft: the win_length window centred with zeros each side (as
// torch.stft pads it). (n_fft,)
std::vector<float> make_padded_window(const LogMelConfig& cfg);

double hz_to_mel(double hz, MelScale scale);
double mel_to_hz(double mel, MelScale scale);

// Mel filterbank stored sparse, as Kaldi does: band m covers bins [first_bin[m], first_bin[m] +
// n_bins[m]) with weights at weights[offset[m] ...]. Built in double as torchaudio's
// melscale_fbanks defines it, then stored as float.
struct MelFilterbank {
  int n_mels = 0;
  int n_freqs = 0;
  std::vector<int> first_bin;   // (n_mels,)
  std::vector<int> n_bins;      // (n_mels,)
  std::vector<int> offset;      // (n_mels,) start of band m in weights
  std::vector<float> weights;   // (sum of n_bins,)

  static MelFilterbank build(const LogMelConfig& cfg);
  std::vector<double> dense() const;  // (n_freqs, n_mels), column m = band m, as torchaudio's fb
};

}  // namespace ser
