#!/usr/bin/env python3
"""Compare ser's CPU pitch track with Praat's on every Emo-DB file (docs/prosody.md).

1. Runs Praat (tools/praat_pitch.praat: To Pitch (ac), 0.01 s step, 75..600 Hz, Praat's defaults
   otherwise, frame grid aligned to ser's) over EMODB/wav, one NAME.f0 track per file in OUT.
2. Runs the GoogleTest ProsodyEmoDB.PraatAgreement of BUILD/tests/ser_tests with SER_PRAAT_F0_DIR=OUT:
   ser's CPU prosody on the same files, frame t (t * hop / sample_rate s) against Praat's frame at
   the same time; prints gross pitch error (frames both call voiced with |f0 - f0_praat| > 20 %
   of f0_praat) and voicing decision error (frames where the decisions differ), overall, per
   gender and per speaker, and fails when GPE >= 5 % or VDE >= 6 %.

Usage (from the repository root, after building ser_tests):
    python3 tools/praat_f0_compare.py --build build-prosody
Only the standard library is needed; Emo-DB is read in place, never copied.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--emodb", default=os.environ.get("SER_EMODB", os.path.join(REPO, "..", "shared", "data", "emodb")),
                    help="Emo-DB folder holding wav/ (default: $SER_EMODB or ../shared/data/emodb)")
    ap.add_argument("--build", default="build", help="CMake build folder with tests/ser_tests (default: build)")
    ap.add_argument("--out", default=None, help="folder for Praat's tracks (default: a temporary folder, removed)")
    ap.add_argument("--reuse", action="store_true", help="skip Praat when --out already holds its tracks")
    ap.add_argument("--dump", default=None, help="also write ser's per-frame tracks here (SER_F0_DUMP_DIR)")
    ap.add_argument("--praat", default="praat", help="Praat executable (default: praat)")
    args = ap.parse_args()

    wav_dir = os.path.abspath(os.path.join(args.emodb, "wav"))
    if not os.path.isdir(wav_dir):
        print(f"praat_f0_compare: no Emo-DB wav folder at {wav_dir}", file=sys.stderr)
        return 2
    tests = os.path.abspath(os.path.join(args.build, "tests", "ser_tests"))
    if not os.access(tests, os.X_OK):
        print(f"praat_f0_compare: {tests} not found; build the ser_tests target first", file=sys.stderr)
        return 2
    if shutil.which(args.praat) is None:
        print(f"praat_f0_compare: Praat executable '{args.praat}' not found", file=sys.stderr)
        return 2

    tmp = None
    out = args.out
    if out is None:
        tmp = tempfile.mkdtemp(prefix="ser-praat-f0-")
        out = tmp
    out = os.path.abspath(out)
    os.makedirs(out, exist_ok=True)
    try:
        have = [f for f in os.listdir(out) if f.endswith(".f0")]
        if not (args.reuse and have):
            script = os.path.join(REPO, "tools", "praat_pitch.praat")
            print(f"praat_f0_compare: Praat over {wav_dir} -> {out}", flush=True)
            subprocess.run([args.praat, "--run", script, wav_dir, out], check=True)
        env = dict(os.environ, SER_PRAAT_F0_DIR=out, SER_EMODB=os.path.abspath(args.emodb))
        if args.dump:
            os.makedirs(args.dump, exist_ok=True)
            env["SER_F0_DUMP_DIR"] = os.path.abspath(args.dump)
        return subprocess.run([tests, "--gtest_filter=ProsodyEmoDB.PraatAgreement"], env=env).returncode
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
