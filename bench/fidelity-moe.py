#!/usr/bin/python3
"""MoE dispatch/combine fidelity: the simulated A3 low-latency layer against DeepEP-Ascend.

Runs scenarios/moe-deepseek-ep{8,16,32}.json (A3, one die per EP rank, 128 tokens per
die, H 7168, 256 experts, top-8, int8 dispatch = quantMode 2, bf16 combine, uniform
routing; preset "a3" unchanged) as

    npusim run SCENARIO --timing-only --out DIR

and compares with the low-latency measurements of sgl-project/sgl-kernel-npu README
(../shared/CALIBRATION.md 3.1). The measurement (tests/python/deepep/test_low_latency.py)
times each kernel on the device with the profiler (bench_kineto over the
MoeDistributeDispatchV2 / MoeDistributeCombineV2 kernels), so the simulated time is the
kernel's: per rank, op end - op start - the kernel launch (cost.kernel_launch_us),
averaged over the ranks (the script's calculate_avg_stats); the slowest rank is given
too. Bandwidth uses the script's definition: bytes a rank sends for its own tokens,
per (token, selected expert) hidden + hidden/128*4 + 16 = 7408 B for dispatch and
hidden*2 = 14336 B for combine, divided by the kernel time.

Usage: bench/fidelity-moe.py [--npusim PATH] [--scenarios DIR] [--set KEY=VALUE ...]
                             [--json FILE]
Prints a Markdown table (model vs measured, error); --json also writes the numbers.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

MEASURED = {  # EP: (dispatch us, dispatch GB/s, combine us, combine GB/s)
    8: (132.0, 58.0, 126.0, 116.0),
    16: (139.0, 55.0, 135.0, 109.0),
    32: (153.0, 49.0, 151.0, 97.0),
}
TOKENS, HIDDEN, TOPK = 128, 7168, 8
FP8_BYTES = HIDDEN + HIDDEN // 128 * 4 + 16
BF16_BYTES = HIDDEN * 2


def kernel_times(report, name):
    launch_ps = report["hardware"]["cost.kernel_launch_us"] * 1e6
    op = next(o for o in report["ops"] if o["name"] == name)
    per_rank = [(r["end_ps"] - r["start_ps"] - launch_ps) / 1e6 for r in op["ranks"]]
    return sum(per_rank) / len(per_rank), max(per_rank)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npusim", default="./npusim")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--scenarios", default=os.path.join(here, "..", "scenarios"))
    ap.add_argument("--set", action="append", default=[], help="what-if: passed to npusim")
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for ep in sorted(MEASURED):
            sc = os.path.join(a.scenarios, f"moe-deepseek-ep{ep}.json")
            out = os.path.join(tmp, str(ep))
            cmd = [a.npusim, "run", sc, "--timing-only", "--quiet", "--out", out]
            for s in a.set:
                cmd += ["--set", s]
            subprocess.run(cmd, check=True)
            with open(os.path.join(out, "report.json")) as f:
                rep = json.load(f)
            d_avg, d_max = kernel_times(rep, "dispatch")
            c_avg, c_max = kernel_times(rep, "combine")
            md, mdb, mc, mcb = MEASURED[ep]
            sel = TOKENS * TOPK
            rows.append({
                "ep": ep,
                "dispatch_us": d_avg, "dispatch_max_us": d_max, "dispatch_measured_us": md,
                "dispatch_GBps": sel * FP8_BYTES / d_avg / 1e3, "dispatch_measured_GBps": mdb,
                "dispatch_error": d_avg / md - 1,
                "combine_us": c_avg, "combine_max_us": c_max, "combine_measured_us": mc,
                "combine_GBps": sel * BF16_BYTES / c_avg / 1e3, "combine_measured_GBps": mcb,
                "combine_error": c_avg / mc - 1,
            })
    print("| EP | Dispatch model (µs, max) | Measured (µs) | Error | Model GB/s | Measured GB/s "
          "| Combine model (µs, max) | Measured (µs) | Error | Model GB/s | Measured GB/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['ep']} | {r['dispatch_us']:.1f} ({r['dispatch_max_us']:.1f}) | "
              f"{r['dispatch_measured_us']:.0f} | {r['dispatch_error'] * 100:+.1f}% | "
              f"{r['dispatch_GBps']:.1f} | {r['dispatch_measured_GBps']:.0f} | "
              f"{r['combine_us']:.1f} ({r['combine_max_us']:.1f}) | "
              f"{r['combine_measured_us']:.0f} | {r['combine_error'] * 100:+.1f}% | "
              f"{r['combine_GBps']:.1f} | {r['combine_measured_GBps']:.0f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"bench": "fidelity-moe", "sets": a.set, "rows": rows}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
