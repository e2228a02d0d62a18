#!/usr/bin/env python3
"""PyTorch's side of `ser bench kernels`: the same ops at the same shapes, timed in PyTorch.

  /usr/bin/python3 tools/torch_bench_ops.py [--config experiments/cnn_attn.toml] [--device cpu|cuda]
      [--batch 16] [--frames 300] [--mels 64] [--warmup 3] [--repeat 20] [--json OUT.json]

Rows (JSON on stdout, or in --json; a summary on stderr):
  - conv2d forward, backward-data, backward-weight of every convolution block (cuDNN on the GPU,
    fp32 with TF32 off; torch.backends.cudnn.benchmark as --cudnn-benchmark says);
  - the attention core: torch.nn.functional.scaled_dot_product_attention forward and forward +
    backward (torch >= 2.0; older torch falls back to the explicit softmax(Q K^T * scale) V and says
    so in "sdpa_impl"), plus the explicit form always, for reference;
  - the front-end: torchaudio MelSpectrogram (ser's default log-mel convention) + log on a batch of
    utterances, as audio-seconds per second.
Shapes follow ser's model builder (src/nn/model.cpp) and carry the same shape strings as
`ser bench kernels --json`, so tools/bench_report.py can put the two side by side. FLOPs use ser's
counts (src/bench/op_cost.hpp). Timing: CUDA events (or perf_counter on the CPU) around each
sample of back-to-back calls after warm-up, median over samples; unlike ser's driver, PyTorch's
launch overhead is included (that is what eager PyTorch costs).

Needs torch (and torchaudio for the front-end row; skipped without it).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import MODEL_DEFAULTS, read_run_config  # noqa: E402  (ser's config reader)


def dims(*d) -> str:
    return "(" + ", ".join(str(int(x)) for x in d) + ")"


def model_shapes(mc: dict, batch: int, frames: int, mels: int) -> tuple[list, list]:
    """Conv shapes [(layer, (N, C_in, H, W, C_out, kh, kw))] and attention shapes [(layer, (N, T, heads, d))],
    following ser's builder: blocks of conv ("same" padding) -> BN -> ReLU -> max-pool -> dropout."""
    convs, attn = [], []
    if mc.get("input", "logmel") == "functionals":
        return convs, attn
    c, t, f = 1, frames, mels
    kt, kf, pt, pf = mc["kernel_time"], mc["kernel_freq"], mc["pool_time"], mc["pool_freq"]
    for b, out in enumerate(mc["conv_channels"]):
        convs.append((f"block {b} conv {c}->{out}", (batch, c, t, f, out, kt, kf)))
        if pt > 1 or pf > 1:
            t, f = (t - pt) // pt + 1, (f - pf) // pf + 1
        c = out
        if mc["attention_after"] == b + 1:
            attn.append((f"attention after block {b + 1} (D={c * f})", (batch, t, mc["attention_heads"],
                                                                          mc["attention_head_dim"])))
    return convs, attn


class Timer:
    def __init__(self, dev: torch.device, warmup: int, repeat: int, min_sample_s: float):
        self.dev, self.warmup, self.repeat, self.min_sample_s = dev, warmup, repeat, min_sample_s

    def _sync(self):
        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)

    def _sample(self, fn, inner: int) -> float:
        if self.dev.type == "cuda":
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            for _ in range(inner):
                fn()
            e.record()
            e.synchronize()
            return s.elapsed_time(e) / 1e3
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        return time.perf_counter() - t0

    def median_seconds(self, fn) -> float:
        for _ in range(self.warmup):
            fn()
        self._sync()
        one = max(self._sample(fn, 1), 1e-7)
        inner = int(min(max(math.ceil(self.min_sample_s / one), 1), 1000))
        return statistics.median(self._sample(fn, inner) / inner for _ in range(self.repeat))


