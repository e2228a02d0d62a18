#!/usr/bin/env python3
"""Puts ser's benchmark results beside PyTorch's and the targets of issue 6, as Markdown.

  python3 tools/bench_report.py [--ser-kernels K.json] [--torch-ops T.json] [--ser-features F.json]
      [--ser-train TRAIN.json] [--torch-train TORCH_TRAIN.log]

Every input is optional; a missing one leaves its rows as "not measured". Inputs:
  --ser-kernels   `ser bench kernels --json`
  --torch-ops     `tools/torch_bench_ops.py --json`
  --ser-features  `ser bench features --json`
  --ser-train     `ser bench train --json` (its rows: one per device / kernel path)
  --torch-train   the output of `tools/torch_reference.py bench` (lines "eager ... N utterances/s")
Writes to stdout. Needs only the standard library (tools/gpu_check.sh runs it).
"""
from __future__ import annotations

import argparse
import json
import re
import sys

TARGETS = {
    "frontend": 5.0,   # fused log-mel at least 5x torchaudio on the GPU
    "conv": 0.8,       # convolution forward + backward at least 0.8x cuDNN
    "memory": 0.8,     # pooling, elementwise, Adam at least 80 % of copy bandwidth
    "train": 1.5,      # end-to-end training at least 1.5x PyTorch eager
}


def load_json(path):
    if not path:
        return None
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as e:
        print(f"bench_report: cannot read {path}: {e}", file=sys.stderr)
        return None


def verdict(value, target):
    if value is None:
        return "not measured"
    return "met" if value >= target else "NOT met"


def fmt(v, f="{:.2f}"):
    return "—" if v is None else f.format(v)


