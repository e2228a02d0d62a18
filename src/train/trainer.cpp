// src/train/trainer.cpp — `ser train`: the epoch loop with validation-based model selection and early
// stopping, checkpoints for exact resume, metrics.jsonl, and the final test evaluation of the model
// selected on validation. A refit (TrainOptions::refit_epochs) has no validation side: it trains a
// given number of epochs on every non-test speaker and keeps the last model. Data parallel
// (train/data_parallel.hpp), every rank trains on its slice of each global batch; rank 0 alone
// validates, writes the run folder and evaluates the test speakers, and tells the others whether to
// keep going.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "nn/model.hpp"
#include "nn/nvtx.hpp"
#include "ser/cache.hpp"
#include "ser/classic.hpp"
#include "ser/error.hpp"
#include "ser/model_config.hpp"
#include "ser/nn/counter_rng.hpp"
#include "ser/train.hpp"
#include "train/attention_probe.hpp"
#include "engine/checkpoint.hpp"
#include "train/data_parallel.hpp"
#include "engine/engine_session.hpp"
#include "train/evaluate.hpp"
#include "train/optimizer.hpp"
#include "train/prefetcher.hpp"
#include "train/run_files.hpp"
#include "util/atomic_file.hpp"
#include "train/train_step.hpp"
#include "util/wall_clock.hpp"

