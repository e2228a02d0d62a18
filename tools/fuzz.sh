#!/usr/bin/env bash
# Builds the reader fuzz harnesses (clang, libFuzzer, ASan + UBSan, in build-fuzz/) and runs each
# on its seed corpus for a fixed time, two at a time (docs/fuzzing.md). Fails on any finding:
# a crash, a sanitizer report, an exception other than ser::Error, a broken promise, an input
# slower than 10 s, or an allocation over 1 GiB (a size field trusted without a check).
#   bash tools/fuzz.sh                  every harness for 20 s (what CI runs)
#   bash tools/fuzz.sh 600 cache audio  the named harnesses for 10 minutes each
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
[ $# -gt 0 ] && shift
all=(audio corpus_labels run_config feature_config cache checkpoint safetensors model_file)
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=("${all[@]}")

bash tools/setup_debian.sh clang libclang-rt-14-dev
out=build-fuzz
mkdir -p "$out"
# -O1 with assertions on (no NDEBUG) and line tables for the sanitizers' stack traces.
CC=clang CXX=clang++ cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" \
  -DCMAKE_C_FLAGS_RELEASE="-O1" -DSER_ENABLE_CUDA=OFF -DSER_BUILD_TESTS=OFF -DSER_FUZZ=ON >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
cmake --build "$out" -j"${SER_JOBS:-$(nproc)}" --target fuzz_all

# Seeds: valid files made by ser's own writers, and the shipped run configs and experiment files.
rm -rf "$out/seeds" "$out/findings"
"$out/tests/fuzz/fuzz_seeds" "$out/seeds"
cp experiments/*.toml "$out/seeds/run_config/"
mkdir -p "$out/findings"

# One harness: new inputs go to corpus/NAME (kept between local runs), the seeds are read only.
run_one() {
  local name=$1
  mkdir -p "$out/corpus/$name"
  "$out/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 \
    -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$out/findings/$name-" \
    "$out/corpus/$name" "$out/seeds/$name" >"$out/findings/$name.log" 2>&1
}

status=0
printf '%-16s %12s %8s %10s  %s\n' harness executions seconds corpus result
for ((i = 0; i < ${#harnesses[@]}; i += 2)); do
  pids=()
  for name in "${harnesses[@]:i:2}"; do run_one "$name" & pids+=($!); done
  for j in "${!pids[@]}"; do
    name=${harnesses[$((i + j))]}
    result=ok
    wait "${pids[$j]}" || { result="FINDING (see $out/findings/$name.log)"; status=1; }
    log="$out/findings/$name.log"
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | awk '{print $5}' || true)
    units=$(find "$out/corpus/$name" -type f | wc -l)
    printf '%-16s %12s %8s %10s  %s\n' "$name" "${execs:-?}" "${secs:-?}" "$units" "$result"
  done
done
if [ $status -ne 0 ]; then
  for f in "$out"/findings/*.log; do
    if grep -q -E 'ERROR: |SUMMARY: |terminate called|broke its promise|==[0-9]+==' "$f"; then
      echo "---- $f"; grep -E -A25 'ERROR: |terminate called|broke its promise' "$f" | head -60
    fi
  done
fi
exit $status
