#!/bin/bash
# tools/slurm/local_slurm_check.sh — the Slurm job array for real, on this machine alone: starts munge
# and a single-node Slurm (Debian's slurm-wlm, configured for localhost, no cgroups), submits
# tools/slurm/experiment_array.sbatch as an array of 2 CPU tasks on a small synthetic experiment,
# waits for it, and checks that the two workers computed every run once between them and that the
# results equal a single process's (durations and speeds aside). Needs root; installs
# slurm-wlm and munge when they are missing. Leaves the daemons running only while it runs.
#
#   sudo bash tools/slurm/local_slurm_check.sh [build/ser]
set -euo pipefail
ser=$(readlink -f "${1:-build/ser}")
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "local_slurm_check.sh: needs root (it starts munged, slurmctld, slurmd)"; exit 2; }
if ! command -v slurmctld > /dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge ||
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge; }
fi

work=$(mktemp -d /tmp/ser-slurm-XXXXXX)
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
mkdir -p "$work"/{state,spool,logs} /run/munge
cat > "$work/slurm.conf" <<CONF
ClusterName=serlocal
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/logs/slurmctld.log
SlurmdLogFile=$work/logs/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF="$work/slurm.conf"
passed=0
cleanup() {
  local pid
  for f in "$work/slurmd.pid" "$work/slurmctld.pid"; do
    [ -f "$f" ] && pid=$(cat "$f") && kill "$pid" 2> /dev/null && while kill -0 "$pid" 2> /dev/null; do sleep 0.2; done
  done
  [ -n "${munge_pid:-}" ] && kill "$munge_pid" 2> /dev/null
  if [ "$passed" = 1 ]; then rm -rf "$work"; else echo "local_slurm_check.sh: logs kept in $work"; fi
}
trap cleanup EXIT
if ! pgrep -x munged > /dev/null; then
  munged --force --foreground > "$work/logs/munged.log" 2>&1 &
  munge_pid=$!
  sleep 1
fi
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 30); do sinfo -h -o %T 2> /dev/null | grep -qE "idle|mixed" && break; sleep 1; done
sinfo

# The experiment: a small hybrid and the SVM on 6 synthetic speakers, 3 folds, 2 seeds.
cat > "$work/hybrid.toml" <<TOML
[model]
conv_channels = [4, 8]
attention_after = 2
attention_heads = 2
attention_head_dim = 4
dense = [16]
[train]
epochs = 12
batch_size = 8
TOML
cat > "$work/grid.toml" <<TOML
[experiment]
name = "grid"
corpus = "synthetic"
protocol = "kfold"
folds = 3
validation_speakers = 1
synthetic_speakers = 6
synthetic_per_emotion = 1
seeds = [1, 2]
[[model]]
name = "hybrid"
kind = "engine"
approach = "hybrid"
config = "hybrid.toml"
[[model]]
name = "svm_rbf"
kind = "svm_rbf"
TOML
"$ser" experiment "$work/grid.toml" --runs "$work/one" --device cpu --no-progress --threads 1 > "$work/one.log" 2>&1

cd "$work"
job=$(SER="$ser" SER_DEVICE=cpu sbatch --parsable --array=0-1 --cpus-per-task=1 \
      "$repo/tools/slurm/experiment_array.sbatch" "$work/grid.toml" "$work/array")
echo "submitted job array $job"
for _ in $(seq 600); do [ -z "$(squeue -h -j "$job" 2> /dev/null)" ] && break; sleep 1; done
for f in "$work"/ser-experiment-"$job"_*.log; do echo "== $f"; cat "$f"; done
/usr/bin/python3 - "$work" << 'PY'
import json, re, sys, glob
work = sys.argv[1]
def comparable(path):
    r = json.load(open(path))
    def strip(j):
        if isinstance(j, dict):
            return {k: strip(v) for k, v in j.items() if "seconds" not in k and "per_second" not in k}
        if isinstance(j, list):
            return [strip(x) for x in j]
        return j
    return strip({"models": r["models"], "attention_examples": r["attention_examples"]})
logs = [open(f).read() for f in sorted(glob.glob(f"{work}/ser-experiment-*_*.log"))]
computed = [int(m.group(1)) for log in logs for m in re.finditer(r"computed (\d+) of 12 runs", log)]
print("array tasks:", len(logs), "runs computed per task:", computed)
same = comparable(f"{work}/array/grid/results.json") == comparable(f"{work}/one/grid/results.json")
print("results equal a single process's:", same)
sys.exit(0 if len(logs) == 2 and sum(computed) == 12 and same else 1)
PY
echo "local_slurm_check.sh: passed"
passed=1
