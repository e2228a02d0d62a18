// ser experiment — every model x fold x seed of experiments/NAME.toml → runs/NAME/{results.json,
// results.md, report.html}.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "ser/experiment.hpp"

namespace ser::cli {

namespace {

struct ExperimentArgs {
  ExperimentOptions options;
  DeviceOptions device;
  bool no_progress = false;
};

void run(ExperimentArgs& a) {
  a.options.device = a.device.device;
  a.options.kernels = a.device.kernels;
  a.options.threads = a.device.threads;
  a.options.frontend = resolve_frontend_path(a.device);
  a.options.progress = !a.no_progress;
  const std::string path = run_experiment(a.options, std::cerr);
  std::cout << path << "\n";
}

}  // namespace

void register_experiment(CLI::App& app) {
  auto args = std::make_shared<ExperimentArgs>();
  CLI::App* cmd = app.add_subcommand(
      "experiment", "Run an experiment file: every model x speaker-independent fold x seed, with results and a report");
  cmd->add_option("config", args->options.config, "experiments/NAME.toml")->required();
  cmd->add_option("--data", args->options.data, "the corpus folder (not needed for the synthetic corpus)");
  cmd->add_option("--test-data", args->options.test_data, "cross-corpus: the test corpus's folder");
  cmd->add_option("--cache", args->options.cache, "use this feature cache of the corpus instead of extracting one");
  cmd->add_option("--runs", args->options.runs_dir, "folder of experiment results (results go to RUNS/NAME)")
      ->capture_default_str();
  cmd->add_option("--epochs", args->options.epochs, "override every engine model's epochs (quick runs)");
  cmd->add_option("--seeds", args->options.seeds, "override the experiment's seeds (e.g. --seeds 1 2)");
  cmd->add_flag("--fresh", args->options.fresh, "ignore finished runs of this experiment and start over");
  cmd->add_flag("--worker", args->options.worker,
                "cooperate with other ser experiment --worker processes on the same run folder (docs/cluster.md)");
  cmd->add_option("--claim-timeout", args->options.claim_timeout_seconds,
                  "--worker: take over a run whose claim was not refreshed for this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--no-progress", args->no_progress, "no progress bars");
  add_device_options(*cmd, args->device);
  cmd->callback([args] { run(*args); });
}

}  // namespace ser::cli
