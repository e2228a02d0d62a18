#include "cache/h5_handles.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace ser::h5 {

void quiet_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

Handle check(hid_t id, Handle::Closer closer, const std::string& file, const std::string& what) {
  if (id < 0) throw file_error(file, what + " failed");
  return Handle(id, closer);
}

void check(herr_t status, const std::string& file, const std::string& what) {
  if (status < 0) throw file_error(file, what + " failed");
}

Handle create_file(const std::string& tmp, const std::string& what) {
  const Handle fcpl = creation_properties_with_seal_block(tmp);
  const hid_t id = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT);
  if (id >= 0) return Handle(id, H5Fclose);
  // HDF5's own message does not carry errno; creating the file directly tells why.
  std::string reason = "HDF5 could not create it";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    reason = std::strerror(errno);
  } else {
    ::close(fd);
    ::unlink(tmp.c_str());
  }
  throw file_error(tmp, what + " failed: " + reason);
}

namespace {

Handle string_type(const std::string& file) {
  Handle t = check(H5Tcopy(H5T_C_S1), H5Tclose, file, "creating a string type");
  check(H5Tset_size(t.get(), H5T_VARIABLE), file, "sizing a string type");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), file, "setting UTF-8");
  return t;
}

// Chunked along the first axis (about 1 MiB a chunk), shuffle + deflate unless `compression` is
// none; readable by any HDF5 tool either way.
void write_numeric(hid_t file, const std::string& path, const std::string& name, const void* data,
                   hid_t mem_type, hid_t file_type, std::size_t elem_size, const std::vector<hsize_t>& dims,
                   Compression compression = Compression::deflate) {
  std::vector<hsize_t> maxdims(dims);
  maxdims[0] = H5S_UNLIMITED;
  Handle space = check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()), H5Sclose,
                       path, "creating the dataspace of /" + name);
  hsize_t row = elem_size;
  for (std::size_t i = 1; i < dims.size(); ++i) row *= std::max<hsize_t>(1, dims[i]);
  std::vector<hsize_t> chunk(dims);
  chunk[0] = std::clamp<hsize_t>((1u << 20) / row, 1, std::max<hsize_t>(1, dims[0]));
  for (std::size_t i = 1; i < chunk.size(); ++i) chunk[i] = std::max<hsize_t>(1, chunk[i]);
  Handle plist = check(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, path, "creating properties of /" + name);
  check(H5Pset_chunk(plist.get(), static_cast<int>(chunk.size()), chunk.data()), path, "chunking /" + name);
  if (compression == Compression::deflate) {
    check(H5Pset_shuffle(plist.get()), path, "shuffle filter on /" + name);
    check(H5Pset_deflate(plist.get(), 4), path, "deflate filter on /" + name);
  }
  Handle ds = check(H5Dcreate2(file, name.c_str(), file_type, space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT),
                    H5Dclose, path, "creating /" + name);
  bool empty = false;
  for (hsize_t d : dims) empty = empty || d == 0;
  if (!empty) check(H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path, "writing /" + name);
}

Handle open_dataset(hid_t file, const std::string& path, const std::string& name) {
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) throw file_error(path, "missing dataset /" + name);
  return check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose, path, "opening /" + name);
}

void require_class(hid_t ds, H5T_class_t want, const std::string& path, const std::string& name, const char* what) {
  Handle t = check(H5Dget_type(ds), H5Tclose, path, "type of /" + name);
  if (H5Tget_class(t.get()) != want) throw file_error(path, "dataset /" + name + " is not " + what);
}

template <typename T>
std::vector<T> read_numeric(hid_t file, const std::string& path, const std::string& name, hid_t mem_type,
                            H5T_class_t cls, const char* what, std::vector<hsize_t>* dims_out) {
  Handle ds = open_dataset(file, path, name);
  require_class(ds.get(), cls, path, name, what);
  const std::vector<hsize_t> dims = dataset_dims(file, path, name);
  hsize_t total = 1;
  for (hsize_t d : dims) total *= d;
  std::vector<T> out(total);
  if (total > 0)
    check(H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), path, "reading /" + name);
  if (dims_out) *dims_out = dims;
  return out;
}

// Reads variable-length strings from a dataset or (attribute=true) an attribute.
std::vector<std::string> read_vlen_strings(hid_t space, bool attribute, hid_t obj, const std::string& path,
                                           const std::string& what) {
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) throw file_error(path, what + ": bad dataspace");
  std::vector<char*> raw(static_cast<std::size_t>(n), nullptr);
  Handle t = string_type(path);
  if (n > 0) {
    const herr_t st = attribute ? H5Aread(obj, t.get(), raw.data())
                                : H5Dread(obj, t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data());
    check(st, path, "reading " + what);
  }
  std::vector<std::string> out;
  out.reserve(raw.size());
  for (char* s : raw) out.emplace_back(s ? s : "");
  if (n > 0) {
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(t.get(), space, H5P_DEFAULT, raw.data());
#else
    H5Dvlen_reclaim(t.get(), space, H5P_DEFAULT, raw.data());
#endif
  }
  return out;
}

}  // namespace

void write_f32(hid_t file, const std::string& path, const std::string& name, const std::vector<float>& data,
               std::vector<hsize_t> dims, Compression compression) {
  write_numeric(file, path, name, data.data(), H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, sizeof(float), dims, compression);
}
void write_i64(hid_t file, const std::string& path, const std::string& name, const std::vector<std::int64_t>& data) {
  write_numeric(file, path, name, data.data(), H5T_NATIVE_INT64, H5T_STD_I64LE, 8, {data.size()});
}
void write_i32(hid_t file, const std::string& path, const std::string& name, const std::vector<std::int32_t>& data) {
  write_numeric(file, path, name, data.data(), H5T_NATIVE_INT32, H5T_STD_I32LE, 4, {data.size()});
}

