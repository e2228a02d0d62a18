// src/experiment/run_context.cpp — the command line of a run.
#include "experiment/run_context.hpp"

namespace ser::run_context {

namespace {
std::string g_command;
}  // namespace

void set_command_line(int argc, const char* const* argv) {
  g_command.clear();
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i == 0) a = a.substr(a.find_last_of('/') + 1);
    if (a.find_first_of(" \t'\"") != std::string::npos) a = "'" + a + "'";
    g_command.append(i ? " " : "").append(a);
  }
}

std::string command_line() { return g_command; }

}  // namespace ser::run_context
