# tests/simt/planted_bugs.cmake — proof that the SIMT emulator can fail. Each case compiles a copy of
# one real kernel source with one bug planted (simt_rewrite --plant), links it in place of the
# original, runs the existing CUDA test that covers the kernel, and expects that test to fail with a
# named diagnostic (tests/simt/expect_caught.cmake). Included from src/simt/simt_emulator.cmake.
#
# simt_planted_bug(NAME VARIANT plain|asan|tsan FILE kernels/... TU kernels/...cu FIND text REPLACE text
#                  FILTER gtest-filter SCHEDULE forward|reverse|random:N EXPECT regex)
# FIND must occur exactly once in FILE: a kernel edit that removes it breaks the build here instead of
# leaving a test that plants nothing. In FIND and REPLACE, `\\n` is a newline and `\\s` a semicolon
# (simt_rewrite decodes them; CMake would split a list at a semicolon).
function(simt_planted_bug name)
  cmake_parse_arguments(B "" "VARIANT;FILE;TU;FIND;REPLACE;FILTER;SCHEDULE;EXPECT" "" ${ARGN})
  if(NOT TARGET ser_core_simt_${B_VARIANT})
    return()  # that sanitizer variant is not configured
  endif()
  set(dir ${CMAKE_BINARY_DIR}/simt_planted/${name})
  # Paths below kernels/ are kept, so the planted file shadows its original for every include.
  file(RELATIVE_PATH file_rel ${PROJECT_SOURCE_DIR}/kernels ${PROJECT_SOURCE_DIR}/${B_FILE})
  file(RELATIVE_PATH tu_rel ${PROJECT_SOURCE_DIR}/kernels ${PROJECT_SOURCE_DIR}/${B_TU})
  set(planted ${dir}/${file_rel})
  if(file_rel MATCHES "\\.cu$")
    set(planted ${planted}.cpp)
  endif()
  get_filename_component(planted_dir ${planted} DIRECTORY)
  add_custom_command(OUTPUT ${planted}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${planted_dir}
    COMMAND simt_rewrite ${PROJECT_SOURCE_DIR}/${B_FILE} ${planted} --plant "${B_FIND}" "${B_REPLACE}"
    DEPENDS simt_rewrite ${PROJECT_SOURCE_DIR}/${B_FILE}
    COMMENT "SIMT emulator: planting ${name} in ${B_FILE}" VERBATIM)
  set(tu ${dir}/${tu_rel}.cpp)
  if(NOT tu STREQUAL planted)  # the bug is in a header: its translation unit, unplanted, beside it
    get_filename_component(tu_dir ${tu} DIRECTORY)
    add_custom_command(OUTPUT ${tu}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${tu_dir}
      COMMAND simt_rewrite ${PROJECT_SOURCE_DIR}/${B_TU} ${tu}
      DEPENDS simt_rewrite ${PROJECT_SOURCE_DIR}/${B_TU} VERBATIM)
  endif()
  set(exe simt_planted_${name})
  add_executable(${exe} ${tu} ${planted})
  set_source_files_properties(${planted} PROPERTIES HEADER_FILE_ONLY ON)
  if(planted STREQUAL tu)
    set_source_files_properties(${planted} PROPERTIES HEADER_FILE_ONLY OFF)
  endif()
  add_dependencies(${exe} simt_rewritten_kernels)
  simt_common(${exe})
  simt_kernel_flags(${exe} ${B_VARIANT})
  target_include_directories(${exe} BEFORE PRIVATE ${dir} ${SIMT_REWRITTEN})
  target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR}/kernels)  # plain host headers (launch.hpp)
  # The planted translation unit comes first, so the archive's original is never pulled in.
  target_link_libraries(${exe} PRIVATE $<TARGET_OBJECTS:ser_simt_test_objects> $<TARGET_OBJECTS:ser_simt_selftest_${B_VARIANT}>
                                       $<TARGET_OBJECTS:ser_simt_options_${B_VARIANT}>
                                       ser_core_simt_${B_VARIANT}
                                       GTest::gtest GTest::gtest_main)
  add_test(NAME simt.planted.${name}
    COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:${exe}> -DFILTER=${B_FILTER} -DSCHEDULE=${B_SCHEDULE}
            "-DEXPECT=${B_EXPECT}" -P ${PROJECT_SOURCE_DIR}/tests/simt/expect_caught.cmake)
  set(labels emulator planted)
  if(NOT B_VARIANT STREQUAL "plain")
    list(APPEND labels emulator-${B_VARIANT})
  endif()
  set_tests_properties(simt.planted.${name} PROPERTIES LABELS "${labels}" TIMEOUT 900)
endfunction()

