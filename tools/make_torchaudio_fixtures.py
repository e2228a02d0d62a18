#!/usr/bin/env python3
"""Writes tests/fixtures/torchaudio_logmel.json: log-mel spectrograms computed by torchaudio
(MelSpectrogram, then log(mel + offset)) for a few deterministic signals and conventions.
ser's CPU twin must reproduce them (tests/test_logmel_torchaudio.cpp).

Run with Debian's python3-torchaudio:  /usr/bin/python3 tools/make_torchaudio_fixtures.py
"""
import json
import os
import sys

import numpy as np
import torch
import torchaudio

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "torchaudio_logmel.json")


def signal(n, seed):
    """Noise under a slow envelope plus two harmonics: non-zero everywhere, speech-like dynamics."""
    rng = np.random.RandomState(seed)
    t = np.arange(n) / 16000.0
    env = 0.2 + 0.8 * np.abs(np.sin(2 * np.pi * 3.1 * t))
    x = 0.3 * env * rng.uniform(-1, 1, n) + 0.25 * np.sin(2 * np.pi * 185.0 * t) + 0.1 * np.sin(2 * np.pi * 1210.0 * t)
    return x.astype(np.float32)


CASES = [
    # name, ser logmel config overrides, signal length, seed
    ("default", {}, 4801, 1),
    ("slaney_norm", {"mel_scale": "slaney", "mel_norm": "slaney", "n_mels": 40, "f_min": 20.0, "f_max": 7600.0}, 3333, 2),
    ("constant_pad_magnitude", {"pad_mode": "constant", "power": 1.0, "n_fft": 1024, "win_length": 800,
                                "hop_length": 200, "window_periodic": False, "n_mels": 80}, 5000, 3),
    ("no_center_hamming", {"center": False, "window": "hamming", "n_fft": 256, "win_length": 256,
                           "hop_length": 100, "n_mels": 32, "f_max": 4000.0, "log_offset": 1e-3}, 2999, 4),
]

DEFAULT = {"sample_rate": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160, "window": "hann",
           "window_periodic": True, "center": True, "pad_mode": "reflect", "power": 2.0, "mel_scale": "htk",
           "mel_norm": "none", "f_min": 0.0, "f_max": 8000.0, "n_mels": 64, "log_offset": 1e-6}


def torchaudio_logmel(x, c):
    window_fn = torch.hann_window if c["window"] == "hann" else torch.hamming_window
    transform = torchaudio.transforms.MelSpectrogram(
        sample_rate=c["sample_rate"], n_fft=c["n_fft"], win_length=c["win_length"], hop_length=c["hop_length"],
        f_min=c["f_min"], f_max=c["f_max"], n_mels=c["n_mels"], window_fn=window_fn,
        wkwargs={"periodic": c["window_periodic"]}, power=c["power"], center=c["center"], pad_mode=c["pad_mode"],
        norm=None if c["mel_norm"] == "none" else "slaney", mel_scale=c["mel_scale"])
    mel = transform(torch.from_numpy(x))  # (n_mels, n_frames)
    return torch.log(mel + c["log_offset"]).T.contiguous().numpy()  # (n_frames, n_mels)


def main():
    cases = []
    for name, overrides, n, seed in CASES:
        cfg = dict(DEFAULT, **overrides)
        x = signal(n, seed)
        y = torchaudio_logmel(x, cfg)
        cases.append({"name": name, "logmel_config": cfg, "signal": [float(f"{v:.9g}") for v in x],
                      "n_frames": int(y.shape[0]), "logmel": [float(f"{v:.9g}") for v in y.reshape(-1)]})
        print(f"{name}: {n} samples -> {y.shape}", file=sys.stderr)
    doc = {"generator": "tools/make_torchaudio_fixtures.py", "torch": torch.__version__,
           "torchaudio": torchaudio.__version__, "cases": cases}
    with open(OUT + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(OUT + ".tmp", OUT)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
