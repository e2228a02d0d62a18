// Folder checks and .wav listing shared by the folder-based corpus adapters.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {

fs::path require_directory(const std::string& root, const std::string& corpus) {
  std::error_code ec;
  if (root.empty()) throw Error(corpus + ": no corpus folder given");
  if (!fs::exists(root, ec)) throw file_error(root, corpus + " corpus folder not found");
  if (!fs::is_directory(root, ec)) throw file_error(root, "not a folder (the " + corpus + " corpus is a folder)");
  return fs::path(root);
}

namespace {
bool is_hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}
bool has_wav_extension(const fs::path& p) { return to_lower(p.extension().string()) == ".wav"; }
}  // namespace

std::vector<fs::path> list_wav_files(const fs::path& dir, bool recursive) {
  std::vector<fs::path> files;
  std::error_code ec;
  const auto consider = [&](const fs::directory_entry& entry) {
    std::error_code ignored;
    if (!is_hidden(entry.path()) && has_wav_extension(entry.path()) && entry.is_regular_file(ignored)) {
      files.push_back(entry.path());
    }
  };
  if (recursive) {
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) throw file_error(dir.string(), "cannot list the folder: " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) throw file_error(dir.string(), "cannot list the folder: " + ec.message());
      std::error_code ignored;
      if (is_hidden(it->path()) && it->is_directory(ignored)) {
        it.disable_recursion_pending();
        continue;
      }
      consider(*it);
    }
  } else {
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) throw file_error(dir.string(), "cannot list the folder: " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) throw file_error(dir.string(), "cannot list the folder: " + ec.message());
      consider(*it);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string relative_path(const fs::path& file, const fs::path& root) {
  return file.lexically_relative(root).generic_string();
}

void require_some(const std::vector<fs::path>& files, const fs::path& dir, const std::string& corpus) {
  if (files.empty()) throw file_error(dir.string(), "no .wav files found (expected the " + corpus + " corpus here)");
}

std::string read_text_file(const fs::path& file, const std::string& what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw file_error(file.string(), "cannot open " + what);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw file_error(file.string(), "cannot read " + what);
  return text.str();
}

}  // namespace ser::corpus
