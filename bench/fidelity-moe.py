#!/usr/bin/python3
"""MoE dispatch/combine fidelity: the simulated A3 low-latency layer against DeepEP-Ascend.

The reference is the low-latency table of sgl-project/sgl-kernel-npu README @ b2e93094
(../shared/CALIBRATION.md 3.1): tests/python/deepep/test_low_latency.py on an A3
SuperPoD, one die per EP rank, 128 tokens per die, H 7168, 256 experts, top-8 (random
scores, so uniform routing), int8 dispatch (quantMode 2), bf16 combine.

How that test measures (utils.py bench_kineto, same commit): after a large matmul and a
barrier it queues 30 x (MoeDistributeDispatchV2, MoeDistributeCombineV2) back to back
on every rank (the same topk_idx each time; the combine reads one bf16 expandX
prepared before the loop) and averages the device durations the profiler reports for
each kernel; calculate_avg_stats then averages over the ranks. Bandwidth is the bytes
a rank sends for its own tokens, per (token, selected expert) hidden + hidden/128*4 + 16
= 7408 B for dispatch and hidden*2 = 14336 B for combine, over the kernel time.

This script reproduces that loop: from scenarios/moe-deepseek-ep{8,16,32}.json
(dispatch keys, preset a3 unchanged) it writes a scenario of --iters iterations of
dispatch -> MoeExperts (identity, "untimed": the precomputed expandX) -> combine
("tokenOrder": "index", the combine kernel of that date waits for its tokens in token
order), all iterations on one routing drawn here (uniform distinct top-k per token,
numpy seed --seed, an .npy input), runs

    npusim run SCENARIO --timing-only --out DIR

and takes, per rank, op end - op start - cost.kernel_launch_us (the profiler's kernel
duration does not include the host launch) of the last iteration, averaged over the
ranks (the slowest rank in brackets).

Usage: bench/fidelity-moe.py [--npusim PATH] [--scenarios DIR] [--iters N] [--seed S]
                             [--set KEY=VALUE ...] [--json FILE] [--keep DIR]
Prints a Markdown table (model vs measured, error); --json also writes the numbers;
--keep DIR keeps the generated scenarios, routings and npusim outputs there (to look at
the trace: rerun a kept scenario with --trace-level all).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

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


def loop_scenario(base, ep, iters, ids_file):
    """The measured loop as a scenario: iters x (dispatch, untimed experts, combine)."""
    disp = dict(next(o for o in base["ops"] if o["op"].startswith("MoeDistributeDispatch")))
    disp["routing"] = {"npy": ids_file}
    ops = []
    for i in range(iters):
        d = dict(disp, name=f"dispatch{i}")
        ops.append(d)
        ops.append({"op": "MoeExperts", "name": f"experts{i}", "dispatch": f"dispatch{i}",
                    "keepOutput": False, "untimed": True})
        ops.append({"op": "MoeDistributeCombineV2", "name": f"combine{i}",
                    "dispatch": f"dispatch{i}", "experts": f"experts{i}",
                    "tokenOrder": "index"})
    sc = {k: v for k, v in base.items() if k not in ("ops", "name", "description")}
    sc["name"] = f"fidelity-moe-ep{ep}"
    sc["description"] = ("DeepEP-Ascend low-latency loop (bench/fidelity-moe.py): "
                         f"{iters} x dispatch, combine on one routing")
    sc["mode"] = "timing"
    sc["ops"] = ops
    return sc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npusim", default="./npusim")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--scenarios", default=os.path.join(here, "..", "scenarios"))
    ap.add_argument("--iters", type=int, default=3, help="loop iterations; the last is timed")
    ap.add_argument("--seed", type=int, default=1, help="numpy seed of the routing")
    ap.add_argument("--set", action="append", default=[], help="what-if: passed to npusim")
    ap.add_argument("--json")
    ap.add_argument("--keep", help="keep scenarios and outputs in this folder")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = tmpd
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            tmp = a.keep
        for ep in sorted(MEASURED):
            with open(os.path.join(a.scenarios, f"moe-deepseek-ep{ep}.json")) as f:
                base = json.load(f)
            rng = np.random.default_rng(a.seed)
            # random scores -> top-k: K distinct experts per token, uniformly
            ids = np.argsort(rng.random((ep, TOKENS, 256)), axis=-1)[:, :, :TOPK]
            np.save(os.path.join(tmp, f"ids-ep{ep}.npy"), ids.astype(np.int32))
            sc = loop_scenario(base, ep, a.iters, f"ids-ep{ep}.npy")
            scf = os.path.join(tmp, f"fidelity-moe-ep{ep}.json")
            with open(scf, "w") as f:
                json.dump(sc, f, indent=1)
            out = os.path.join(tmp, str(ep))
            cmd = [a.npusim, "run", scf, "--timing-only", "--quiet", "--out", out]
            for s in a.set:
                cmd += ["--set", s]
            subprocess.run(cmd, check=True)
            with open(os.path.join(out, "report.json")) as f:
                rep = json.load(f)
            last = a.iters - 1
            d_avg, d_max = kernel_times(rep, f"dispatch{last}")
            c_avg, c_max = kernel_times(rep, f"combine{last}")
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
            json.dump({"bench": "fidelity-moe", "sets": a.set, "iters": a.iters, "seed": a.seed,
                       "rows": rows}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
