# tools/cmake/cuda_independent.cmake — which of src/*.cpp compile to the same object whatever the
# CUDA build: the SIMT emulator's host build (src/simt/simt_emulator.cmake) compiles only the others
# a second time and takes these from ser_core's build.
#
# A source depends on the CUDA build when it, or a project header it includes (directly or through
# other project headers), mentions SER_WITH_CUDA, SER_WITH_CUDNN or SER_CUDA_EMULATOR, or includes a
# CUDA header (cuda*, cublas*, cufft*, cudnn*, curand*, nvtx*, nccl*, thrust/, cub/) or a kernels/*.cuh.
# __CUDACC__ does not count: no host build defines it (only the rewritten kernels do).
# Includes are resolved as the compiler resolves them: the including file's folder, then include/,
# src/ and kernels/; anything else is a system header.

# The project headers a file includes directly (absolute paths), and whether it is CUDA-dependent by
# itself; both memoised per file in global properties.
function(_ser_cuda_scan_file path out_includes out_direct)
  get_property(done GLOBAL PROPERTY "_SER_CUDA_SCANNED_${path}" SET)
  if(NOT done)
    file(READ ${path} text)
    set(direct FALSE)
    if("${text}" MATCHES "SER_WITH_CUDA|SER_WITH_CUDNN|SER_CUDA_EMULATOR")
      set(direct TRUE)
    endif()
    set(includes "")
    string(REGEX MATCHALL "#[ \t]*include[ \t]*[<\"][^>\"\n]+[>\"]" lines "${text}")
    get_filename_component(dir ${path} DIRECTORY)
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "#[ \t]*include[ \t]*[<\"]([^>\"\n]+)[>\"]" "\\1" name "${line}")
      if(name MATCHES "^(cuda|cublas|cufft|cudnn|curand|nvtx|nccl|thrust/|cub/)" OR name MATCHES "\\.cuh$")
        set(direct TRUE)
      endif()
      foreach(base ${dir} ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/kernels)
        if(EXISTS ${base}/${name} AND NOT IS_DIRECTORY ${base}/${name})
          get_filename_component(found ${base}/${name} ABSOLUTE)
          list(APPEND includes ${found})
          break()
        endif()
      endforeach()
    endforeach()
    set_property(GLOBAL PROPERTY "_SER_CUDA_SCANNED_${path}" TRUE)
    set_property(GLOBAL PROPERTY "_SER_CUDA_INCLUDES_${path}" "${includes}")
    set_property(GLOBAL PROPERTY "_SER_CUDA_DIRECT_${path}" ${direct})
  endif()
  get_property(i GLOBAL PROPERTY "_SER_CUDA_INCLUDES_${path}")
  get_property(d GLOBAL PROPERTY "_SER_CUDA_DIRECT_${path}")
  set(${out_includes} "${i}" PARENT_SCOPE)
  set(${out_direct} ${d} PARENT_SCOPE)
endfunction()

# Sets out_independent and out_dependent to the sources of `sources` that do not / do depend on
# the CUDA build. Each source's include closure is walked afresh (no memoised verdicts, so include
# cycles cannot hide a dependency).
function(ser_split_cuda_independent sources out_independent out_dependent)
  set(independent "")
  set(dependent "")
  foreach(src IN LISTS ${sources})
    get_filename_component(src ${src} ABSOLUTE)
    set(queue ${src})
    set(seen "")
    set(depends FALSE)
    while(queue AND NOT depends)
      list(POP_FRONT queue file)
      if(file IN_LIST seen)
        continue()
      endif()
      list(APPEND seen ${file})
      _ser_cuda_scan_file(${file} includes direct)
      if(direct)
        set(depends TRUE)
      else()
        list(APPEND queue ${includes})
      endif()
    endwhile()
    if(depends)
      list(APPEND dependent ${src})
    else()
      list(APPEND independent ${src})
    endif()
  endforeach()
  set(${out_independent} "${independent}" PARENT_SCOPE)
  set(${out_dependent} "${dependent}" PARENT_SCOPE)
endfunction()
