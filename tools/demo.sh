#!/usr/bin/env bash
# The README's main job: set up, build, and run `ser demo` on the embedded SYNTHETIC corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh --target ser
./build/ser demo "$@"
