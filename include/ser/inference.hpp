// ser/inference.hpp — classifying audio with a trained model (docs/export.md).
//
//   auto clf = ser::Classifier::load("runs/emodb/best.h5");      // or model.safetensors
//   ser::Audio a = ser::read_audio("speech.wav");
//   ser::Prediction p = clf.classify(a.samples.data(), a.samples.size(), a.sample_rate);
//   std::cout << clf.class_names()[p.predicted] << " " << p.probabilities[p.predicted] << "\n";
//
// The model file carries everything inference needs: the network (run config and weights), the
// feature config the front-end must use, the normalisation statistics of the training speakers and
// the class names. Audio goes through the same front-end and the same normalisation and padding as
// in training (train::BatchMaker), then the network in inference mode (dropout off, batch norm with
// running statistics). A Classifier is not thread-safe: use one per thread.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ser/feature_config.hpp"

namespace ser {

struct Prediction {
  std::vector<float> logits;         // (n_classes)
  std::vector<float> probabilities;  // (n_classes) softmax of the logits, computed in double
  int predicted = -1;                // index of the largest logit (the first on ties)
  double start_seconds = 0, end_seconds = 0;  // the span of audio classified
};

class Classifier {
 public:
  // A ser checkpoint (.h5: best.h5 / last.h5 of a run) or a safetensors export (`ser export`).
  // device: "auto" (GPU when usable, else CPU), "cpu" or "cuda". Throws ser::Error naming the file
  // when it is not a model, is truncated or damaged, or holds a model that does not fit its config.
  static Classifier load(const std::string& path, const std::string& device = "auto");
  ~Classifier();
  Classifier(Classifier&&) noexcept;
  Classifier& operator=(Classifier&&) noexcept;
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  const std::vector<std::string>& class_names() const;
  const FeatureConfig& feature_config() const;
  // "model 'cnn_attn' (233768 parameters, 7 classes) from PATH (checkpoint) on CPU (...)".
  std::string describe() const;
  // The line select_device printed when "auto" fell back to the CPU ("" otherwise).
  const std::string& device_notice() const;

  // Mono samples at any rate (resampled to feature_config().logmel.sample_rate); the whole
  // utterance. Throws ser::Error when it is shorter than the front-end's minimum.
  Prediction classify(const float* samples, std::size_t n, int sample_rate) const;
  // Sliding windows of window_seconds every hop_seconds (ser::sliding_windows below), each
  // classified on its own; start/end_seconds give each window's span.
  std::vector<Prediction> timeline(const float* samples, std::size_t n, int sample_rate,
                                   double window_seconds, double hop_seconds) const;
  // Features already computed with feature_config(), un-normalised as in a feature cache:
  // logmel (frames, n_mels) row-major and functionals (n_functionals; may be nullptr for a model
  // that does not read them). The model's normaliser is applied here.
  Prediction classify_features(const float* logmel, int frames, const float* functionals) const;

  int n_mels() const;
  int n_functionals() const;  // length of `functionals` the normaliser expects

 private:
  struct Impl;
  explicit Classifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Windows over n samples: starts at 0, hop, 2 hop, ... while a whole window fits; then one partial
// window from the next start to the end when it is at least half a window long. A signal no longer
// than one window is one window covering all of it. Returns [begin, end) sample ranges.
struct SampleSpan {
  std::size_t begin = 0, end = 0;
};
std::vector<SampleSpan> sliding_windows(std::size_t n, std::size_t window, std::size_t hop);

}  // namespace ser
