#!/usr/bin/env python3
"""Parity of an exported ONNX graph (`ser export --format onnx`) with ser's own inference.

Runs the ONNX file with onnxruntime on the first N utterances of a feature cache (one utterance per
run: a batch must hold equal lengths) and compares its logits and probabilities with those of
`ser predict --model CKPT --cache CACHE --limit N --format json` for the same utterances (cache order).
Prints the largest absolute differences, how many predicted classes agree, and the versions of
onnx and onnxruntime. Exit status 1 when the largest logit difference exceeds --tolerance.

  /usr/bin/python3 tools/onnx_parity.py --onnx /tmp/m.onnx --checkpoint RUN/best.h5 \
      --cache /tmp/synth.h5 --limit 50 [--ser build-cpu/ser | --predict-json FILE]

Needs numpy, h5py and onnxruntime (`/usr/bin/python3 -m pip install --break-system-packages
onnxruntime`); the onnx package, when present, also runs its checker on the file.
"""
import argparse
import json
import subprocess
import sys

import h5py
import numpy as np


def read_cache(path, limit):
    """The first `limit` utterances' log-mel (T, n_mels), functionals and paths, as the cache holds them."""
    with h5py.File(path, "r") as f:
        offsets = f["/offsets"][:]
        n = len(offsets) - 1 if limit <= 0 else min(limit, len(offsets) - 1)
        logmel = f["/logmel"][: offsets[n]]
        functionals = f["/functionals"][:n]
        paths = [p.decode() if isinstance(p, bytes) else str(p) for p in f["/paths"][:n]]
    utts = [np.ascontiguousarray(logmel[offsets[u]: offsets[u + 1]], dtype=np.float32) for u in range(n)]
    return utts, np.ascontiguousarray(functionals, dtype=np.float32), paths


def ser_predictions(args):
    if args.predict_json:
        with open(args.predict_json) as f:
            return json.load(f)
    cmd = [args.ser, "predict", "--model", args.checkpoint, "--cache", args.cache, "--limit", str(args.limit),
           "--format", "json"]
    if args.device:
        cmd += ["--device", args.device]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onnx", required=True, help="the exported graph")
    ap.add_argument("--checkpoint", help="the checkpoint it was exported from (for ser predict)")
    ap.add_argument("--cache", required=True, help="a feature cache with the model's feature config")
    ap.add_argument("--limit", type=int, default=50, help="utterances to compare (the first N of the cache)")
    ap.add_argument("--ser", default="build-cpu/ser", help="the ser executable")
    ap.add_argument("--device", default="cpu", help="ser predict --device (default cpu)")
    ap.add_argument("--predict-json", help="use this saved `ser predict --format json` output instead")
    ap.add_argument("--tolerance", type=float, default=1e-3, help="largest acceptable |logit difference|")
    args = ap.parse_args()
    if not args.predict_json and not args.checkpoint:
        ap.error("--checkpoint is needed unless --predict-json is given")

    import onnxruntime as ort
    try:
        import onnx
        onnx.checker.check_model(onnx.load(args.onnx))
        onnx_version, checker = onnx.__version__, "passed"
    except ImportError:
        onnx_version, checker = "not installed", "not run"

    sess = ort.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in sess.get_inputs()}
    utts, functionals, paths = read_cache(args.cache, args.limit)
    ser = ser_predictions(args)["results"]
    if len(ser) != len(utts):
        sys.exit(f"ser predict gave {len(ser)} results for {len(utts)} utterances")

    max_logit = max_prob = 0.0
    agree = 0
    for u, (x, r) in enumerate(zip(utts, ser)):
        if r["file"] != paths[u]:
            sys.exit(f"utterance {u}: ser predict reports {r['file']}, the cache holds {paths[u]}")
        feed = {}
        if "logmel" in inputs:
            feed["logmel"] = x[None]                   # (1, T, n_mels)
        if "functionals" in inputs:
            feed["functionals"] = functionals[u][None]  # (1, n_functionals)
        logits, probs = sess.run(["logits", "probabilities"], feed)
        ref_logits = np.asarray(r["logits"], dtype=np.float64)
        ref_probs = np.asarray(r["probabilities"], dtype=np.float64)
        max_logit = max(max_logit, float(np.abs(logits[0] - ref_logits).max()))
        max_prob = max(max_prob, float(np.abs(probs[0] - ref_probs).max()))
        # The graph's own softmax must be the softmax of its logits.
        max_prob = max(max_prob, float(np.abs(probs[0] - softmax(logits[0].astype(np.float64))).max()))
        agree += int(np.argmax(logits[0]) == np.argmax(ref_logits))

    frames = [len(x) for x in utts]
    print(f"utterances             {len(utts)} ({min(frames)}..{max(frames)} frames)")
    print(f"graph inputs           {sorted(inputs)}")
    print(f"max |logit diff|       {max_logit:.3g}")
    print(f"max |probability diff| {max_prob:.3g}")
    print(f"same predicted class   {agree}/{len(utts)}")
    print(f"onnx                   {onnx_version} (checker {checker})")
    print(f"onnxruntime            {ort.__version__}")
    return 0 if max_logit <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
