#!/usr/bin/env bash
# The README's test command: set up, build, run every test (GPU tests skip without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
ctest --test-dir build --output-on-failure -j"${SER_JOBS:-$(nproc)}"
