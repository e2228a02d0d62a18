#!/usr/bin/env bash
# Configures and builds ser into ./build (Release). CUDA kernels are built when nvcc is found
# (on PATH or in /usr/local/cuda/bin), for SER_CUDA_ARCHITECTURES (default 90: H100/H200).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_debian.sh
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
mkdir -p build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${SER_CMAKE_ARGS:-} >build/configure.log 2>&1 || { cat build/configure.log; exit 1; }
cmake --build build -j"${SER_JOBS:-$(nproc)}" "$@"