def torch_train_rates(path):
    """{"eager": utt/s, "compile": utt/s} from torch_reference.py bench output."""
    rates = {}
    if not path:
        return rates
    try:
        with open(path) as fh:
            for line in fh:
                m = re.match(r"^(eager|compile)\s+\d+ steps .*?: ([0-9.]+) utterances/s", line)
                if m:
                    rates[m.group(1)] = float(m.group(2))
    except OSError as e:
        print(f"bench_report: cannot read {path}: {e}", file=sys.stderr)
    return rates


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ser-kernels")
    ap.add_argument("--torch-ops")
    ap.add_argument("--ser-features")
    ap.add_argument("--ser-train")
    ap.add_argument("--torch-train")
    a = ap.parse_args(argv)
    sk, to, sf, st = (load_json(p) for p in (a.ser_kernels, a.torch_ops, a.ser_features, a.ser_train))
    tt = torch_train_rates(a.torch_train)
    out = []
    w = out.append

    # ---- the numbers each target needs ------------------------------------------------------------
    torch_rows = (to or {}).get("rows", [])
    ta = next((r for r in torch_rows if r["section"] == "frontend"), None)
    fe_rows = (sf or {}).get("rows", [])
    fused = next((r for r in fe_rows if r["path"].startswith("cuda")), None)
    cufft = next((r for r in fe_rows if r["path"].startswith("cufft")), None)
    fe_ratio = (fused["audio_seconds_per_second"] / ta["audio_seconds_per_second"]
                if fused and ta and ta.get("audio_seconds_per_second") else None)

    ser_rows = (sk or {}).get("rows", [])
    conv_total = [r for r in ser_rows if r["section"] == "conv2d" and r["op"].startswith("training step")]
    conv_ratio = None
    if conv_total and all(r.get("baseline_seconds") for r in conv_total):
        conv_ratio = sum(r["baseline_seconds"] for r in conv_total) / sum(r["seconds"] for r in conv_total)
    mem = [r for r in ser_rows if r["section"] == "memory" and r.get("baseline_seconds")]
    gpu_mem = bool(sk and sk.get("gpu"))
    mem_min = min((r["speed_vs_baseline"] for r in mem), default=None) if gpu_mem else None

    ser_train = [r for r in (st or []) if str(r.get("device", "")).startswith("cuda")]
    ser_hand = next((r for r in ser_train if "handwritten" in r["device"]), ser_train[0] if ser_train else None)
    train_ratio = (ser_hand["train_utterances_per_s"] / tt["eager"]) if ser_hand and tt.get("eager") else None

    w("## Targets (issue 6, on this device)\n")
    w("| target | measured | verdict |\n|---|---|---|")
    w(f"| fused log-mel >= {TARGETS['frontend']:g}x torchaudio on the GPU | "
      f"{fmt(fe_ratio, '{:.1f}x')} (ser's `cuda` path is log-mel + prosody; torchaudio is log-mel only) | "
      f"{verdict(fe_ratio, TARGETS['frontend'])} |")
    w(f"| convolution forward + backward >= {TARGETS['conv']:g}x cuDNN (fp32, TF32 off) | "
      f"{fmt(conv_ratio, '{:.2f}x')} (all conv layers' training passes summed) | {verdict(conv_ratio, TARGETS['conv'])} |")
    w(f"| pooling, elementwise, batch norm, Adam >= {TARGETS['memory'] * 100:g} % of copy bandwidth | "
      f"{fmt(None if mem_min is None else 100 * mem_min, '{:.0f} %')} (the worst op; all in the table below) | "
      f"{verdict(mem_min, TARGETS['memory'])} |")
    w(f"| end-to-end training >= {TARGETS['train']:g}x PyTorch eager | {fmt(train_ratio, '{:.2f}x')} "
      f"(ser {fmt(ser_hand['train_utterances_per_s'] if ser_hand else None, '{:.1f}')} vs eager "
      f"{fmt(tt.get('eager'), '{:.1f}')} utterances/s; torch.compile {fmt(tt.get('compile'), '{:.1f}')}) | "
      f"{verdict(train_ratio, TARGETS['train'])} |")
    w("")

    # ---- front-end --------------------------------------------------------------------------------
    w("## Front-end\n")
    w("| path | audio-s per s |\n|---|---:|")
    for r in fe_rows:
        w(f"| ser {r['path']} | {r['audio_seconds_per_second']:.0f} |")
    if ta:
        w(f"| torchaudio {ta.get('torchaudio', '')} MelSpectrogram + log ({to.get('device', '')}; {ta['shape']}) | "
          f"{ta['audio_seconds_per_second']:.0f} |")
    if not fe_rows and not ta:
        w("| not measured | |")
    if cufft and fused:
        w(f"\nser fused / cuFFT path: {fused['audio_seconds_per_second'] / cufft['audio_seconds_per_second']:.2f}x")
    w("")

    # ---- attention ---------------------------------------------------------------------------------
    w("## Attention core: ser's fused SDPA vs PyTorch\n")
    if to:
        w(f"PyTorch side: {to.get('sdpa_impl', '?')}, torch {to.get('torch', '?')}; its times include launch "
          "overhead, ser's do not (see bench/README.md).\n")
    w("| shape | pass | ser us | PyTorch SDPA us | PyTorch explicit us | ser speed vs SDPA |\n|---|---|---:|---:|---:|---:|")
    for r in (x for x in ser_rows if x["section"] == "sdpa" and x["op"] != "backward"):
        t_sdpa = next((x for x in torch_rows if x["section"] == "sdpa" and x.get("variant") == "sdpa"
                       and x["op"] == r["op"] and x["shape"] == r["shape"]), None)
        t_exp = next((x for x in torch_rows if x["section"] == "sdpa" and x.get("variant") == "explicit"
                      and x["op"] == r["op"] and x["shape"] == r["shape"]), None)
        ratio = t_sdpa["seconds"] / r["seconds"] if t_sdpa else None
        w(f"| {r['shape']} | {r['op']} | {r['seconds'] * 1e6:.1f} | "
          f"{fmt(t_sdpa['seconds'] * 1e6 if t_sdpa else None, '{:.1f}')} | "
          f"{fmt(t_exp['seconds'] * 1e6 if t_exp else None, '{:.1f}')} | {fmt(ratio, '{:.2f}x')} |")
    w("")

    # ---- convolution through PyTorch ---------------------------------------------------------------
    if any(r["section"] == "conv2d" for r in torch_rows):
        w("## Convolution: ser vs cuDNN called by ser vs cuDNN called by PyTorch\n")
        w("| shape | pass | ser ms | cuDNN (ser) ms | PyTorch ms | ser speed vs PyTorch |\n|---|---|---:|---:|---:|---:|")
        for r in (x for x in ser_rows if x["section"] == "conv2d" and not x["op"].startswith("training")):
            t = next((x for x in torch_rows if x["section"] == "conv2d" and x["op"] == r["op"]
                      and x["shape"] == r["shape"]), None)
            w(f"| {r['shape']} | {r['op']} | {r['seconds'] * 1e3:.4f} | "
              f"{fmt(r['baseline_seconds'] * 1e3 if r.get('baseline_seconds') else None, '{:.4f}')} | "
              f"{fmt(t['seconds'] * 1e3 if t else None, '{:.4f}')} | "
              f"{fmt(t['seconds'] / r['seconds'] if t else None, '{:.2f}x')} |")
        w("")

    # ---- end to end --------------------------------------------------------------------------------
    w("## End to end: training utterances per second\n")
    w("| what | utterances/s |\n|---|---:|")
    for r in st or []:
        w(f"| ser {r.get('device', '?')}, {r.get('model', '?')}, batch {r.get('batch_size', '?')} | "
          f"{r['train_utterances_per_s']:.1f} |")
    for k, v in tt.items():
        w(f"| PyTorch {k} | {v:.1f} |")
    if not st and not tt:
        w("| not measured | |")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