def conv_rows(timer: Timer, dev, convs, seed: int) -> list:
    rows = []
    has_bwd = hasattr(torch.ops.aten, "convolution_backward")
    for layer, (n, ci, h, w, co, kh, kw) in convs:
        g = torch.Generator(device="cpu").manual_seed(seed)
        x = torch.rand(n, ci, h, w, generator=g).mul_(2).sub_(1).to(dev)
        wt = torch.rand(co, ci, kh, kw, generator=g).mul_(2).sub_(1).to(dev)
        b = torch.rand(co, generator=g).mul_(2).sub_(1).to(dev)
        ph, pw = kh // 2, kw // 2
        ho, wo = (h + 2 * ph - kh) + 1, (w + 2 * pw - kw) + 1
        dy = torch.rand(n, co, ho, wo, generator=g).mul_(2).sub_(1).to(dev)
        flops = 2.0 * co * (n * ho * wo) * (ci * kh * kw)
        shape = f"x {dims(n, ci, h, w)}, w {dims(co, ci, kh, kw)} -> y {dims(n, co, ho, wo)}"

        def fwd():
            return F.conv2d(x, wt, b, padding=(ph, pw))

        if has_bwd:
            def bwd(mask):
                return torch.ops.aten.convolution_backward(dy, x, wt, [co], [1, 1], [ph, pw], [1, 1], False, [0, 0], 1,
                                                          mask)
            data = lambda: bwd([True, False, False])  # noqa: E731
            weight = lambda: bwd([False, True, False])  # noqa: E731
            how = "aten.convolution_backward"
        else:  # older torch: the autograd functions (may not be the cuDNN kernels)
            data = lambda: torch.nn.grad.conv2d_input(x.shape, wt, dy, padding=(ph, pw))  # noqa: E731
            weight = lambda: torch.nn.grad.conv2d_weight(x, wt.shape, dy, padding=(ph, pw))  # noqa: E731
            how = "torch.nn.grad"
        for op, fn in (("forward", fwd), ("backward-data", data), ("backward-weight", weight)):
            s = timer.median_seconds(fn)
            rows.append(dict(section="conv2d", op=op, layer=layer, shape=shape, flops=flops, seconds=s,
                             tflops=flops / s / 1e12, via="F.conv2d" if op == "forward" else how))
    return rows


def sdpa_rows(timer: Timer, dev, attn, seed: int) -> tuple[list, str]:
    rows = []
    native = hasattr(F, "scaled_dot_product_attention")
    impl = ("torch.nn.functional.scaled_dot_product_attention" if native else
            f"explicit softmax(Q K^T * scale) V (torch {torch.__version__} has no scaled_dot_product_attention)")
    for layer, (n, t, hh, d) in attn:
        g = torch.Generator(device="cpu").manual_seed(seed)
        q, k, v, do = (torch.rand(n, hh, t, d, generator=g).mul_(2).sub_(1).to(dev) for _ in range(4))
        scale = 1.0 / math.sqrt(d)
        fwd_flops, bwd_flops = 4.0 * n * hh * t * t * d, 10.0 * n * hh * t * t * d
        shape = f"q, k, v, o (N, T, heads, head_dim) = {dims(n, t, hh, d)}"

        def explicit(q_, k_, v_):
            return torch.softmax((q_ @ k_.transpose(-1, -2)) * scale, dim=-1) @ v_

        variants = [("explicit", explicit)]
        if native:
            # Its default scale is 1 / sqrt(head_dim), ser's.
            variants.insert(0, ("sdpa", lambda q_, k_, v_: F.scaled_dot_product_attention(q_, k_, v_)))
        else:
            variants.insert(0, ("sdpa", explicit))
        qg, kg, vg = (z.clone().requires_grad_(True) for z in (q, k, v))
        for name, f in variants:
            with torch.no_grad():
                tf = timer.median_seconds(lambda: f(q, k, v))

            def fwd_bwd():
                out = f(qg, kg, vg)
                torch.autograd.grad(out, (qg, kg, vg), do)

            tfb = timer.median_seconds(fwd_bwd)
            via = impl if name == "sdpa" else "explicit softmax(Q K^T * scale) V"
            rows.append(dict(section="sdpa", op="forward", variant=name, layer=layer, shape=shape, flops=fwd_flops,
                             seconds=tf, tflops=fwd_flops / tf / 1e12, via=via))
            rows.append(dict(section="sdpa", op="forward + backward", variant=name, layer=layer, shape=shape,
                             flops=fwd_flops + bwd_flops, seconds=tfb, tflops=(fwd_flops + bwd_flops) / tfb / 1e12,
                             via=via))
    return rows, impl


