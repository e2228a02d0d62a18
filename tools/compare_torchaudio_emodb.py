#!/usr/bin/env python3
"""Compares a ser feature cache's /logmel with torchaudio on the same audio, and times torchaudio
(log-mel of decoded audio, and torchaudio.load + log-mel per file).

  ./build/ser features --corpus emodb --data ../shared/data/emodb --out /tmp/emodb.h5 --device cpu
  /usr/bin/python3 tools/compare_torchaudio_emodb.py /tmp/emodb.h5 ../shared/data/emodb [--threads 2]

Needs Debian's python3-torchaudio and python3-h5py. The log-mel arguments are read from the cache's
feature_config, so any convention ser supports is compared like for like. WAVs are read with the
standard library (16-bit PCM / 32768, as libsndfile scales them).
"""
import argparse
import json
import os
import time
import wave

import h5py
import numpy as np
import torch
import torchaudio


def read_wav16(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise SystemExit(f"{path}: this tool reads 16-bit PCM only")
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        ch = w.getnchannels()
        return x.reshape(-1, ch).mean(axis=1).astype(np.float32), w.getframerate()


def transform_for(c):
    window_fn = torch.hann_window if c["window"] == "hann" else torch.hamming_window
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=c["sample_rate"], n_fft=c["n_fft"], win_length=c["win_length"], hop_length=c["hop_length"],
        f_min=c["f_min"], f_max=c["f_max"], n_mels=c["n_mels"], window_fn=window_fn,
        wkwargs={"periodic": c["window_periodic"]}, power=c["power"], center=c["center"], pad_mode=c["pad_mode"],
        norm=None if c["mel_norm"] == "none" else "slaney", mel_scale=c["mel_scale"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cache")
    ap.add_argument("data", help="corpus folder the cache's paths are relative to")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the numbers here too")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the corpus (best is reported)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    with h5py.File(a.cache, "r") as f:
        cfg = json.loads(f.attrs["feature_config"])["logmel"]
        logmel = f["logmel"][...]
        offsets = f["offsets"][...]
        paths = [p.decode() if isinstance(p, bytes) else p for p in f["paths"][...]]
    mel = transform_for(cfg)
    audio = []
    for p in paths:
        x, sr = read_wav16(os.path.join(a.data, p))
        if sr != cfg["sample_rate"]:
            raise SystemExit(f"{p}: {sr} Hz; this tool compares files already at the feature rate")
        audio.append(torch.from_numpy(x))

    err2 = ref2 = 0.0
    max_abs, worst = 0.0, ""
    for i, x in enumerate(audio):
        ref = torch.log(mel(x) + cfg["log_offset"]).T.double().numpy()  # (frames, n_mels)
        ours = logmel[offsets[i]:offsets[i + 1]].astype(np.float64)
        if ours.shape != ref.shape:
            raise SystemExit(f"{paths[i]}: shape {ours.shape} in the cache, torchaudio gives {ref.shape}")
        d = ours - ref
        err2 += float((d * d).sum())
        ref2 += float((ref * ref).sum())
        m = float(np.abs(d).max())
        if m > max_abs:
            max_abs, worst = m, paths[i]
    rel = (err2 / ref2) ** 0.5

    seconds = sum(len(x) for x in audio) / cfg["sample_rate"]
    best = float("inf")
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        for x in audio:
            torch.log(mel(x) + cfg["log_offset"])
        best = min(best, time.perf_counter() - t0)
    # The same with decoding: torchaudio.load (its sox_io backend) + log-mel per file, the work
    # `ser features` does end to end apart from prosody, functionals and the cache write.
    files = [os.path.join(a.data, p) for p in paths]
    best_decode = float("inf")
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        for path in files:
            x, _sr = torchaudio.load(path)
            torch.log(mel(x.mean(dim=0)) + cfg["log_offset"])
        best_decode = min(best_decode, time.perf_counter() - t0)
    result = {"files": len(paths), "audio_seconds": seconds, "relative_frobenius_error": rel,
              "max_abs_error": max_abs, "worst_file": worst, "torchaudio": torchaudio.__version__,
              "torch_threads": a.threads, "torchaudio_seconds": best,
              "torchaudio_audio_seconds_per_second": seconds / best,
              "torchaudio_decode_logmel_seconds": best_decode}
    print(json.dumps(result, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
