"""HCCL collectives against a NumPy reference, bit for bit.

For every topology (A2 one server = 8 ranks, A2 two servers = 16 ranks, A3 = 16 dies)
and dtype (float16, bfloat16, float32, int8) one scenario runs AllReduce,
ReduceScatter, AllGather, AlltoAll and AlltoAllV (explicit matrix and randint counts)
through `npusim run` in data mode. recvBuf of every rank is recomputed here from the
sendBuf .npy files and the manifest, with the reduction order documented in
docs/ops/hccl.md ("Reduction order"):

  * in a server (A2) or among all dies (A3): a pairwise tree over the group ranks of
    the level, in group order: round r adds v[head + o] into v[o] for
    o = 0 .. min(n, 2^(S-r)) - 1 - head, head = 2^(S-r-1), S = ceil(log2 n);
  * A2 across servers: each server's tree sum, then the servers (two servers: one
    addition);
  * every addition rounds to the dtype: fp16 and bf16 via fp32 and round-to-nearest-
    even (fp16 saturating at +-65504), fp32 in IEEE single, int8 wrapping modulo 256.

The AllReduce checked in that order runs with "deterministic": true. HCCL's default
one-server A2 AllReduce (op "ari": concurrent SDMA inline reduces, additions in arrival
order) is checked with integer-valued inputs, whose sums are exact in every order (its
order is checked in tests/test-ops-hccl.c).

bf16 tensors are stored as uint16 bit patterns and widened here with bits << 16.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json, load_json  # noqa: E402


# ---- element types ----

def to_f32(dtype, raw):
    """Widen stored values to float32 (int8 stays integer)."""
    if dtype == "bfloat16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    if dtype == "int8":
        return raw.astype(np.int64)
    return raw.astype(np.float32)


def bits(dtype, v):
    """Round float32 (or integer) values to the dtype and return its storage bits."""
    if dtype == "float16":
        with np.errstate(over="ignore"):
            h = v.astype(np.float16)
        # saturation of an fp16 overflow (finite inputs never give inf here)
        h = np.where(np.isinf(h), np.float16(65504.0) * np.sign(h), h).astype(np.float16)
        return h.view(np.uint16)
    if dtype == "bfloat16":
        u = v.astype(np.float32).view(np.uint32).astype(np.uint64)
        u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
        return u.astype(np.uint16)
    if dtype == "float32":
        return v.astype(np.float32).view(np.uint32)
    return (((v + 128) % 256) - 128).astype(np.int8).view(np.uint8)


def from_bits(dtype, b):
    """Storage bits (as returned by bits()) back to float32 values."""
    if dtype == "float16":
        return b.view(np.float16).astype(np.float32)
    if dtype == "bfloat16":
        return (b.astype(np.uint32) << 16).view(np.float32)
    return b.view(np.float32)


def add(dtype, a, b):
    """One inline-reduce step: a + b rounded to the dtype, as float32 / int values."""
    if dtype == "int8":
        return (((a + b) + 128) % 256) - 128
    s = a.astype(np.float32) + b.astype(np.float32)
    return from_bits(dtype, bits(dtype, s))


def tree(dtype, vals):
    """HCCL's pairwise local-reduce tree over the list vals (in slot order)."""
    v = list(vals)
    n = len(v)
    steps = 0
    while (1 << steps) < n:
        steps += 1
    for r in range(steps):
        head = 1 << (steps - r - 1)
        tail = min(n, 1 << (steps - r)) - 1
        for o in range(tail - head + 1):
            v[o] = add(dtype, v[o], v[head + o])
    return v[0]


def reduce_ranks(dtype, per_rank, servers):
    """Sum per_rank[g] (group order) in the documented order; servers = lists of g."""
    partial = [tree(dtype, [per_rank[g] for g in members]) for members in servers]
    if len(partial) == 1:
        return partial[0]
    assert len(partial) == 2  # two servers: one addition, ring and NHR alike
    return add(dtype, partial[0], partial[1])


# ---- scenarios ----

TOPOS = [
    ("a2-1server", "a2", 8, [list(range(8))]),
    ("a2-2servers", "a2", 16, [list(range(8)), list(range(8, 16))]),
    ("a3-16dies", "a3", 16, [list(range(16))]),
]
DTYPES = ["float16", "bfloat16", "float32", "int8"]


def a2av_matrix(n):
    # uneven, zeros included (also on the diagonal)
    return [[0 if (i * 5 + j) % 7 == 3 else (i * 3 + j * 5) % 11 + 1 for j in range(n)]
            for i in range(n)]