namespace ser {
namespace fs = std::filesystem;
using engine::Checkpoint;

namespace {

std::vector<float> balanced_weights(const FeatureCache& c, const std::vector<int>& train, int k) {
  std::vector<double> count(static_cast<std::size_t>(k), 0);
  for (int u : train) count[static_cast<std::size_t>(c.labels[static_cast<std::size_t>(u)])] += 1;
  int present = 0;
  for (double x : count) present += x > 0;
  std::vector<float> w;
  for (double x : count) w.push_back(x > 0 ? static_cast<float>(train.size() / (present * x)) : 0.0f);
  return w;
}

// Host copies of the model's parameters, state and the Adam moments, as a checkpoint.
engine::Checkpoint snapshot(const nn::Model<float>& m, const train::Optimizer* opt, const engine::EngineSession& s,
                    const RunConfig& rc, const FeatureCache& cache, const engine::Normalizer& norm,
                    const nlohmann::json& split, const engine::Progress& progress,
                    const std::vector<std::vector<int>>& order) {
  engine::Checkpoint c;
  c.run_config_toml = to_toml(rc);
  c.feature_config_json = cache.config.to_json();
  c.class_names = cache.class_names;
  c.n_mels = m.inputs().n_mels;
  c.n_prosody = m.inputs().n_prosody;
  c.progress = progress;
  c.split = split;
  c.normalizer = norm;
  c.param_entries = m.param_table().entries();
  c.state_entries = m.state_table().entries();
  c.params.resize(static_cast<std::size_t>(m.param_table().total()));
  c.state.resize(static_cast<std::size_t>(m.state_table().total()));
  nn::download(s.ctx(), c.params.data(), m.params(), sizeof(float) * c.params.size());
  nn::download(s.ctx(), c.state.data(), m.state(), sizeof(float) * c.state.size());
  if (opt) {
    c.adam_m.resize(c.params.size());
    c.adam_v.resize(c.params.size());
    nn::download(s.ctx(), c.adam_m.data(), opt->m(), sizeof(float) * c.params.size());
    nn::download(s.ctx(), c.adam_v.data(), opt->v(), sizeof(float) * c.params.size());
  }
  c.data_order = order;
  return c;
}

// The run config with the command line's overrides, and the refit's own rules.
RunConfig effective_config(const TrainOptions& o) {
  RunConfig rc = o.config.empty() ? RunConfig{} : load_run_config(o.config);
  if (o.epochs > 0) rc.train.epochs = o.epochs;
  if (o.batch_size > 0) rc.train.batch_size = o.batch_size;
  if (o.seed >= 0) rc.train.seed = static_cast<std::uint64_t>(o.seed);
  if (o.refit_epochs > 0 && !o.validation_speakers.empty())
    throw Error("a refit trains on every non-test speaker: give no validation speakers with --refit-epochs");
  if (o.refit_epochs > rc.train.epochs)
    throw Error("--refit-epochs " + std::to_string(o.refit_epochs) + " exceeds the " + std::to_string(rc.train.epochs) +
                " epochs of the schedule ([train] epochs)");
  return rc;
}

// This process's place in a data-parallel job; one process is rank 0 of 1.
struct RankPlace {
  const parallel::MpiRanks* world = nullptr;  // nullptr without --data-parallel
  int size = 1, rank = 0;
  bool writer() const { return rank == 0; }   // rank 0 alone logs, validates and writes
  void barrier() const { if (world) world->barrier(); }  // after rank 0 wrote a file the others read
};

RankPlace rank_place(bool data_parallel) {
  RankPlace r;
  if (!data_parallel) return r;
  r.world = &parallel::MpiRanks::world();
  r.size = r.world->size();
  r.rank = r.world->rank();
  return r;
}

// The checkpoint to resume from, checked against this run; none for a new run (whose folder must
// not already hold one).
std::optional<engine::Checkpoint> checkpoint_to_resume(const TrainOptions& o, const RunConfig& rc, const FeatureCache& cache,
                                               const std::string& last_path, int ranks) {
  if (!o.resume) {
    if (fs::exists(last_path))
      throw Error(o.out_dir + " already holds a run (last.h5); use --resume to continue it or another --out");
    return std::nullopt;
  }
  engine::Checkpoint ck = engine::read_checkpoint(last_path);
  if (ck.run_config_toml != to_toml(rc))
    throw file_error(last_path, "was written with another run config; resume with the same --config, --epochs "
                                "and --batch-size (the checkpoint's config:\n" + ck.run_config_toml + ")");
  if (ck.feature_config_json != cache.config.to_json())
    throw file_error(last_path, "was trained on features with another feature config than " + o.cache);
  if (ck.split.value("refit_epochs", 0) != o.refit_epochs)
    throw file_error(last_path, "was written by a run with refit_epochs " + std::to_string(ck.split.value("refit_epochs", 0)) +
                                "; resume with the same --refit-epochs");
  // The ranks decide which short batches are left out, and so the schedule: resume on as many.
  if (ck.split.value("data_parallel_ranks", 1) != ranks)
    throw file_error(last_path, "was written by a run on " + std::to_string(ck.split.value("data_parallel_ranks", 1)) +
                                " rank(s); resume it on as many (mpirun -np N ... --data-parallel), not " +
                                std::to_string(ranks));
  return ck;
}

// The speakers: the checkpoint's on resume, else the options', else the seed's default split.
engine::Split choose_split(const TrainOptions& o, const RunConfig& rc, const FeatureCache& cache,
                          const std::optional<engine::Checkpoint>& ck) {
  const bool refit = o.refit_epochs > 0;
  if (ck)
    return engine::split_by_speakers(cache, ck->split.at("test").get<std::vector<std::string>>(),
                                    ck->split.at("validation").get<std::vector<std::string>>(), !refit);
  if (refit) return engine::split_by_speakers(cache, o.test_speakers, {}, false);
  if (o.test_speakers.empty() && o.validation_speakers.empty()) return engine::default_split(cache, rc.train.seed);
  return engine::split_by_speakers(cache, o.test_speakers, o.validation_speakers);
}

// Uploads a checkpoint's parameters and state into the model, matched by name.
void load_weights(const std::string& path, const engine::Checkpoint& ck, nn::Model<float>& model, const engine::EngineSession& s) {
  const auto p = engine::arrange_by_name(path, ck.param_entries, ck.params, model.param_table(), "parameter");
  const auto st = engine::arrange_by_name(path, ck.state_entries, ck.state, model.state_table(), "state");
  nn::upload(s.ctx(), model.params(), p.data(), sizeof(float) * p.size());
  nn::upload(s.ctx(), model.state(), st.data(), sizeof(float) * st.size());
}

// What one epoch's training steps add up to.
struct EpochTotals {
  double loss_sum = 0, frames = 0, seconds = 0;
  std::int64_t seen = 0, correct = 0;
  double mean_loss() const { return seen ? loss_sum / seen : 0.0; }
  double accuracy() const { return seen ? double(correct) / seen : 0.0; }
};

// One `ser train` run: set up in the constructor, then run().
class Trainer {
 public:
  Trainer(const TrainOptions& o, const FeatureCache& given, std::ostream& main_log);
  TrainSummary run();

