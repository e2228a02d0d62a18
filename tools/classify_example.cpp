// tools/classify_example.cpp — the public inference API (include/ser/inference.hpp) in a dozen lines:
// load a model (a ser checkpoint or a safetensors export), read a WAV, print class probabilities.
//
//   build/ser_classify_example runs/emodb/best.h5 speech.wav [cpu|cuda|auto]
#include <cstdio>
#include <exception>
#include <string>

#include "ser/audio.hpp"
#include "ser/inference.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL AUDIO [auto|cpu|cuda]\n", argv[0]);
    return 2;
  }
  try {
    const ser::Classifier clf = ser::Classifier::load(argv[1], argc > 3 ? argv[3] : "auto");
    std::fprintf(stderr, "%s\n", clf.describe().c_str());
    const ser::Audio audio = ser::read_audio(argv[2]);  // any rate; classify() resamples
    const ser::Prediction p = clf.classify(audio.samples.data(), audio.samples.size(), audio.sample_rate);
    std::printf("%s: %s (%.1f s)\n", argv[2], clf.class_names()[static_cast<std::size_t>(p.predicted)].c_str(),
                p.end_seconds);
    for (std::size_t k = 0; k < p.probabilities.size(); ++k)
      std::printf("  %-10s %.3f\n", clf.class_names()[k].c_str(), p.probabilities[k]);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
