// ser train — train a model on a feature cache, speaker-independently.
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "parallel/mpi_ranks.hpp"
#include "ser/train.hpp"

namespace ser::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

void register_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model on a feature cache (speaker-independent split)");
  auto opt = std::make_shared<TrainOptions>();
  auto test = std::make_shared<std::string>();
  auto val = std::make_shared<std::string>();
  auto dev = std::make_shared<DeviceOptions>();
  cmd->add_option("--cache", opt->cache, "feature cache made by `ser features`")->required();
  cmd->add_option("--config", opt->config, "run config (TOML, e.g. experiments/cnn_attn.toml); default: built-in cnn_attn");
  cmd->add_option("--out", opt->out_dir, "run folder (metrics.jsonl, last.h5, best.h5, summary.json)")->required();
  cmd->add_option("--test-speakers", *test, "comma-separated test speakers (never trained on or selected with)");
  cmd->add_option("--val-speakers", *val, "comma-separated validation speakers (model selection, early stopping)");
  cmd->add_option("--epochs", opt->epochs, "override [train] epochs");
  cmd->add_option("--refit-epochs", opt->refit_epochs,
                  "refit: train this many epochs of the schedule on every non-test speaker (no --val-speakers), "
                  "keep the last model");
  cmd->add_option("--batch-size", opt->batch_size, "override [train] batch_size");
  cmd->add_flag("--resume", opt->resume, "continue the run in --out from its last checkpoint");
  cmd->add_option("--checkpoint-every", opt->checkpoint_every, "also checkpoint every N steps (0 = epoch ends)");
  cmd->add_flag("--deterministic", opt->deterministic, "GPU: deterministic algorithms only (docs/training.md)");
  cmd->add_flag("!--no-progress", opt->progress, "no progress bar");
  cmd->add_flag("--data-parallel", opt->data_parallel,
                "under mpirun -np N: each rank trains on its slice of every global batch (CPU; docs/cluster.md)");
  cmd->add_option("--kill-at-step", opt->kill_at_step, "testing: SIGKILL ser after this optimizer step")
      ->group("");  // hidden
  add_device_options(*cmd, *dev);
  cmd->callback([opt, test, val, dev] {
    opt->test_speakers = split_list(*test);
    opt->validation_speakers = split_list(*val);
    opt->device = dev->device;
    opt->kernels = dev->kernels;
    // MPI starts before anything can fail, so that a failing rank can stop the others (main.cpp).
    if (opt->data_parallel) parallel::MpiRanks::world();
    run_training(*opt, std::cerr);
  });
}

}  // namespace ser::cli
