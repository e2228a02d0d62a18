// The folder of saved progress beside a cache being extracted: found, checked and resumed, or set
// aside with a message; never trusted beyond its identity and each batch's checksum.
#include "cache/partial_extraction.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

#include "cache/extraction_identity.hpp"
#include "ser/error.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;

constexpr char kIdentityFile[] = "identity";

// The batch number of "batch-NNNNNN.bin", or -1 for any other name.
long long batch_number(const std::string& name) {
  constexpr std::string_view prefix = "batch-", suffix = ".bin";
  if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return -1;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(digits);
}

bool is_temporary(const std::string& name) { return name.find(".tmp-") != std::string::npos; }

// Refuses a folder that holds anything ser did not put there: it is about to be removed.
void require_ours(const std::string& dir) {
  if (!fs::is_directory(dir))
    throw file_error(dir, "exists but is not a folder of saved extraction progress; "
                          "move it away or choose another --out");
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || (name != kIdentityFile && batch_number(name) < 0 && !is_temporary(name)))
      throw file_error(dir, std::string("holds ").append(name).append(
                                ", which is not saved extraction progress; move it away or choose another --out"));
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text_whole(const std::string& path, const std::string& text) {
  const std::string tmp = std::string(path).append(".tmp-").append(std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      const std::string why = std::strerror(errno);
      std::error_code ec;
      fs::remove(tmp, ec);
      throw file_error(tmp, "writing the identity of the saved extraction progress failed: " + why);
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw file_error(path, "saving the identity of the saved extraction progress failed: " + ec.message());
  }
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s.append(s.empty() ? "" : ", ").append(x);
  return s;
}

}  // namespace

PartialExtraction::PartialExtraction(const std::string& out_path, std::string identity)
    : dir_(out_path + ".partial"), identity_(std::move(identity)), digest_(identity_digest(identity_)) {}

std::string PartialExtraction::batch_path(std::size_t k) const {
  char name[40];
  std::snprintf(name, sizeof name, "batch-%06zu.bin", k);
  return (fs::path(dir_) / name).string();
}

void PartialExtraction::clear() {
  identity_written_ = false;
  if (!fs::exists(fs::symlink_status(dir_))) return;
  require_ours(dir_);
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) throw file_error(dir_, "removing the earlier saved extraction progress failed: " + ec.message());
}

std::size_t PartialExtraction::resume(std::size_t batch_size, std::size_t total, std::ostream& log,
                                      const std::function<void(SavedBatch&&)>& restore) {
  if (!fs::exists(fs::symlink_status(dir_))) return 0;
  require_ours(dir_);
  const std::string saved = read_text((fs::path(dir_) / kIdentityFile).string());
  if (saved != identity_) {
    const bool damaged =
        saved.empty() || saved.rfind("format ser-partial-extraction 1\n", 0) != 0 || saved.back() != '\n';
    log << "saved progress " << dir_ << ": "
        << (damaged ? std::string("its identity file is missing or damaged")
                    : "it was made with a different " + joined(identity_differences(saved, identity_)))
        << "; starting over\n";
    clear();
    return 0;
  }
  identity_written_ = true;

  std::size_t k = 0;
  for (; k * batch_size < total; ++k) {
    const std::uint64_t begin = k * batch_size, end = std::min<std::uint64_t>(total, begin + batch_size);
    const std::string path = batch_path(k);
    if (!fs::exists(path)) break;
    SavedBatch b;
    try {
      b = read_batch_file(path, digest_);
      bool placed = b.begin == begin && b.end == end && b.utterances.size() == end - begin;
      for (std::size_t i = 0; placed && i < b.utterances.size(); ++i) placed = b.utterances[i].index == begin + i;
      if (!placed)
        throw file_error(path, std::string("does not hold utterances ").append(std::to_string(begin)).append("..")
                                   .append(std::to_string(end - 1)));
    } catch (const Error& e) {
      log << "saved progress: " << e.what() << "; extracting again from utterance " << begin << "\n";
      break;
    }
    restore(std::move(b));
  }
  // Batches after the first missing or damaged one, and temporaries of killed runs, are not used.
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    const long long n = batch_number(name);
    std::error_code ec;
    if (is_temporary(name) || (n >= 0 && static_cast<std::size_t>(n) >= k)) fs::remove(e.path(), ec);
  }
  return k;
}

void PartialExtraction::discard(std::ostream& log, const std::string& why) {
  if (!fs::exists(fs::symlink_status(dir_))) return;
  log << "saved progress " << dir_ << ": not resumed (" << why << "); starting over\n";
  clear();
}

void PartialExtraction::save(std::size_t k, const SavedBatch& batch) {
  if (!identity_written_) {
    clear();
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw file_error(dir_, "cannot create the folder for saved extraction progress: " + ec.message());
    write_text_whole((fs::path(dir_) / kIdentityFile).string(), identity_);
    identity_written_ = true;
  }
  write_batch_file(batch_path(k), digest_, batch);
}

void PartialExtraction::remove(std::ostream& log) {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) log << "warning: could not remove the saved extraction progress " << dir_ << ": " << ec.message() << "\n";
}

}  // namespace ser
