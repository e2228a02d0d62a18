#!/usr/bin/env bash
# tools/gpu_check.sh — everything a GPU machine must confirm, in one go, written up as ONE Markdown
# report: bench/results/<date>-<device>-<commit>.md by default (issue 6).
#
#   tools/gpu_check.sh [REPORT.md]
#
# Steps: install the Debian build dependencies when missing (needs root), configure a Release build
# for the GPU present (-DCMAKE_CUDA_ARCHITECTURES=native, falling back to 90; kernels carry line
# info), build, run the whole ctest suite, compute-sanitizer memcheck / racecheck / initcheck over
# the CUDA tests, then the benchmarks: `ser bench kernels` (every op vs cuDNN / a device copy),
# `ser bench features` (front-end), `ser bench train` on both kernel paths with `--kernel-timing`
# (per-op table), and, when python3 has torch with CUDA, tools/torch_bench_ops.py (PyTorch's SDPA,
# cuDNN through PyTorch, torchaudio) and tools/torch_reference.py bench (eager and torch.compile
# training), merged by tools/bench_report.py into the targets table. The report names the device,
# driver, commit and each step's result with the tail of its output; full logs go to a folder
# beside it (not meant for the repository).
#
# Environment:
#   SER_GPU_BUILD_DIR    build folder (default build-gpu)
#   SER_GPU_SKIP_BUILD=1 use the binaries already in SER_GPU_BUILD_DIR: no dependency install,
#                        configure or build (a machine without the build dependencies)
#   SER_BENCH_CACHE      feature cache for `ser bench train` (default: a synthetic one made here)
#   SER_PYTHON           Python with torch (default python3)
#   SER_CTEST_JOBS (4), SER_SANITIZER_FILTER ('*Cuda*'), SER_STEP_TIMEOUT seconds (3600),
#   SER_GPU_LOGS         log folder (default: REPORT without .md, plus _logs)
# Exit status: 0 when every step passed, 1 otherwise (a failed benchmark counts too; the PyTorch steps
# are skipped, not failed, where python3 has no torch with CUDA).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SER_GPU_BUILD_DIR:-build-gpu}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SKIP_BUILD="${SER_GPU_SKIP_BUILD:-0}"
PY="${SER_PYTHON:-python3}"
JOBS="$(nproc 2>/dev/null || echo 4)"
CTEST_JOBS="${SER_CTEST_JOBS:-4}"
FILTER="${SER_SANITIZER_FILTER:-*Cuda*}"
STEP_TIMEOUT="${SER_STEP_TIMEOUT:-3600}"
TAIL_LINES=60

# ---- machine (first: the report's name needs the device and the commit) ---------------------------
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
SHORT="$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo nocommit)"
COMMIT="$SHORT"
DIRTY="$(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l | tr -d ' ')"
[ "$DIRTY" = 0 ] || COMMIT="$COMMIT (+$DIRTY uncommitted changes)"
HOST_CPU="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')"
DEVICE_SLUG="$(echo "${GPU%%,*}" | tr '[:upper:]' '[:lower:]' | sed -e 's/[^a-z0-9]\{1,\}/-/g' -e 's/^-//' -e 's/-$//')"
[ -n "$DEVICE_SLUG" ] || DEVICE_SLUG="no-gpu"

