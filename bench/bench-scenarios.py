#!/usr/bin/python3
"""Wall time and peak memory of every scenario in scenarios/, as JSON on stdout.

Each scenario runs `--repeat` times as its own process (os.wait4 gives that process's
own peak RSS); we report the median wall time and the largest peak RSS. The built-in
GEMM benchmark's reference (OpenBLAS) is in bench-gemm's output; here the reference for
the machine's speed is a fixed CPU-bound loop in the same run (`calibration_s`), so
results from different machines can be compared as ratios."""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err}")
    return wall, ru.ru_maxrss * 1024


def calibration():
    t0 = time.perf_counter()
    x = 0
    for i in range(3_000_000):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npusim", default="./npusim")
    ap.add_argument("--scenarios", default=os.path.join(os.path.dirname(__file__), "..", "scenarios"))
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    out = {"bench": "scenarios", "repeat": a.repeat, "calibration_s": calibration(), "results": []}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(glob.glob(os.path.join(a.scenarios, "*.json"))):
            walls, rss = [], 0
            for _ in range(a.repeat):
                w, r = run_once([a.npusim, "run", path, "--quiet", "--out", os.path.join(tmp, "o")])
                walls.append(w)
                rss = max(rss, r)
            out["results"].append({"scenario": os.path.basename(path), "wall_s_median": statistics.median(walls),
                                   "wall_s_min": min(walls), "wall_s_max": max(walls), "peak_rss_bytes": rss})
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
