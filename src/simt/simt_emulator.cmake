# src/simt/simt_emulator.cmake — the SIMT-emulator build (option SER_CUDA_EMULATOR; design in
# docs/simt_emulator.md). The unmodified kernels/*.cu and *.cuh are copied into the build tree by
# simt_rewrite (launches and __shared__ declarations rewritten, #line kept) and compiled as C++
# against the emulator's CUDA headers (src/simt/shim, first on these targets' include path only).
# The nvcc build is untouched.
#
# Targets (VARIANT: plain, and one per entry of SER_CUDA_EMULATOR_SANITIZE: address -> asan with
# UBSan, thread -> tsan):
#   simt_rewrite                 the rewriting tool (host)
#   ser_simt_host                OBJECT: the CUDA-aware src/*.cpp built with SER_WITH_CUDA against the
#                                shims (once); the others are ser_shared_host, ser_core's own objects
#   ser_simt_kernels_<VARIANT>   OBJECT: the rewritten kernels (instrumented by the sanitizer variants)
#   ser_simt_runtime_<VARIANT>   OBJECT: the emulator runtime (fibers, scheduler, CUDA API, cuBLAS/cuFFT)
#   ser_core_simt_<VARIANT>      STATIC: the two above (the emulator's ser_core)
#   ser_tests_simt_<VARIANT>     the tests/*_cuda.cpp suites, registered with ctest (label emulator)
#   ser_simt                     the ser command on the emulator (plain variant; not in `all`)

set(SIMT_DIR ${CMAKE_CURRENT_SOURCE_DIR}/src/simt)
set(SIMT_REWRITTEN ${CMAKE_BINARY_DIR}/simt_kernels)

add_executable(simt_rewrite ${SIMT_DIR}/rewrite/simt_rewrite.cpp)
target_compile_options(simt_rewrite PRIVATE ${SER_CXX_WARNINGS} -Wno-restrict)  # GCC PR 105651, see simt_common