REPORT="${1:-$ROOT/bench/results/$(date -u +%Y-%m-%d)-${DEVICE_SLUG}-${SHORT}.md}"
case "$REPORT" in /*) ;; *) REPORT="$PWD/$REPORT" ;; esac
mkdir -p "$(dirname "$REPORT")"
LOGS="${SER_GPU_LOGS:-${REPORT%.md}_logs}"
mkdir -p "$LOGS"

declare -a STEP_NAMES=() STEP_RESULTS=() STEP_SECONDS=() STEP_LOGS=() STEP_CMDS=()
FAILED=0

# record NAME RESULT SECONDS LOG CMD — one row of the report.
record() {
  STEP_NAMES+=("$1"); STEP_RESULTS+=("$2"); STEP_SECONDS+=("$3"); STEP_LOGS+=("$4"); STEP_CMDS+=("$5")
  case "$2" in PASS* | SKIPPED* | RETRIED*) ;; *) FAILED=1 ;; esac
}

# run_step NAME COMMAND... — runs the command in the repository root with a timeout, logs stdout and
# stderr, records the result. Returns the command's status.
run_step() {
  local name="$1"
  shift
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
  fi
  echo "    $result ($((end - start)) s)"
  record "$name" "$result" "$((end - start))" "$log" "$*"
  return $rc
}

# skip NAME WHY — a step that could not run: a failure with its reason.
skip() {
  echo "==> $1: FAIL ($2)"
  record "$1" "FAIL ($2)" 0 "" ""
}
# optional NAME WHY — a step this machine is not equipped for (no torch with CUDA): not a failure.
optional() {
  echo "==> $1: SKIPPED ($2)"
  record "$1" "SKIPPED ($2)" 0 "" ""
}

# ---- build dependencies, configure, build ---------------------------------------------------------
ARCH="(prebuilt)"
DEPS_NOTE="not checked (SER_GPU_SKIP_BUILD=1)"
if [ "$SKIP_BUILD" != 1 ]; then
  PACKAGES=(cmake g++ pkg-config libsndfile1-dev libsoxr-dev libhdf5-dev libcli11-dev nlohmann-json3-dev libgtest-dev)
  MISSING=()
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p")
  done
  DEPS_NOTE="all present"
  if [ ${#MISSING[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      run_step "install dependencies" bash -c \
        "export DEBIAN_FRONTEND=noninteractive; apt-get update && apt-get install -y --no-install-recommends ${MISSING[*]}"
      DEPS_NOTE="installed: ${MISSING[*]}"
    else
      DEPS_NOTE="MISSING (not root, not installed): ${MISSING[*]}"
      echo "warning: $DEPS_NOTE" >&2
    fi
  fi
  ARCH=native
  FAILED_BEFORE=$FAILED
  if ! run_step "configure (native)" \
      cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=native; then
    # The native attempt stays in the report; the fallback's result is what counts.
    STEP_RESULTS[${#STEP_RESULTS[@]}-1]="RETRIED for sm_90 (native failed)"
    FAILED=$FAILED_BEFORE
    ARCH=90
    rm -rf "$BUILD"
    run_step "configure (sm_90 fallback)" \
      cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90
  fi
  run_step "build" cmake --build "$BUILD" -j "$JOBS"
fi
SER="$BUILD/ser"
TESTS="$BUILD/tests/ser_tests"

SANITIZER="$(command -v compute-sanitizer || true)"
for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer \
         /opt/nvidia/compute-sanitizer/compute-sanitizer; do
  [ -n "$SANITIZER" ] || { [ -x "$c" ] && SANITIZER="$c"; }
done

# ---- tests ------------------------------------------------------------------------------------------
if [ -x "$TESTS" ]; then
  if [ -f "$BUILD/CTestTestfile.cmake" ] && command -v ctest >/dev/null 2>&1; then
    run_step "ctest" ctest --test-dir "$BUILD" --output-on-failure -j "$CTEST_JOBS"
  else
    run_step "ser_tests (no ctest files)" "$TESTS"
  fi
  for tool in memcheck racecheck initcheck; do
    if [ -n "$SANITIZER" ] && [ -x "$SANITIZER" ]; then
      run_step "compute-sanitizer $tool" "$SANITIZER" --tool "$tool" --error-exitcode 1 "$TESTS" --gtest_filter="$FILTER"
    else
      skip "compute-sanitizer $tool" "compute-sanitizer not found"
    fi
  done
else
  skip "ctest" "no test binary at $TESTS"
fi

# ---- benchmarks -------------------------------------------------------------------------------------
KJSON="$LOGS/ser_bench_kernels.json"; KMD="$LOGS/ser_bench_kernels.md"
FJSON="$LOGS/ser_bench_features.json"; TJSON="$LOGS/ser_bench_train.json"
OJSON="$LOGS/torch_bench_ops.json"; TTLOG=""
if [ -x "$SER" ]; then
  run_step "ser bench kernels --device cuda" "$SER" bench kernels --device cuda --out "$KMD" --json "$KJSON"
  run_step "ser bench features --device cuda" "$SER" bench features --device cuda --json "$FJSON"
  CACHE="${SER_BENCH_CACHE:-}"
  if [ -z "$CACHE" ]; then
    CACHE="$LOGS/synthetic.h5"
    run_step "synthetic cache" "$SER" features --corpus synthetic --device cuda --out "$CACHE" || CACHE=""
  fi
  if [ -n "$CACHE" ]; then
    # Training throughput and the per-op table, hand-written kernels and cuDNN, on batches of
    # exactly 16 x 300 frames: the work torch_reference.py bench below does.
    run_step "ser bench train --device cuda --kernel-timing" "$SER" bench train --cache "$CACHE" \
      --config experiments/cnn_attn.toml --device cuda --kernels all --frames 300 --batch-size 16 \
      --kernel-timing --json "$TJSON"
  else
    skip "ser bench train --device cuda --kernel-timing" "no feature cache"
  fi
else
  for s in "ser bench kernels" "ser bench features" "ser bench train"; do skip "$s" "no ser binary at $SER"; done
fi

if "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
  TORCH_NOTE="$("$PY" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)' 2>&1)"
  run_step "torch_bench_ops.py --device cuda" "$PY" tools/torch_bench_ops.py --device cuda --json "$OJSON"
  TTLOG="$LOGS/torch_reference_bench.log"
  run_step "torch_reference.py bench --device cuda --compile" bash -c \
    "'$PY' tools/torch_reference.py bench --config experiments/cnn_attn.toml --device cuda --compile 2>&1 | tee '$TTLOG'"
else
  TORCH_NOTE="no torch with CUDA in $PY"
  optional "torch_bench_ops.py --device cuda" "$TORCH_NOTE"
  optional "torch_reference.py bench --device cuda --compile" "$TORCH_NOTE"
fi

# ---- report -----------------------------------------------------------------------------------------
RESULTS_MD="$LOGS/comparison.md"
"$PY" "$ROOT/tools/bench_report.py" --ser-kernels "$KJSON" --torch-ops "$OJSON" --ser-features "$FJSON" \
  --ser-train "$TJSON" ${TTLOG:+--torch-train "$TTLOG"} >"$RESULTS_MD" 2>>"$LOGS/bench_report.log" ||
  python3 "$ROOT/tools/bench_report.py" --ser-kernels "$KJSON" --torch-ops "$OJSON" --ser-features "$FJSON" \
    --ser-train "$TJSON" ${TTLOG:+--torch-train "$TTLOG"} >"$RESULTS_MD" 2>>"$LOGS/bench_report.log" ||
  echo "(tools/bench_report.py failed: see $LOGS/bench_report.log)" >"$RESULTS_MD"

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
  echo "| command | \`tools/gpu_check.sh $*\` (build ${BUILD}, SER_GPU_SKIP_BUILD=${SKIP_BUILD}) |"
  echo "| CUDA architectures | ${ARCH} |"
  echo "| build dependencies | ${DEPS_NOTE} |"
  echo "| PyTorch | ${TORCH_NOTE} |"
  echo "| overall | $([ $FAILED = 0 ] && echo PASS || echo FAIL) |"
  echo
  echo "| step | result | seconds |"
  echo "|---|---|---|"
  for i in "${!STEP_NAMES[@]}"; do
    echo "| ${STEP_NAMES[$i]} | ${STEP_RESULTS[$i]} | ${STEP_SECONDS[$i]} |"
  done
  echo
  cat "$RESULTS_MD"
  if [ -f "$KMD" ]; then
    echo
    sed -e 's/^## /### /' -e 's/^# /## /' "$KMD"
  fi
  for i in "${!STEP_NAMES[@]}"; do
    echo
    echo "## ${STEP_NAMES[$i]}: ${STEP_RESULTS[$i]}"
    echo
    [ -n "${STEP_CMDS[$i]}" ] && echo "Command: \`${STEP_CMDS[$i]}\`"
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
