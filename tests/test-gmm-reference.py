"""GroupedMatMulAlltoAllv at 8 ranks against the NumPy reference of tests/gmm_ref.py,
bit for bit: uneven sendCounts with zero rows for some (peer, expert) pairs, with and
without the shared expert, with transposed weights, fp16 and bf16; integer-valued
inputs (exact in any summation order) for whole tensors, and uniform inputs for
sampled rows checked against fp32 accumulation in increasing k. The kernel's 2 MB
per-peer minimum (sum of a peer's rows x H1 x 2 bytes) sets the sizes."""
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, tmpdir  # noqa: E402
import gmm_ref  # noqa: E402

t = Tap()
work = tmpdir()
N = 8
H1 = 8192          # 128 rows x 8192 x 2 B = 2 MB: the per-peer minimum


def scenario(name, dtype, e, n1, send, shared=None, trans=False, trans_mm=False,
             dist=None):
    dist = dist or {"dist": "randint", "low": -3, "high": 3}
    op = {"op": "GroupedMatMulAlltoAllv", "name": "gmm", "group": "ep", "dtype": dtype,
          "e": e, "H1": H1, "N1": n1, "sendCounts": send, "transGmmWeight": trans,
          "inputs": {"gmmX": dist, "gmmWeight": dist}}
    if shared:
        op.update({"BS": shared[0], "H2": shared[1], "N2": shared[2], "transMmWeight": trans_mm})
        op["inputs"].update({"mmXOptional": dist, "mmWeightOptional": dist})
    return {"name": name, "seed": 11, "cluster": {"preset": "a3", "ranks": N},
            "groups": {"ep": "all"}, "ops": [op]}


def check_exact(name, scen):
    p, out = gmm_ref.run_scenario(work, name, scen)
    if not t.ok(p.returncode == 0, f"{name}: npusim run succeeds", p.stderr):
        return
    o = gmm_ref.Outputs(out)
    send = scen["ops"][0]["sendCounts"]
    e = scen["ops"][0]["e"]
    recv = [[send[s][d * e + j] for s in range(N) for j in range(e)] for d in range(N)]
    t.ok(o.op["attrs"]["recvCounts"] == recv,
         f"{name}: recvCounts default to what the peers send (recv[d][s*e+j] = send[s][d*e+j])")
    ref = gmm_ref.reference(o, N)
    bad_y, bad_mm = [], []
    for d in range(N):
        y, _ = o.get(d, "y")
        want, want_mm = ref[d]
        if y.shape != want.shape or not np.array_equal(y.view(np.uint16), want.view(np.uint16)):
            bad_y.append(d)
        if want_mm is not None:
            mm, _ = o.get(d, "mmYOptional")
            if not np.array_equal(mm.view(np.uint16), want_mm.view(np.uint16)):
                bad_mm.append(d)
    t.ok(not bad_y, f"{name}: y of every rank equals the reference bit for bit "
         f"(rows {[int(sum(recv[d])) for d in range(N)]})", f"ranks differing: {bad_y}")
    if scen["ops"][0].get("BS"):
        t.ok(not bad_mm, f"{name}: mmYOptional of every rank equals the reference bit for bit",
             f"ranks differing: {bad_mm}")
    return o


rng = np.random.default_rng(2024)

# 1. bf16, 4 experts, uneven (peer totals 128..140 rows, zeros), shared expert, both
#    weights transposed; N1 = 48 and N2 = 40 leave partial cube blocks.
send1 = gmm_ref.counts_matrix(rng, N, 4, 128, 140)
zeros = sum(1 for r in send1 for c in r if c == 0)
t.ok(zeros > 0, f"case 1 has {zeros} zero (peer, expert) counts")
check_exact("bf16-shared-trans",
            scenario("bf16-shared-trans", "bfloat16", 4, 48, send1, shared=(256, 512, 40),
                     trans=True, trans_mm=True))

# 2. fp16, 3 experts, one sendCounts list per rank, no shared expert, plain weights.
send2 = gmm_ref.counts_matrix(rng, N, 3, 128, 140)
check_exact("fp16-plain", scenario("fp16-plain", "float16", 3, 64, send2))

# 3. fp16, uniform [-1, 1) data: sampled rows of y against fp32 accumulation in
#    increasing k (the order is defined, so bit for bit), plus the shared expert's
#    first rows.
send3 = gmm_ref.counts_matrix(rng, N, 2, 128, 130)
scen3 = scenario("fp16-uniform", "float16", 2, 32, send3, shared=(512, 256, 16),
                 dist={"dist": "uniform", "low": -1, "high": 1})
p, out = gmm_ref.run_scenario(work, "fp16-uniform", scen3)
if t.ok(p.returncode == 0, "fp16-uniform: npusim run succeeds", p.stderr):
    o = gmm_ref.Outputs(out)
    bad = []
    for d in (0, 5):
        y, _ = o.get(d, "y")
        rows = sorted(set(np.linspace(0, y.shape[0] - 1, 24).astype(int).tolist()))
        want = gmm_ref.sampled_y(o, N, d, rows)
        if not np.array_equal(y[rows].view(np.uint16), want.view(np.uint16)):
            bad.append(d)
    t.ok(not bad, "fp16-uniform: sampled y rows of ranks 0 and 5 equal fp32 k-ordered "
         "accumulation rounded to fp16, bit for bit", f"ranks differing: {bad}")
    mx, dt = o.get(3, "mmXOptional")
    mw, _ = o.get(3, "mmWeightOptional")
    mm, _ = o.get(3, "mmYOptional")
    a = gmm_ref.to_f32(dt, mx)[:8]
    b = np.repeat(gmm_ref.to_f32(dt, mw)[None], 8, axis=0)
    want = gmm_ref.round_bits(dt, gmm_ref.sequential_rows(a, b))
    t.ok(np.array_equal(mm[:8].view(np.uint16), want.view(np.uint16)),
         "fp16-uniform: mmYOptional rows of rank 3 equal the k-ordered fp32 reference")
shutil.rmtree(work, ignore_errors=True)
t.done()
