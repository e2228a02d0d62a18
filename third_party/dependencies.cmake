# Finds the external libraries ser links against. All come from Debian packages; nothing is vendored.
#   libsndfile1-dev libsoxr-dev libhdf5-dev libcli11-dev nlohmann-json3-dev libgtest-dev
#   libopenblas-dev (CPU GEMM) libtomlplusplus-dev (model configs) libsvm-dev (SVM baselines)
#   libonnx-dev libprotobuf-dev (ONNX export)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
add_library(ser::sndfile ALIAS PkgConfig::SNDFILE)
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
add_library(ser::soxr ALIAS PkgConfig::SOXR)

# zlib: the CRC-32 of the checksum block every ser HDF5 file starts with (zlib1g-dev, as HDF5 needs).
find_package(ZLIB REQUIRED)

# Debian's HDF5 is the serial flavour; the C API is all ser uses.
find_package(HDF5 REQUIRED COMPONENTS C)
add_library(ser_hdf5 INTERFACE)
target_include_directories(ser_hdf5 SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS})
target_link_libraries(ser_hdf5 INTERFACE ${HDF5_LIBRARIES})
target_compile_definitions(ser_hdf5 INTERFACE ${HDF5_DEFINITIONS})
add_library(ser::hdf5 ALIAS ser_hdf5)

find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 CONFIG QUIET)
if(NOT TARGET CLI11::CLI11)
  # Older Debian CLI11 packages ship the header without a CMake config.
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

# CPU GEMM for the CPU twins of linear and convolution layers (OpenBLAS's CBLAS interface).
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
add_library(ser::blas ALIAS PkgConfig::OPENBLAS)
# Model and experiment configs (toml++).
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
add_library(ser::toml ALIAS PkgConfig::TOMLPP)

# The paper's SVM baselines (libsvm: linear and RBF kernels).
find_path(LIBSVM_INCLUDE_DIR svm.h PATH_SUFFIXES libsvm REQUIRED)
find_library(LIBSVM_LIBRARY svm REQUIRED)
add_library(ser_svm INTERFACE)
target_include_directories(ser_svm SYSTEM INTERFACE ${LIBSVM_INCLUDE_DIR})
target_link_libraries(ser_svm INTERFACE ${LIBSVM_LIBRARY})
add_library(ser::svm ALIAS ser_svm)

# ONNX export: the ONNX protobuf messages and its checker (Debian libonnx-dev).
find_package(Protobuf REQUIRED)
find_package(ONNX CONFIG REQUIRED)
add_library(ser_onnx INTERFACE)
target_link_libraries(ser_onnx INTERFACE onnx onnx_proto protobuf::libprotobuf)
add_library(ser::onnx ALIAS ser_onnx)

# Data-parallel training over MPI (Debian libopenmpi-dev; docs/cluster.md). Optional: without it
# `ser train --data-parallel` reports that ser was built without MPI. ser::mpi carries the library
# and SER_WITH_MPI; the fuzz build has no use for it.
add_library(ser_mpi INTERFACE)
if(NOT SER_FUZZ)
  find_package(MPI COMPONENTS CXX QUIET)
endif()
if(MPI_CXX_FOUND)
  target_link_libraries(ser_mpi INTERFACE MPI::MPI_CXX)
  target_compile_definitions(ser_mpi INTERFACE SER_WITH_MPI=1)
  message(STATUS "ser: MPI ${MPI_CXX_VERSION} found; --data-parallel available")
else()
  message(STATUS "ser: MPI not found; --data-parallel unavailable")
endif()
add_library(ser::mpi ALIAS ser_mpi)
