"""MoeDistributeDispatch / MoeExperts / MoeDistributeCombine against the independent
NumPy model of tests/moe_reference.py, bit for bit.

Each case runs `npusim run` on a small data-mode scenario and checks, on every rank:
  * dispatch: expandX, dynamicScales, expandIdx or assistInfoForCombine, expandScales,
    expertTokenNums, epRecvCounts, tpRecvCounts (exact rows, orders and layouts of
    REFERENCE 4.1 / 9.1-9.3);
  * experts ("identity"): y = dequantised expandX;
  * combine: xOut from the experts' y (weighted fp32 sum in top-k order, shared rows
    unweighted, TP partial adds, commQuantMode 2 round trip);
  * end to end: the whole chain recomputed from x, expertIds and expertScales only
    (identity experts), and the closed form sum_k w_k * x_t within the rounding of the
    chain.
Cases cover quantMode 0/2 (with and without smooth scales), commQuantMode 0/2, shared
experts, TP 1 and 2, equal and unequal BS (globalBs), 1-D and 2-D xActiveMask, zero
experts (V3), V1/V2/V3, fp16 and bf16, on A3 with 8 and 16 dies (one run with the
coarse hazard regions of big runs), and on A2 with 2 and 4 servers, flat and
hierarchical (its epRecvCounts reduce tables; expandIdx / assistInfoForCombine and
expandScales only where the A2 kernels write them).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json  # noqa: E402
import moe_reference as ref  # noqa: E402

t = Tap()
work = tmpdir()


def scenario(name, ranks, dispatch, combine=None, version=2, experts="identity", preset="a3",
             seed=5):
    suffix = "" if version == 1 else f"V{version}"
    d = dict(dispatch)
    d.update({"op": "MoeDistributeDispatch" + suffix, "name": "dispatch"})
    c = {"op": "MoeDistributeCombine" + suffix, "name": "combine", "dispatch": "dispatch",
         "experts": "experts"}
    c.update(combine or {})
    ops = [d, {"op": "MoeExperts", "name": "experts", "dispatch": "dispatch", "expert": experts}, c]
    return {"name": name, "seed": seed, "cluster": {"preset": preset, "ranks": ranks}, "ops": ops}


def check_case(name, sc):
    path = write_json(os.path.join(work, name + ".json"), sc)
    out = os.path.join(work, name)
    p = run(["run", path, "--out", out, "--quiet"])
    if not t.ok(p.returncode == 0, f"{name}: runs", p.stderr):
        return
    r = ref.Run(out)
    disp = ref.Dispatch(r, "dispatch")
    group = disp.group
    dt = disp.dtype
    bad = []
    exp_all = []
    for g in range(disp.n):
        exp = disp.expected(g)
        exp_all.append(exp)
        for key, want in exp.items():
            if not r.has("dispatch", group[g], key):
                bad.append(f"r{g} {key}: missing")
                continue
            got = r.load("dispatch", group[g], key)
            if key in ("expandX",) and disp.quant != 2:
                got = got.view(np.uint16)
            if got.shape != want.shape or not np.array_equal(got.view(np.uint8), want.view(np.uint8)):
                diff = "" if got.shape != want.shape else \
                    f" first diff at {np.argwhere(got != want)[:3].tolist()}"
                bad.append(f"r{g} {key}: shape {got.shape} vs {want.shape}{diff}")
        outs = {tt["name"] for tt in r.man["tensors"]
                if tt["op"] == "dispatch" and tt["rank"] == group[g] and tt["role"] == "output"}
        extra = outs - set(exp)
        if extra:
            bad.append(f"r{g}: outputs the kernel does not write: {sorted(extra)}")
    t.ok(not bad, f"{name}: dispatch outputs equal the reference ({disp.n} ranks)", "\n".join(bad[:10]))

    # experts
    matmul = sc["ops"][1]["expert"] == "matmul"
    y_files, y_ref, bad = [], [], []
    for g in range(disp.n):
        exp = exp_all[g]
        if matmul:
            wq = r.load("experts", group[g], "weights")
            ws = r.load("experts", group[g], "weightScale") if disp.quant == 2 else None
            yr = ref.experts_matmul(disp, g, exp["expandX"], exp.get("dynamicScales"), wq, ws)
        else:
            yr = ref.experts_identity(disp, g, exp["expandX"], exp.get("dynamicScales"))
        y_ref.append(yr)
        yf = ref.widen(dt, r.load("experts", group[g], "y"))
        y_files.append(yf)
        if not np.array_equal(ref.to_bits(dt, yr), ref.to_bits(dt, yf)):
            bad.append(f"r{g} y differs")
    t.ok(not bad, f"{name}: experts ({sc['ops'][1]['expert']}) y equals the reference",
         "\n".join(bad))

    cop = r.ops["combine"]
    cq = cop["attrs"]["commQuantMode"]
    version = sc["ops"][2]["op"]
    version = 1 if version == "MoeDistributeCombine" else int(version[-1])
    shx = None
    if cop["attrs"]["sharedExpertX"]:
        shx = [ref.widen(dt, r.load("combine", group[g], "sharedExpertX")) for g in range(disp.n)]
    oname = "x" if version == 1 else "xOut"
    got = [r.load("combine", group[g], oname) for g in range(disp.n)]
    want = ref.combine(disp, y_files, cq, version, shx)
    bad = [f"r{g}: {np.count_nonzero(ref.to_bits(dt, want[g]) != got[g].view(np.uint16))} "
           f"elements differ" for g in range(disp.n)
           if not np.array_equal(ref.to_bits(dt, want[g]), got[g].view(np.uint16))]
    t.ok(not bad, f"{name}: combine output equals the reference", "\n".join(bad))

    if matmul:
        return
    # end to end from the inputs only
    e2e = ref.combine(disp, y_ref, cq, version, shx)
    bad = [f"r{g}" for g in range(disp.n)
           if not np.array_equal(ref.to_bits(dt, e2e[g]), got[g].view(np.uint16))]
    t.ok(not bad, f"{name}: end-to-end chain (inputs only) equals the output", " ".join(bad))
    # closed form: sum_k w_k x_t (+ shared rows) within the chain's rounding
    worst = 0.0
    for g in range(disp.n):
        for tk in range(disp.bs[g]):
            slots = [j for j in range(disp.K + disp.SE) if (tk, j) in disp.slot_dst[g]]
            if not slots:
                continue
            mult = disp.tpn
            cf = np.zeros(disp.H)
            for j in slots:
                coef = float(disp.w[g][tk, j]) if j < disp.K else 1.0
                row = disp.x[g][tk].astype(np.float64)
                if disp.smooth[g] is not None:  # smooth scales multiply the routed row
                    ses = disp.SE if disp.S > 0 else 0
                    idx = int(disp.ids[g][tk, j]) + ses if j < disp.K else j - disp.K
                    row = row * disp.smooth[g][idx]
                cf += mult * coef * row
            if shx is not None:
                cf += shx[g][tk]
            scale = np.max(np.abs(cf)) + 1e-30
            worst = max(worst, float(np.max(np.abs(ref.widen(dt, got[g][tk]) - cf)) / scale))
    tol = 0.05 if (disp.quant == 2 or cq == 2) else 0.02
    t.ok(worst < tol, f"{name}: closed form sum_k w_k x_t holds (max rel err {worst:.2e} < {tol})")


A = {"h": 1024}
cases = [
    ("a3-ep8-q2-smooth-shared", 8,
     dict(A, bs=6, k=3, moeExpertNum=7, sharedExpertNum=1, sharedExpertRankNum=1, quantMode=2,
          smoothScales=True, expertTokenNumsType=0), {}, 2),
    ("a3-ep8-q0-L2-cq2", 8,
     dict(A, bs=5, k=4, moeExpertNum=16, quantMode=0, expertTokenNumsType=0),
     {"commQuantMode": 2}, 2),
    ("a3-ep16-q2-mask1-unequal-fp16", 16,
     dict(A, bs=[4, 6, 5, 6, 3, 6, 6, 2, 6, 6, 1, 6, 5, 4, 6, 6], globalBs=96, k=2,
          moeExpertNum=16, quantMode=2, dtype="float16",
          xActiveMask={"dims": 1, "active": [4, 5, 5, 6, 3, 2, 6, 2, 6, 0, 1, 6, 5, 4, 6, 3]}),
     {"commQuantMode": 2}, 3),
    ("a3-ep8-mask2-shared2-shx", 8,
     dict(A, bs=4, k=3, moeExpertNum=12, sharedExpertNum=2, sharedExpertRankNum=2, quantMode=2,
          xActiveMask={"dims": 2, "p": 0.7}), {"sharedExpertX": True}, 2),
    ("a3-ep8-v3-zero-experts", 8,
     dict(A, bs=5, k=3, moeExpertNum=8, zeroExpertNum=4, quantMode=0, dtype="float16"), {}, 3),
    ("a3-ep8-v1-q2", 8, dict(A, bs=4, k=3, moeExpertNum=8, quantMode=2), {}, 1),
    ("a3-ep8xtp2-v2-spec-shape", 16,
     dict(bs=8, h=7168, k=3, moeExpertNum=7, sharedExpertNum=1, sharedExpertRankNum=1,
          tpWorldSize=2, globalBs=64, expertTokenNumsType=1), {}, 2),
    ("a3-ep8-matmul-bf16-L2", 8,
     dict(A, bs=3, k=2, moeExpertNum=16, quantMode=0), {}, 2, "matmul"),
    ("a3-ep8-matmul-int8", 8,
     dict(A, bs=3, k=2, moeExpertNum=8, quantMode=2), {"commQuantMode": 2}, 2, "matmul"),
    ("a2-ep16-spec-v1", 16,
     dict(bs=8, h=7168, k=8, moeExpertNum=16, globalBs=128, expertTokenNumsType=0), {}, 1,
     "identity", "a2"),
    ("a2-ep16-q2-L2-cq2", 16,
     dict(A, bs=6, k=4, moeExpertNum=32, quantMode=2, smoothScales=True),
     {"commQuantMode": 2}, 2, "identity", "a2"),
    ("a2-ep16-hierarchical-q2", 16,
     dict(A, bs=6, k=4, moeExpertNum=32, quantMode=2, hierarchical=True), {}, 2, "identity", "a2"),
    ("a2-ep32-mask1-unequal", 32,
     dict(A, bs=[3 + (i % 4) for i in range(32)], globalBs=192, k=3, moeExpertNum=64,
          quantMode=0, dtype="float16",
          xActiveMask={"dims": 1, "active": [i % 5 + 1 for i in range(32)]}), {}, 2,
     "identity", "a2"),
    ("a2-ep32-hierarchical-L2-unequal", 32,
     dict(A, bs=[2 + (i % 5) for i in range(32)], globalBs=192, k=5, moeExpertNum=64,
          quantMode=0, hierarchical=True, expertTokenNumsType=0), {}, 3, "identity", "a2"),
    ("a2-ep16-hierarchical-v1", 16,
     dict(A, bs=5, k=3, moeExpertNum=16, quantMode=2, hierarchical=True), {}, 1,
     "identity", "a2"),
    ("a3-ep16-block-hazard-regions", 16,
     dict(A, bs=6, k=4, moeExpertNum=32, quantMode=2, hazardRegions="block"),
     {"commQuantMode": 2}, 2),
    ("a3-ep8xtp2-v1-q2", 16,
     dict(A, bs=6, k=2, moeExpertNum=7, sharedExpertNum=1, sharedExpertRankNum=1,
          tpWorldSize=2, quantMode=2), {}, 1),
]
for case in cases:
    name, ranks, disp, comb, version = case[:5]
    experts = case[5] if len(case) > 5 else "identity"
    preset = case[6] if len(case) > 6 else "a3"
    check_case(name, scenario(name, ranks, disp, comb, version, experts, preset))
t.done()
