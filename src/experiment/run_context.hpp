// src/experiment/run_context.hpp — what an experiment records about how it was run: the command line
// (set once by the ser executable); the commit is ser::build_commit().
#pragma once
#include <string>

namespace ser::run_context {

void set_command_line(int argc, const char* const* argv);
std::string command_line();   // "ser experiment experiments/x.toml --data ..." ("" when not set)

}  // namespace ser::run_context