# ---- the rewritten kernel sources ------------------------------------------------------------------
# bench_blocking.cu (inline PTX %globaltimer, __nanosleep) stays GPU-only: bench_blocking_standin.cpp
# replaces its launcher. conv2d/cudnn.cu compiles to nothing without cuDNN, as in a CPU build.
# An op's folder (kernels/conv2d/ ...) keeps its path below ${SIMT_REWRITTEN}, so "conv2d/kernels.cuh"
# finds the rewritten copy first.
file(GLOB_RECURSE SIMT_CU CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/kernels/*.cu)
file(GLOB_RECURSE SIMT_CUH CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/kernels/*.cuh)
list(FILTER SIMT_CU EXCLUDE REGEX "/bench_blocking\\.cu$")
set(SIMT_KERNEL_SOURCES "")
set(SIMT_KERNEL_HEADERS "")
foreach(src ${SIMT_CU} ${SIMT_CUH})
  file(RELATIVE_PATH name ${CMAKE_CURRENT_SOURCE_DIR}/kernels ${src})
  if(name MATCHES "\\.cu$")
    set(out ${SIMT_REWRITTEN}/${name}.cpp)
    list(APPEND SIMT_KERNEL_SOURCES ${out})
  else()
    set(out ${SIMT_REWRITTEN}/${name})
    list(APPEND SIMT_KERNEL_HEADERS ${out})
  endif()
  get_filename_component(out_dir ${out} DIRECTORY)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND simt_rewrite ${src} ${out}
    DEPENDS simt_rewrite ${src}
    COMMENT "SIMT emulator: rewriting kernels/${name}" VERBATIM)
endforeach()
# The emulator's own test kernels (tests/simt/simt_test_kernels.cu), rewritten the same way.
set(SIMT_SELFTEST_KERNELS ${SIMT_REWRITTEN}/selftest/simt_test_kernels.cu.cpp)
add_custom_command(OUTPUT ${SIMT_SELFTEST_KERNELS}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SIMT_REWRITTEN}/selftest
  COMMAND simt_rewrite ${CMAKE_CURRENT_SOURCE_DIR}/tests/simt/simt_test_kernels.cu ${SIMT_SELFTEST_KERNELS}
  DEPENDS simt_rewrite ${CMAKE_CURRENT_SOURCE_DIR}/tests/simt/simt_test_kernels.cu
  COMMENT "SIMT emulator: rewriting tests/simt/simt_test_kernels.cu" VERBATIM)
add_custom_target(simt_rewritten_kernels DEPENDS ${SIMT_KERNEL_SOURCES} ${SIMT_KERNEL_HEADERS} ${SIMT_SELFTEST_KERNELS})

set(SIMT_RUNTIME_SOURCES
  ${SIMT_DIR}/fiber.cpp ${SIMT_DIR}/block_scheduler.cpp ${SIMT_DIR}/grid.cpp ${SIMT_DIR}/cuda_runtime_api.cpp
  ${SIMT_DIR}/cublas_standin.cpp ${SIMT_DIR}/cufft_standin.cpp)

# Everything the emulator build compiles: CUDA code paths on, the shims first, and no FMA
# contraction (the emulator's arithmetic is the plain IEEE operation, like the CPU twins').
function(simt_common target)
  target_include_directories(${target} BEFORE PRIVATE ${SIMT_DIR}/shim)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_compile_definitions(${target} PRIVATE SER_WITH_CUDA=1 SER_CUDA_EMULATOR=1 SER_VERSION="${PROJECT_VERSION}")
  # -Wno-restrict: GCC 12 reports some std::string concatenations as overlapping memcpy at -O2 and
  # above (GCC PR 105651); the emulator's inline shims change inlining enough to trigger it.
  target_compile_options(${target} PRIVATE -ffp-contract=off -Wno-restrict)
  target_link_libraries(${target} PRIVATE ser::sndfile ser::soxr ser::hdf5 nlohmann_json::nlohmann_json ser::blas
                                          ser::toml ser::svm ser::onnx ser::mpi Threads::Threads)
endfunction()

# ---- host code: the CUDA-aware src/*.cpp, once for every variant -------------------------------------
# (the rest compile to the same objects in either build: ser_shared_host, CMakeLists.txt)
set(SIMT_HOST_SOURCES ${SER_CUDA_AWARE_SOURCES})
list(FILTER SIMT_HOST_SOURCES EXCLUDE REGEX "/no_cuda_[^/]*\\.cpp$")
add_library(ser_simt_host OBJECT ${SIMT_HOST_SOURCES})
add_dependencies(ser_simt_host ser_build_commit)
simt_common(ser_simt_host)
target_include_directories(ser_simt_host PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
target_compile_options(ser_simt_host PRIVATE ${SER_CXX_WARNINGS})

# Test sources shared by the variants: the CUDA suites, their helpers, the emulator's own tests.
file(GLOB SIMT_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/*_cuda.cpp)
list(APPEND SIMT_TEST_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tests/simt/test_simt_runtime.cpp)
find_package(GTest REQUIRED)
add_library(ser_simt_test_objects OBJECT ${SIMT_TEST_SOURCES} ${CMAKE_CURRENT_SOURCE_DIR}/tests/test_util.cpp)
simt_common(ser_simt_test_objects)
target_include_directories(ser_simt_test_objects PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests ${CMAKE_CURRENT_SOURCE_DIR}/tests/simt)
target_link_libraries(ser_simt_test_objects PRIVATE GTest::gtest)
target_compile_options(ser_simt_test_objects PRIVATE ${SER_CXX_WARNINGS})
target_compile_definitions(ser_simt_test_objects PRIVATE
  SER_TEST_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/tests/fixtures"
  SER_EMODB_DIR="${PROJECT_SOURCE_DIR}/../shared/data/emodb"
  SER_REPO_DIR="${PROJECT_SOURCE_DIR}"
  SER_CLI_PATH="${CMAKE_BINARY_DIR}/no-cli-in-the-emulator-tests")

# CUDA kernels call fmaf() in their inner loops; without FMA instructions every call goes to libm
# (measured: 40 % of the emulated convolutions' time). Same results either way: both are the
# correctly rounded fused multiply-add.
include(CheckCXXSourceRuns)
set(CMAKE_REQUIRED_FLAGS -mfma)
check_cxx_source_runs("int main() { __builtin_cpu_init(); return __builtin_cpu_supports(\"fma\") ? 0 : 1; }" SIMT_HOST_HAS_FMA)
unset(CMAKE_REQUIRED_FLAGS)
set(SIMT_KERNEL_ARCH_FLAGS "")
if(SIMT_HOST_HAS_FMA)
  set(SIMT_KERNEL_ARCH_FLAGS -mfma)
endif()

# ---- device code + runtime, per variant ----------------------------------------------------------
# Compile options of code holding rewritten kernels, for variant plain, asan or tsan.
function(simt_kernel_flags target variant)
  # Kernel sources see what nvcc's device pass defines, so their device-side branches are the ones run.
  target_compile_definitions(${target} PRIVATE __CUDACC__ __CUDA_ARCH__=900)
  target_compile_options(${target} PRIVATE -Wno-unknown-pragmas ${SIMT_KERNEL_ARCH_FLAGS})  # #pragma unroll: nvcc's hint
  if(variant STREQUAL "asan")
    target_compile_options(${target} PRIVATE ${SIMT_ASAN_FLAGS})
  elseif(variant STREQUAL "tsan")
    target_compile_options(${target} PRIVATE -O1 -g -fsanitize=thread)
  endif()
endfunction()
set(SIMT_ASAN_FLAGS -O2 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)

# simt_variant(NAME): the emulator's ser_core (ser_core_simt_NAME) and its test executable.
function(simt_variant name)
  set(kernels ser_simt_kernels_${name})
  set(runtime ser_simt_runtime_${name})
  add_library(${kernels} OBJECT ${SIMT_KERNEL_SOURCES} ${SIMT_DIR}/bench_blocking_standin.cpp)
  add_dependencies(${kernels} simt_rewritten_kernels)
  add_library(${runtime} OBJECT ${SIMT_RUNTIME_SOURCES})
  foreach(t ${kernels} ${runtime})
    simt_common(${t})
    target_compile_options(${t} PRIVATE ${SER_CXX_WARNINGS})
  endforeach()
  target_include_directories(${kernels} BEFORE PRIVATE ${SIMT_REWRITTEN})
  # Plain host-device headers of kernels/ (optim/adam_math.hpp) need no rewriting and are read from there.
  target_include_directories(${kernels} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
  simt_kernel_flags(${kernels} ${name})
  set(link_flags "")
  if(name STREQUAL "asan")
    target_compile_definitions(${runtime} PRIVATE SIMT_ASAN=1)
    target_compile_options(${runtime} PRIVATE ${SIMT_ASAN_FLAGS})
    set(link_flags -fsanitize=address,undefined)
  elseif(name STREQUAL "tsan")
    # The runtime is not instrumented (its bookkeeping is not the kernels' memory), but it tells
    # ThreadSanitizer about every fiber switch and barrier.
    target_compile_definitions(${runtime} PRIVATE SIMT_TSAN=1)
    set(link_flags -fsanitize=thread)
  endif()

  set(core ser_core_simt_${name})
  add_library(${core} STATIC $<TARGET_OBJECTS:ser_simt_host> $<TARGET_OBJECTS:ser_shared_host> $<TARGET_OBJECTS:${kernels}>
                             $<TARGET_OBJECTS:${runtime}>)
  target_link_libraries(${core} PUBLIC ser::sndfile ser::soxr ser::hdf5 nlohmann_json::nlohmann_json ser::blas
                                       ser::toml ser::svm ser::onnx ser::mpi Threads::Threads ${link_flags})

  set(selftest ser_simt_selftest_${name})
  add_library(${selftest} OBJECT ${SIMT_SELFTEST_KERNELS})
  add_dependencies(${selftest} simt_rewritten_kernels)
  simt_common(${selftest})
  target_include_directories(${selftest} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests/simt)
  target_compile_options(${selftest} PRIVATE ${SER_CXX_WARNINGS})
  simt_kernel_flags(${selftest} ${name})

  # The sanitizers' options, linked as an object into every executable of the variant (from an
  # archive the linker would never pull them in: nothing references them).
  set(options ser_simt_options_${name})
  add_library(${options} OBJECT ${SIMT_DIR}/sanitizer_defaults.cpp)
  simt_common(${options})
  get_target_property(runtime_defs ${runtime} COMPILE_DEFINITIONS)
  target_compile_definitions(${options} PRIVATE ${runtime_defs})

  set(exe ser_tests_simt_${name})
  add_executable(${exe} $<TARGET_OBJECTS:ser_simt_test_objects> $<TARGET_OBJECTS:${selftest}> $<TARGET_OBJECTS:${options}>)
  target_link_libraries(${exe} PRIVATE ${core} GTest::gtest GTest::gtest_main)
endfunction()

simt_variant(plain)

# The ser command on the emulator (`build/ser_simt ... --device cuda`): end-to-end runs of the CUDA
# paths (features, training, prediction) at real shapes, for checks by hand. No test uses it, so it
# is built only when asked for (`cmake --build build --target ser_simt`): a default build, and CI,
# skip compiling the command a second time.
add_executable(ser_simt EXCLUDE_FROM_ALL ${SER_CLI_SOURCES})
simt_common(ser_simt)
target_compile_options(ser_simt PRIVATE ${SER_CXX_WARNINGS})
target_link_libraries(ser_simt PRIVATE ser_core_simt_plain CLI11::CLI11)
target_compile_definitions(ser_simt PRIVATE SER_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
foreach(s ${SER_CUDA_EMULATOR_SANITIZE})
  if(s STREQUAL "address")
    simt_variant(asan)
  elseif(s STREQUAL "thread")
    simt_variant(tsan)
  else()
    message(FATAL_ERROR "SER_CUDA_EMULATOR_SANITIZE: expected a list of address and thread, found '${s}'")
  endif()
endforeach()

# ---- ctest: every CUDA suite under the emulator -------------------------------------------------------
# Labels: "emulator" (plain), "emulator-asan", "emulator-tsan"; `ctest -L emulator` selects them all
# (-L is a regular expression), `-L tsan` the ThreadSanitizer ones. One label and one environment
# variable per call: gtest_discover_tests cannot carry lists in PROPERTIES (the sanitizers' options
# are built in, src/simt/sanitizer_defaults.cpp).
if(SER_BUILD_TESTS)
  include(GoogleTest)
  foreach(sched forward reverse random:1)
    string(REPLACE ":" "" tag ${sched})
    gtest_discover_tests(ser_tests_simt_plain TEST_PREFIX "simt.${tag}." DISCOVERY_TIMEOUT 120
      PROPERTIES ENVIRONMENT "SIMT_SCHEDULE=${sched}" LABELS emulator TIMEOUT 1800)
  endforeach()
  if(TARGET ser_tests_simt_asan)
    gtest_discover_tests(ser_tests_simt_asan TEST_PREFIX "simt.asan." DISCOVERY_TIMEOUT 120
      PROPERTIES ENVIRONMENT "SIMT_SCHEDULE=random:2" LABELS emulator-asan TIMEOUT 3600)
  endif()
  if(TARGET ser_tests_simt_tsan)
    gtest_discover_tests(ser_tests_simt_tsan TEST_PREFIX "simt.tsan." DISCOVERY_TIMEOUT 300
      PROPERTIES ENVIRONMENT "SIMT_SCHEDULE=random:3" LABELS emulator-tsan TIMEOUT 3600)
  endif()
  include(${CMAKE_CURRENT_SOURCE_DIR}/tests/simt/planted_bugs.cmake)
endif()
