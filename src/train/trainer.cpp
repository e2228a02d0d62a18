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
#include "train/checkpoint.hpp"
#include "train/data_parallel.hpp"
#include "train/engine_session.hpp"
#include "train/evaluate.hpp"
#include "train/optimizer.hpp"
#include "train/prefetcher.hpp"
#include "train/run_files.hpp"
#include "util/atomic_file.hpp"
#include "train/train_step.hpp"
#include "util/wall_clock.hpp"

namespace ser {
namespace fs = std::filesystem;
using train::Checkpoint;

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
Checkpoint snapshot(const nn::Model<float>& m, const train::Optimizer* opt, const train::EngineSession& s,
                    const RunConfig& rc, const FeatureCache& cache, const train::Normalizer& norm,
                    const nlohmann::json& split, const train::Progress& progress,
                    const std::vector<std::vector<int>>& order) {
  Checkpoint c;
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

}  // namespace

TrainSummary run_training(const TrainOptions& o, std::ostream& log) {
  if (o.out_dir.empty()) throw Error("no run folder given (--out)");
  const FeatureCache cache = read_cache(o.cache);
  return run_training(o, cache, log);
}

TrainSummary run_training(const TrainOptions& o, const FeatureCache& given, std::ostream& main_log) {
  const double t_start = now_seconds();
  if (o.out_dir.empty()) throw Error("no run folder given (--out)");
  // ---- data parallel: this rank's place; rank 0 alone logs and writes -----------------------------
  const parallel::MpiRanks* world = o.data_parallel ? &parallel::MpiRanks::world() : nullptr;
  const int ranks = world ? world->size() : 1, rank = world ? world->rank() : 0;
  const bool writer = rank == 0;
  std::ostream nowhere(nullptr);  // the other ranks' log
  std::ostream& log = writer ? main_log : nowhere;
  const auto barrier = [&] { if (world) world->barrier(); };  // after rank 0 wrote a file the others read
  RunConfig rc = o.config.empty() ? RunConfig{} : load_run_config(o.config);
  if (o.epochs > 0) rc.train.epochs = o.epochs;
  if (o.batch_size > 0) rc.train.batch_size = o.batch_size;
  if (o.seed >= 0) rc.train.seed = static_cast<std::uint64_t>(o.seed);
  const bool refit = o.refit_epochs > 0;
  if (refit && !o.validation_speakers.empty())
    throw Error("a refit trains on every non-test speaker: give no validation speakers with --refit-epochs");
  if (o.refit_epochs > rc.train.epochs)
    throw Error("--refit-epochs " + std::to_string(o.refit_epochs) + " exceeds the " + std::to_string(rc.train.epochs) +
                " epochs of the schedule ([train] epochs)");
  FeatureCache derived;
  if (rc.model.functionals == "utterance") derived = classic::with_utterance_features(given);
  const FeatureCache& cache = rc.model.functionals == "utterance" ? derived : given;
  const int k = static_cast<int>(cache.class_names.size());
  fs::create_directories(o.out_dir);
  const std::string last_path = (fs::path(o.out_dir) / "last.h5").string();
  const std::string best_path = (fs::path(o.out_dir) / "best.h5").string();
  const std::string metrics_path = (fs::path(o.out_dir) / "metrics.jsonl").string();

  std::optional<Checkpoint> ck;
  if (o.resume) {
    ck = train::read_checkpoint(last_path);
    if (ck->run_config_toml != to_toml(rc))
      throw file_error(last_path, "was written with another run config; resume with the same --config, --epochs "
                                  "and --batch-size (the checkpoint's config:\n" + ck->run_config_toml + ")");
    if (ck->feature_config_json != cache.config.to_json())
      throw file_error(last_path, "was trained on features with another feature config than " + o.cache);
    if (ck->split.value("refit_epochs", 0) != o.refit_epochs)
      throw file_error(last_path, "was written by a run with refit_epochs " + std::to_string(ck->split.value("refit_epochs", 0)) +
                                  "; resume with the same --refit-epochs");
    // The ranks decide which short batches are left out, and so the schedule: resume on as many.
    if (ck->split.value("data_parallel_ranks", 1) != ranks)
      throw file_error(last_path, "was written by a run on " + std::to_string(ck->split.value("data_parallel_ranks", 1)) +
                                  " rank(s); resume it on as many (mpirun -np N ... --data-parallel), not " +
                                  std::to_string(ranks));
  } else if (fs::exists(last_path)) {
    throw Error(o.out_dir + " already holds a run (last.h5); use --resume to continue it or another --out");
  }

  // ---- split, normalisation (training speakers only) ------------------------------------------
  train::Split sp;
  if (ck) sp = train::split_by_speakers(cache, ck->split.at("test").get<std::vector<std::string>>(),
                                        ck->split.at("validation").get<std::vector<std::string>>(), !refit);
  else if (refit) sp = train::split_by_speakers(cache, o.test_speakers, {}, false);
  else if (o.test_speakers.empty() && o.validation_speakers.empty()) sp = train::default_split(cache, rc.train.seed);
  else sp = train::split_by_speakers(cache, o.test_speakers, o.validation_speakers);
  nlohmann::json split_json{{"train", sp.train_speakers}, {"validation", sp.validation_speakers},
                            {"test", sp.test_speakers}};
  if (refit) split_json["refit_epochs"] = o.refit_epochs;
  if (ranks > 1) split_json["data_parallel_ranks"] = ranks;
  const train::Normalizer norm = ck ? ck->normalizer : train::fit_normalizer(cache, sp.train);

  // ---- model and memory plan -------------------------------------------------------------------
  train::EngineSession session(o.device, o.kernels, o.deterministic, log);
  if (ranks > 1 && session.on_gpu())
    throw Error("--data-parallel runs on the CPU only (the GPU path, NCCL, is not built): add --device cpu");
  if (ranks > 1 && rc.train.batch_size < ranks)
    throw Error("--data-parallel: a batch of " + std::to_string(rc.train.batch_size) + " cannot give each of " +
                std::to_string(ranks) + " ranks a row; raise [train] batch_size or use fewer ranks");
  if (ranks > 1) session.set_ranks(world);
  nn::ModelInputs inputs{cache.n_mels(), rc.model.uses_functionals() ? static_cast<int>(cache.functional_names.size()) : 0, k};
  nn::Model<float> model(rc.model, inputs);
  train::BatchMaker maker(cache, norm, model.min_frames());
  int max_frames = 0;
  for (const auto* set : {&sp.train, &sp.validation, &sp.test})
    for (int u : *set) max_frames = std::max(max_frames, maker.length_of(u, 0));
  model.plan(session.ctx(), rc.train.batch_size, max_frames, rc.train.seed);
  session.attach(model);
  train::Optimizer opt(session.ctx(), model.param_table(), rc.train);
  const double hop_s = double(cache.config.logmel.hop_length) / cache.config.logmel.sample_rate;

  log << "ser train: " << cache.corpus << " cache " << o.cache << ", " << k << " classes, model '" << rc.model.name
      << "' (" << model.param_table().payload() << " parameters) on " << session.describe() << "\n";
  log << "  speakers: train " << sp.train_speakers.size() << " (" << sp.train.size() << " utterances), validation "
      << nlohmann::json(sp.validation_speakers).dump() << " (" << sp.validation.size() << "), test "
      << nlohmann::json(sp.test_speakers).dump() << " (" << sp.test.size() << ")\n";
  for (std::size_t i = 0; i < model.layer_count(); ++i) log << "  layer " << i << ": " << model.layer(i).describe() << "\n";
  log << model.plan_report();
  if (ranks > 1)
    log << "  data parallel: " << ranks << " ranks, each global batch of " << rc.train.batch_size
        << " split between them; every rank sends " << train::bytes_summed_per_step(model)
        << " bytes per step into the sums (gradients, batch-norm statistics, loss)\n";
  if (ranks > 1 && sp.train.size() % static_cast<std::size_t>(rc.train.batch_size) != 0 &&
      static_cast<int>(sp.train.size() % static_cast<std::size_t>(rc.train.batch_size)) < ranks)
    log << "  data parallel: each epoch's short batch (" << sp.train.size() % static_cast<std::size_t>(rc.train.batch_size)
        << " utterances, fewer than the ranks) is left out of it\n";

  std::vector<float> cw(static_cast<std::size_t>(k), 1.0f);
  if (rc.train.class_weights == "balanced") cw = balanced_weights(cache, sp.train, k);
  session.set_class_weights(cw);
  session.set_label_smoothing(rc.train.label_smoothing);

  train::Progress prog;
  prog.seed = rc.train.seed;
  if (ck) {
    const auto p = train::arrange_by_name(last_path, ck->param_entries, ck->params, model.param_table(), "parameter");
    const auto s = train::arrange_by_name(last_path, ck->state_entries, ck->state, model.state_table(), "state");
    if (ck->adam_m.empty()) throw file_error(last_path, "has no Adam moments (a weights-only checkpoint cannot be resumed)");
    const auto m = train::arrange_by_name(last_path, ck->param_entries, ck->adam_m, model.param_table(), "Adam moment");
    const auto v = train::arrange_by_name(last_path, ck->param_entries, ck->adam_v, model.param_table(), "Adam moment");
    nn::upload(session.ctx(), model.params(), p.data(), sizeof(float) * p.size());
    nn::upload(session.ctx(), model.state(), s.data(), sizeof(float) * s.size());
    nn::upload(session.ctx(), opt.m(), m.data(), sizeof(float) * m.size());
    nn::upload(session.ctx(), opt.v(), v.data(), sizeof(float) * v.size());
    prog = ck->progress;
    opt.set_steps_taken(prog.step);
    if (writer) train::truncate_metrics(metrics_path, prog.epoch);
    log << "  resumed from " << last_path << " at epoch " << prog.epoch + 1 << ", batch " << prog.batch << ", step "
        << prog.step << "\n";
  } else if (writer) {
    util::write_text_atomic((fs::path(o.out_dir) / "config.toml").string(), to_toml(rc));
    util::write_text_atomic(metrics_path, "");
  }

  const int crop = rc.train.max_frames;
  const std::int64_t per_epoch = train::batches_per_epoch(sp.train.size(), rc.train.batch_size, ranks);
  const std::int64_t total_steps = per_epoch * rc.train.epochs;  // the schedule's length, refit or not
  const int epochs_to_run = refit ? o.refit_epochs : rc.train.epochs;
  TrainSummary sum;
  sum.class_names = cache.class_names;
  double train_seconds = 0, train_frames = 0, train_utts = 0;
  const bool tty = o.progress && writer && isatty(STDERR_FILENO);

  for (int epoch = prog.epoch; epoch < epochs_to_run; ++epoch) {
    if (prog.epochs_since_best >= rc.train.patience) break;
    const double t0 = now_seconds();
    std::vector<std::vector<int>> order =
        (ck && epoch == ck->progress.epoch && !ck->data_order.empty())
            ? ck->data_order
            : train::shareable_batches(train::epoch_batches(sp.train, maker, rc.train.batch_size, rc.train.bucket_batches,
                                                            crop, rc.train.seed, epoch),
                                       ranks);
    const std::uint64_t crop_seed = nn::mix64(rc.train.seed ^ nn::mix64(0xc0900000ULL + static_cast<std::uint64_t>(epoch)));
    const int first = epoch == prog.epoch ? prog.batch : 0;
    double loss_sum = 0, frames = 0;
    std::int64_t seen = 0, correct = 0;
    train::Prefetcher loader(maker, order, static_cast<std::size_t>(first), crop, crop_seed,
                             train::spec_augment_enabled(rc.train) || rc.train.mixup_alpha > 0 ? &rc.train : nullptr);
    train::HostBatch b;  // the global batch
    double last_draw = 0;
    for (int bi = first; loader.next(b); ++bi) {
      const nn::NvtxRange step_range("train step");
      const train::RankSlice slice = train::slice_of(b.n, rank, ranks);
      const train::HostBatch mine = ranks > 1 ? train::take_rows(b, slice) : train::HostBatch{};
      const train::HostBatch& local = ranks > 1 ? mine : b;  // this rank's rows
      {
        const nn::NvtxRange r("load batch");
        session.load_batch(local);
        if (ranks > 1) {
          model.set_first_row(slice.first);
          const train::WeightSums w = train::weight_sums(b, cw);
          session.set_global_weight_sums(w.labels, w.mix_labels);
        }
      }
      const std::uint64_t step_seed = nn::mix64(rc.train.seed ^ nn::mix64(static_cast<std::uint64_t>(prog.step)));
      const double lr = train::learning_rate(rc.train, prog.step, per_epoch, total_steps);
      const double loss = train::train_step(model, session, opt, local.n, step_seed, lr, true);
      if (!std::isfinite(loss))
        throw Error("training diverged: loss " + std::to_string(loss) + " at step " + std::to_string(prog.step) +
                    " (lower [train] lr or set clip_norm)");
      std::vector<float> p(static_cast<std::size_t>(local.n) * k);
      nn::download(session.ctx(), p.data(), session.probs(), sizeof(float) * p.size());
      for (int i = 0; i < local.n; ++i) {
        const float* row = &p[static_cast<std::size_t>(i) * k];
        correct += (std::max_element(row, row + k) - row) == local.labels[static_cast<std::size_t>(i)];
      }
      ++prog.step;
      prog.batch = bi + 1;
      loss_sum += loss * b.n;
      seen += b.n;
      for (int l : b.lengths) frames += l;
      if (tty && (now_seconds() - last_draw > 0.2 || bi + 1 == static_cast<int>(order.size()))) {
        last_draw = now_seconds();
        const double el = now_seconds() - t0;
        const double done = double(bi + 1 - first) / std::max<double>(1, static_cast<double>(order.size()) - first);
        const double rest_epoch = el / std::max(done, 1e-9) - el;
        const double per_ep = el / std::max(done, 1e-9);
        char line[200];
        std::snprintf(line, sizeof line, "\repoch %d/%d  batch %d/%zu  loss %.4f  %.0f utt/s  ETA %s   ", epoch + 1,
                      epochs_to_run, bi + 1, order.size(), loss_sum / std::max<std::int64_t>(seen, 1),
                      seen / std::max(el, 1e-9), clock_text(rest_epoch + per_ep * (epochs_to_run - epoch - 1)).c_str());
        std::cerr << line << std::flush;
      }
      if (o.checkpoint_every > 0 && prog.step % o.checkpoint_every == 0) {
        if (writer) train::write_checkpoint(last_path, snapshot(model, &opt, session, rc, cache, norm, split_json, prog, order));
        barrier();
      }
      if (o.kill_at_step >= 0 && prog.step == o.kill_at_step) std::raise(SIGKILL);
    }
    if (tty) std::cerr << "\n";
    if (world) {  // every rank counted its own rows' hits
      double hits = static_cast<double>(correct);
      world->sum(&hits, 1);
      correct = static_cast<std::int64_t>(hits);
    }
    const double epoch_train_s = now_seconds() - t0;
    train_seconds += epoch_train_s;
    train_frames += frames;
    train_utts += static_cast<double>(seen);

    // ---- validation: model selection and early stopping (a refit has neither: its last epoch is kept)
    train::Evaluation val;
    ClassMetrics vm;
    if (!refit && writer) {
      const nn::NvtxRange r("evaluation");
      val = train::evaluate(model, session, maker, sp.validation, rc.train.batch_size);
      vm = compute_metrics(val.truth, val.predicted, k);
    }
    std::int64_t better_flag = refit || vm.ua > prog.best_val_ua;
    if (world) world->broadcast(&better_flag, 1);  // rank 0 validated: every rank follows its decision
    const bool better = better_flag != 0;
    prog.epoch = epoch + 1;
    prog.batch = 0;
    if (better) {
      prog.best_val_ua = vm.ua;
      prog.best_epoch = epoch + 1;
      prog.epochs_since_best = 0;
      if (writer) train::write_checkpoint(best_path, snapshot(model, nullptr, session, rc, cache, norm, split_json, prog, {}));
    } else {
      ++prog.epochs_since_best;
    }
    const double lr_now = train::learning_rate(rc.train, std::max<std::int64_t>(prog.step - 1, 0), per_epoch, total_steps);
    nlohmann::json line{{"epoch", epoch + 1}, {"step", prog.step}, {"lr", lr_now},
                              {"train_loss", seen ? loss_sum / seen : 0.0},
                              {"train_accuracy", seen ? double(correct) / seen : 0.0},
                              {"val_loss", val.loss}, {"val_accuracy", vm.accuracy}, {"val_ua", vm.ua},
                              {"val_macro_f1", vm.macro_f1}, {"best_epoch", prog.best_epoch},
                              {"epoch_seconds", now_seconds() - t0}, {"train_seconds", epoch_train_s},
                              {"train_utterances_per_second", seen / std::max(epoch_train_s, 1e-9)},
                              {"train_audio_seconds_per_second", frames * hop_s / std::max(epoch_train_s, 1e-9)}};
    if (refit)
      for (const char* key : {"val_loss", "val_accuracy", "val_ua", "val_macro_f1"}) line[key] = nullptr;
    if (writer) train::append_line(metrics_path, line.dump());
    char msg[220];
    if (refit)
      std::snprintf(msg, sizeof msg, "epoch %3d  train loss %.4f acc %.3f  (refit: no validation)  %.1f s\n", epoch + 1,
                    seen ? loss_sum / seen : 0.0, seen ? double(correct) / seen : 0.0, now_seconds() - t0);
    else
      std::snprintf(msg, sizeof msg, "epoch %3d  train loss %.4f acc %.3f  val loss %.4f acc %.3f UA %.3f%s  %.1f s\n",
                    epoch + 1, seen ? loss_sum / seen : 0.0, seen ? double(correct) / seen : 0.0, val.loss, vm.accuracy,
                    vm.ua, better ? " *" : "", now_seconds() - t0);
    log << msg << std::flush;
    if (writer) train::write_checkpoint(last_path, snapshot(model, &opt, session, rc, cache, norm, split_json, prog, {}));
    barrier();
    sum.epochs_run = epoch + 1;
  }
  if (!writer) return sum;  // rank 0 evaluates the selected model and writes the summary

  // ---- the validation-selected (refit: the last) model on validation and test ----------------------
  const Checkpoint best = train::read_checkpoint(best_path);
  const auto bp = train::arrange_by_name(best_path, best.param_entries, best.params, model.param_table(), "parameter");
  const auto bs = train::arrange_by_name(best_path, best.state_entries, best.state, model.state_table(), "state");
  nn::upload(session.ctx(), model.params(), bp.data(), sizeof(float) * bp.size());
  nn::upload(session.ctx(), model.state(), bs.data(), sizeof(float) * bs.size());
  if (!refit) {
    const train::Evaluation val = train::evaluate(model, session, maker, sp.validation, rc.train.batch_size);
    sum.validation = compute_metrics(val.truth, val.predicted, k);
  }
  sum.best_epoch = best.progress.best_epoch;
  sum.best_val_ua = best.progress.best_val_ua;
  nlohmann::json result{{"class_names", cache.class_names}, {"split", split_json}, {"best_epoch", sum.best_epoch},
                        {"best_val_ua", refit ? nlohmann::json(nullptr) : nlohmann::json(sum.best_val_ua)},
                        {"run_config", to_toml(rc)},
                        {"validation", refit ? nlohmann::json(nullptr) : to_json(sum.validation)},
                        {"device", session.describe()}, {"model", rc.model.name},
                        {"parameters", model.param_table().payload()}};
  sum.parameters = model.param_table().payload();
  if (!sp.test.empty()) {
    const double t_test = now_seconds();
    const train::Evaluation test = train::evaluate(model, session, maker, sp.test, rc.train.batch_size);
    sum.test_seconds = now_seconds() - t_test;
    sum.test_utterances = test.utterances;
    sum.test_truth = test.truth;
    sum.test_predicted = test.predicted;
    sum.test_probs = test.probs;
    if (o.attention_examples > 0)
      sum.attention = train::probe_attention(model, session, maker,
                                             train::pick_examples(test, o.attention_examples));
    sum.test = compute_metrics(test.truth, test.predicted, k);
    sum.has_test = true;
    result["test"] = to_json(sum.test);
    nlohmann::json preds = nlohmann::json::array();
    for (std::size_t i = 0; i < test.utterances.size(); ++i) {
      const auto first = test.probs.begin() + static_cast<std::ptrdiff_t>(i) * k;
      preds.push_back({{"index", test.utterances[i]},
                       {"path", cache.paths[static_cast<std::size_t>(test.utterances[i])]},
                       {"speaker", cache.speakers[static_cast<std::size_t>(test.utterances[i])]},
                       {"label", test.truth[i]}, {"predicted", test.predicted[i]},
                       {"probabilities", std::vector<float>(first, first + k)}});  // posteriors, for ensembles
    }
    result["test_predictions"] = preds;
  }
  sum.seconds = now_seconds() - t_start;
  sum.seconds_per_epoch = train_seconds / std::max(1, sum.epochs_run - (ck ? ck->progress.epoch : 0));
  sum.train_utterances_per_second = train_utts / std::max(train_seconds, 1e-9);
  sum.train_audio_seconds_per_second = train_frames * hop_s / std::max(train_seconds, 1e-9);
  result["seconds"] = sum.seconds;
  result["train_seconds_per_epoch"] = sum.seconds_per_epoch;
  util::write_text_atomic((fs::path(o.out_dir) / "summary.json").string(), result.dump(2) + "\n");
  char msg[200];
  if (refit)
    std::snprintf(msg, sizeof msg, "refit: %d epochs on every non-test speaker", sum.best_epoch);
  else
    std::snprintf(msg, sizeof msg, "best epoch %d: validation UA %.3f acc %.3f", sum.best_epoch, sum.validation.ua,
                  sum.validation.accuracy);
  log << msg;
  if (sum.has_test) {
    std::snprintf(msg, sizeof msg, "; test UA %.3f acc %.3f macro-F1 %.3f", sum.test.ua, sum.test.accuracy, sum.test.macro_f1);
    log << msg;
  }
  log << " (" << o.out_dir << "/summary.json)\n";
  return sum;
}

}  // namespace ser
