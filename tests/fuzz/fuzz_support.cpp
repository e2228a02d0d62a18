#include "fuzz_support.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace ser::fuzz {
namespace {

namespace fs = std::filesystem;

struct ScratchFolder {
  fs::path dir;
  ScratchFolder() {
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    dir = base / ("ser-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  ~ScratchFolder() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

std::string scratch_path(const std::string& name) {
  static ScratchFolder folder;
  return (folder.dir / name).string();
}

void write_input(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write the input to %s\n", path.c_str());
    std::abort();
  }
}

void broken_promise(const char* what) {
  std::fprintf(stderr, "fuzz: the reader broke its promise: %s\n", what);
  std::abort();
}

}  // namespace ser::fuzz
