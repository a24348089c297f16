#!/usr/bin/python3
"""When does int8 communication pay off in QuantMatmulAllReduceV3?

A sweep over m (tokens) and the HCCS link bandwidth for a fixed k x n weight on the 8
ranks of one A2 server, each point run twice: with the fp16 AllReduce per tile, and with
low-bit communication (commQuantScale1/2: quantise, int8 AlltoAll, ReduceSum, int8
AllGather, dequantise). Nothing about the winner is asserted: latency and the bound
verdict come from `npusim run` (timing mode, the model's mechanisms and the a2 preset);
the numerical error of each variant is measured in data mode against a float64
reference of sum_r (dequantScale * (x1 @ x2)) (tests/qmmar_reference.py), with the
commQuantScale1/2 calibrated per channel on the same data (s1 = max over ranks and rows
of |mm_r| / 127, s2 = max over rows of |sum_r mm_r| / 127: nothing saturates).

Usage (from a build tree; needs NumPy, so use /usr/bin/python3 on Debian):
  /usr/bin/python3 scenarios/qmmar-study.py [--npusim ./npusim] [--quick] [--md FILE]
  /usr/bin/python3 scenarios/qmmar-study.py --comm-fit [--npusim ./npusim]
The table goes to stdout (Markdown). Output of a full run: docs/ops/QuantMatmulAllReduceV3.md.
--comm-fit instead times the per-tile AllReduce the op commits (one tile, from the commit
to the end of the collective) against Huawei's fitted 8-die AllReduce curve that the host
tiling itself uses (docs/VALIDATION.md).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import qmmar_reference as ref  # noqa: E402

K, N, RANKS = 16384, 4096, 8
MS = [64, 256, 1024, 4096, 16384]
BWS = [3.5e9, 7e9, 14e9, 28e9]   # link.hccs_bw_Bps (one HCCS link, one direction)
ERR_N = 512                        # columns of the data-mode runs (error per element
ERR_M = 64                         # does not depend on n, m or the bandwidth)


def qmmar_op(name, m, n, comm_quant, inputs=None):
    op = {"op": "QuantMatmulAllReduceV3", "name": name,
          "x1": {"shape": [m, K]}, "x2": {"shape": [K, n], "transpose": True},
          "dequantScale": {"shape": [n], "dtype": "int64"},
          "output": {"dtype": "float16"}}
    if comm_quant:
        op["commQuantScale1"] = {}
        op["commQuantScale2"] = {}
    if inputs:
        op["inputs"] = inputs
    return op


def run(npusim, work, name, sc):
    path = os.path.join(work, name + ".json")
    with open(path, "w") as f:
        json.dump(sc, f)
    out = os.path.join(work, name)
    p = subprocess.run([npusim, "run", path, "--out", out, "--quiet", "--trace-level", "op"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"npusim failed on {name}: {p.stderr.strip()}")
    return out


def timing(npusim, work, m, bw, comm_quant):
    sc = {"name": "study", "mode": "timing",
          "cluster": {"preset": "a2", "ranks": RANKS, "set": {"link.hccs_bw_Bps": bw}},
          "ops": [qmmar_op("q", m, N, comm_quant)]}
    out = run(npusim, work, f"t-{m}-{int(bw)}-{int(comm_quant)}", sc)
    with open(os.path.join(out, "report.json")) as f:
        op = json.load(f)["ops"][0]
    with open(os.path.join(out, "manifest.json")) as f:
        a = json.load(f)["ops"][0]["attrs"]
    shutil.rmtree(out)
    cut = f"{a['tileCnt']}x{a['tileM']}" + (f"+{a['tailCnt']}x{a['tailM']}" if a["tailCnt"] else "")
    return op["latency_ps"] / 1e6, op["bound"], cut, op["exposed_comm_ps"] / 1e6


def errors(out, man, name):
    got = ref.to_f32("float16", ref.output_of(out, man, name, 0)).astype(np.float64)
    want = ref.float64_reference(out, man, name)
    err = np.abs(got - want)
    return err.max(), np.sqrt(np.mean(err ** 2)) / np.sqrt(np.mean(want ** 2))


def numerics(npusim, work, m, seed):
    """(max abs error, rms relative error) of the fp16 and the int8 variant."""
    mm = min(m, ERR_M)
    sc = {"name": "study-data", "seed": seed, "cluster": {"preset": "a2", "ranks": RANKS},
          "ops": [qmmar_op("fp16", mm, ERR_N, False)]}
    out = run(npusim, work, f"d-{m}-fp16", sc)
    with open(os.path.join(out, "manifest.json")) as f:
        man = json.load(f)
    e16 = errors(out, man, "fp16")
    # calibrate commQuantScale1/2 per channel on this data
    mop = man["ops"][0]
    parts = [ref.to_f32("float16", ref.matmul_dequant(
        ref.load_rank_inputs(out, man, "fp16", r, mop["attrs"]), "float16")) for r in mop["group"]]
    s1 = np.max([np.abs(p).max(axis=0) for p in parts], axis=0) / 127
    s2 = np.abs(np.sum(parts, axis=0)).max(axis=0) / 127
    f1, f2 = os.path.join(work, f"s1-{m}.npy"), os.path.join(work, f"s2-{m}.npy")
    # rounded up to fp16 so that the stored scale still covers the maximum
    np.save(f1, np.nextafter(s1.astype(np.float16), np.float16(np.inf)))
    np.save(f2, np.nextafter(s2.astype(np.float16), np.float16(np.inf)))
    sc["ops"] = [qmmar_op("int8", mm, ERR_N, True, {"commQuantScale1": {"npy": f1},
                                                    "commQuantScale2": {"npy": f2}})]
    out8 = run(npusim, work, f"d-{m}-int8", sc)
    with open(os.path.join(out8, "manifest.json")) as f:
        man8 = json.load(f)
    e8 = errors(out8, man8, "int8")
    shutil.rmtree(out)
    shutil.rmtree(out8)
    return e16, e8


def fit_0_0(mib):
    """mc2/common/src/hccl_performance.cpp, key "0_0" (910B full mesh AllReduce), us."""
    if mib <= 64.0 / 1024:
        return 18.0
    if mib <= 8:
        return -0.9698202 * mib * mib + 27.0622573 * mib + 14.769
    return 13.58491263 * mib + 61.508333


def comm_fit(npusim):
    work = tempfile.mkdtemp(prefix="qmmar-fit-")
    n = 8192
    lines = ["| tile (MiB per rank) | model: commit -> collective done (us) | fit \"0_0\" (us) "
             "| fit x 1.15 (commGrowRatio) | model / fit |", "|---:|---:|---:|---:|---:|"]
    for mib in (1, 8, 64):
        m = mib * 1024 * 1024 // (2 * n)
        op = {"op": "QuantMatmulAllReduceV3", "name": "q", "x1": {"shape": [m, 256]},
              "x2": {"shape": [256, n]}, "dequantScale": {"dtype": "int64"},
              "output": {"dtype": "float16"}, "tileM": m}
        sc = {"name": "fit", "mode": "timing", "cluster": {"preset": "a2", "ranks": RANKS},
              "ops": [op]}
        path = os.path.join(work, f"f{mib}.json")
        with open(path, "w") as f:
            json.dump(sc, f)
        out = os.path.join(work, f"f{mib}")
        p = subprocess.run([npusim, "run", path, "--out", out, "--quiet", "--trace-level", "task"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(p.stderr)
        with open(os.path.join(out, "trace.json")) as f:
            ev = json.load(f)["traceEvents"]
        with open(os.path.join(out, "report.json")) as f:
            rep = json.load(f)["ops"][0]
        # rank 0's commit (AIV 0) and its end of op, less the final SyncAll flag poll
        commit = max(e["ts"] + e["dur"] for e in ev if e.get("ph") == "X"
                     and e["name"] == "Commit AllReduce t0" and e["pid"] // 8 == 0)
        end = rep["ranks"][0]["end_ps"] / 1e6
        poll = 0.5
        t = end - commit - poll
        lines.append(f"| {mib} | {t:.1f} | {fit_0_0(mib):.1f} | {1.15 * fit_0_0(mib):.1f} | "
                     f"{t / fit_0_0(mib):.2f} |")
    shutil.rmtree(work)
    sys.stdout.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--npusim", default=os.environ.get("NPUSIM", "./npusim"))
    ap.add_argument("--quick", action="store_true", help="m in {256, 4096} only")
    ap.add_argument("--md", help="also write the table to this file")
    ap.add_argument("--comm-fit", action="store_true",
                    help="the per-tile AllReduce against Huawei's fitted curve instead")
    args = ap.parse_args()
    if args.comm_fit:
        comm_fit(args.npusim)
        return
    ms = [256, 4096] if args.quick else MS
    work = tempfile.mkdtemp(prefix="qmmar-study-")
    lines = [f"k = {K}, n = {N}, {RANKS} ranks (one A2 server), x1 int8 (m, k), x2 int8 "
             f"(k, n), INT64 per-channel dequantScale, fp16 output. Latency: timing mode; "
             f"error: data mode (m = min(m, {ERR_M}), n = {ERR_N}), max |error| and RMS error / "
             f"RMS of the float64 sum.", "",
             "| m | HCCS GB/s | fp16 comm (us) | bound | exposed comm (us) | cut | int8 comm (us) "
             "| bound | cut | int8 speed-up | fp16 err max / rms | int8 err max / rms |",
             "|---:|---:|---:|---|---:|---|---:|---|---|---:|---|---|"]
    for i, m in enumerate(ms):
        e16, e8 = numerics(args.npusim, work, m, 10 + i)
        for bw in BWS:
            a = timing(args.npusim, work, m, bw, False)
            b = timing(args.npusim, work, m, bw, True)
            lines.append(f"| {m} | {bw / 1e9:g} | {a[0]:.1f} | {a[1]} | {a[3]:.1f} | {a[2]} | {b[0]:.1f} | "
                         f"{b[1]} | {b[2]} | {a[0] / b[0]:.2f} | {e16[0]:.3f} / {e16[1]:.1e} | "
                         f"{e8[0]:.3f} / {e8[1]:.1e} |")
            print(lines[-1], file=sys.stderr)
    shutil.rmtree(work)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
