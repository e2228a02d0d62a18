// ser — speech emotion recognition: one executable, one subcommand per job.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.hpp"
#include "experiment/run_context.hpp"
#include "parallel/mpi_ranks.hpp"
#include "ser/build_info.hpp"
#include "ser/error.hpp"

namespace {

// Under mpirun (ser train --data-parallel) one rank's error stops every rank of the job: the others
// would otherwise wait in their next collective forever.
int stop(int code) {
  std::cerr << std::flush;
  if (ser::parallel::MpiRanks::started()) ser::parallel::MpiRanks::abort_job(code);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  ser::run_context::set_command_line(argc, argv);
  CLI::App app{"ser " SER_VERSION " — speech emotion recognition: features, training and evaluation on CPU and CUDA"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ser " SER_VERSION " (commit ") + ser::build_commit() + ")");
  ser::cli::register_demo(app);
  ser::cli::register_features(app);
  ser::cli::register_inspect(app);
  ser::cli::register_corpus(app);
  ser::cli::register_bench(app);
  ser::cli::register_device(app);
  ser::cli::register_train(app);
  ser::cli::register_profile(app);
  ser::cli::register_export(app);
  ser::cli::register_predict(app);
  ser::cli::register_experiment(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ser::Error& e) {
    std::cerr << "ser: error: " << e.what() << "\n";
    return stop(1);
  } catch (const std::exception& e) {
    std::cerr << "ser: unexpected error: " << e.what() << "\n";
    return stop(1);
  }
  return 0;
}