 private:
  void describe_run();
  void resume_or_start();
  std::vector<std::vector<int>> batches_of(int epoch) const;
  EpochTotals train_epoch(int epoch);
  void train_one_batch(const engine::HostBatch& global, EpochTotals& t);
  void draw_progress(int epoch, int bi, std::size_t batches, int first, double t0, const EpochTotals& t, double& last_draw) const;
  void end_epoch(int epoch, const EpochTotals& t);
  void evaluate_selected(TrainSummary& sum);
  engine::Checkpoint snapshot_now(bool with_optimizer, const std::vector<std::vector<int>>& order) const {
    return snapshot(*model_, with_optimizer ? opt_.get() : nullptr, *session_, rc_, cache_, norm_, split_json_, prog_, order);
  }

  const TrainOptions& o_;
  const double t_start_;
  RankPlace ranks_;
  std::ostream nowhere_{nullptr};  // the log of ranks other than 0
  std::ostream& log_;
  RunConfig rc_;
  bool refit_;
  FeatureCache derived_;           // the utterance-vector cache when the model fuses it
  const FeatureCache& cache_;
  int k_;
  double hop_s_;                   // seconds per log-mel frame
  std::string last_path_, best_path_, metrics_path_;
  std::optional<engine::Checkpoint> ck_;
  engine::Split sp_;
  nlohmann::json split_json_;
  engine::Normalizer norm_;
  std::unique_ptr<engine::EngineSession> session_;
  std::unique_ptr<nn::Model<float>> model_;
  std::unique_ptr<engine::BatchMaker> maker_;
  std::unique_ptr<train::Optimizer> opt_;
  std::vector<float> class_weights_;
  engine::Progress prog_;
  std::int64_t per_epoch_ = 0, total_steps_ = 0;
  int epochs_to_run_ = 0;
  bool tty_ = false;
  double train_seconds_ = 0, train_frames_ = 0, train_utts_ = 0;
  std::vector<std::vector<int>> order_;  // the current epoch's batches (for mid-epoch checkpoints)
};

Trainer::Trainer(const TrainOptions& o, const FeatureCache& given, std::ostream& main_log)
    : o_(o),
      t_start_(now_seconds()),
      ranks_(rank_place(o.data_parallel)),
      log_(ranks_.writer() ? main_log : nowhere_),
      rc_(effective_config(o)),
      refit_(o.refit_epochs > 0),
      derived_(rc_.model.functionals == "utterance" ? classic::with_utterance_features(given) : FeatureCache{}),
      cache_(rc_.model.functionals == "utterance" ? derived_ : given),
      k_(static_cast<int>(cache_.class_names.size())),
      hop_s_(double(cache_.config.logmel.hop_length) / cache_.config.logmel.sample_rate) {
  fs::create_directories(o.out_dir);
  last_path_ = (fs::path(o.out_dir) / "last.h5").string();
  best_path_ = (fs::path(o.out_dir) / "best.h5").string();
  metrics_path_ = (fs::path(o.out_dir) / "metrics.jsonl").string();
  ck_ = checkpoint_to_resume(o, rc_, cache_, last_path_, ranks_.size);

  // ---- split, normalisation (training speakers only) ------------------------------------------
  sp_ = choose_split(o, rc_, cache_, ck_);
  split_json_ = {{"train", sp_.train_speakers}, {"validation", sp_.validation_speakers}, {"test", sp_.test_speakers}};
  if (refit_) split_json_["refit_epochs"] = o.refit_epochs;
  if (ranks_.size > 1) split_json_["data_parallel_ranks"] = ranks_.size;
  norm_ = ck_ ? ck_->normalizer : engine::fit_normalizer(cache_, sp_.train);

  // ---- model and memory plan -------------------------------------------------------------------
  session_ = std::make_unique<engine::EngineSession>(o.device, o.kernels, o.deterministic, log_);
  if (ranks_.size > 1 && session_->on_gpu())
    throw Error("--data-parallel runs on the CPU only (the GPU path, NCCL, is not built): add --device cpu");
  if (ranks_.size > 1 && rc_.train.batch_size < ranks_.size)
    throw Error("--data-parallel: a batch of " + std::to_string(rc_.train.batch_size) + " cannot give each of " +
                std::to_string(ranks_.size) + " ranks a row; raise [train] batch_size or use fewer ranks");
  if (ranks_.size > 1) session_->set_ranks(ranks_.world);
  const nn::ModelInputs inputs{cache_.n_mels(),
                               rc_.model.uses_functionals() ? static_cast<int>(cache_.functional_names.size()) : 0, k_};
  model_ = std::make_unique<nn::Model<float>>(rc_.model, inputs);
  maker_ = std::make_unique<engine::BatchMaker>(cache_, norm_, model_->min_frames());
  int max_frames = 0;
  for (const auto* set : {&sp_.train, &sp_.validation, &sp_.test})
    for (int u : *set) max_frames = std::max(max_frames, maker_->length_of(u, 0));
  model_->plan(session_->ctx(), rc_.train.batch_size, max_frames, rc_.train.seed);
  session_->attach(*model_);
  opt_ = std::make_unique<train::Optimizer>(session_->ctx(), model_->param_table(), rc_.train);
  describe_run();

  class_weights_.assign(static_cast<std::size_t>(k_), 1.0f);
  if (rc_.train.class_weights == "balanced") class_weights_ = balanced_weights(cache_, sp_.train, k_);
  session_->set_class_weights(class_weights_);
  session_->set_label_smoothing(rc_.train.label_smoothing);
  resume_or_start();

  per_epoch_ = train::batches_per_epoch(sp_.train.size(), rc_.train.batch_size, ranks_.size);
  total_steps_ = per_epoch_ * rc_.train.epochs;  // the schedule's length, refit or not
  epochs_to_run_ = refit_ ? o.refit_epochs : rc_.train.epochs;
  tty_ = o.progress && ranks_.writer() && isatty(STDERR_FILENO);
}

void Trainer::describe_run() {
  const nn::Model<float>& model = *model_;
  log_ << "ser train: " << cache_.corpus << " cache " << o_.cache << ", " << k_ << " classes, model '" << rc_.model.name
       << "' (" << model.param_table().payload() << " parameters) on " << session_->describe() << "\n";
  log_ << "  speakers: train " << sp_.train_speakers.size() << " (" << sp_.train.size() << " utterances), validation "
       << nlohmann::json(sp_.validation_speakers).dump() << " (" << sp_.validation.size() << "), test "
       << nlohmann::json(sp_.test_speakers).dump() << " (" << sp_.test.size() << ")\n";
  for (std::size_t i = 0; i < model.layer_count(); ++i) log_ << "  layer " << i << ": " << model.layer(i).describe() << "\n";
  log_ << model.plan_report();
  log_ << "memory held on the " << (session_->on_gpu() ? "GPU" : "CPU") << ", every buffer as allocated:\n"
       << nn::live_memory_report(session_->ctx().device);
  if (ranks_.size == 1) return;
  log_ << "  data parallel: " << ranks_.size << " ranks, each global batch of " << rc_.train.batch_size
       << " split between them; every rank sends " << train::bytes_summed_per_step(model)
       << " bytes per step into the sums (gradients, batch-norm statistics, loss)\n";
  const auto rest = static_cast<int>(sp_.train.size() % static_cast<std::size_t>(rc_.train.batch_size));
  if (rest != 0 && rest < ranks_.size)
    log_ << "  data parallel: each epoch's short batch (" << rest << " utterances, fewer than the ranks) is left out of it\n";
}

// A resumed run takes the checkpoint's weights, Adam moments and progress; a new one writes its
// config and an empty metrics file.
void Trainer::resume_or_start() {
  prog_.seed = rc_.train.seed;
  if (!ck_) {
    if (ranks_.writer()) {
      util::write_text_atomic((fs::path(o_.out_dir) / "config.toml").string(), to_toml(rc_));
      util::write_text_atomic(metrics_path_, "");
    }
    return;
  }
  if (ck_->adam_m.empty()) throw file_error(last_path_, "has no Adam moments (a weights-only checkpoint cannot be resumed)");
  load_weights(last_path_, *ck_, *model_, *session_);
  const auto m = engine::arrange_by_name(last_path_, ck_->param_entries, ck_->adam_m, model_->param_table(), "Adam moment");
  const auto v = engine::arrange_by_name(last_path_, ck_->param_entries, ck_->adam_v, model_->param_table(), "Adam moment");
  nn::upload(session_->ctx(), opt_->m(), m.data(), sizeof(float) * m.size());
  nn::upload(session_->ctx(), opt_->v(), v.data(), sizeof(float) * v.size());
  prog_ = ck_->progress;
  opt_->set_steps_taken(prog_.step);
  if (ranks_.writer()) train::truncate_metrics(metrics_path_, prog_.epoch);
  log_ << "  resumed from " << last_path_ << " at epoch " << prog_.epoch + 1 << ", batch " << prog_.batch << ", step "
       << prog_.step << "\n";
}

// The epoch's batches: the checkpoint's for the epoch a resume continues, else drawn from (seed, epoch).
std::vector<std::vector<int>> Trainer::batches_of(int epoch) const {
  if (ck_ && epoch == ck_->progress.epoch && !ck_->data_order.empty()) return ck_->data_order;
  return train::shareable_batches(engine::epoch_batches(sp_.train, *maker_, rc_.train.batch_size, rc_.train.bucket_batches,
                                                       rc_.train.max_frames, rc_.train.seed, epoch),
                                  ranks_.size);
}

// One step on this rank's rows of the global batch; the loss comes back summed over the ranks.
void Trainer::train_one_batch(const engine::HostBatch& b, EpochTotals& t) {
  const int ranks = ranks_.size;
  const train::RankSlice slice = train::slice_of(b.n, ranks_.rank, ranks);
  const engine::HostBatch mine = ranks > 1 ? train::take_rows(b, slice) : engine::HostBatch{};
  const engine::HostBatch& local = ranks > 1 ? mine : b;
  {
    const nn::NvtxRange r("load batch");
    session_->load_batch(local);
    if (ranks > 1) {
      model_->set_first_row(slice.first);
      const train::WeightSums w = train::weight_sums(b, class_weights_);
      session_->set_global_weight_sums(w.labels, w.mix_labels);
    }
  }
  const std::uint64_t step_seed = nn::mix64(rc_.train.seed ^ nn::mix64(static_cast<std::uint64_t>(prog_.step)));
  const double lr = train::learning_rate(rc_.train, prog_.step, per_epoch_, total_steps_);
  const double loss = train::train_step(*model_, *session_, *opt_, local.n, step_seed, lr, true);
  if (!std::isfinite(loss))
    throw Error("training diverged: loss " + std::to_string(loss) + " at step " + std::to_string(prog_.step) +
                " (lower [train] lr or set clip_norm)");
  std::vector<float> p(static_cast<std::size_t>(local.n) * k_);  // (rows, classes)
  nn::download(session_->ctx(), p.data(), session_->probs(), sizeof(float) * p.size());
  for (int i = 0; i < local.n; ++i) {
    const float* row = &p[static_cast<std::size_t>(i) * k_];
    t.correct += (std::max_element(row, row + k_) - row) == local.labels[static_cast<std::size_t>(i)];
  }
  t.loss_sum += loss * b.n;
  t.seen += b.n;
  for (int l : b.lengths) t.frames += l;
}

void Trainer::draw_progress(int epoch, int bi, std::size_t batches, int first, double t0, const EpochTotals& t,
                            double& last_draw) const {
  if (!tty_ || (now_seconds() - last_draw <= 0.2 && bi + 1 != static_cast<int>(batches))) return;
  last_draw = now_seconds();
  const double el = now_seconds() - t0;
  const double done = double(bi + 1 - first) / std::max<double>(1, static_cast<double>(batches) - first);
  const double per_ep = el / std::max(done, 1e-9);
  char line[200];
  std::snprintf(line, sizeof line, "\repoch %d/%d  batch %d/%zu  loss %.4f  %.0f utt/s  ETA %s   ", epoch + 1,
                epochs_to_run_, bi + 1, batches, t.mean_loss(), t.seen / std::max(el, 1e-9),
                clock_text(per_ep - el + per_ep * (epochs_to_run_ - epoch - 1)).c_str());
  std::cerr << line << std::flush;
}

// The epoch's training steps, from where a resume left off; mid-epoch checkpoints on request.
EpochTotals Trainer::train_epoch(int epoch) {
  const double t0 = now_seconds();
  order_ = batches_of(epoch);
  const std::uint64_t crop_seed = nn::mix64(rc_.train.seed ^ nn::mix64(0xc0900000ULL + static_cast<std::uint64_t>(epoch)));
  const int first = epoch == prog_.epoch ? prog_.batch : 0;
  EpochTotals t;
  train::Prefetcher loader(*maker_, order_, static_cast<std::size_t>(first), rc_.train.max_frames, crop_seed,
                           train::spec_augment_enabled(rc_.train) || rc_.train.mixup_alpha > 0 ? &rc_.train : nullptr);
  engine::HostBatch b;  // the global batch
  double last_draw = 0;
  for (int bi = first; loader.next(b); ++bi) {
    const nn::NvtxRange step_range("train step");
    train_one_batch(b, t);
    ++prog_.step;
    prog_.batch = bi + 1;
    draw_progress(epoch, bi, order_.size(), first, t0, t, last_draw);
    if (o_.checkpoint_every > 0 && prog_.step % o_.checkpoint_every == 0) {
      if (ranks_.writer()) engine::write_checkpoint(last_path_, snapshot_now(true, order_));
      ranks_.barrier();
    }
    if (o_.kill_at_step >= 0 && prog_.step == o_.kill_at_step) std::raise(SIGKILL);
  }
  if (tty_) std::cerr << "\n";
  if (ranks_.world) {  // every rank counted its own rows' hits
    double hits = static_cast<double>(t.correct);
    ranks_.world->sum(&hits, 1);
    t.correct = static_cast<std::int64_t>(hits);
  }
  t.seconds = now_seconds() - t0;
  return t;
}

// Validation (model selection, early stopping; a refit has neither and keeps its last epoch), the
// metrics line, best.h5 and last.h5.
void Trainer::end_epoch(int epoch, const EpochTotals& t) {
  const double t0 = now_seconds() - t.seconds;
  train_seconds_ += t.seconds;
  train_frames_ += t.frames;
  train_utts_ += static_cast<double>(t.seen);
  train::Evaluation val;
  ClassMetrics vm;
  if (!refit_ && ranks_.writer()) {
    const nn::NvtxRange r("evaluation");
    val = train::evaluate(*model_, *session_, *maker_, sp_.validation, rc_.train.batch_size);
    vm = compute_metrics(val.truth, val.predicted, k_);
  }
  std::int64_t better_flag = refit_ || vm.ua > prog_.best_val_ua;
  if (ranks_.world) ranks_.world->broadcast(&better_flag, 1);  // rank 0 validated: every rank follows its decision
  const bool better = better_flag != 0;
  prog_.epoch = epoch + 1;
  prog_.batch = 0;
  if (better) {
    prog_.best_val_ua = vm.ua;
    prog_.best_epoch = epoch + 1;
    prog_.epochs_since_best = 0;
    if (ranks_.writer()) engine::write_checkpoint(best_path_, snapshot_now(false, {}));
  } else {
    ++prog_.epochs_since_best;
  }
  const double lr_now = train::learning_rate(rc_.train, std::max<std::int64_t>(prog_.step - 1, 0), per_epoch_, total_steps_);
  nlohmann::json line{{"epoch", epoch + 1}, {"step", prog_.step}, {"lr", lr_now},
                      {"train_loss", t.mean_loss()}, {"train_accuracy", t.accuracy()},
                      {"val_loss", val.loss}, {"val_accuracy", vm.accuracy}, {"val_ua", vm.ua},
                      {"val_macro_f1", vm.macro_f1}, {"best_epoch", prog_.best_epoch},
                      {"epoch_seconds", now_seconds() - t0}, {"train_seconds", t.seconds},
                      {"train_utterances_per_second", t.seen / std::max(t.seconds, 1e-9)},
                      {"train_audio_seconds_per_second", t.frames * hop_s_ / std::max(t.seconds, 1e-9)}};
  if (refit_)
    for (const char* key : {"val_loss", "val_accuracy", "val_ua", "val_macro_f1"}) line[key] = nullptr;
  if (ranks_.writer()) train::append_line(metrics_path_, line.dump());
  char msg[220];
  if (refit_)
    std::snprintf(msg, sizeof msg, "epoch %3d  train loss %.4f acc %.3f  (refit: no validation)  %.1f s\n", epoch + 1,
                  t.mean_loss(), t.accuracy(), now_seconds() - t0);
  else
    std::snprintf(msg, sizeof msg, "epoch %3d  train loss %.4f acc %.3f  val loss %.4f acc %.3f UA %.3f%s  %.1f s\n",
                  epoch + 1, t.mean_loss(), t.accuracy(), val.loss, vm.accuracy, vm.ua, better ? " *" : "",
                  now_seconds() - t0);
  log_ << msg << std::flush;
  if (ranks_.writer()) engine::write_checkpoint(last_path_, snapshot_now(true, {}));
  ranks_.barrier();
}

TrainSummary Trainer::run() {
  TrainSummary sum;
  sum.class_names = cache_.class_names;
  for (int epoch = prog_.epoch; epoch < epochs_to_run_; ++epoch) {
    if (prog_.epochs_since_best >= rc_.train.patience) break;
    end_epoch(epoch, train_epoch(epoch));
    sum.epochs_run = epoch + 1;
  }
  if (!ranks_.writer()) return sum;  // rank 0 evaluates the selected model and writes the summary
  evaluate_selected(sum);
  return sum;
}

// The validation-selected (refit: the last) model on validation and test; summary.json.
void Trainer::evaluate_selected(TrainSummary& sum) {
  const engine::Checkpoint best = engine::read_checkpoint(best_path_);
  load_weights(best_path_, best, *model_, *session_);
  if (!refit_) {
    const train::Evaluation val = train::evaluate(*model_, *session_, *maker_, sp_.validation, rc_.train.batch_size);
    sum.validation = compute_metrics(val.truth, val.predicted, k_);
  }
  sum.best_epoch = best.progress.best_epoch;
  sum.best_val_ua = best.progress.best_val_ua;
  nlohmann::json result{{"class_names", cache_.class_names}, {"split", split_json_}, {"best_epoch", sum.best_epoch},
                        {"best_val_ua", refit_ ? nlohmann::json(nullptr) : nlohmann::json(sum.best_val_ua)},
                        {"run_config", to_toml(rc_)},
                        {"validation", refit_ ? nlohmann::json(nullptr) : to_json(sum.validation)},
                        {"device", session_->describe()}, {"model", rc_.model.name},
                        {"parameters", model_->param_table().payload()}};
  sum.parameters = model_->param_table().payload();
  if (!sp_.test.empty()) {
    const double t_test = now_seconds();
    const train::Evaluation test = train::evaluate(*model_, *session_, *maker_, sp_.test, rc_.train.batch_size);
    sum.test_seconds = now_seconds() - t_test;
    sum.test_utterances = test.utterances;
    sum.test_truth = test.truth;
    sum.test_predicted = test.predicted;
    sum.test_probs = test.probs;
    if (o_.attention_examples > 0)
      sum.attention = train::probe_attention(*model_, *session_, *maker_, train::pick_examples(test, o_.attention_examples));
    sum.test = compute_metrics(test.truth, test.predicted, k_);
    sum.has_test = true;
    result["test"] = to_json(sum.test);
    nlohmann::json preds = nlohmann::json::array();
    for (std::size_t i = 0; i < test.utterances.size(); ++i) {
      const auto first = test.probs.begin() + static_cast<std::ptrdiff_t>(i) * k_;
      const auto u = static_cast<std::size_t>(test.utterances[i]);
      preds.push_back({{"index", test.utterances[i]}, {"path", cache_.paths[u]}, {"speaker", cache_.speakers[u]},
                       {"label", test.truth[i]}, {"predicted", test.predicted[i]},
                       {"probabilities", std::vector<float>(first, first + k_)}});  // posteriors, for ensembles
    }
    result["test_predictions"] = preds;
  }
  sum.seconds = now_seconds() - t_start_;
  sum.seconds_per_epoch = train_seconds_ / std::max(1, sum.epochs_run - (ck_ ? ck_->progress.epoch : 0));
  sum.train_utterances_per_second = train_utts_ / std::max(train_seconds_, 1e-9);
  sum.train_audio_seconds_per_second = train_frames_ * hop_s_ / std::max(train_seconds_, 1e-9);
  result["seconds"] = sum.seconds;
  result["train_seconds_per_epoch"] = sum.seconds_per_epoch;
  util::write_text_atomic((fs::path(o_.out_dir) / "summary.json").string(), result.dump(2) + "\n");
  char msg[200];
  if (refit_)
    std::snprintf(msg, sizeof msg, "refit: %d epochs on every non-test speaker", sum.best_epoch);
  else
    std::snprintf(msg, sizeof msg, "best epoch %d: validation UA %.3f acc %.3f", sum.best_epoch, sum.validation.ua,
                  sum.validation.accuracy);
  log_ << msg;
  if (sum.has_test) {
    std::snprintf(msg, sizeof msg, "; test UA %.3f acc %.3f macro-F1 %.3f", sum.test.ua, sum.test.accuracy, sum.test.macro_f1);
    log_ << msg;
  }
  log_ << " (" << o_.out_dir << "/summary.json)\n";
}

}  // namespace

TrainSummary run_training(const TrainOptions& o, std::ostream& log) {
  if (o.out_dir.empty()) throw Error("no run folder given (--out)");
  const FeatureCache cache = read_cache(o.cache);
  return run_training(o, cache, log);
}

TrainSummary run_training(const TrainOptions& o, const FeatureCache& given, std::ostream& log) {
  if (o.out_dir.empty()) throw Error("no run folder given (--out)");
  return Trainer(o, given, log).run();
}

}  // namespace ser
