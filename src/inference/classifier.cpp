// src/inference/classifier.cpp — ser::Classifier: a model file loaded onto a device, the front-end
// of its feature config, and one-utterance forward passes in inference mode.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "inference/model_file.hpp"
#include "nn/model.hpp"
#include "ser/audio.hpp"
#include "ser/cache.hpp"
#include "ser/classic.hpp"
#include "ser/error.hpp"
#include "ser/frontend.hpp"
#include "ser/inference.hpp"
#include "ser/model_config.hpp"
#include "engine/dataset.hpp"
#include "engine/engine_session.hpp"

namespace ser {

namespace {

constexpr int kInitialFrames = 1024;  // the first plan covers ~10 s at a 10 ms hop; longer inputs re-plan

Prediction from_logits(const float* logits, int k) {
  Prediction p;
  p.logits.assign(logits, logits + k);
  const double top = *std::max_element(p.logits.begin(), p.logits.end());
  double sum = 0;
  std::vector<double> e(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) sum += e[static_cast<std::size_t>(i)] = std::exp(double(logits[i]) - top);
  for (double v : e) p.probabilities.push_back(static_cast<float>(v / sum));
  p.predicted = static_cast<int>(std::max_element(p.logits.begin(), p.logits.end()) - p.logits.begin());
  return p;
}

}  // namespace

struct Classifier::Impl {
  std::string path;
  std::string kind;                 // "checkpoint" | "safetensors export"
  engine::Checkpoint weights;        // laid out by the model's tables (load_model_file)
  RunConfig run_config;
  FeatureConfig features;
  std::string notice;
  std::unique_ptr<engine::EngineSession> session;
  std::unique_ptr<nn::Model<float>> model;
  std::unique_ptr<FrontEnd> frontend;

  int n_classes() const { return static_cast<int>(weights.class_names.size()); }
  bool utterance_vector() const { return run_config.model.functionals == "utterance"; }
  // Functionals the caller supplies (the front-end's); a model reading the utterance vector computes
  // the MFCC statistics in front of them itself.
  int n_functionals() const {
    const int model_side = static_cast<int>(weights.normalizer.functional_mean.size());
    return utterance_vector() ? model_side - classic::mfcc_statistic_columns() : model_side;
  }

  // Plans (or re-plans, larger) for one utterance of `frames` frames and uploads the weights.
  void ensure_capacity(int frames) {
    if (model->max_batch() >= 1 && model->max_frames() >= frames) return;
    const int want = std::max(frames, model->max_frames() > 0 ? model->max_frames() * 2 : kInitialFrames);
    model->plan(session->ctx(), 1, want, 0);
    session->attach(*model);
    nn::upload(session->ctx(), model->params(), weights.params.data(), sizeof(float) * weights.params.size());
    nn::upload(session->ctx(), model->state(), weights.state.data(), sizeof(float) * weights.state.size());
  }

  // Normalisation and padding exactly as training's BatchMaker does it, then the forward pass.
  Prediction forward(const float* logmel, int frames, const float* functionals) {
    if (frames < 1) throw Error(path + ": cannot classify an utterance of " + std::to_string(frames) + " frames");
    const int m = weights.n_mels;
    FeatureCache one;
    one.config = features;
    one.functional_names.resize(static_cast<std::size_t>(n_functionals()));
    one.logmel.assign(logmel, logmel + static_cast<std::size_t>(frames) * m);
    one.offsets = {0, frames};
    if (functionals) one.functionals.assign(functionals, functionals + n_functionals());
    else one.functionals.assign(static_cast<std::size_t>(n_functionals()), 0.0f);
    one.labels = {0};
    one.speakers = {""};
    one.paths = {""};
    if (utterance_vector()) one = classic::with_utterance_features(one);
    const engine::BatchMaker maker(one, weights.normalizer, model->min_frames());
    engine::HostBatch b;
    maker.make({0}, 0, 0, b);
    ensure_capacity(b.t);
    session->load_batch(b);
    const float* logits = model->forward(session->ctx(), false, 0);
    std::vector<float> host(static_cast<std::size_t>(n_classes()));
    nn::download(session->ctx(), host.data(), logits, sizeof(float) * host.size());
    // Finite weights can still overflow (a damaged or diverged model): say so instead of printing NaN.
    for (const float z : host)
      if (!std::isfinite(z))
        throw Error(path + ": the model gives a NaN or infinite logit for this input (its weights are damaged or diverged)");
    return from_logits(host.data(), n_classes());
  }

  std::vector<float> at_feature_rate(const float* samples, std::size_t n, int rate) const {
    if (rate <= 0) throw Error("classify: sample rate must be positive, found " + std::to_string(rate));
    std::vector<float> x(samples, samples + n);
    return rate == features.logmel.sample_rate ? x : resample(x, rate, features.logmel.sample_rate);
  }

  void check_length(std::size_t n) const {
    const auto need = features.logmel.min_samples();
    if (static_cast<std::int64_t>(n) < need)
      throw Error(std::string("audio too short: ").append(std::to_string(n)).append(" samples at ")
                      .append(std::to_string(features.logmel.sample_rate)).append(" Hz, the front-end needs at least ")
                      .append(std::to_string(need)));
  }

