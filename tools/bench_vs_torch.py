#!/usr/bin/env python3
"""ser against PyTorch eager on identical work, in one invocation.

Alternates `ser bench train --frames T` and `tools/torch_reference.py bench --frames T` for
--rounds rounds (ser, torch, ser, torch, ...), same model config, batch, frames, thread count and
precision (fp32; TF32 off on the GPU), and prints training and inference utterances/s of every
round, their medians and the ratio ser / torch of the medians (with the range of per-round ratios).

    /usr/bin/python3 tools/bench_vs_torch.py --cache CACHE.h5 --config experiments/cnn_attn.toml \\
        --batch 16 --frames 300 --steps 20 --rounds 3 [--threads 2] [--device cpu|cuda] [--json OUT]

ser's inputs are the cache's log-mel (every utterance cropped or zero-padded to T frames, full
mask); PyTorch's are random of the same shape: the arithmetic is the same, the values are not.
The numbers of mels, fused functionals and classes are read from ser's result, so both build the
same network. Needs torch (Debian: python3-torch).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run_ser(a, out: str, env: dict) -> dict:
    cmd = [a.ser, "bench", "train", "--cache", a.cache, "--config", a.config, "--batch-size", str(a.batch),
           "--frames", str(a.frames), "--steps", str(a.steps), "--device", a.device, "--json", out]
    if a.device == "cuda":
        cmd += ["--kernels", a.kernels]
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    with open(out) as fh:
        rows = json.load(fh)
    if not rows:
        raise SystemExit("ser bench train wrote no result")
    return rows[0]


def run_torch(a, shape: dict, out: str, env: dict) -> dict:
    cmd = [a.python, os.path.join(HERE, "torch_reference.py"), "bench", "--config", a.config, "--batch", str(a.batch),
           "--frames", str(a.frames), "--steps", str(a.steps), "--device", a.device, "--threads", str(a.threads),
           "--mels", str(shape["n_mels"]), "--prosody", str(max(shape["n_prosody"], 1)),
           "--classes", str(shape["n_classes"]), "--json", out]
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    with open(out) as fh:
        return json.load(fh)[0]  # eager


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", required=True, help="feature cache for ser (any: every batch is made T frames)")
    ap.add_argument("--config", default="experiments/cnn_attn.toml", help="run config both build the model from")
    ap.add_argument("--ser", default="build/ser")
    ap.add_argument("--python", default=sys.executable, help="the Python that has torch")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--kernels", default="handwritten", choices=["handwritten", "vendor"], help="ser's GPU path")
    ap.add_argument("--json", help="also write every round and the ratios here")
    a = ap.parse_args(argv)

    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(a.threads)  # the same thread count for ser's OpenBLAS and torch's intra-op pool
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            s = run_ser(a, os.path.join(tmp, "ser.json"), env)
            t = run_torch(a, s, os.path.join(tmp, "torch.json"), env)
            rounds.append({"ser": s, "torch": t})
            print(f"round {r + 1}: train ser {s['train_utterances_per_s']:.1f} torch {t['train_utterances_per_s']:.1f}"
                  f" utt/s; inference ser {s['eval_utterances_per_s']:.1f} torch {t['eval_utterances_per_s']:.1f} utt/s",
                  flush=True)

    s0, t0 = rounds[0]["ser"], rounds[0]["torch"]
    print(f"\nser: {s0['device']}; torch {t0['torch']} eager, {t0['threads']} threads; model {s0['model']}, batch "
          f"{a.batch} x {a.frames} frames, fp32, {a.steps} steps per round, {a.rounds} rounds alternating")
    summary = {"config": a.config, "batch_size": a.batch, "frames": a.frames, "steps": a.steps, "threads": a.threads,
               "device": a.device, "rounds": rounds}
    for key, what in (("train_utterances_per_s", "training"), ("eval_utterances_per_s", "inference")):
        ser_v = [r["ser"][key] for r in rounds]
        torch_v = [r["torch"][key] for r in rounds]
        per_round = [x / y for x, y in zip(ser_v, torch_v)]
        ratio = statistics.median(ser_v) / statistics.median(torch_v)
        print(f"{what:9s} ser {statistics.median(ser_v):8.1f} utt/s   torch {statistics.median(torch_v):8.1f} utt/s   "
              f"ser/torch {ratio:.2f}x (rounds {min(per_round):.2f}-{max(per_round):.2f})")
        summary[key] = {"ser_median": statistics.median(ser_v), "torch_median": statistics.median(torch_v),
                        "ratio": ratio, "ratio_per_round": per_round}
    if a.json:
        tmp = f"{a.json}.tmp-{os.getpid()}"
        with open(tmp, "w") as fh:
            json.dump(summary, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
