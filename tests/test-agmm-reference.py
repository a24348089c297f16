"""AllGatherMatmulV2 and the unfused AllGather -> MatMul / QuantMatMul against a NumPy
reference, bit for bit.

Each case runs `npusim run` in data mode and recomputes, from the .npy inputs and the
manifest, every rank's gatherOut and output with the documented rounding steps
(docs/ops/AllGatherMatmulV2.md "Numerics"):

  * gatherOut = the ranks' x1 stacked in group order (exact);
  * fp16/bf16: fp32 accumulation in increasing k, one fp32 multiply and one fp32 add
    per step (products of fp16/bf16 values are exact in fp32), then round to nearest
    even to the output dtype (fp16 saturating at +-65504);
  * int8, float32 x2Scale: exact int32 sum; f = fp32(acc) (nearest even);
    f = f * x2Scale[col] (fp32); [f = f * x1Scale[row] (fp32)]; round to the output;
  * int8, INT64 x2Scale, fp16 output (fixpipe): scale19 = the packed value's bits
    [31:13] as an fp32; f = fp32(acc) * scale19; round to fp16 (saturating);
    [per token: fp16 -> fp32, * x1Scale[row], round to fp16].

The reference sums k in increasing order with one float32 rounding per addition,
exactly the order ops/gemm.h documents, so equality is exact (not within a bound).
Shapes cover non-multiples of every tile size (m0, n0, 512-byte K alignment, the
64 x 128 epilogue tiles), 2/4/8 ranks, A2 and A3, several communication steps (the
"tiling" override) and the int32 workspace ping-pong.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json, load_json  # noqa: E402


def to_f32(dtype, raw):
    if dtype == "bfloat16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    if dtype == "int8":
        return raw.astype(np.int64)
    return raw.astype(np.float32)


def to_bits(dtype, v):
    """Round float32 values to fp16 (saturating) / bf16 (nearest even) storage bits."""
    v = np.asarray(v, dtype=np.float32)
    if dtype == "float16":
        with np.errstate(over="ignore"):
            h = v.astype(np.float16)
        h = np.where(np.isinf(h) & np.isfinite(v), np.float16(65504.0) * np.sign(v), h)
        return h.astype(np.float16).view(np.uint16)
    u = v.view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def f32_matmul(a, b):
    """fp32 accumulation over k in increasing order, one rounding per add."""
    acc = np.zeros((a.shape[0], b.shape[1]), dtype=np.float32)
    for kk in range(a.shape[1]):
        acc = acc + np.outer(a[:, kk], b[kk, :]).astype(np.float32)
    return acc


def scale19(packed):
    bits = (packed.astype(np.uint64) & np.uint64(0xFFFFE000)).astype(np.uint32)
    return bits.view(np.float32)


def reference_output(dtype, out_dtype, g, x2, x2t, x2s, x1s):
    """g: gathered x1 (stored values), x2 as stored; returns output storage bits."""
    b = x2.T if x2t else x2
    if dtype in ("float16", "bfloat16"):
        return to_bits(out_dtype, f32_matmul(to_f32(dtype, g), to_f32(dtype, b)))
    acc = to_f32("int8", g) @ to_f32("int8", b)          # exact in int64
    assert np.abs(acc).max() < 2 ** 31
    f = acc.astype(np.int32).astype(np.float32)
    if x2s.dtype == np.int64:
        f = (f * scale19(x2s.reshape(-1))[None, :]).astype(np.float32)
        bits = to_bits("float16", f)
        if x1s is not None:
            h = bits.view(np.float16).astype(np.float32)
            bits = to_bits("float16", (h * x1s.reshape(-1, 1)).astype(np.float32))
        return bits
    f = (f * x2s.reshape(1, -1).astype(np.float32)).astype(np.float32)
    if x1s is not None:
        f = (f * x1s.reshape(-1, 1).astype(np.float32)).astype(np.float32)
    return to_bits(out_dtype, f)


def tensors(out, man, op):
    got = {}
    for x in man["tensors"]:
        if x["op"] == op:
            got[(x["rank"], x["name"])] = np.load(os.path.join(out, x["file"]))
    return got


def op_attrs(man, op):
    return next(o for o in man["ops"] if o["name"] == op)["attrs"]


t = Tap()
work = tmpdir()


def agmm_case(label, preset, ranks, spec, extra_ops=()):
    sc = {"name": label, "seed": 11, "cluster": {"preset": preset, "ranks": ranks},
          "ops": [dict({"op": "AllGatherMatmulV2", "name": "agmm"}, **spec)] + list(extra_ops)}
    path = write_json(os.path.join(work, label + ".json"), sc)
    out = os.path.join(work, label)
    p = run(["run", path, "--out", out, "--quiet"])
    if not t.ok(p.returncode == 0, f"{label}: runs", p.stderr):
        return None, None
    man = load_json(os.path.join(out, "manifest.json"))
    return out, man


def check_agmm(label, out, man):
    at = op_attrs(man, "agmm")
    got = tensors(out, man, "agmm")
    dtype, odt = at["dtype"], at["outputDtype"]
    ranks = sorted({r for (r, _) in got})
    gathered = np.concatenate([got[(r, "x1")] for r in ranks], axis=0)
    # the per-token scales are all-gathered the same way (x1Scale of every rank)
    scales = (np.concatenate([got[(r, "x1Scale")].reshape(-1) for r in ranks])
              if (ranks[0], "x1Scale") in got else None)
    ok_g, ok_o, detail = True, True, ""
    for r in ranks:
        if at["isGatherOut"]:
            ok_g &= np.array_equal(got[(r, "gatherOut")], gathered)
        want = reference_output(dtype, odt, gathered, got[(r, "x2")], at["transposeX2"],
                                got.get((r, "x2Scale")), scales)
        have = got[(r, "output")].view(np.uint16)
        if not np.array_equal(have, want):
            ok_o = False
            bad = np.argwhere(have != want)
            detail = f"rank {r}: {len(bad)} elements differ, first {bad[:3].tolist()}"
    if at["isGatherOut"]:
        t.ok(ok_g, f"{label}: gatherOut is allgather(x1) in rank order")
    t.ok(ok_o, f"{label}: output bit-exact vs the NumPy reference ({at['tiling']['steps']} "
               f"steps)", detail)
    return at


cases = [
    # label, preset, ranks, op spec
    ("bf16-a2-4-spec", "a2", 4, {"dtype": "bfloat16", "m": 32, "k": 256, "n": 128}),
    ("fp16-a2-8-steps-transB", "a2", 8,
     {"dtype": "float16", "m": 300, "k": 300, "n": 200, "transposeX2": True,
      "tiling": {"m0": 128, "pValue": 1}}),
    ("bf16-a3-2-odd", "a3", 2, {"dtype": "bfloat16", "m": 129, "k": 512, "n": 300}),
    ("fp16-a3-8-steps", "a3", 8,
     {"dtype": "float16", "m": 200, "k": 256, "n": 136, "tiling": {"m0": 128, "pValue": 1}}),
    ("bf16-a2-2-m1", "a2", 2, {"dtype": "bfloat16", "m": 1, "k": 300, "n": 40}),
    ("int8-a2-4-spec-perchannel-bf16", "a2", 4,
     {"dtype": "int8", "m": 32, "k": 256, "n": 128, "output": {"dtype": "bfloat16"},
      "x2Scale": {}}),
    ("int8-a2-4-spec-pertoken-fp16", "a2", 4,
     {"dtype": "int8", "m": 32, "k": 256, "n": 128, "output": {"dtype": "float16"},
      "x1Scale": {}, "x2Scale": {}}),
    ("int8-a2-2-int64-transB", "a2", 2,
     {"dtype": "int8", "m": 70, "k": 300, "n": 260, "transposeX2": True,
      "x2Scale": {"dtype": "int64"}}),
    ("int8-a3-8-int64-pertoken-steps", "a3", 8,
     {"dtype": "int8", "m": 300, "k": 520, "n": 130, "x1Scale": {}, "x2Scale": {"dtype": "int64"},
      "tiling": {"m0": 128, "pValue": 1}, "transQuantRoundMode": 1}),
    ("int8-a3-4-pertoken-bf16-pingpong", "a3", 4,
     {"dtype": "int8", "m": 600, "k": 256, "n": 300, "output": {"dtype": "bfloat16"},
      "x1Scale": {}, "x2Scale": {}, "tiling": {"pValue": 1}}),
    ("int8-a2-8-fp16-saturation", "a2", 8,
     {"dtype": "int8", "m": 40, "k": 512, "n": 64, "x2Scale": {},
      "inputs": {"x1": {"dist": "randint", "low": -128, "high": 127},
                 "x2": {"dist": "randint", "low": -128, "high": 127},
                 "x2Scale": {"dist": "uniform", "low": 0.01, "high": 0.5}}}),
    ("bf16-a2-8-no-gatherOut", "a2", 8,
     {"dtype": "bfloat16", "m": 64, "k": 1024, "n": 96, "gatherOut": None}),
]

for label, preset, ranks, spec in cases:
    out, man = agmm_case(label, preset, ranks, spec)
    if out is not None:
        at = check_agmm(label, out, man)
        if label.startswith("int8-a3-4-pertoken-bf16-pingpong"):
            t.ok(at["tiling"]["accumPingPong"] and at["tiling"]["steps"] == 3,
                 f"{label}: the int32 workspace ping-pongs over 3 steps", at["tiling"])
        if label == "int8-a2-8-fp16-saturation":
            have = tensors(out, man, "agmm")[(0, "output")].view(np.float16)
            t.ok(np.abs(have).max() == 65504, f"{label}: the fp16 output saturates at 65504")

# ---- the unfused baseline gives the same numbers ----


def unfused(label, preset, ranks, m, k, n, quant):
    dt = "int8" if quant else "bfloat16"
    fused = {"dtype": dt, "m": m, "k": k, "n": n}
    shared = {"x1": {"dist": "randint", "low": -5, "high": 5}} if quant else {}
    ops = [
        {"op": "AllGather", "name": "ag", "dtype": dt, "count": m * k,
         "inputs": {"sendBuf": shared.get("x1", {"dist": "uniform"})}},
    ]
    if quant:
        fused.update({"output": {"dtype": "float16"}, "x1Scale": {}, "x2Scale": {}})
        ops.append({"op": "AllGather", "name": "ags", "dtype": "float32", "count": m,
                    "after": ["ag"], "inputs": {"sendBuf": {"dist": "uniform", "low": 0.5,
                                                            "high": 1.5}}})
        ops.append({"op": "QuantMatMul", "name": "mm", "dtype": "int8", "m": m * ranks, "k": k,
                    "n": n, "perToken": True, "after": ["ag", "ags"], "baselineOf": "agmm",
                    "baselineFrom": "ag",
                    "inputs": {"x1": {"from": "ag.recvBuf"},
                               "x1Scale": {"from": "ags.recvBuf"}}})
    else:
        # no "after": the "from" input alone orders the MatMul after the AllGather
        ops.append({"op": "MatMul", "name": "mm", "dtype": dt, "m": m * ranks, "k": k, "n": n,
                    "baselineOf": "agmm", "baselineFrom": "ag",
                    "inputs": {"x1": {"from": "ag.recvBuf"}}})
    out, man = agmm_case(label, preset, ranks, fused, ops)
    if out is None:
        return
    at = op_attrs(man, "mm")
    mm = tensors(out, man, "mm")
    ag = tensors(out, man, "ag")
    ok, ok_in = True, True
    for r in range(ranks):
        gathered = ag[(r, "recvBuf")].reshape(m * ranks, k)
        ok_in &= np.array_equal(mm[(r, "x1")], gathered)
        want = reference_output(dt, at["outputDtype"], gathered, mm[(r, "x2")], False,
                                mm.get((r, "x2Scale")), mm.get((r, "x1Scale")))
        ok &= np.array_equal(mm[(r, "output")].view(np.uint16), want)
    t.ok(ok_in, f"{label}: MatMul's x1 is the AllGather's recvBuf")
    t.ok(ok, f"{label}: unfused {'QuantMatMul' if quant else 'MatMul'} output bit-exact vs "
             f"the NumPy reference")
    rep = load_json(os.path.join(out, "report.json"))
    comp = rep.get("comparisons", [])
    fused = next(o for o in rep["ops"] if o["name"] == "agmm")
    first = next(o for o in rep["ops"] if o["name"] == "ag")
    last = next(o for o in rep["ops"] if o["name"] == "mm")
    t.ok(len(comp) == 1 and comp[0]["fused"] == "agmm" and comp[0]["baseline_first"] == "ag"
         and comp[0]["baseline_last"] == "mm"
         and comp[0]["fused_latency_ps"] == fused["latency_ps"]
         and comp[0]["unfused_latency_ps"] == last["end_ps"] - first["start_ps"]
         and abs(comp[0]["speedup"] * fused["latency_ps"] - comp[0]["unfused_latency_ps"]) < 1,
         f"{label}: the report compares fused and unfused latency", comp)


unfused("unfused-bf16-a2-8", "a2", 8, 64, 512, 200, False)
unfused("unfused-int8-a3-4", "a3", 4, 48, 256, 136, True)
t.done()
