#!/usr/bin/env bash
# tools/gpu_check.sh — everything a GPU machine must confirm, in one go, written up as Markdown.
#
#   tools/gpu_check.sh [REPORT.md]        (default: gpu_check_report.md in the current folder)
#
# Steps: install the Debian build dependencies when missing (needs root), configure a Release build
# for the GPU present (-DCMAKE_CUDA_ARCHITECTURES=native, falling back to 90), build, run the whole
# ctest suite, run compute-sanitizer memcheck / racecheck / initcheck over the CUDA tests, run
# `ser bench features --device cuda`. The report names the device, driver, commit, and each step's
# result with the tail of its output; full logs go to REPORT_logs/ beside it.
#
# Environment: SER_GPU_BUILD_DIR (default build-gpu), SER_CTEST_JOBS (default 4),
#              SER_SANITIZER_FILTER (default '*Cuda*'), SER_STEP_TIMEOUT seconds (default 3600).
# Exit status: 0 when every required step passed (the benchmark is informational), 1 otherwise.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPORT="${1:-gpu_check_report.md}"
case "$REPORT" in /*) ;; *) REPORT="$PWD/$REPORT" ;; esac
LOGS="${REPORT%.md}_logs"
BUILD="${SER_GPU_BUILD_DIR:-build-gpu}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
JOBS="$(nproc 2>/dev/null || echo 4)"
CTEST_JOBS="${SER_CTEST_JOBS:-4}"
FILTER="${SER_SANITIZER_FILTER:-*Cuda*}"
STEP_TIMEOUT="${SER_STEP_TIMEOUT:-3600}"
TAIL_LINES=60
mkdir -p "$LOGS"

declare -a STEP_NAMES=() STEP_RESULTS=() STEP_SECONDS=() STEP_LOGS=() STEP_CMDS=()
FAILED=0

# run_step NAME REQUIRED(yes|no) COMMAND... — runs the command with a timeout, logs it, records it.
run_step() {
  local name="$1" required="$2"
  shift 2
  local log
  log="$LOGS/$(echo "$name" | tr -c 'A-Za-z0-9._\n-' '_').log"
  echo "==> $name: $*"
  local start end rc
  start=$(date +%s)
  (cd "$ROOT" && timeout "$STEP_TIMEOUT" "$@") >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  local result="PASS"
  if [ $rc -ne 0 ]; then
    if [ $rc -eq 124 ]; then result="FAIL (timed out after ${STEP_TIMEOUT}s)"; else result="FAIL (exit $rc)"; fi
    if [ "$required" = yes ]; then FAILED=1; else result="$result, informational"; fi
  fi
  echo "    $result ($((end - start)) s)"
  STEP_NAMES+=("$name"); STEP_RESULTS+=("$result"); STEP_SECONDS+=("$((end - start))")
  STEP_LOGS+=("$log"); STEP_CMDS+=("$*")
  return $rc
}

# ---- build dependencies ---------------------------------------------------------------------------
PACKAGES=(cmake g++ pkg-config libsndfile1-dev libsoxr-dev libhdf5-dev libcli11-dev nlohmann-json3-dev libgtest-dev)
MISSING=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p")
done
DEPS_NOTE="all present"
if [ ${#MISSING[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    run_step "install dependencies" yes bash -c \
      "export DEBIAN_FRONTEND=noninteractive; apt-get update && apt-get install -y --no-install-recommends ${MISSING[*]}"
    DEPS_NOTE="installed: ${MISSING[*]}"
  else
    DEPS_NOTE="MISSING (not root, not installed): ${MISSING[*]}"
    echo "warning: $DEPS_NOTE" >&2
  fi
fi

# ---- machine ----------------------------------------------------------------------------------------
GPU="none found"; DRIVER="unknown"; CUDA_VER="unknown"
if command -v nvidia-smi >/dev/null 2>&1; then
  GPU="$(nvidia-smi --query-gpu=name,memory.total,compute_cap --format=csv,noheader 2>/dev/null | head -n 1)"
  DRIVER="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
  [ -n "$GPU" ] || GPU="nvidia-smi failed"
fi
if command -v nvcc >/dev/null 2>&1; then
  CUDA_VER="$(nvcc --version | grep -o 'release [0-9.]*' | head -n 1)"
elif [ -x /usr/local/cuda/bin/nvcc ]; then
  CUDA_VER="$(/usr/local/cuda/bin/nvcc --version | grep -o 'release [0-9.]*' | head -n 1)"
  export PATH="/usr/local/cuda/bin:$PATH"
fi
COMMIT="$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo 'no commit')"
DIRTY="$(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l | tr -d ' ')"
[ "$DIRTY" = 0 ] || COMMIT="$COMMIT (+$DIRTY uncommitted changes)"
HOST_CPU="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')"

# ---- configure, build, test ------------------------------------------------------------------------
ARCH=native
if ! run_step "configure (native)" no \
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=native; then
  ARCH=90
  rm -rf "$BUILD"
  run_step "configure (sm_90 fallback)" yes \
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90
fi
BUILT=0
if run_step "build" yes cmake --build "$BUILD" -j "$JOBS"; then BUILT=1; fi
SANITIZER="$(command -v compute-sanitizer || true)"
for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer \
         /opt/nvidia/compute-sanitizer/compute-sanitizer; do
  [ -n "$SANITIZER" ] || { [ -x "$c" ] && SANITIZER="$c"; }
done
SANITIZER="${SANITIZER:-compute-sanitizer}"
if [ $BUILT = 1 ]; then
  run_step "ctest" yes ctest --test-dir "$BUILD" --output-on-failure -j "$CTEST_JOBS"
  for tool in memcheck racecheck initcheck; do
    if [ -x "$SANITIZER" ]; then
      run_step "compute-sanitizer $tool" yes "$SANITIZER" --tool "$tool" --error-exitcode 1 \
        "$BUILD/tests/ser_tests" --gtest_filter="$FILTER"
    else
      STEP_NAMES+=("compute-sanitizer $tool"); STEP_RESULTS+=("FAIL (compute-sanitizer not found)")
      STEP_SECONDS+=(0); STEP_LOGS+=(""); STEP_CMDS+=("$SANITIZER"); FAILED=1
    fi
  done
  run_step "ser bench features --device cuda" no "$BUILD/ser" bench features --device cuda
  # Training throughput on the synthetic corpus (no data needed): hand-written kernels and cuDNN.
  if run_step "synthetic cache" no "$BUILD/ser" features --corpus synthetic --device cuda --out "$LOGS/synthetic.h5"; then
    run_step "ser bench train --device cuda" no "$BUILD/ser" bench train --cache "$LOGS/synthetic.h5" \
      --config experiments/cnn_attn.toml --device cuda --kernels all
  fi
fi

# ---- report -----------------------------------------------------------------------------------------
{
  echo "# ser GPU check"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
  echo "| device | ${GPU} |"
  echo "| driver | ${DRIVER} |"
  echo "| CUDA toolkit | ${CUDA_VER} |"
  echo "| host | $(hostname), ${HOST_CPU:-unknown CPU}, ${JOBS} threads |"
  echo "| commit | ${COMMIT} |"
  echo "| CUDA architectures | ${ARCH} |"
  echo "| build dependencies | ${DEPS_NOTE} |"
  echo "| overall | $([ $FAILED = 0 ] && echo PASS || echo FAIL) |"
  echo
  echo "| step | result | seconds |"
  echo "|---|---|---|"
  for i in "${!STEP_NAMES[@]}"; do
    echo "| ${STEP_NAMES[$i]} | ${STEP_RESULTS[$i]} | ${STEP_SECONDS[$i]} |"
  done
  for i in "${!STEP_NAMES[@]}"; do
    echo
    echo "## ${STEP_NAMES[$i]}: ${STEP_RESULTS[$i]}"
    echo
    echo "Command: \`${STEP_CMDS[$i]}\`"
    if [ -n "${STEP_LOGS[$i]}" ] && [ -f "${STEP_LOGS[$i]}" ]; then
      echo "Full log: \`${STEP_LOGS[$i]}\` (last ${TAIL_LINES} lines below)"
      echo
      echo '```'
      tail -n "$TAIL_LINES" "${STEP_LOGS[$i]}"
      echo '```'
    fi
  done
} >"$REPORT"

echo "report: $REPORT ($([ $FAILED = 0 ] && echo PASS || echo FAIL))"
exit $FAILED
