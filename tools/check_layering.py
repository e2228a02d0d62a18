#!/usr/bin/env python3
"""The include graph between ser's modules, checked against the allowed table (README, "Where things are").

    python3 tools/check_layering.py [--list]

A module is a folder: src/X for each X, kernels, include (the public contracts in include/ser). Every
`#include "..."` of src/ and kernels/ (the SIMT emulator in src/simt excepted: it hosts the kernels)
is resolved to the module it names. An edge from module A to module B is allowed when B is in
ALLOWED[A]. KNOWN lists the edges that break the layering today, file by file, each to be removed
(see the consolidation issue's layering item); a KNOWN edge that no longer occurs must be deleted
from the list, so the list only shrinks. Exit 1 on any other edge, or on a stale KNOWN entry.
--list prints every edge with its count.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Lower layers first. Everything may include the public contracts (include) and util.
BASE = {"include", "src/util"}
ALLOWED = {
    "include": set(),
    "src/util": {"include"},
    "kernels": BASE,
    "src/device": BASE,
    "src/audio": BASE,
    "src/synth": BASE | {"src/audio"},
    "src/corpus": BASE | {"src/audio", "src/synth"},
    "src/cache": BASE,
    "src/features": BASE | {"src/audio", "src/cache", "src/corpus", "src/device", "src/synth", "kernels"},
    "src/classic": BASE | {"src/cache"},
    "src/nn": BASE | {"kernels", "src/device"},
    "src/parallel": BASE,
    "src/engine": BASE | {"src/nn", "src/cache", "src/device"},
    "src/train": BASE | {"src/engine", "src/nn", "src/cache", "src/device", "src/features", "src/parallel"},
    "src/export": BASE | {"src/engine", "src/nn", "src/cache"},
    "src/inference": BASE | {"src/engine", "src/nn", "src/cache", "src/export", "src/features", "src/audio",
                             "src/device"},
    "src/report": BASE,
    "src/experiment": BASE | {"src/train", "src/engine", "src/cache", "src/corpus", "src/features", "src/device",
                              "src/report"},
    "src/bench": BASE | {"src/nn", "src/engine", "src/train", "src/features", "src/device", "kernels", "src/cache",
                         "src/corpus", "src/audio"},
    "src/cli": {"*"},
}

# Edges that break the layering, (from, to) -> the files that make them, each waiting to be removed.
# Empty: no module breaks the table today; an entry may only be added with its removal planned.
KNOWN = {}


def module_of(rel):
    parts = rel.split("/")
    if parts[0] == "src" and len(parts) > 2:
        return "src/" + parts[1]
    return parts[0]


def target_of(inc, including_dir):
    if inc.startswith("ser/"):
        return "include"
    if os.path.exists(os.path.join(ROOT, "src", inc)) and "/" in inc:
        return "src/" + inc.split("/")[0]
    if os.path.exists(os.path.join(ROOT, "kernels", inc)):
        return "kernels"
    if os.path.exists(os.path.join(including_dir, inc)):
        return module_of(os.path.relpath(os.path.join(including_dir, inc), ROOT))
    return None  # generated or external


def edges():
    found = {}
    for base in ("src", "kernels"):
        for d, _, files in os.walk(os.path.join(ROOT, base)):
            if os.path.relpath(d, ROOT).startswith("src/simt"):
                continue
            for f in files:
                if not f.endswith((".cpp", ".hpp", ".cu", ".cuh", ".h")):
                    continue
                path = os.path.join(d, f)
                rel = os.path.relpath(path, ROOT)
                a = module_of(rel)
                with open(path, errors="replace") as fh:
                    for line in fh:
                        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                        if not m:
                            continue
                        b = target_of(m.group(1), d)
                        if b and b != a:
                            found.setdefault((a, b), set()).add(rel)
    return found


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    found = edges()
    if args.list:
        for (a, b), files in sorted(found.items()):
            print(f"{a} -> {b}: {len(files)} file(s)")
    bad = []
    for (a, b), files in sorted(found.items()):
        allowed = ALLOWED.get(a)
        if allowed is None:
            bad.append(f"{a}: a module the table does not know (add it to ALLOWED in tools/check_layering.py)")
            continue
        if "*" in allowed or b in allowed:
            continue
        unexpected = sorted(files - KNOWN.get((a, b), set()))
        if unexpected:
            bad.append(f"{a} -> {b} is not allowed: " + ", ".join(unexpected))
    for (a, b), files in sorted(KNOWN.items()):
        stale = sorted(files - found.get((a, b), set()))
        if stale:
            bad.append(f"KNOWN lists {a} -> {b} for " + ", ".join(stale) + ", which no longer make it: delete them")
    for line in bad:
        print("check_layering: " + line)
    known = sum(len(v) for v in KNOWN.values())
    print(f"check_layering: {len(found)} module edges, {known} known exceptions, {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
