// src/export/safetensors.cpp — reading and writing safetensors files (float32 only).
#include "export/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <nlohmann/json.hpp>

#include "ser/error.hpp"
#include "util/atomic_file.hpp"

namespace ser::safetensors {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; so is this code");

namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;  // the format's own limit (100 MB)
const char* const kMetadataKey = "__metadata__";

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s.append(i ? ", " : "").append(std::to_string(shape[i]));
  return s + "]";
}

// Product of the dimensions, or -1 when it would exceed `limit`.
std::int64_t element_count(const std::vector<std::int64_t>& shape, std::int64_t limit) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > limit / d) return -1;
    n *= d;
  }
  return n;
}

// Parses the header, refusing duplicate keys at the top level (nlohmann keeps the last silently).
nlohmann::json parse_header(const std::string& path, const std::string& text) {
  std::set<std::string> keys;
  std::string duplicate;
  const auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && !keys.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, on_event);
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, std::string("safetensors header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) throw file_error(path, "safetensors header names '" + duplicate + "' twice");
  if (!header.is_object()) throw file_error(path, "safetensors header is not a JSON object");
  return header;
}

std::int64_t non_negative_int(const std::string& path, const std::string& name, const char* field,
                              const nlohmann::json& v) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
    throw file_error(path, "tensor '" + name + "': " + field + " must hold non-negative integers, found " + v.dump());
  return v.get<std::int64_t>();
}

}  // namespace

const Tensor* File::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

void write_file(const std::string& path, const File& file) {
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t offset = 0;
  for (const auto& t : file.tensors) {
    if (t.name.empty() || t.name == kMetadataKey) throw Error(path + ": invalid tensor name '" + t.name + "'");
    if (header.contains(t.name)) throw Error(path + ": tensor '" + t.name + "' given twice");
    const std::int64_t n = element_count(t.shape, std::int64_t(1) << 40);
    if (n < 0 || static_cast<std::size_t>(n) != t.values.size())
      throw Error(path + ": tensor '" + t.name + "' has shape " + shape_text(t.shape) + " but " +
                  std::to_string(t.values.size()) + " values");
    const std::uint64_t bytes = sizeof(float) * t.values.size();
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!file.metadata.empty()) header[kMetadataKey] = file.metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // 8 + N is a multiple of 8: the data starts aligned

  util::write_file_atomic(path, [&](std::ostream& out) {
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(std::uint64_t(text.size()) >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : file.tensors)
      out.write(reinterpret_cast<const char*>(t.values.data()), static_cast<std::streamsize>(sizeof(float) * t.values.size()));
  });
}

bool looks_like_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char head[9];
  if (!in.read(reinterpret_cast<char*>(head), 9)) return false;
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::uint64_t(head[i]) << (8 * i);
  return n >= 2 && n <= kMaxHeaderBytes && head[8] == '{';
}

File read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, std::filesystem::exists(path) ? "cannot open" : "file not found");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8) throw file_error(path, "not a safetensors file (" + std::to_string(bytes.size()) + " bytes)");
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::uint64_t(static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)])) << (8 * i);
  if (n > kMaxHeaderBytes || n > bytes.size() - 8)
    throw file_error(path, "not a safetensors file, or truncated: its header length " + std::to_string(n) +
                               " runs past the end of the file (" + std::to_string(bytes.size()) + " bytes)");
  if (n < 2 || bytes[8] != '{') throw file_error(path, "not a safetensors file (the header does not start with '{')");
  const nlohmann::json header = parse_header(path, bytes.substr(8, n));
  const std::uint64_t data_begin = 8 + n, data_size = bytes.size() - data_begin;

  File file;
  struct Span { std::uint64_t begin, end; std::size_t tensor; };
  std::vector<Span> spans;
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) {
      if (!entry.is_object()) throw file_error(path, "__metadata__ is not a JSON object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw file_error(path, "__metadata__ value '" + k + "' is not a string");
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw file_error(path, "tensor '" + name + "': expected an object with dtype, shape and data_offsets");
    if (!entry["dtype"].is_string()) throw file_error(path, "tensor '" + name + "': dtype is not a string");
    const std::string dtype = entry["dtype"].get<std::string>();
    if (dtype != "F32") throw file_error(path, "tensor '" + name + "' has dtype " + dtype + "; ser reads F32 tensors only");
    const auto& shape = entry["shape"];
    const auto& offsets = entry["data_offsets"];
    if (!shape.is_array()) throw file_error(path, "tensor '" + name + "': shape is not an array");
    if (!offsets.is_array() || offsets.size() != 2) throw file_error(path, "tensor '" + name + "': data_offsets is not [begin, end]");
    Tensor t;
    t.name = name;
    for (const auto& d : shape) t.shape.push_back(non_negative_int(path, name, "shape", d));
    const auto begin = static_cast<std::uint64_t>(non_negative_int(path, name, "data_offsets", offsets[0]));
    const auto end = static_cast<std::uint64_t>(non_negative_int(path, name, "data_offsets", offsets[1]));
    if (end < begin) throw file_error(path, "tensor '" + name + "': data_offsets end before they begin");
    if (end > data_size)
      throw file_error(path, "tensor '" + name + "': data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                                 "] run past the end of the data (" + std::to_string(data_size) + " bytes): truncated file");
    const std::int64_t count = element_count(t.shape, static_cast<std::int64_t>(data_size / sizeof(float)) + 1);
    if (count < 0 || static_cast<std::uint64_t>(count) * sizeof(float) != end - begin)
      throw file_error(path, "tensor '" + name + "': shape " + shape_text(t.shape) + " does not fit its " +
                                 std::to_string(end - begin) + " bytes of F32 data");
    t.values.resize(static_cast<std::size_t>(count));
    if (count > 0) std::memcpy(t.values.data(), bytes.data() + data_begin + begin, end - begin);
    spans.push_back({begin, end, file.tensors.size()});
    file.tensors.push_back(std::move(t));
  }
  // Every byte of the data buffer belongs to exactly one tensor.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    if (s.begin < covered)
      throw file_error(path, "tensors '" + file.tensors[spans[i - 1].tensor].name + "' and '" + file.tensors[s.tensor].name +
                                 "' overlap in the data buffer");
    if (s.begin > covered)
      throw file_error(path, "bytes " + std::to_string(covered) + ".." + std::to_string(s.begin) +
                                 " of the data buffer belong to no tensor");
    covered = s.end;
  }
  if (covered != data_size)
    throw file_error(path, std::to_string(data_size - covered) + " bytes after the last tensor belong to no tensor");
  std::vector<Tensor> ordered;
  for (const Span& s : spans) ordered.push_back(std::move(file.tensors[s.tensor]));
  file.tensors = std::move(ordered);
  return file;
}

}  // namespace ser::safetensors
