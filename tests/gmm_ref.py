"""NumPy reference of aclnnGroupedMatMulAlltoAllv (REFERENCE.md §3.1), shared by
tests/test-gmm-reference.py (8 ranks) and tests/test-gmm-reference-16.py (16 ranks).

Independent of npusim's code: from the input .npy files and the sendCounts in the
manifest it recomputes, for every rank d,

  gmmY_s[expert j rows] = round(gmmX_s[rows of j] @ W_s[j])     (W_s[j]^T if transposed)
  y_d = concat over source rank s, then expert j, of the rows of gmmY_s that s's
        sendCounts_s[d*e + j] sends to d (they sit at the d-th place inside s's
        expert-j group, the groups being expert-major, destination-minor)
  mmY_s = round(mmX_s @ mmW_s)

"round" is the fixpipe's rounding of the fp32 accumulator to the output dtype: round to
nearest even, fp16 saturating at +-65504. Two ways to get the fp32 accumulator:
  * exact(): integer-valued inputs whose sums are exact in fp32 in any order (checked
    here), so a float64 matmul gives the accumulator bit for bit;
  * sequential(): fp32 additions over k in increasing order (REFERENCE "Generic
    numerics", ops/gemm.h), for sampled rows of non-integer data.
bf16 is stored as uint16 bit patterns, fp16 as float16.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import run, write_json, load_json  # noqa: E402


def to_f32(dtype, a):
    if dtype == "bfloat16":
        return (a.astype(np.uint32) << 16).view(np.float32)
    return a.astype(np.float32)


def round_bits(dtype, v32):
    """fp32 values -> storage of dtype (RNE; fp16 saturates at +-65504)."""
    v32 = np.asarray(v32, dtype=np.float32)
    if dtype == "bfloat16":
        u = v32.view(np.uint32).astype(np.uint64)
        u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
        return u.astype(np.uint16)
    with np.errstate(over="ignore"):
        h = v32.astype(np.float16)
    return np.where(np.isinf(h) & np.isfinite(v32), np.float16(65504.0) * np.sign(h),
                    h).astype(np.float16)


def counts_matrix(rng, n, e, low, high, zeros=True):
    """sendCounts of every rank: rank s sends P[s][d] in [low, high] rows to rank d, split
    unevenly over its e experts, some (peer, expert) pairs getting none."""
    send = []
    for s in range(n):
        row = []
        for d in range(n):
            p = int(rng.integers(low, high + 1))
            if zeros and e > 1 and rng.random() < 0.5:
                # one expert gets nothing for this peer
                cut = np.sort(rng.integers(0, p + 1, size=e - 2)) if e > 2 else np.array([], int)
                parts = np.diff(np.concatenate([[0], cut, [p]])).tolist()
                z = int(rng.integers(0, e))
                parts.insert(z, 0)
            else:
                cut = np.sort(rng.integers(0, p + 1, size=e - 1))
                parts = np.diff(np.concatenate([[0], cut, [p]])).tolist()
            row += [int(x) for x in parts]
        send.append(row)
    return send


def run_scenario(work, name, scen, extra=()):
    path = write_json(os.path.join(work, name + ".json"), scen)
    out = os.path.join(work, name + "-out")
    p = run(["run", path, "--out", out, "--quiet", "--trace-level", "op"] + list(extra))
    return p, out


class Outputs:
    def __init__(self, out, op="gmm"):
        self.out = out
        self.man = load_json(os.path.join(out, "manifest.json"))
        self.op = [o for o in self.man["ops"] if o["name"] == op][0]
        self.tensors = {(t["rank"], t["name"]): t for t in self.man["tensors"] if t["op"] == op}

    def get(self, rank, name):
        t = self.tensors[(rank, name)]
        return np.load(os.path.join(self.out, t["file"])), t["dtype"]


def expert_rows(send, n, e):
    """[j] -> (first row, rows) of expert j's group in gmmX; and the offset of the block
    for destination d inside it."""
    groups = [sum(send[d * e + j] for d in range(n)) for j in range(e)]
    first = np.concatenate([[0], np.cumsum(groups)]).astype(int)
    return first, groups


def y_sources(send, n, e, d):
    """For every row of y on rank d: (source rank s, expert j, row of gmmX_s)."""
    src = []
    for s in range(n):
        first, _ = expert_rows(send[s], n, e)
        for j in range(e):
            off = first[j] + sum(send[s][dd * e + j] for dd in range(d))
            src += [(s, j, off + i) for i in range(send[s][d * e + j])]
    return src


def weights(o, s, trans):
    w, dt = o.get(s, "gmmWeight")
    wf = to_f32(dt, w)
    return np.swapaxes(wf, 1, 2) if trans else wf   # (e, H1, N1)


def reference(o, n):
    """Expected y and mmYOptional storage per rank (exact mode: integer-valued data):
    dict rank -> (y, mmY or None)."""
    attrs = o.op["attrs"]
    e, trans, trans_mm = attrs["e"], attrs["transGmmWeight"], attrs["transMmWeight"]
    send = attrs["sendCounts"]
    gmm_y = {}
    for s in range(n):
        x, dt = o.get(s, "gmmX")
        xf, wf = to_f32(dt, x), weights(o, s, trans)
        first, _ = expert_rows(send[s], n, e)
        acc = np.zeros((x.shape[0], wf.shape[2]), np.float32)
        for j in range(e):
            acc[first[j]:first[j + 1]] = exact_matmul(xf[first[j]:first[j + 1]], wf[j])
        gmm_y[s] = acc
    res = {}
    for d in range(n):
        dt = o.tensors[(d, "y")]["dtype"]
        rows = [gmm_y[s][r] for (s, j, r) in y_sources(send, n, e, d)]
        y = round_bits(dt, np.stack(rows))
        mmy = None
        if "BS" in attrs:
            mx, _ = o.get(d, "mmXOptional")
            mw, _ = o.get(d, "mmWeightOptional")
            mwf = to_f32(dt, mw)
            mmy = round_bits(dt, exact_matmul(to_f32(dt, mx), mwf.T if trans_mm else mwf))
        res[d] = (y, mmy)
    return res


def exact_matmul(a, b):
    # every product and partial sum is an integer below 2^24: exact in fp32 in any
    # order, so float64 gives the fp32 accumulator exactly
    assert np.all(a == np.round(a)) and np.all(b == np.round(b))
    bound = np.abs(a).max(initial=0) * np.abs(b).max(initial=0) * a.shape[1]
    assert bound < 2 ** 24, bound
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)


def sequential_rows(a_rows, b_mats):
    """fp32 accumulators of rows a_rows[i] (K,) @ b_mats[i] (K, N): one fp32 accumulator
    per element, k increasing, each product rounded to fp32 (exact for fp16/bf16
    inputs), no FMA."""
    acc = np.zeros((a_rows.shape[0], b_mats.shape[2]), np.float32)
    for k in range(a_rows.shape[1]):
        acc = acc + a_rows[:, k, None] * b_mats[:, k, :]
    return acc


def sampled_y(o, n, d, rows):
    """Expected storage of y rows @rows of rank d, accumulated sequentially."""
    attrs = o.op["attrs"]
    e, trans, send = attrs["e"], attrs["transGmmWeight"], attrs["sendCounts"]
    src = y_sources(send, n, e, d)
    dt = o.tensors[(d, "y")]["dtype"]
    xs = {s: to_f32(dt, o.get(s, "gmmX")[0]) for s in {src[r][0] for r in rows}}
    ws = {s: weights(o, s, trans) for s in xs}
    a = np.stack([xs[src[r][0]][src[r][2]] for r in rows]).astype(np.float32)
    b = np.stack([ws[src[r][0]][src[r][1]] for r in rows]).astype(np.float32)
    return round_bits(dt, sequential_rows(a, b))
