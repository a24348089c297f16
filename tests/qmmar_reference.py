"""NumPy reference of aclnnQuantMatmulAllReduceV3 (../shared/REFERENCE.md 2.1, 9.5-9.8,
9.13), written independently of the simulator from the documented rounding steps.
Used by tests/test-qmmar-reference.py and scenarios/qmmar-study.py.

Conventions: fp16 values are np.float16 storage bits (<f2), bf16 are uint16 bits,
float32 arithmetic is numpy float32 (IEEE single, round to nearest even), and every
narrowing rounds to nearest even; fp16 overflow saturates at +-65504, bf16 overflow
goes to inf, float -> int8 is rint + saturation (NaN -> 0)."""
import os

import numpy as np

F16_MAX = np.float32(65504.0)


# ---- element types ----

def f16_bits(x):
    """float32/float64 array -> fp16 (np.float16), one rounding, saturating."""
    x = np.asarray(x)
    with np.errstate(over="ignore"):
        h = x.astype(np.float16)
    over = np.isinf(h) & np.isfinite(x)
    return np.where(over, np.copysign(np.float16(65504.0), x), h).astype(np.float16)


def bf16_bits(x):
    """float32 array -> bf16 bits (uint16), nearest even (inf on overflow)."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    nan = np.isnan(np.asarray(x, dtype=np.float32))
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(nan, ((u >> 16) | 0x40).astype(np.uint16), r)


def bf16_f32(b):
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def to_f32(dt, raw):
    """Stored values (fp16 <f2, bf16 <u2) -> float32."""
    if dt == "bfloat16":
        return bf16_f32(raw)
    return np.asarray(raw).astype(np.float32)


def store(dt, x32):
    """float32 -> the storage of dt (np.float16 or uint16 bf16 bits)."""
    return f16_bits(x32) if dt == "float16" else bf16_bits(x32)


def to_i8(x):
    x = np.asarray(x, dtype=np.float64)
    r = np.rint(np.nan_to_num(x, nan=0.0, posinf=1e9, neginf=-1e9))
    return np.clip(r, -128, 127).astype(np.int8)


def scale19(packed):
    """INT64/UINT64 packed scale -> the fp32 value of bits [31:13] (TransQuantParamV2)."""
    u = np.asarray(packed).astype(np.uint64) & np.uint64(0xFFFFE000)
    return u.astype(np.uint32).view(np.float32)


def pack_scale(s):
    """aclnnTransQuantParamV2 (round mode 0): bits & 0xFFFFE000 | 1 << 46."""
    u = np.asarray(s, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return (u & np.uint64(0xFFFFE000)) | (np.uint64(1) << np.uint64(46))


# ---- one rank's matmul + dequant + x3 ----

def matmul_dequant(t, out_dt):
    """t: dict of this rank's inputs as loaded (x1 2-D/3-D int8, x2 as (k, n) int8,
    bias, x3, dequantScale, pertokenScale, deq_dt). Returns the output storage (m, n)."""
    x1 = t["x1"].reshape(-1, t["x1"].shape[-1]).astype(np.int64)
    acc = x1 @ t["x2"].astype(np.int64)
    if t.get("bias") is not None:
        acc = acc + t["bias"].astype(np.int64)[None, :]
    acc = ((acc + 2**31) % 2**32 - 2**31).astype(np.int32)  # int32 L0C
    deq = np.asarray(t["dequantScale"]).reshape(-1)
    deq_dt = t["deq_dt"]
    pts = t.get("pertokenScale")
    if deq_dt in ("int64", "uint64"):
        # fixpipe: exact int32 x 19-bit scale, one rounding to fp16
        s = scale19(deq).astype(np.float64)
        out = f16_bits(acc.astype(np.float64) * s[None, :])
    else:
        s = bf16_f32(deq) if deq_dt == "bfloat16" else deq.astype(np.float32)
        f = acc.astype(np.float32) * s[None, :].astype(np.float32)
        if pts is not None:
            f = (f * pts.astype(np.float32)[:, None]).astype(np.float32)
        out = store(out_dt, f)
    if t.get("x3") is not None:
        x3 = t["x3"].reshape(out.shape)
        out = store(out_dt, to_f32(out_dt, out) + to_f32(out_dt, x3))
    return out


def allreduce_rank_order(out_dt, parts):
    """Deterministic AllReduce: ranks 0..W-1 in sequence, each sum rounded."""
    acc = parts[0]
    for p in parts[1:]:
        acc = store(out_dt, to_f32(out_dt, acc) + to_f32(out_dt, p))
    return acc


def comm_int8(out_dt, parts, s1_raw, s2_raw):
    """Low-bit communication: quantise, (AlltoAll), ReduceSum in rank order, (AllGather),
    dequantise. Per element the result does not depend on which rank reduces it."""
    s1 = to_f32(out_dt, s1_raw).reshape(-1)
    s2 = to_f32(out_dt, s2_raw).reshape(-1)
    qs = []
    for p in parts:
        x = to_f32(out_dt, p)
        # fp16: Div in fp16 (fp32 quotient rounded once); bf16: fp32 Div, Cast RINT to fp16
        h = f16_bits((x / s1[None, :]).astype(np.float32))
        qs.append(to_i8(h.astype(np.float32)))
    acc = qs[0].astype(np.float32)
    for q in qs[1:]:
        acc = (acc + q.astype(np.float32)).astype(np.float32)
    ratio = (s1 / s2).astype(np.float32)
    acc = (acc * ratio[None, :]).astype(np.float32)
    q2 = to_i8(f16_bits(acc).astype(np.float32))
    return store(out_dt, (q2.astype(np.float32) * s2[None, :]).astype(np.float32))


def nz_to_nd(nz, rows, cols):
    """FRACTAL_NZ storage (c1, r1, 16, c0) -> (rows, cols)."""
    c1, r1, r0, c0 = nz.shape
    nd = nz.transpose(1, 2, 0, 3).reshape(r1 * r0, c1 * c0)
    return nd[:rows, :cols]


# ---- reading a run ----

def load_rank_inputs(outdir, man, op_name, rank, attrs):
    """This rank's inputs as a dict for matmul_dequant (x2 as (k, n))."""
    t = {}
    for x in man["tensors"]:
        if x["op"] != op_name or x["rank"] != rank:
            continue
        t[x["name"]] = np.load(os.path.join(outdir, x["file"]))
        t[x["name"] + ".meta"] = x
    k, n = attrs["k"], attrs["n"]
    x2 = t["x2"]
    if attrs["x2Format"] == "FRACTAL_NZ":
        rows, cols = (n, k) if attrs["transposeX2"] else (k, n)
        x2 = nz_to_nd(x2, rows, cols)
    elif x2.ndim != 2:
        raise ValueError("x2 must be 2-D")
    if attrs["transposeX2"]:
        x2 = x2.T
    t["x2"] = x2
    t["deq_dt"] = attrs["dequantScaleDtype"]
    return t