void write_strings(hid_t file, const std::string& path, const std::string& name, const std::vector<std::string>& data) {
  Handle t = string_type(path);
  const hsize_t n = data.size();
  Handle space = check(H5Screate_simple(1, &n, nullptr), H5Sclose, path, "dataspace of /" + name);
  Handle ds = check(H5Dcreate2(file, name.c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    H5Dclose, path, "creating /" + name);
  std::vector<const char*> ptrs;
  for (const auto& s : data) ptrs.push_back(s.c_str());
  if (n > 0) check(H5Dwrite(ds.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), path, "writing /" + name);
}

void write_attr_string(hid_t obj, const std::string& path, const std::string& name, const std::string& value) {
  Handle t = string_type(path);
  Handle space = check(H5Screate(H5S_SCALAR), H5Sclose, path, "attribute space");
  Handle a = check(H5Acreate2(obj, name.c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, path,
                   "creating attribute " + name);
  const char* p = value.c_str();
  check(H5Awrite(a.get(), t.get(), &p), path, "writing attribute " + name);
}

void write_attr_strings(hid_t obj, const std::string& path, const std::string& name, const std::vector<std::string>& v) {
  Handle t = string_type(path);
  const hsize_t n = v.size();
  Handle space = check(H5Screate_simple(1, &n, nullptr), H5Sclose, path, "attribute space");
  Handle a = check(H5Acreate2(obj, name.c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, path,
                   "creating attribute " + name);
  std::vector<const char*> ptrs;
  for (const auto& s : v) ptrs.push_back(s.c_str());
  if (n > 0) check(H5Awrite(a.get(), t.get(), ptrs.data()), path, "writing attribute " + name);
}

void write_attr_int(hid_t obj, const std::string& path, const std::string& name, std::int64_t value) {
  Handle space = check(H5Screate(H5S_SCALAR), H5Sclose, path, "attribute space");
  Handle a = check(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                   path, "creating attribute " + name);
  check(H5Awrite(a.get(), H5T_NATIVE_INT64, &value), path, "writing attribute " + name);
}

std::vector<hsize_t> dataset_dims(hid_t file, const std::string& path, const std::string& name) {
  Handle ds = open_dataset(file, path, name);
  Handle space = check(H5Dget_space(ds.get()), H5Sclose, path, "dataspace of /" + name);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw file_error(path, "bad dataspace of /" + name);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

std::vector<float> read_f32(hid_t file, const std::string& path, const std::string& name, std::vector<hsize_t>* dims) {
  return read_numeric<float>(file, path, name, H5T_NATIVE_FLOAT, H5T_FLOAT, "floating point", dims);
}
std::vector<std::int64_t> read_i64(hid_t file, const std::string& path, const std::string& name) {
  return read_numeric<std::int64_t>(file, path, name, H5T_NATIVE_INT64, H5T_INTEGER, "integer", nullptr);
}
std::vector<std::int32_t> read_i32(hid_t file, const std::string& path, const std::string& name) {
  return read_numeric<std::int32_t>(file, path, name, H5T_NATIVE_INT32, H5T_INTEGER, "integer", nullptr);
}

bool has_dataset(hid_t file, const std::string& name) { return H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0; }

std::vector<std::string> read_strings(hid_t file, const std::string& path, const std::string& name) {
  Handle ds = open_dataset(file, path, name);
  require_class(ds.get(), H5T_STRING, path, name, "strings");
  Handle space = check(H5Dget_space(ds.get()), H5Sclose, path, "dataspace of /" + name);
  return read_vlen_strings(space.get(), false, ds.get(), path, "/" + name);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_attr_string(hid_t obj, const std::string& path, const std::string& name) {
  const auto v = read_attr_strings(obj, path, name);
  if (v.size() != 1) throw file_error(path, "attribute " + name + " is not a single string");
  return v[0];
}

std::vector<std::string> read_attr_strings(hid_t obj, const std::string& path, const std::string& name) {
  if (!has_attr(obj, name)) throw file_error(path, "missing attribute " + name);
  Handle a = check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, path, "opening attribute " + name);
  Handle t = check(H5Aget_type(a.get()), H5Tclose, path, "type of attribute " + name);
  if (H5Tget_class(t.get()) != H5T_STRING || H5Tis_variable_str(t.get()) <= 0)
    throw file_error(path, "attribute " + name + " is not a variable-length string");
  Handle space = check(H5Aget_space(a.get()), H5Sclose, path, "space of attribute " + name);
  return read_vlen_strings(space.get(), true, a.get(), path, "attribute " + name);
}

std::int64_t read_attr_int(hid_t obj, const std::string& path, const std::string& name) {
  if (!has_attr(obj, name)) throw file_error(path, "missing attribute " + name);
  Handle a = check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, path, "opening attribute " + name);
  Handle t = check(H5Aget_type(a.get()), H5Tclose, path, "type of attribute " + name);
  if (H5Tget_class(t.get()) != H5T_INTEGER) throw file_error(path, "attribute " + name + " is not an integer");
  std::int64_t v = 0;
  check(H5Aread(a.get(), H5T_NATIVE_INT64, &v), path, "reading attribute " + name);
  return v;
}

}  // namespace ser::h5
