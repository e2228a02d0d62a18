// RAII handles and checked helpers over the HDF5 C API, used by the cache and checkpoints.
// Every failing call becomes a ser::Error naming the file and what was being done.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ser/error.hpp"

namespace ser::h5 {

class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// Silences HDF5's own error printing once; ser reports errors itself.
void quiet_errors();

Handle check(hid_t id, Handle::Closer closer, const std::string& file, const std::string& what);
void check(herr_t status, const std::string& file, const std::string& what);
// Creates (truncates) the HDF5 file `tmp`; on failure the error names `tmp` and the system's reason
// (e.g. "Permission denied", "No such file or directory"), found by trying to create it directly.
Handle create_file(const std::string& tmp, const std::string& what);

// The checksum block (src/cache/h5_seal.cpp): create_file reserves it, seal_file fills it in once
// the file is written and closed (before the rename), open_sealed checks it and only then lets HDF5
// open the file. `kind` names the file in errors ("feature cache"); `advice` says what to do about
// a file from an older ser.
inline constexpr std::size_t kSealBytes = 512;
inline constexpr char kSealMagic[] = "ser-hdf5-seal 1\n";  // how a sealed file starts
Handle creation_properties_with_seal_block(const std::string& file);
void seal_file(const std::string& file);
Handle open_sealed(const std::string& file, const std::string& kind, const std::string& advice);

// Writers (chunked, shuffle + deflate for the numeric datasets unless told not to compress).
enum class Compression { deflate, none };
void write_f32(hid_t file, const std::string& path, const std::string& name, const std::vector<float>& data,
               std::vector<hsize_t> dims, Compression compression = Compression::deflate);
void write_i64(hid_t file, const std::string& path, const std::string& name, const std::vector<std::int64_t>& data);
void write_i32(hid_t file, const std::string& path, const std::string& name, const std::vector<std::int32_t>& data);
void write_strings(hid_t file, const std::string& path, const std::string& name, const std::vector<std::string>& data);
void write_attr_string(hid_t obj, const std::string& path, const std::string& name, const std::string& value);
void write_attr_strings(hid_t obj, const std::string& path, const std::string& name, const std::vector<std::string>& v);
void write_attr_int(hid_t obj, const std::string& path, const std::string& name, std::int64_t value);

// Readers: throw naming the file and dataset when it is missing or has the wrong type/rank.
std::vector<hsize_t> dataset_dims(hid_t file, const std::string& path, const std::string& name);
std::vector<float> read_f32(hid_t file, const std::string& path, const std::string& name, std::vector<hsize_t>* dims);
std::vector<std::int64_t> read_i64(hid_t file, const std::string& path, const std::string& name);
std::vector<std::int32_t> read_i32(hid_t file, const std::string& path, const std::string& name);
std::vector<std::string> read_strings(hid_t file, const std::string& path, const std::string& name);
bool has_dataset(hid_t file, const std::string& name);
std::string read_attr_string(hid_t obj, const std::string& path, const std::string& name);
std::vector<std::string> read_attr_strings(hid_t obj, const std::string& path, const std::string& name);
std::int64_t read_attr_int(hid_t obj, const std::string& path, const std::string& name);
bool has_attr(hid_t obj, const std::string& name);

}  // namespace ser::h5
