// Fuzzes the model loader behind `ser predict` (a checkpoint .h5 or a safetensors export): a model
// it accepts must classify a second of audio into one of its classes with finite probabilities.
#include <cmath>
#include <vector>

#include "fuzz_support.hpp"
#include "ser/inference.hpp"

namespace {

const std::vector<float>& one_second() {
  static const std::vector<float> audio = [] {
    std::vector<float> x(16000);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * std::sin(0.07f * static_cast<float>(i)) * std::sin(0.0011f * static_cast<float>(i));
    return x;
  }();
  return audio;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The loader tells the formats apart by their first bytes, so one harness covers both.
  static const std::string path = ser::fuzz::scratch_path("input.model");
  ser::fuzz::write_input(path, data, size);
  ser::fuzz::expect_only_ser_errors([&] {
    const ser::Classifier clf = ser::Classifier::load(path, "cpu");
    const ser::Prediction p = clf.classify(one_second().data(), one_second().size(), 16000);
    if (p.predicted < 0 || static_cast<std::size_t>(p.predicted) >= clf.class_names().size())
      ser::fuzz::broken_promise("a prediction outside the model's classes");
    for (const float q : p.probabilities)
      if (!std::isfinite(q)) ser::fuzz::broken_promise("a probability that is not finite");
  });
  return 0;
}
