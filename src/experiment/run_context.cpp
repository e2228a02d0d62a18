// src/experiment/run_context.cpp — command line and commit of a run.
#include "experiment/run_context.hpp"

#include <array>
#include <cstdio>
#include <memory>

namespace ser::run_context {

namespace {
std::string g_command;

std::string capture(const char* cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd, "r"), pclose);
  if (!p) return "";
  std::string out;
  std::array<char, 256> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p.get())) out += buf.data();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}
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

std::string git_commit() {
  const std::string hash = capture("git rev-parse --short HEAD 2>/dev/null");
  if (hash.empty()) return "unknown";
  const std::string dirty = capture("git status --porcelain --untracked-files=no 2>/dev/null");
  return dirty.empty() ? hash : hash + "+dirty";
}

}  // namespace ser::run_context