def frontend_row(timer: Timer, dev, batch: int, seconds: float, seed: int):
    try:
        import torchaudio
    except ImportError:
        return None
    sr = 16000  # ser's default LogMelConfig (include/ser/feature_config.hpp) = this MelSpectrogram
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=sr, n_fft=512, win_length=400, hop_length=160, f_min=0.0, f_max=8000.0, n_mels=64,
        window_fn=torch.hann_window, wkwargs={"periodic": True}, power=2.0, center=True, pad_mode="reflect",
        norm=None, mel_scale="htk").to(dev)
    g = torch.Generator(device="cpu").manual_seed(seed)
    audio = (torch.rand(batch, int(seconds * sr), generator=g) * 0.2 - 0.1).to(dev)
    with torch.no_grad():
        s = timer.median_seconds(lambda: torch.log(mel(audio) + 1e-6))
    return dict(section="frontend", op="torchaudio MelSpectrogram + log", shape=f"{batch} utterances x {seconds:g} s "
                f"at {sr} Hz", seconds=s, audio_seconds_per_second=batch * seconds / s,
                torchaudio=torchaudio.__version__)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="run config (TOML); default: ser's built-in cnn_attn")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--mels", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--min-sample-ms", type=float, default=None,
                    help="back-to-back calls per sample fill this long (default 0.1 GPU, 1 CPU)")
    ap.add_argument("--audio-seconds", type=float, default=3.0, help="front-end row: seconds per utterance")
    ap.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN time its algorithms (default: heuristics)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="write the JSON here instead of stdout")
    a = ap.parse_args(argv)
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device")
    torch.set_num_threads(max(1, a.threads))
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = a.cudnn_benchmark
    if a.config:
        with open(a.config) as fh:
            mc, _ = read_run_config(fh.read())
    else:
        mc = dict(MODEL_DEFAULTS)
    min_s = (a.min_sample_ms if a.min_sample_ms is not None else (0.1 if dev.type == "cuda" else 1.0)) / 1e3
    timer = Timer(dev, a.warmup, a.repeat, min_s)
    convs, attn = model_shapes(mc, a.batch, a.frames, a.mels)
    device_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__} on {device_name}: {mc['name']}, batch {a.batch} x {a.frames} frames x {a.mels} "
          f"mels; fp32, TF32 off", file=sys.stderr)
    rows = conv_rows(timer, dev, convs, a.seed)
    s_rows, impl = sdpa_rows(timer, dev, attn, a.seed)
    rows += s_rows
    fe = frontend_row(timer, dev, a.batch, a.audio_seconds, a.seed)
    if fe:
        rows.append(fe)
    for r in rows:
        what = f"{r['tflops']:.3f} TFLOP/s" if "tflops" in r else f"{r['audio_seconds_per_second']:.0f} audio-s/s"
        print(f"  {r['section']:8s} {r['op']:32s} {r.get('variant', ''):8s} {r['shape']:60s} "
              f"{r['seconds'] * 1e6:10.1f} us  {what}", file=sys.stderr)
    out = dict(torch=torch.__version__, device=device_name, device_type=dev.type, precision="fp32, TF32 off",
               cudnn_benchmark=a.cudnn_benchmark, sdpa_impl=impl, model=mc["name"], config=a.config or "built-in",
               batch=a.batch, frames=a.frames, mels=a.mels, warmup=a.warmup, repeat=a.repeat,
               timing=("CUDA events" if dev.type == "cuda" else "perf_counter") +
               " around samples of back-to-back calls, median; launch overhead included",
               rows=rows)
    text = json.dumps(out, indent=2)
    if a.json:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(text + "\n")
        os.replace(tmp, a.json)
        print(f"wrote {a.json}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