def scenario(name, preset, n, dtype):
    if dtype == "int8":
        init = {"dist": "randint", "low": -128, "high": 127}  # wraps: order-free
    else:
        init = {"dist": "uniform", "low": -1, "high": 1}
    ops = [
        {"op": "AllReduce", "name": "ar", "dtype": dtype, "count": 1000, "deterministic": True},
        {"op": "AllReduce", "name": "ari", "dtype": dtype, "count": 1000},
        {"op": "ReduceScatter", "name": "rs", "dtype": dtype, "count": 250},
        {"op": "AllGather", "name": "ag", "dtype": dtype, "count": 300},
        {"op": "AlltoAll", "name": "a2a", "dtype": dtype, "count": 40},
        {"op": "AlltoAllV", "name": "a2av", "dtype": dtype, "sendCounts": a2av_matrix(n)},
        {"op": "AlltoAllV", "name": "a2avr", "dtype": dtype,
         "sendCounts": {"dist": "randint", "low": 0, "high": 30}},
    ]
    for op in ops:
        op["inputs"] = {"sendBuf": init}
    if dtype != "int8":
        # |x| <= 8: every partial sum of 16 ranks is an integer below 2^8, exact in all
        ops[1]["inputs"] = {"sendBuf": {"dist": "randint", "low": -8, "high": 8}}
    return {"name": f"hccl-ref-{name}-{dtype}", "seed": 11,
            "cluster": {"preset": preset, "ranks": n}, "ops": ops}


def expected(op, dtype, group, servers, send, manifest_op):
    """recvBuf per group rank, as float32 / int values."""
    n = len(group)
    kind = op["op"]
    if kind == "AllReduce":
        r = reduce_ranks(dtype, [send[g] for g in range(n)], servers)
        return [r] * n
    if kind == "ReduceScatter":
        c = op["count"]
        return [reduce_ranks(dtype, [send[s][g * c:(g + 1) * c] for s in range(n)], servers)
                for g in range(n)]
    if kind == "AllGather":
        full = np.concatenate([send[g] for g in range(n)])
        return [full] * n
    if kind == "AlltoAll":
        counts = [[op["count"]] * n for _ in range(n)]
    else:
        counts = manifest_op["attrs"]["sendCounts"]
    sdispl = [np.concatenate([[0], np.cumsum(row)]).astype(int) for row in counts]
    out = []
    for j in range(n):
        blocks = [send[i][sdispl[i][j]:sdispl[i][j] + counts[i][j]] for i in range(n)]
        out.append(np.concatenate(blocks) if blocks else np.zeros(0))
    return out


t = Tap()
work = tmpdir()
for topo, preset, n, servers in TOPOS:
    for dtype in DTYPES:
        sc = scenario(topo, preset, n, dtype)
        path = write_json(os.path.join(work, f"{topo}-{dtype}.json"), sc)
        out = os.path.join(work, f"{topo}-{dtype}")
        p = run(["run", path, "--out", out, "--quiet", "--trace-level", "op"])
        if not t.ok(p.returncode == 0, f"{topo} {dtype}: npusim run succeeds", p.stdout + p.stderr):
            continue
        man = load_json(os.path.join(out, "manifest.json"))
        tensors = {}
        for x in man["tensors"]:
            tensors[(x["op"], x["rank"], x["name"])] = x
        for op in sc["ops"]:
            mop = next(o for o in man["ops"] if o["name"] == op["name"])
            group = mop["group"]
            if op["op"] == "AlltoAllV" and isinstance(op["sendCounts"], list):
                t.ok(mop["attrs"]["sendCounts"] == op["sendCounts"],
                     f"{topo} {dtype} {op['name']}: manifest records sendCounts")
            send = []
            for r in group:
                x = tensors[(op["name"], r, "sendBuf")]
                raw = np.load(os.path.join(out, x["file"]))
                send.append(to_f32(dtype, raw))
            want = expected(op, dtype, group, servers, send, mop)
            bad = []
            for g, r in enumerate(group):
                x = tensors[(op["name"], r, "recvBuf")]
                got = np.load(os.path.join(out, x["file"]))
                wb = bits(dtype, np.asarray(want[g]))
                gb = got.view(wb.dtype) if got.dtype.itemsize == wb.dtype.itemsize else got
                if x["shape"] != [len(wb)] or gb.shape != wb.shape:
                    bad.append(f"rank {r}: shape {x['shape']} / {gb.shape}, expected {wb.shape}")
                elif not np.array_equal(gb, wb):
                    k = int(np.flatnonzero(gb != wb)[0])
                    bad.append(f"rank {r}: first difference at {k}: got bits {gb[k]:#x}, "
                               f"expected {wb[k]:#x}")
            t.ok(not bad, f"{topo} {dtype} {op['op']} ({op['name']}): recvBuf bit-exact on "
                 f"{len(group)} ranks", "\n".join(bad))
t.done()
