// src/simt/shim/nvtx3/nvToolsExt.h — NVTX ranges are no-ops in the SIMT emulator (no profiler).
#pragma once

inline int nvtxRangePushA(const char*) { return 0; }
inline int nvtxRangePop() { return 0; }
