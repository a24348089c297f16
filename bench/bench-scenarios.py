#!/usr/bin/python3
"""Wall time and peak memory of every scenario in scenarios/, as JSON on stdout.

Each scenario runs `--repeat` times as its own process (bench/benchlib.py): the median
wall time and the largest peak RSS. The reference for the machine's speed is a fixed
CPU-bound loop in the same run (`calibration_s`), so results from different machines
can be compared as ratios.

Usage: bench-scenarios.py [--npusim ./npusim] [--scenarios DIR] [--repeat N]"""
import argparse
import glob
import os
import tempfile

import benchlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npusim", default="./npusim")
    ap.add_argument("--scenarios", default=os.path.join(os.path.dirname(__file__), "..", "scenarios"))
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    out = benchlib.header("scenarios", a.repeat, results=[])
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(glob.glob(os.path.join(a.scenarios, "*.json"))):
            m = benchlib.measure([a.npusim, "run", path, "--quiet", "--out",
                                  os.path.join(tmp, "o")], a.repeat)
            out["results"].append({"scenario": os.path.basename(path), **m})
    benchlib.finish(out)


if __name__ == "__main__":
    main()
