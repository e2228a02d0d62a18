#!/usr/bin/env bash
# The README's test command: set up, build, run every test. GPU tests skip without a GPU; the same
# CUDA tests also run on the SIMT emulator (the unmodified kernels on the CPU: forward, reverse and
# random thread orders, and under AddressSanitizer + UBSan), with the planted-bug tests that prove
# the emulator catches what it claims to (docs/simt_emulator.md).
#
#   bash tools/test.sh            everything above (what CI runs)
#   bash tools/test.sh --tsan     also builds the ThreadSanitizer variant and runs only its tests
#                                 (about half an hour on 2 cores: too long for every CI run)
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers="address"
labels=()
if [ "${1:-}" = "--tsan" ]; then
  sanitizers="address;thread"
  labels=(-L tsan)
  shift
fi
export SER_CMAKE_ARGS="-DSER_CUDA_EMULATOR=ON -DSER_CUDA_EMULATOR_SANITIZE=${sanitizers} ${SER_CMAKE_ARGS:-}"
bash tools/build.sh
ctest --test-dir build --output-on-failure -j"${SER_JOBS:-$(nproc)}" "${labels[@]}" "$@"
