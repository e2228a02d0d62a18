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
// in training (engine::BatchMaker), then the network in inference mode (dropout off, batch norm with
// running statistics). A Classifier is not thread-safe: use one per thread.
#pragma once
#include <cstddef>
#include <functional>
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
  // classified on its own; start/end_seconds give each window's span. Runs a TimelineStream over
  // the samples; for a recording too long to hold, stream_timeline reads a file as it goes.
  std::vector<Prediction> timeline(const float* samples, std::size_t n, int sample_rate,
                                   double window_seconds, double hop_seconds) const;
  // Utterances already at feature_config().logmel.sample_rate, through the front-end in one call,
  // each then classified on its own (as classify would). Throws ser::Error for a too-short one.
  std::vector<Prediction> classify_batch(const std::vector<std::vector<float>>& utterances) const;
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

// The timeline of audio that arrives in pieces: the windows of sliding_windows over everything
// pushed (the last partial window is decided in finish(), when the length is known), the
// predictions of Classifier::timeline, handed to `on_window` in order as soon as a batch of
// windows is classified. It holds about one window of samples plus one batch of windows, however
// long the audio: memory does not grow with the recording.
class TimelineStream {
 public:
  using Sink = std::function<void(Prediction&&)>;
  static constexpr std::size_t kDefaultBatch = 16;  // windows per front-end call

  // Samples arrive at clf.feature_config().logmel.sample_rate; clf must outlive the stream.
  TimelineStream(const Classifier& clf, double window_seconds, double hop_seconds, Sink on_window,
                 std::size_t batch_windows = kDefaultBatch);
  void push(const float* samples, std::size_t n);
  void finish();  // the end of the audio: its last windows; push() may not follow

  std::size_t samples_pushed() const { return seen_; }
  std::size_t windows_emitted() const { return emitted_; }
  // The most samples held at once (sliding buffer + windows waiting for the front-end), counted by
  // allocated capacity: the bounded-memory tests compare it across recording lengths.
  std::size_t peak_samples_held() const { return peak_held_; }

 private:
  void cut(std::size_t begin, std::size_t end);  // queues the buffer, [begin, end) of the audio
  void classify_pending();
  void note_held();

  const Classifier* clf_;
  int rate_;
  std::size_t window_, hop_, batch_;
  Sink on_window_;
  std::vector<float> buffer_;                 // (<= window_) samples [next_start_, seen_) of the audio
  std::vector<std::vector<float>> pending_;   // (<= batch_) windows waiting for the front-end
  std::vector<SampleSpan> pending_spans_;     // (pending_.size()) their spans in the audio
  std::size_t next_start_ = 0;                // where the next window begins
  std::size_t seen_ = 0, cut_ = 0, emitted_ = 0, peak_held_ = 0;
  bool finished_ = false;
};

// What stream_timeline did.
struct StreamedTimeline {
  std::size_t windows = 0;
  std::size_t samples = 0;            // of the audio at the feature rate
  std::size_t peak_samples_held = 0;  // decoded block + resampled block + the TimelineStream's peak
};

// Classifier::timeline of an audio file read block by block (AudioFileStream), resampled block by
// block when its rate differs from the model's (StreamResampler, bit-identical to resample), each
// prediction handed to `on_window` as it comes. Equals read_audio + Classifier::timeline. Errors
// name the file, including ones found part-way (after some windows were already handed on).
StreamedTimeline stream_timeline(const Classifier& clf, const std::string& path, double window_seconds,
                                 double hop_seconds, const TimelineStream::Sink& on_window,
                                 std::size_t batch_windows = TimelineStream::kDefaultBatch);

}  // namespace ser
