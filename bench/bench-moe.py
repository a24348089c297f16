#!/usr/bin/python3
"""Benchmark: the DeepSeek-V3-shaped MoE layer at EP 256 on A3
(scenarios/moe-deepseek-ep256.json: 256 dies, 128 tokens per die, H 7168, 256 experts,
top-8, int8 dispatch, identity experts, bf16 combine) in timing-only mode and in data
mode (--set mode=data: every token quantised, sent, copied out and reduced on real
tensors, all .npy outputs written). Each run is its own process (bench/benchlib.py):
wall time, CPU time, peak RSS, events, simulated latencies, as JSON on stdout. The
aims of issue 5 are data mode under 60 s and 12 GiB, timing-only under 5 s, on the
project's 2-core machine.

Usage: bench/bench-moe.py [--npusim PATH] [--scenario FILE] [--repeat N] [--json FILE]
"""
import argparse
import json
import os
import tempfile

import benchlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npusim", default="./npusim")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--scenario", default=os.path.join(here, "..", "scenarios",
                                                       "moe-deepseek-ep256.json"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", help="also write the JSON to this file")
    a = ap.parse_args()
    res = benchlib.header("moe", a.repeat, scenario=os.path.basename(a.scenario),
                          aims={"data_wall_s": 60, "data_rss_bytes": 12 << 30,
                                "timing_wall_s": 5}, runs=[])
    with tempfile.TemporaryDirectory() as tmp:
        for mode, extra in (("timing", ["--timing-only"]), ("data", ["--set", "mode=data"])):
            out = os.path.join(tmp, mode)
            m = benchlib.measure([a.npusim, "run", a.scenario, "--quiet", "--out", out] + extra,
                                 a.repeat)
            with open(os.path.join(out, "report.json")) as f:
                rep = json.load(f)
            res["runs"].append({"mode": mode, **m, "events": rep["events"],
                                "tasks": rep.get("tasks"),
                                "latency_us": {op["name"]: op["latency_us"] for op in rep["ops"]}})
    benchlib.finish(res, a.json)


if __name__ == "__main__":
    main()
