// ser inspect — summary of a feature cache.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "ser/cache.hpp"

namespace ser::cli {

void register_inspect(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("inspect", "Print a summary of a feature cache (.h5)");
  cmd->add_option("cache", *path, "feature cache file")->required();
  cmd->callback([path] { std::cout << describe_cache(read_cache(*path), *path); });
}

}  // namespace ser::cli