def expected_output(outdir, man, op_name):
    """The expected output storage (m, n) of the op named op_name (same on all ranks)."""
    mop = next(o for o in man["ops"] if o["name"] == op_name)
    a = mop["attrs"]
    out_dt = a["outputDtype"]
    parts, s1, s2 = [], None, None
    for r in mop["group"]:
        t = load_rank_inputs(outdir, man, op_name, r, a)
        parts.append(matmul_dequant(t, out_dt))
        if a["commQuant"] and s1 is None:
            s1, s2 = t["commQuantScale1"], t["commQuantScale2"]
    if a["commQuant"]:
        return comm_int8(out_dt, parts, s1, s2)
    return allreduce_rank_order(out_dt, parts)


def float64_reference(outdir, man, op_name):
    """sum_r (dequantScale * pertoken * (x1 @ x2 + bias) + x3) in float64 (the scales as
    the user gave them, before any packing), for the study's error columns."""
    mop = next(o for o in man["ops"] if o["name"] == op_name)
    a = mop["attrs"]
    total = None
    for r in mop["group"]:
        t = load_rank_inputs(outdir, man, op_name, r, a)
        x1 = t["x1"].reshape(-1, t["x1"].shape[-1]).astype(np.float64)
        y = x1 @ t["x2"].astype(np.float64)
        if t.get("bias") is not None:
            y = y + t["bias"].astype(np.float64)[None, :]
        deq = np.asarray(t["dequantScale"]).reshape(-1)
        if a["dequantScaleDtype"] in ("int64", "uint64"):
            s = scale19(deq).astype(np.float64)
        elif a["dequantScaleDtype"] == "bfloat16":
            s = bf16_f32(deq).astype(np.float64)
        else:
            s = deq.astype(np.float64)
        y = y * s[None, :]
        if t.get("pertokenScale") is not None:
            y = y * t["pertokenScale"].astype(np.float64)[:, None]
        if t.get("x3") is not None:
            y = y + to_f32(a["outputDtype"], t["x3"]).reshape(y.shape).astype(np.float64)
        total = y if total is None else total + y
    return total


def output_of(outdir, man, op_name, rank):
    x = next(x for x in man["tensors"]
             if x["op"] == op_name and x["rank"] == rank and x["name"] == "output")
    raw = np.load(os.path.join(outdir, x["file"]))
    return raw.reshape(-1, raw.shape[-1])
