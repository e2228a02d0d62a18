#!/usr/bin/env python3
"""PyTorch reference implementation of ser's models (docs/training.md, "PyTorch reference").

Two subcommands:

  parity  --checkpoint RUN/best.h5 --cache CACHE.h5 --summary RUN/summary.json [--double]
          Builds the model from the checkpoint's run_config, loads /params and /state by ser's names,
          rebuilds the test utterances' inputs exactly as ser's BatchMaker does, runs inference (eval
          mode, masked) and compares the predicted classes with summary.json's "test_predictions".

  export  --model MODEL.safetensors --cache CACHE.h5 (--ser build/ser | --ser-json PRED.json)
          [--limit N] [--double]
          Builds the model from a safetensors export alone (`ser export`; docs/export.md): the network
          from the metadata's run_config, weights and normaliser by name. Runs each of the cache's first
          N utterances alone through it and compares the logits with ser's for the same features
          (`ser predict --model MODEL --cache CACHE --limit N --format json`, run here with --ser or
          read from --ser-json); prints the largest absolute logit difference. Exit 1 when it is
          1e-4 or more, or a predicted class differs.

  bench   --config experiments/cnn_attn.toml --batch 16 --frames 300 --steps 20
          [--device cpu|cuda] [--compile]
          Training-step throughput (forward, cross-entropy, backward, clipping, AdamW) on random
          inputs of that shape with full lengths, then inference throughput (eval mode, no
          gradients) on the same batch; fp32 with TF32 off (ser's precision). --json FILE writes
          train_utterances_per_s and eval_utterances_per_s (tools/bench_vs_torch.py compares them
          with `ser bench train --frames`).

Masking follows ser's op contracts (include/ser/nn/*.hpp): every timed activation is zero beyond
its valid length; batch norm takes statistics over valid time steps only; max-pooling keeps windows
wholly inside the utterance (valid length floor((len - k) / k) + 1); self-attention masks padded
keys and zeroes padded outputs; temporal pooling covers valid steps only.

Needs torch, numpy and h5py (the safetensors package, when installed, reads the export; otherwise a
reader here that follows the format's specification does) (Debian: python3-torch python3-numpy python3-h5py; run with
/usr/bin/python3 if another python3 comes first on PATH).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    import tomllib as _toml_reader  # Python >= 3.11

    def parse_toml(text: str) -> dict:
        return _toml_reader.loads(text)
except ImportError:  # pragma: no cover
    import toml as _toml_reader  # type: ignore

    def parse_toml(text: str) -> dict:
        return _toml_reader.loads(text)


# Defaults of ser::ModelConfig / ser::TrainConfig (include/ser/model_config.hpp).
MODEL_DEFAULTS = dict(
    name="cnn_attn", deltas=0, conv_channels=[16, 32, 64, 64], kernel_time=3, kernel_freq=3, pool_time=2,
    pool_freq=2, batchnorm=True, conv_dropout=0.1, attention_after=4, attention_heads=4,
    attention_head_dim=32, attention_pre_norm=False, temporal_pool="attention", fuse_prosody=True, dense=[128],
    dropout=0.3)
TRAIN_DEFAULTS = dict(
    epochs=40, batch_size=16, optimizer="adamw", lr=1e-3, weight_decay=1e-4, beta1=0.9, beta2=0.999,
    eps=1e-8, clip_norm=5.0, class_weights="balanced", label_smoothing=0.0, seed=1)


def read_run_config(text: str) -> tuple[dict, dict]:
    cfg = parse_toml(text)
    model = dict(MODEL_DEFAULTS)
    model.update(cfg.get("model", {}))
    train = dict(TRAIN_DEFAULTS)
    train.update(cfg.get("train", {}))
    return model, train


def time_mask(lengths: torch.Tensor, t: int, dtype) -> torch.Tensor:
    """(N, T) mask, 1 at valid steps t < lengths[n]."""
    return (torch.arange(t, device=lengths.device)[None, :] < lengths[:, None]).to(dtype)


def time_deltas(x: torch.Tensor, lengths: torch.Tensor, order: int) -> torch.Tensor:
    """ser/nn/deltas.hpp: x (N, 1, T, F) -> (N, 1 + order, T, F), the map and its regression deltas
    along time (window 5, as torchaudio.functional.compute_deltas), each utterance's first and last
    valid frames replicated, zero at t >= length."""
    n, _, t, f = x.shape
    steps = torch.arange(t, device=x.device)[None, :]                # (1, T)
    last = (lengths[:, None] - 1).clamp(min=0)                       # (N, 1)
    valid = time_mask(lengths, t, x.dtype)[:, None, :, None]         # (N, 1, T, 1)

    def at(y, k):  # y (N, 1, T, F) read at clamp(t + k, 0, length - 1)
        idx = torch.minimum((steps + k).clamp(min=0), last)          # (N, T)
        return torch.gather(y, 2, idx[:, None, :, None].expand(n, 1, t, f))

    channels = [x * valid]
    for _ in range(order):
        y = channels[-1]
        channels.append(((at(y, 1) - at(y, -1)) + 2 * (at(y, 2) - at(y, -2))) / 10 * valid)
    return torch.cat(channels, dim=1)


def pool_out_length(lengths: torch.Tensor, k: int) -> torch.Tensor:
    """Pool2dShape::out_length: windows wholly inside the utterance (stride = kernel)."""
    return torch.where(lengths >= k, torch.div(lengths - k, k, rounding_mode="floor") + 1,
                       torch.zeros_like(lengths))


class MaskedBatchNorm2d(nn.Module):
    """ser's batchnorm: statistics over valid (n, t, f) only, zero output at padded steps; running
    statistics updated with momentum 0.1 and the unbiased variance (PyTorch's formula)."""

    def __init__(self, c: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        n, c, t, f = x.shape
        m = time_mask(lengths, t, x.dtype)[:, None, :, None]  # (N, 1, T, 1)
        if self.training:
            count = (lengths.clamp(max=t).sum() * f).to(x.dtype)
            mean = (x * m).sum(dim=(0, 2, 3)) / count
            var = (((x - mean[None, :, None, None]) * m) ** 2).sum(dim=(0, 2, 3)) / count
            with torch.no_grad():
                unbiased = var * count / (count - 1).clamp(min=1)
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased)
        else:
            mean, var = self.running_mean, self.running_var
        inv = torch.rsqrt(var + self.eps)
        y = (x - mean[None, :, None, None]) * (inv * self.weight)[None, :, None, None] \
            + self.bias[None, :, None, None]
        return y * m


class ConvBlock(nn.Module):
    """conv ('same' padding) -> masked BN -> ReLU -> max-pool -> dropout."""

    def __init__(self, c_in: int, c_out: int, mc: dict):
        super().__init__()
        kh, kw = mc["kernel_time"], mc["kernel_freq"]
        self.conv = nn.Conv2d(c_in, c_out, (kh, kw), padding=(kh // 2, kw // 2))
        self.bn = MaskedBatchNorm2d(c_out) if mc["batchnorm"] else None
        self.pt, self.pf = mc["pool_time"], mc["pool_freq"]
        self.drop = nn.Dropout(mc["conv_dropout"]) if mc["conv_dropout"] > 0 else None

    def forward(self, x, lengths):
        y = self.conv(x)
        if self.bn is not None:
            y = self.bn(y, lengths)
        else:
            y = y * time_mask(lengths, y.shape[2], y.dtype)[:, None, :, None]
        y = F.relu(y)
        if self.pt > 1 or self.pf > 1:
            y = F.max_pool2d(y, (self.pt, self.pf), (self.pt, self.pf))
            lengths = pool_out_length(lengths, self.pt)
            y = y * time_mask(lengths, y.shape[2], y.dtype)[:, None, :, None]
        if self.drop is not None:
            y = self.drop(y)
        return y, lengths


class SelfAttention(nn.Module):
    """Tokens x_t = flatten(C, F) at each time step; y = x + out_proj(MHA(q u, k u, v u)) with a
    key-padding mask, u = x or (pre_norm) LayerNorm(x) over D; padded query rows give o = 0 and the
    output is zeroed beyond the length."""

    def __init__(self, d: int, heads: int, head_dim: int, pre_norm: bool = False):
        super().__init__()
        inner = heads * head_dim
        self.h, self.hd = heads, head_dim
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(d, inner), nn.Linear(d, inner), nn.Linear(d, inner)
        self.out_proj = nn.Linear(inner, d)
        self.norm = nn.LayerNorm(d, eps=1e-5) if pre_norm else None  # ser::nn::kLayerNormEps

    def forward(self, x, lengths):
        n, c, t, f = x.shape
        tok = x.permute(0, 2, 1, 3).reshape(n, t, c * f)  # (N, T, D), D index = c * F + f
        u = self.norm(tok) if self.norm is not None else tok  # padded rows only reach masked keys/queries
        q = self.q_proj(u).view(n, t, self.h, self.hd).transpose(1, 2)  # (N, H, T, hd)
        k = self.k_proj(u).view(n, t, self.h, self.hd).transpose(1, 2)
        v = self.v_proj(u).view(n, t, self.h, self.hd).transpose(1, 2)
        valid = time_mask(lengths, t, torch.bool)  # (N, T)
        s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd))
        s = s.masked_fill(~valid[:, None, None, :], float("-inf"))
        a = torch.softmax(s, dim=-1)
        a = torch.nan_to_num(a, nan=0.0)  # a row with no valid key gives zeros, never NaN
        o = torch.matmul(a, v).transpose(1, 2).reshape(n, t, self.h * self.hd)
        m = valid.to(x.dtype)[:, :, None]
        o = o * m  # padded query rows: o = 0
        z = (tok + self.out_proj(o)) * m
        return z.view(n, t, c, f).permute(0, 2, 1, 3).contiguous()


class TemporalPool(nn.Module):
    def __init__(self, d: int, attention: bool):
        super().__init__()
        self.score = nn.Linear(d, 1) if attention else None

    def forward(self, x, lengths):
        n, c, t, f = x.shape
        tok = x.permute(0, 2, 1, 3).reshape(n, t, c * f)
        valid = time_mask(lengths, t, torch.bool)
        if self.score is None:
            m = valid.to(x.dtype)[:, :, None]
            return (tok * m).sum(1) / lengths.clamp(min=1).to(x.dtype)[:, None]
        s = self.score(tok).squeeze(-1).masked_fill(~valid, float("-inf"))  # (N, T)
        alpha = torch.nan_to_num(torch.softmax(s, dim=-1), nan=0.0)
        return torch.bmm(alpha[:, None, :], tok).squeeze(1)


class SerModel(nn.Module):
    """ser's Model (src/nn/model.cpp), parameter and buffer names identical to ser's."""

    def __init__(self, mc: dict, n_mels: int, n_prosody: int, n_classes: int):
        super().__init__()
        self.mc = mc
        self.deltas = int(mc["deltas"])
        ch, f = 1 + self.deltas, n_mels
        self.blocks = nn.ModuleList()
        self.attention = None
        self.attention_after = int(mc["attention_after"])
        for b, out in enumerate(mc["conv_channels"]):
            self.blocks.append(ConvBlock(ch, out, mc))
            if mc["pool_time"] > 1 or mc["pool_freq"] > 1:
                if f // mc["pool_freq"] < 1:
                    raise ValueError(f"block {b + 1} pools the {f} frequency rows below 1")
                f //= mc["pool_freq"]
            ch = out
            if self.attention_after == b + 1:
                self.attention = SelfAttention(ch * f, mc["attention_heads"], mc["attention_head_dim"],
                                               bool(mc["attention_pre_norm"]))
        self.pool = TemporalPool(ch * f, mc["temporal_pool"] == "attention")
        d = ch * f
        self.fuse = bool(mc["fuse_prosody"])
        if self.fuse:
            d += n_prosody
        self.dense = nn.ModuleList()
        self.dense_drop = nn.Dropout(mc["dropout"]) if mc["dropout"] > 0 else nn.Identity()
        for width in mc["dense"]:
            self.dense.append(nn.Linear(d, width))
            d = width
        self.classifier = nn.Linear(d, n_classes)
        # Smallest input length whose every layer keeps at least one valid step (Model::min_frames_).
        self.min_frames = 1
        while True:
            length, ok = self.min_frames, True
            for _ in mc["conv_channels"]:
                if mc["pool_time"] > 1 or mc["pool_freq"] > 1:
                    if length < mc["pool_time"]:
                        ok = False
                        break
                    length = (length - mc["pool_time"]) // mc["pool_time"] + 1
            if ok and length >= 1:
                break
            self.min_frames += 1

    def forward(self, x, lengths, prosody=None):
        if self.deltas:
            x = time_deltas(x, lengths, self.deltas)
        for b, block in enumerate(self.blocks):
            x, lengths = block(x, lengths)
            if self.attention is not None and self.attention_after == b + 1:
                x = self.attention(x, lengths)
        y = self.pool(x, lengths)
        if self.fuse:
            y = torch.cat([y, prosody], dim=1)
        for lin in self.dense:
            y = self.dense_drop(F.relu(lin(y)))
        return self.classifier(y)


# ---------------------------------------------------------------------------------------------- parity

def _attr_str(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def load_checkpoint(path: str, dtype):
    import h5py
    with h5py.File(path, "r") as f:
        mc, tc = read_run_config(_attr_str(f.attrs["run_config"]))
        class_names = [_attr_str(c) for c in f.attrs["class_names"]]
        n_mels = int(f.attrs["n_mels"])
        n_prosody = int(f.attrs["n_prosody"])
        params = {k: np.asarray(f["params"][k]) for k in f["params"].keys()} if "params" in f else {}
        state = {k: np.asarray(f["state"][k]) for k in f["state"].keys()} if "state" in f else {}
        norm = {k: np.asarray(f["normalizer"][k], dtype=np.float32) for k in f["normalizer"].keys()}
    model = SerModel(mc, n_mels, n_prosody, len(class_names)).to(dtype)
    own = dict(model.named_parameters())
    own.update(dict(model.named_buffers()))
    missing = [k for k in own if k not in params and k not in state]
    extra = [k for k in list(params) + list(state) if k not in own]
    if missing or extra:
        raise SystemExit(f"checkpoint/model mismatch: missing {missing}, unexpected {extra}")
    with torch.no_grad():
        for k, t in own.items():
            src = params.get(k, state.get(k))
            if tuple(src.shape) != tuple(t.shape):
                raise SystemExit(f"{k}: checkpoint shape {src.shape}, model shape {tuple(t.shape)}")
            t.copy_(torch.from_numpy(src.astype(np.float32)).to(dtype))
    return model, mc, class_names, norm


def make_batch(cache, idx, norm, min_frames, n_prosody, np_dtype):
    """BatchMaker::make (src/engine/dataset.cpp) with no crop: float32 normalisation, zero padding."""
    offsets, logmel, functionals = cache["offsets"], cache["logmel"], cache["functionals"]
    lens = [max(int(offsets[u + 1] - offsets[u]), min_frames) for u in idx]
    t = max(lens)
    n_mels = logmel.shape[1]
    x = np.zeros((len(idx), 1, t, n_mels), dtype=np.float32)
    pro = np.zeros((len(idx), max(n_prosody, 1)), dtype=np.float32)
    with np.errstate(all="ignore"):
        for i, u in enumerate(idx):
            rows = logmel[offsets[u]:offsets[u + 1]]
            x[i, 0, :rows.shape[0]] = (rows - norm["logmel_mean"]) / norm["logmel_std"]
            if n_prosody > 0:
                z = (functionals[u] - norm["functional_mean"]) / norm["functional_std"]
                pro[i, :n_prosody] = np.where(np.isfinite(z), np.clip(z, -8.0, 8.0), 0.0)
    return (torch.from_numpy(x.astype(np_dtype)), torch.tensor(lens, dtype=torch.long),
            torch.from_numpy(pro.astype(np_dtype)))


def cmd_parity(a) -> int:
    import h5py
    dtype = torch.float64 if a.double else torch.float32
    np_dtype = np.float64 if a.double else np.float32
    model, mc, class_names, norm = load_checkpoint(a.checkpoint, dtype)
    model.eval()
    with h5py.File(a.cache, "r") as f:
        cache = {"offsets": np.asarray(f["offsets"]), "logmel": np.asarray(f["logmel"], dtype=np.float32),
                 "functionals": np.asarray(f["functionals"], dtype=np.float32),
                 "labels": np.asarray(f["labels"])}
        paths = [_attr_str(p) for p in f["paths"][:]]
    n_prosody = cache["functionals"].shape[1] if model.fuse else 0
    by_path = {p: i for i, p in enumerate(paths)}
    with open(a.summary) as fh:
        summary = json.load(fh)
    preds = summary["test_predictions"]
    missing = [p["path"] for p in preds if p["path"] not in by_path]
    if missing:
        raise SystemExit(f"{len(missing)} test paths are not in the cache, e.g. {missing[0]}")
    idx = [by_path[p["path"]] for p in preds]
    print(f"model {mc['name']}: blocks {mc['conv_channels']}, attention after {mc['attention_after']}, "
          f"pool {mc['temporal_pool']}, prosody {mc['fuse_prosody']}, dense {mc['dense']}; "
          f"min frames {model.min_frames}; {sum(p.numel() for p in model.parameters())} parameters; "
          f"{'float64' if a.double else 'float32'}")
    # ser's eval_batches: sorted by length, cut into batches (logits do not depend on batchmates).
    order = sorted(range(len(idx)), key=lambda i: max(int(cache["offsets"][idx[i] + 1] - cache["offsets"][idx[i]]),
                                                      model.min_frames))
    logits = [None] * len(idx)
    with torch.no_grad():
        for s in range(0, len(order), a.batch):
            chunk = order[s:s + a.batch]
            x, lens, pro = make_batch(cache, [idx[i] for i in chunk], norm, model.min_frames, n_prosody, np_dtype)
            out = model(x, lens, pro[:, :n_prosody] if n_prosody else None)
            for j, i in enumerate(chunk):
                logits[i] = out[j]
    # Masking self-check: each utterance alone (no padding, no batchmates) must give the same logits.
    with torch.no_grad():
        worst = 0.0
        for i in range(len(idx)):
            x, lens, pro = make_batch(cache, [idx[i]], norm, model.min_frames, n_prosody, np_dtype)
            alone = model(x, lens, pro[:, :n_prosody] if n_prosody else None)[0]
            worst = max(worst, float((alone - logits[i]).abs().max()))
    print(f"padding/batchmate independence: max |logit(batched) - logit(alone)| = {worst:.3g}")
    agree, correct, disagreements = 0, 0, []
    margins = []
    for i, p in enumerate(preds):
        lg = logits[i]
        ours = int(torch.argmax(lg))
        top2 = torch.topk(lg, 2).values
        margins.append(float(top2[0] - top2[1]))
        agree += ours == p["predicted"]
        correct += ours == p["label"]
        if ours != p["predicted"]:
            disagreements.append((p["path"], p["predicted"], ours, margins[-1]))
    n = len(preds)
    ser_correct = sum(p["predicted"] == p["label"] for p in preds)
    print(f"agreement with ser's test predictions: {agree}/{n}")
    print(f"test accuracy: ser {ser_correct / n:.4f}, torch {correct / n:.4f}")
    print(f"smallest top-1/top-2 logit margin: {min(margins):.3g}")
    for path, s_pred, t_pred, mg in disagreements[:10]:
        print(f"  differs: {path}: ser {class_names[s_pred]}, torch {class_names[t_pred]} (margin {mg:.3g})")
    for i in range(min(a.show, n)):
        lg = " ".join(f"{v:+.5f}" for v in logits[i].tolist())
        print(f"  {preds[i]['path']} len {int(cache['offsets'][idx[i] + 1] - cache['offsets'][idx[i]])}: "
              f"[{lg}] -> {class_names[int(torch.argmax(logits[i]))]} (ser {class_names[preds[i]['predicted']]})")
    return 0 if agree == n else 1


# ---------------------------------------------------------------------------------------------- export

def read_safetensors(path: str) -> tuple[dict, dict, str]:
    """(tensors by name as float32 arrays, metadata, which reader). The safetensors package when
    installed; else the format by hand: u64 LE header length, JSON header, row-major LE data."""
    try:
        from safetensors import safe_open
        tensors = {}
        with safe_open(path, framework="numpy") as f:
            meta = dict(f.metadata() or {})
            for k in f.keys():
                tensors[k] = f.get_tensor(k)
        import safetensors
        return tensors, meta, f"safetensors {safetensors.__version__}"
    except ImportError:
        pass
    import struct
    with open(path, "rb") as fh:
        raw = fh.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, h in header.items():
        if h["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} has dtype {h['dtype']}, expected F32")
        b, e = h["data_offsets"]
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(h["shape"])
    return tensors, meta, "built-in reader"


def load_export(path: str, dtype):
    tensors, meta, reader = read_safetensors(path)
    if meta.get("format") != "ser-model":
        raise SystemExit(f"{path}: metadata format is {meta.get('format')!r}, not 'ser-model'")
    mc, _ = read_run_config(meta["run_config"])
    class_names = json.loads(meta["class_names"])
    n_mels, n_prosody = int(meta["n_mels"]), int(meta["n_prosody"])
    model = SerModel(mc, n_mels, n_prosody, len(class_names)).to(dtype)
    own = dict(model.named_parameters())
    own.update(dict(model.named_buffers()))
    norm = {k[len("normalizer."):]: np.asarray(v, dtype=np.float32)
            for k, v in tensors.items() if k.startswith("normalizer.")}
    weights = {k: v for k, v in tensors.items() if not k.startswith("normalizer.")}
    missing = [k for k in own if k not in weights]
    extra = [k for k in weights if k not in own]
    if missing or extra:
        raise SystemExit(f"{path}: export/model mismatch: missing {missing}, unexpected {extra}")
    with torch.no_grad():
        for k, t in own.items():
            src = weights[k]
            if tuple(src.shape) != tuple(t.shape):
                raise SystemExit(f"{k}: export shape {src.shape}, model shape {tuple(t.shape)}")
            t.copy_(torch.from_numpy(np.array(src, dtype=np.float32)).to(dtype))
    return model, mc, class_names, norm, meta, reader


def cmd_export(a) -> int:
    import h5py
    import subprocess
    dtype = torch.float64 if a.double else torch.float32
    np_dtype = np.float64 if a.double else np.float32
    model, mc, class_names, norm, meta, reader = load_export(a.model, dtype)
    model.eval()
    if a.ser_json:
        with open(a.ser_json) as fh:
            ser = json.load(fh)
    else:
        cmd = [a.ser, "predict", "--model", a.model, "--cache", a.cache, "--format", "json", "--device", "cpu"]
        if a.limit > 0:
            cmd += ["--limit", str(a.limit)]
        ser = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    if ser["class_names"] != class_names:
        raise SystemExit(f"class names differ: ser {ser['class_names']}, export {class_names}")
    with h5py.File(a.cache, "r") as f:
        cache = {"offsets": np.asarray(f["offsets"]), "logmel": np.asarray(f["logmel"], dtype=np.float32),
                 "functionals": np.asarray(f["functionals"], dtype=np.float32)}
        paths = [_attr_str(p) for p in f["paths"][:]]
    by_path = {p: i for i, p in enumerate(paths)}
    n_prosody = cache["functionals"].shape[1] if model.fuse else 0
    print(f"torch {torch.__version__}, numpy {np.__version__}, {torch.get_num_threads()} threads; export read with "
          f"{reader}; ser_version {meta.get('ser_version')}; model {mc['name']}: blocks {mc['conv_channels']}, "
          f"attention after {mc['attention_after']}, dense {mc['dense']}; "
          f"{sum(p.numel() for p in model.parameters())} parameters; {'float64' if a.double else 'float32'}")
    worst, worst_file, agree = 0.0, "", 0
    rows = ser["results"]
    with torch.no_grad():
        for r in rows:
            u = by_path[r["file"]]
            x, lens, pro = make_batch(cache, [u], norm, model.min_frames, n_prosody, np_dtype)
            ours = model(x, lens, pro[:, :n_prosody] if n_prosody else None)[0].double().numpy()
            theirs = np.asarray(r["logits"], dtype=np.float64)
            d = float(np.abs(ours - theirs).max())
            if d > worst:
                worst, worst_file = d, r["file"]
            agree += class_names[int(np.argmax(ours))] == r["predicted"]
    n = len(rows)
    print(f"utterances compared: {n} (each alone, as ser predict runs them)")
    print(f"predicted class agreement: {agree}/{n}")
    print(f"largest |logit(torch) - logit(ser)|: {worst:.3g} ({worst_file})")
    return 0 if (agree == n and worst < 1e-4) else 1


# ----------------------------------------------------------------------------------------------- bench

def cmd_bench(a) -> int:
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device")
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(a.seed)
    with open(a.config) as fh:
        mc, tc = read_run_config(fh.read())
    n_prosody = a.prosody if mc["fuse_prosody"] else 0
    x = torch.randn(a.batch, 1, a.frames, a.mels, device=dev)
    lens = torch.full((a.batch,), a.frames, dtype=torch.long, device=dev)
    pro = torch.randn(a.batch, n_prosody, device=dev) if n_prosody else None
    y = torch.randint(0, a.classes, (a.batch,), device=dev)
    print(f"torch {torch.__version__}, device {dev}" + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else
          f", {torch.get_num_threads()} threads") + f"; model {mc['name']} from {a.config}; batch {a.batch} x "
          f"{a.frames} frames x {a.mels} mels; fp32, TF32 off")
    modes = ["eager"] + (["compile"] if a.compile else [])
    rows = []
    for mode in modes:
        torch.manual_seed(a.seed)
        model = SerModel(mc, a.mels, n_prosody, a.classes).to(dev).train()
        decay = [p for p in model.parameters() if p.dim() >= 2]  # ser: no decay on biases and norms
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt_cls = torch.optim.AdamW if tc["optimizer"] == "adamw" else torch.optim.Adam
        opt = opt_cls([{"params": decay, "weight_decay": tc["weight_decay"]},
                       {"params": no_decay, "weight_decay": 0.0}],
                      lr=tc["lr"], betas=(tc["beta1"], tc["beta2"]), eps=tc["eps"])
        fwd = model
        if mode == "compile":
            if not hasattr(torch, "compile"):
                print(f"compile: torch {torch.__version__} has no torch.compile (needs 2.0); skipped")
                continue
            fwd = torch.compile(model)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(fwd(x, lens, pro), y, label_smoothing=tc["label_smoothing"])
            loss.backward()
            if tc["clip_norm"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), tc["clip_norm"])
            opt.step()
            return loss

        def sync():
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)

        t0 = time.perf_counter()
        for _ in range(a.warmup):
            step()
        sync()
        warm_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(a.steps):
            loss = step()
        sync()
        dt = time.perf_counter() - t0
        utt = a.batch * a.steps / dt

        # Inference on the same batch: eval mode, no gradients, as many forwards as training steps.
        model.eval()
        with torch.no_grad():
            for _ in range(a.warmup):
                fwd(x, lens, pro)
            sync()
            t0 = time.perf_counter()
            for _ in range(a.steps):
                fwd(x, lens, pro)
            sync()
            eval_dt = time.perf_counter() - t0
        model.train()
        eval_utt = a.batch * a.steps / eval_dt
        print(f"{mode:8s} {a.steps} steps in {dt:.3f} s ({1e3 * dt / a.steps:.1f} ms/step, warm-up "
              f"{a.warmup} steps {warm_s:.2f} s): {utt:.1f} utterances/s, {utt * a.frames * 0.01:.1f} "
              f"audio-seconds/s; last loss {float(loss):.4f}; inference {eval_utt:.1f} utterances/s")
        rows.append({"mode": mode, "device": str(dev), "torch": torch.__version__, "threads": torch.get_num_threads(),
                     "model": mc["name"], "batch_size": a.batch, "frames": a.frames, "steps": a.steps,
                     "seconds": dt, "train_utterances_per_s": utt, "eval_utterances_per_s": eval_utt})
    if a.json:
        tmp = f"{a.json}.tmp-{os.getpid()}"  # written whole, then renamed
        with open(tmp, "w") as fh:
            json.dump(rows, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, a.json)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parity", help="compare with a ser run's test predictions")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--cache", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--double", action="store_true", help="float64 (less rounding difference)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--show", type=int, default=5, help="print the logits of this many utterances")
    e = sub.add_parser("export", help="compare a safetensors export run in PyTorch with ser predict's logits")
    e.add_argument("--model", required=True, help="safetensors export (ser export)")
    e.add_argument("--cache", required=True, help="feature cache made with the model's feature config")
    e.add_argument("--ser", default="build/ser", help="the ser executable to run `ser predict` with")
    e.add_argument("--ser-json", help="`ser predict --cache ... --format json` output, instead of running --ser")
    e.add_argument("--limit", type=int, default=50, help="the cache's first N utterances (0 = all)")
    e.add_argument("--double", action="store_true", help="run the PyTorch model in float64")
    b = sub.add_parser("bench", help="training-step throughput")
    b.add_argument("--config", required=True)
    b.add_argument("--batch", type=int, default=16)
    b.add_argument("--frames", type=int, default=300)
    b.add_argument("--steps", type=int, default=20)
    b.add_argument("--warmup", type=int, default=2)
    b.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    b.add_argument("--compile", action="store_true")
    b.add_argument("--mels", type=int, default=64)
    b.add_argument("--prosody", type=int, default=58)
    b.add_argument("--classes", type=int, default=7)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--json", help="also write one row per mode (train_utterances_per_s, eval_utterances_per_s) here")
    for q in (p, e, b):
        q.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                       help="CPU threads (Debian's torch starts with 1; default: all cores)")
    a = ap.parse_args(argv)
    torch.set_num_threads(max(1, a.threads))
    return {"parity": cmd_parity, "export": cmd_export, "bench": cmd_bench}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
