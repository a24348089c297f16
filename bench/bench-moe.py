#!/usr/bin/python3
"""Benchmark: the DeepSeek-V3-shaped MoE layer at EP 256 on A3
(scenarios/moe-deepseek-ep256.json: 256 dies, 128 tokens per die, H 7168, 256 experts,
top-8, int8 dispatch, identity experts, bf16 combine) in timing-only mode and in data
mode (--set mode=data: every token quantised, sent, copied out and reduced on real
tensors, all .npy outputs written). Each run is its own process; os.wait4 gives its
peak RSS. Prints JSON (wall time, peak memory, events, simulated latencies); the
aims of issue 5 are data mode under 60 s and 12 GiB, timing-only under 5 s, on the
project's 2-core machine. A fixed CPU-bound loop (calibration_s) tells how fast the
machine was.

Usage: bench/bench-moe.py [--npusim PATH] [--scenario FILE] [--repeat N] [--json FILE]
"""
import argparse
import json
import os
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
    return wall, ru.ru_maxrss * 1024, ru.ru_utime + ru.ru_stime


def calibration():
    t0 = time.perf_counter()
    x = 0
    for _ in range(3_000_000):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npusim", default="./npusim")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--scenario", default=os.path.join(here, "..", "scenarios",
                                                       "moe-deepseek-ep256.json"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    res = {"bench": "moe-deepseek-ep256", "scenario": os.path.basename(a.scenario),
           "calibration_s": calibration(), "aims": {"data_wall_s": 60, "data_rss_bytes": 12 << 30,
                                                    "timing_wall_s": 5}, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        for mode, extra in (("timing", ["--timing-only"]), ("data", ["--set", "mode=data"])):
            walls, rss, cpu = [], 0, []
            out = os.path.join(tmp, mode)
            for _ in range(a.repeat):
                w, r, c = run_once([a.npusim, "run", a.scenario, "--quiet", "--out", out] + extra)
                walls.append(w)
                cpu.append(c)
                rss = max(rss, r)
            with open(os.path.join(out, "report.json")) as f:
                rep = json.load(f)
            lat = {op["name"]: op["latency_us"] for op in rep["ops"]}
            res["runs"].append({"mode": mode, "wall_s": min(walls), "wall_s_all": walls,
                                "cpu_s": min(cpu), "peak_rss_bytes": rss,
                                "events": rep["events"], "tasks": rep.get("tasks"),
                                "latency_us": lat})
    text = json.dumps(res, indent=2)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
