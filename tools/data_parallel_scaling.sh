#!/usr/bin/env bash
# CPU scaling of data-parallel training (docs/cluster.md): the same run (config, split, global batch)
# as 1 process with --threads 2, 1 process with --threads 1, and mpirun -np 2 ranks with --threads 1
# each, alternating for ROUNDS rounds; prints each run's training speed (metrics.jsonl,
# train_utterances_per_second, mean over its epochs) and the medians.
#   tools/data_parallel_scaling.sh CACHE CONFIG "--test-speakers 03 --val-speakers 08,09" [EPOCHS] [ROUNDS]
set -euo pipefail
cache=$1 config=$2 split=$3 epochs=${4:-1} rounds=${5:-2}
ser=${SER:-$(dirname "$0")/../build/ser}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common="train --cache $cache --config $config $split --epochs $epochs --device cpu --no-progress"
speed() { /usr/bin/python3 -c "import json,sys; v=[json.loads(l)['train_utterances_per_second'] for l in open(sys.argv[1])]; print(sum(v)/len(v))" "$1/metrics.jsonl"; }
declare -A all
for r in $(seq 1 "$rounds"); do
  for mode in one_t2 one_t1 two_ranks; do
    out=$work/$mode$r
    case $mode in
      one_t2) "$ser" $common --threads 2 --out "$out" >/dev/null 2>&1 ;;
      one_t1) "$ser" $common --threads 1 --out "$out" >/dev/null 2>&1 ;;
      two_ranks) mpirun -np 2 --oversubscribe "$ser" $common --threads 1 --data-parallel --out "$out" >/dev/null 2>&1 ;;
    esac
    s=$(speed "$out")
    all[$mode]="${all[$mode]:-} $s"
    printf 'round %d  %-10s %8.1f utterances/s\n' "$r" "$mode" "$s"
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m2=$(median "${all[one_t2]}") m1=$(median "${all[one_t1]}") mr=$(median "${all[two_ranks]}")
printf 'median: 1 process x 2 threads %.1f, 1 process x 1 thread %.1f, 2 ranks x 1 thread %.1f utterances/s\n' "$m2" "$m1" "$mr"
printf '2 ranks / 1 process x 1 thread = %.2fx; 2 ranks / 1 process x 2 threads = %.2fx\n' \
  "$(echo "$mr / $m1" | bc -l)" "$(echo "$mr / $m2" | bc -l)"
