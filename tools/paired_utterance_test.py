#!/usr/bin/env python3
"""Per-utterance comparison of two models of a `ser experiment` run, computed independently of ser.

    python3 tools/paired_utterance_test.py runs/NAME/results.json MODEL_A MODEL_B [--draws 100000]
        [--results-b runs/OTHER/results.json]

--results-b reads MODEL_B from another experiment's results (same corpus, protocol and validation
rule, so the folds test the same utterances); every (seed, fold, path) must then be in both.

Pairs the two models' test predictions by (seed, fold, path), as ser does. It prints:
- each model's pooled UA;
- the difference;
- the approximate randomisation p-value: exact over every swap pattern when at most 20 utterances
  are discordant, else Monte Carlo with --draws swap patterns;
- a 95 % paired bootstrap percentile interval.

It is a NumPy re-implementation, written from the definitions in docs/experiments.md and not from
ser's code. Use it for pairs ser does not test (ser tests every model against the baseline only)
and as a check of ser's own numbers: p should agree within Monte Carlo error, the interval within
bootstrap error.
"""
import argparse
import itertools
import json
import sys

import numpy as np


def predictions(results, model):
    out = {}
    for f in results["models"][model]["folds"]:
        p = f.get("predictions")
        if p is None:
            raise SystemExit(f"{model}: fold {f.get('fold')} seed {f.get('seed')} kept no predictions")
        for path, t, y in zip(p["paths"], p["truth"], p["predicted"]):
            out[(f["seed"], f["fold"], path)] = (t, y)
    return out


def ua(truth, pred):
    classes = np.unique(truth)
    return float(np.mean([np.mean(pred[truth == c] == c) for c in classes]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results")
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--draws", type=int, default=100000)
    ap.add_argument("--bootstrap", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results-b", help="read model B from this results.json instead")
    args = ap.parse_args(argv)
    with open(args.results) as fh:
        r = json.load(fh)
    rb = r
    if args.results_b:
        with open(args.results_b) as fh:
            rb = json.load(fh)
    pa, pb = predictions(r, args.a), predictions(rb, args.b)
    if pa.keys() != pb.keys():
        raise SystemExit("the two models predicted different utterances")
    keys = sorted(pa)
    truth = np.array([pa[k][0] for k in keys])
    if any(pa[k][0] != pb[k][0] for k in keys):
        raise SystemExit("the two models disagree on a true class")
    ya = np.array([pa[k][1] for k in keys])
    yb = np.array([pb[k][1] for k in keys])
    ua_a, ua_b = ua(truth, ya), ua(truth, yb)
    observed = ua_a - ua_b

    # Swapping the two predictions of an utterance flips the sign of its term in UA(a) - UA(b).
    classes, counts = np.unique(truth, return_counts=True)
    size = dict(zip(classes, counts))
    w = np.array([1.0 / (len(classes) * size[t]) for t in truth])
    d = (ya == truth).astype(float) - (yb == truth).astype(float)
    terms = (w * d)[d != 0]
    m = len(terms)
    thr = abs(observed) - 1e-12
    if m <= 20:
        signs = np.array(list(itertools.product([1.0, -1.0], repeat=m))) if m else np.ones((1, 0))
        p = float(np.mean(np.abs(signs @ terms) >= thr))
        method = "exact"
    else:
        rng = np.random.default_rng(args.seed)
        hits = 0
        for start in range(0, args.draws, 10000):
            n = min(10000, args.draws - start)
            s = rng.choice([1.0, -1.0], size=(n, m))
            hits += int(np.sum(np.abs(s @ terms) >= thr))
        p = (1 + hits) / (1 + args.draws)
        method = f"monte carlo, {args.draws} draws"

    rng = np.random.default_rng(args.seed + 1)
    n = len(truth)
    boot = np.empty(args.bootstrap)
    for i in range(args.bootstrap):
        idx = rng.integers(0, n, n)
        boot[i] = ua(truth[idx], ya[idx]) - ua(truth[idx], yb[idx])
    lo, hi = np.percentile(boot, [2.5, 97.5])
    print(f"{args.a}: pooled UA {100 * ua_a:.1f} %   {args.b}: pooled UA {100 * ua_b:.1f} %   ({n} utterances)")
    print(f"difference {100 * observed:+.1f} points, 95 % bootstrap CI [{100 * lo:+.1f}, {100 * hi:+.1f}]")
    print(f"approximate randomisation p = {p:.4g} ({method}; {m} discordant utterances)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