# A removed __syncthreads: the P·V product reads score entries the other lanes have not written yet
# (NaN from the poisoned shared tile, or the previous tile's values).
simt_planted_bug(sdpa_barrier_removed VARIANT plain FILE kernels/sdpa/kernels.cuh TU kernels/sdpa/cuda.cu
  FIND "    __syncthreads()\\s\\n    tile_accumulate<D>(ps, vs, ty, tx, acc)\\s"
  REPLACE "\\n    tile_accumulate<D>(ps, vs, ty, tx, acc)\\s"
  FILTER NnAttentionCuda.SdpaForwardMatchesCpuTwin SCHEDULE forward EXPECT "unwritten or NaN")

# An early return before a barrier.
simt_planted_bug(sdpa_early_return VARIANT plain FILE kernels/sdpa/kernels.cuh TU kernels/sdpa/cuda.cu
  FIND "  float* lse_h = lse + (static_cast<std::int64_t>(n) * p.heads + h) * p.t\\s  // (T)"
  REPLACE "  float* lse_h = lse + (static_cast<std::int64_t>(n) * p.heads + h) * p.t\\s if (threadIdx.x == 5) return\\s"
  FILTER NnAttentionCuda.SdpaForwardMatchesCpuTwin SCHEDULE reverse
  EXPECT "sdpa/kernels.cuh:[0-9]+: 1 thread exited while 127 wait at __syncthreads")

# A wrong shuffle offset: the last step of the 8-lane row sum crosses into the next row's lanes.
simt_planted_bug(sdpa_shuffle_offset VARIANT plain FILE kernels/sdpa/kernels.cuh TU kernels/sdpa/cuda.cu
  FIND "  return v + __shfl_xor_sync(kFullMask, v, 4)\\s" REPLACE "  return v + __shfl_xor_sync(kFullMask, v, 8)\\s"
  FILTER NnAttentionCuda.SdpaForwardMatchesCpuTwin SCHEDULE random:7 EXPECT "nmse\\(gpu, cpu\\)")

# A lane that leaves before a warp reduction its mask names.
simt_planted_bug(softmax_lane_exits VARIANT plain FILE kernels/softmax_xent/cuda.cu TU kernels/softmax_xent/cuda.cu
  FIND "  ws = warp_sum_down(ws)\\s" REPLACE "  if (lane == 3) return\\s ws = warp_sum_down(ws)\\s"
  FILTER SoftmaxXentCuda.MatchesCpuTwin SCHEDULE forward
  EXPECT "__shfl_down_sync by thread [^\n]* with mask 0xffffffff: lane 3 exited")

# Dynamic shared memory one element too small (the launch asks for n_freqs - 1 floats).
simt_planted_bug(logmel_shared_one_short VARIANT asan FILE kernels/logmel_cufft.cu TU kernels/logmel_cufft.cu
  FIND "static_cast<std::size_t>(p.n_freqs) * sizeof(float)\\s" REPLACE "static_cast<std::size_t>(p.n_freqs - 1) * sizeof(float)\\s"
  FILTER LogMelCuda.CufftPathMatchesCpuTwin SCHEDULE forward EXPECT "heap-buffer-overflow")

# A misaligned float4 load (one float past the aligned address).
simt_planted_bug(sdpa_misaligned_float4 VARIANT asan FILE kernels/sdpa/kernels.cuh TU kernels/sdpa/cuda.cu
  FIND "        val = *reinterpret_cast<const float4*>(src)\\s" REPLACE "        val = *reinterpret_cast<const float4*>(src + 1)\\s"
  FILTER NnAttentionCuda.SdpaForwardMatchesCpuTwin SCHEDULE forward
  EXPECT "misaligned address 0x[0-9a-f]+ for type 'const (struct )?float4', which requires 16 byte alignment")

# The broadcast barrier removed: in the forward order thread 0 writes before the others read, so the
# numbers come out right; ThreadSanitizer still reports the race.
simt_planted_bug(softmax_broadcast_race VARIANT tsan FILE kernels/softmax_xent/cuda.cu TU kernels/softmax_xent/cuda.cu
  FIND "  __syncthreads()\\s\\n  const double den = wsum_s," REPLACE "\\n  const double den = wsum_s,"
  FILTER SoftmaxXentCuda.MatchesCpuTwin SCHEDULE forward EXPECT "ThreadSanitizer: data race")
# ... and without the sanitizer, the reverse order shows it in the numbers.
simt_planted_bug(softmax_broadcast_barrier_removed VARIANT plain FILE kernels/softmax_xent/cuda.cu TU kernels/softmax_xent/cuda.cu
  FIND "  __syncthreads()\\s\\n  const double den = wsum_s," REPLACE "\\n  const double den = wsum_s,"
  FILTER SoftmaxXentCuda.MatchesCpuTwin SCHEDULE reverse EXPECT "Failure")