  Prediction from_features(const UtteranceFeatures& f) {
    if (weights.n_prosody > 0 && static_cast<int>(f.functionals.size()) != n_functionals())
      throw Error(path + ": the front-end gives " + std::to_string(f.functionals.size()) +
                  " functionals, the model's normaliser has " + std::to_string(n_functionals()));
    return forward(f.logmel.data(), static_cast<int>(f.n_frames), f.functionals.empty() ? nullptr : f.functionals.data());
  }
};

Classifier::Classifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Classifier::~Classifier() = default;
Classifier::Classifier(Classifier&&) noexcept = default;
Classifier& Classifier::operator=(Classifier&&) noexcept = default;

Classifier Classifier::load(const std::string& path, const std::string& device) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->kind = inference::sniff_model_file(path) == inference::ModelFileKind::safetensors ? "safetensors export"
                                                                                          : "checkpoint";
  impl->weights = inference::load_model_file(path);
  impl->run_config = parse_run_config(impl->weights.run_config_toml, path + " (run config)");
  impl->features = FeatureConfig::from_json(impl->weights.feature_config_json);
  std::ostringstream notice;
  impl->session = std::make_unique<engine::EngineSession>(device, "handwritten", false, notice);
  impl->notice = notice.str();
  while (!impl->notice.empty() && impl->notice.back() == '\n') impl->notice.pop_back();
  impl->model = std::make_unique<nn::Model<float>>(
      impl->run_config.model, nn::ModelInputs{impl->weights.n_mels, impl->weights.n_prosody, impl->n_classes()});
  impl->frontend = make_frontend(impl->session->on_gpu() ? FrontEndPath::cuda : FrontEndPath::cpu, impl->features, 0);
  impl->ensure_capacity(kInitialFrames);
  return Classifier(std::move(impl));
}

const std::vector<std::string>& Classifier::class_names() const { return impl_->weights.class_names; }
const FeatureConfig& Classifier::feature_config() const { return impl_->features; }
const std::string& Classifier::device_notice() const { return impl_->notice; }
int Classifier::n_mels() const { return impl_->weights.n_mels; }
int Classifier::n_functionals() const { return impl_->n_functionals(); }

std::string Classifier::describe() const {
  const Impl& m = *impl_;
  std::string s = "model '" + m.run_config.model.name + "' (";
  s.append(std::to_string(m.model->param_table().payload())).append(" parameters, ")
      .append(std::to_string(m.n_classes())).append(" classes) from ").append(m.path).append(" (").append(m.kind)
      .append(") on ").append(m.session->describe());
  return s;
}

Prediction Classifier::classify_features(const float* logmel, int frames, const float* functionals) const {
  if (!functionals && impl_->weights.n_prosody > 0)
    throw Error(impl_->path + ": the model reads the utterance functionals; none were given");
  return impl_->forward(logmel, frames, functionals);
}

Prediction Classifier::classify(const float* samples, std::size_t n, int sample_rate) const {
  const std::vector<float> x = impl_->at_feature_rate(samples, n, sample_rate);
  impl_->check_length(x.size());
  const auto feats = impl_->frontend->extract({x});
  Prediction p = impl_->from_features(feats.at(0));
  p.end_seconds = double(x.size()) / impl_->features.logmel.sample_rate;
  return p;
}

std::vector<Prediction> Classifier::timeline(const float* samples, std::size_t n, int sample_rate,
                                             double window_seconds, double hop_seconds) const {
  std::vector<Prediction> out;
  TimelineStream windows(*this, window_seconds, hop_seconds, [&out](Prediction&& p) { out.push_back(std::move(p)); });
  const std::vector<float> x = impl_->at_feature_rate(samples, n, sample_rate);
  windows.push(x.data(), x.size());
  windows.finish();
  return out;
}

std::vector<Prediction> Classifier::classify_batch(const std::vector<std::vector<float>>& utterances) const {
  for (const auto& u : utterances) impl_->check_length(u.size());
  const auto feats = impl_->frontend->extract(utterances);
  std::vector<Prediction> out;
  out.reserve(utterances.size());
  for (std::size_t i = 0; i < utterances.size(); ++i) {
    out.push_back(impl_->from_features(feats[i]));
    out.back().end_seconds = double(utterances[i].size()) / impl_->features.logmel.sample_rate;
  }
  return out;
}

std::vector<SampleSpan> sliding_windows(std::size_t n, std::size_t window, std::size_t hop) {
  if (window == 0 || hop == 0) throw Error("sliding windows: window and hop must be at least one sample");
  if (n <= window) return {SampleSpan{0, n}};
  std::vector<SampleSpan> out;
  std::size_t start = 0;
  for (; start + window <= n; start += hop) out.push_back({start, start + window});
  // `start` is now the first start whose window does not fit: keep it if the rest is uncovered and
  // at least half a window long.
  if (out.back().end < n && start < n && 2 * (n - start) >= window) out.push_back({start, n});
  return out;
}

}  // namespace ser
