"""Spec 003's chain MoeDistributeDispatchV3 -> DistributeBarrierV2 ->
MoeDistributeCombineV3 on three streams (scenarios/barrier-a3-moe-chain.json: EP 8,
TP 1, A3, data mode), end to end against NumPy, plus a variant with random routing.

With quantMode 0 and no expert op between them, the combine gets back exactly the rows
the dispatch sent, so its output has a closed form from the dispatch's inputs alone
(REFERENCE.md §5.1: fp32, top-k order, then the shared expert's row unweighted, one
rounding to the output dtype):
    sum = 0; for k: sum = sum + fp32(x[t]) * expertScales[t, k]   (fp32 multiply, add)
    sum = sum + fp32(x[t])            (sharedExpertNum = 1)
    xOut[t] = RNE_bf16(sum)
Also checked: the streams (dispatch 0, barrier 1, combine 2), the order the chain
imposes on every rank (barrier after dispatch, combine after barrier), no rank leaving
the barrier before the last one entered it, and xRef untouched (= dispatch's expandX)."""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json, load_json, SRCDIR  # noqa: E402

t = Tap()
work = tmpdir()
N = 8


def bf16_to_f32(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(v):
    u = np.asarray(v, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def check(label, scen_path):
    out = os.path.join(work, label)
    p = run(["run", scen_path, "--out", out, "--quiet"])
    if not t.ok(p.returncode == 0, f"{label}: the chain runs (hazard checker on)", p.stderr):
        return
    man = load_json(os.path.join(out, "manifest.json"))
    rep = load_json(os.path.join(out, "report.json"))
    f = {(x["op"], x["rank"], x["name"]): os.path.join(out, x["file"]) for x in man["tensors"]}
    streams = {o["name"]: o["stream"] for o in man["ops"]}
    t.ok(streams == {"dispatch": 0, "barrier": 1, "combine": 2},
         f"{label}: dispatch, barrier and combine on streams 0, 1, 2", streams)
    bad = []
    for r in range(N):
        x = bf16_to_f32(np.load(f[("dispatch", r, "x")]))
        w = np.load(f[("dispatch", r, "expertScales")]).astype(np.float32)
        acc = np.zeros_like(x)
        for k in range(w.shape[1]):
            acc = (acc + x * w[:, k:k + 1]).astype(np.float32)
        acc = (acc + x).astype(np.float32)
        got = np.load(f[("combine", r, "xOut")])
        if not np.array_equal(got.view(np.uint16), f32_to_bf16(acc)):
            bad.append(r)
    t.ok(not bad, f"{label}: xOut of every rank equals sum_k x*w_k + x (fp32, top-k order) "
         "rounded to bf16", f"ranks differing: {bad}")
    same = all(np.array_equal(np.load(f[("barrier", r, "xRef")]),
                              np.load(f[("dispatch", r, "expandX")])) for r in range(N))
    t.ok(same, f"{label}: the barrier's xRef is the dispatch's expandX, untouched")
    span = {o["name"]: {x["rank"]: (x["start_ps"], x["end_ps"]) for x in o["ranks"]}
            for o in rep["ops"]}
    order = all(span["barrier"][r][0] >= span["dispatch"][r][1]
                and span["combine"][r][0] >= span["barrier"][r][1] for r in range(N))
    t.ok(order, f"{label}: on every rank the barrier starts after the dispatch ends and the "
         "combine after the barrier")
    last_in = max(s for s, _ in span["barrier"].values())
    t.ok(all(e > last_in for _, e in span["barrier"].values()),
         f"{label}: no rank leaves the barrier before the last one entered it")


check("spec-example", os.path.join(SRCDIR, "scenarios", "barrier-a3-moe-chain.json"))

# the same chain with drawn routing, scales and a straggler before the dispatch
sc = load_json(os.path.join(SRCDIR, "scenarios", "barrier-a3-moe-chain.json"))
sc["name"] = "chain-random"
sc["seed"] = 9
sc["ops"][0]["routing"] = {"dist": "uniform"}
sc["ops"][0]["inputs"] = {"expertScales": {"dist": "uniform", "low": 0, "high": 1}}
sc["inject"] = {"stragglers": [{"rank": 6, "delay_us": 25}]}
check("random-routing", write_json(os.path.join(work, "chain-random.json"), sc))
shutil.rmtree(work, ignore_errors=True)
t.done()
