#!/usr/bin/python3
"""AllReduce fidelity: the simulated 8-rank A2 AllReduce against Huawei's fitted curve.

Runs one Atlas A2 server (8 x 910B2, preset "a2", nothing overridden) doing an fp16
AllReduce of S MiB per rank for S in 1, 8, 64, 512, each as

    npusim run SCENARIO --timing-only --set ops[0].count=N --out DIR

and reads the op latency from DIR/report.json. The op keys are the defaults: HCCL's
default executor for one 910B server (AllReduceMeshDirect, inline SDMA reduce, not
deterministic) and a cached FFTS+ graph ("graphCache": "warm"), i.e. a repeated call,
which is what a timing fit of repeated calls describes. The reference is the fit
Huawei ships in its MC2 tiling code (ops-transformer mc2/common/src/hccl_performance.cpp,
key "0_0" = 910B, FULL_MESH 8P, AllReduce; ../shared/CALIBRATION.md 3.3), S in MiB,
t in us:

    S <= 1/16        : t = 18
    1/16 < S <= 8    : t = -0.9698202 S^2 + 27.0622573 S + 14.769
    S > 8            : t = 13.58491263 S + 61.508333

Two more model columns, for information (not what the fit describes): the first call
of the shape, whose FFTS+ graph is built on the call (--set ops[0].graphCache=cold),
and HCCL_DETERMINISTIC (--set ops[0].deterministic=true: all-to-all into CCL slots and
a local reduce tree).

Usage: bench/fidelity-allreduce.py [--npusim PATH] [--sizes 1 8 64 512] [--json FILE]
Prints a Markdown table; --json also writes the numbers.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def fitted_us(s_mib):
    if s_mib <= 64.0 / 1024:
        return 18.0
    if s_mib <= 8:
        return -0.9698202 * s_mib * s_mib + 27.0622573 * s_mib + 14.769
    return 13.58491263 * s_mib + 61.508333


SCENARIO = {
    "name": "fidelity-allreduce-a2-8",
    "description": "One A2 server, 8 x 910B2: fp16 AllReduce of ops[0].count elements per rank",
    "seed": 1,
    "mode": "timing",
    "cluster": {"preset": "a2", "ranks": 8},
    "ops": [{"op": "AllReduce", "name": "allreduce", "dtype": "float16", "count": 1024}],
}


def latency_us(npusim, scenario, count, work, extra):
    out = os.path.join(work, f"out-{count}-{'-'.join(e.split('=')[0] for e in extra)}")
    cmd = [npusim, "run", scenario, "--timing-only", "--quiet", "--trace-level", "op",
           "--set", f"ops[0].count={count}", "--out", out]
    for e in extra:
        cmd += ["--set", e]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"fidelity-allreduce: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    op = next(o for o in rep["ops"] if o["name"] == "allreduce")
    return op["latency_ps"] / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    build = os.environ.get("NPU_BUILDDIR", ".")
    ap.add_argument("--npusim", default=os.path.join(build, "npusim"))
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 8, 64, 512])
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="npusim-fidelity-")
    scenario = os.path.join(work, "scenario.json")
    with open(scenario, "w") as f:
        json.dump(SCENARIO, f)

    rows = []
    for s in args.sizes:
        count = int(s * 1048576) // 2  # fp16
        model = latency_us(args.npusim, scenario, count, work, [])
        cold = latency_us(args.npusim, scenario, count, work, ["ops[0].graphCache=cold"])
        det = latency_us(args.npusim, scenario, count, work, ["ops[0].deterministic=true"])
        fit = fitted_us(s)
        rows.append({"size_mib": s, "count": count, "model_us": model, "fitted_us": fit,
                     "error_pct": 100.0 * (model - fit) / fit,
                     "model_cold_us": cold, "model_deterministic_us": det,
                     "error_deterministic_pct": 100.0 * (det - fit) / fit})

    print("| Size (MiB per rank) | Model (us) | Fitted curve \"0_0\" (us) | Error | "
          "First call, graph built (us) | Deterministic (us) | Error |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        size = f"{r['size_mib']:g}"
        print(f"| {size} | {r['model_us']:.1f} | {r['fitted_us']:.1f} | {r['error_pct']:+.1f}% | "
              f"{r['model_cold_us']:.1f} | {r['model_deterministic_us']:.1f} | "
              f"{r['error_deterministic_pct']:+.1f}% |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "fidelity-allreduce", "preset": "a2", "ranks": 8,
                       "dtype": "float16", "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
