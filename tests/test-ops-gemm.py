#!/usr/bin/python3
"""Bit-exact reference check of npusim's GEMM (ops/gemm.c) against NumPy.

For float inputs (fp32, fp16, bf16, fp8 e4m3fn / e5m2, and a mixed fp16 x bf16
case) the reference follows the documented order literally, in float32:
    acc = zeros(m, n, float32)
    for k in range(K): acc = acc + a[:, k, None] * b[None, k, :]
(numpy rounds the float32 product, then the float32 sum: no FMA). Inputs are
widened by NumPy (float16), by bits << 16 (bf16) or by decoding the fp8 format in
float64 here. For int8 the reference is the exact int64 matmul. Results must be
bit-identical, for row-major and transposed (strided) operands, shapes that are
not multiples of any block size, 1 and 2 threads, and every micro-kernel variant
the CPU supports. Values span several binades so a different summation order
would show. Prints TAP.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

np.seterr(all="ignore")
BUILD = os.environ.get("NPU_BUILDDIR", ".")
RUN = os.path.join(BUILD, "tests", "gemm-run")
rng = np.random.default_rng(7)
results = []


def check(ok, name, detail=""):
    results.append((ok, name, detail))


def fp8_decode(codes, ebits, mbits, bias):
    c = codes.astype(np.int64)
    sign = np.where(c & 0x80, -1.0, 1.0)
    e = (c >> mbits) & ((1 << ebits) - 1)
    m = (c & ((1 << mbits) - 1)) / 2.0 ** mbits
    v = np.where(e == 0, np.ldexp(m, 1 - bias), np.ldexp(1.0 + m, (e - bias).astype(np.int64)))
    return (sign * v).astype(np.float32)   # exact: at most 4 significant bits


def make(dtype, shape):
    """random operand: (raw array to write, float32 widened values or int64)."""
    scale = np.ldexp(1.0, rng.integers(-6, 7, size=shape))
    x = rng.standard_normal(shape) * scale
    if dtype == "float32":
        raw = x.astype(np.float32)
        return raw, raw
    if dtype == "float16":
        raw = x.astype(np.float16)
        return raw, raw.astype(np.float32)
    if dtype == "bfloat16":
        bits = (x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)  # truncation: any pattern is fine
        return bits, (bits.astype(np.uint32) << 16).view(np.float32)
    if dtype == "float8_e4m3fn":
        codes = rng.integers(0, 256, size=shape).astype(np.uint8)
        codes[(codes & 0x7f) == 0x7f] = 0x3c                    # no NaN
        return codes, fp8_decode(codes, 4, 3, 7)
    if dtype == "float8_e5m2":
        codes = rng.integers(0, 256, size=shape).astype(np.uint8)
        codes[(codes & 0x7c) == 0x7c] = 0x3a                    # no inf / NaN
        return codes, fp8_decode(codes, 5, 2, 15)
    if dtype == "int8":
        raw = rng.integers(-128, 128, size=shape).astype(np.int8)
        return raw, raw.astype(np.int64)
    raise ValueError(dtype)


def reference(a, b):
    if a.dtype == np.int64:
        return (a @ b).astype(np.int32)
    m, k = a.shape
    acc = np.zeros((m, b.shape[1]), dtype=np.float32)
    for kk in range(k):
        acc = acc + a[:, kk, None] * b[None, kk, :]
    return acc


def run_case(tmp, da, db, m, n, k, ta, tb, threads, kernel, operands):
    (araw, aval), (braw, bval) = operands
    # the C driver takes the transposed storage when asked
    astore = araw.T if ta else araw
    bstore = braw.T if tb else braw
    pa, pb, pc = (os.path.join(tmp, x) for x in ("a.bin", "b.bin", "c.bin"))
    np.ascontiguousarray(astore).tofile(pa)
    np.ascontiguousarray(bstore).tofile(pb)
    cmd = [RUN, da, db, str(m), str(n), str(k), str(int(ta)), str(int(tb)), str(threads), pa, pb, pc]
    if kernel:
        cmd.append(kernel)
    p = subprocess.run(cmd, stderr=subprocess.PIPE, check=False)
    if p.returncode == 77:
        return None
    if p.returncode != 0:
        raise RuntimeError("gemm-run failed: %s" % p.stderr.decode())
    out = np.fromfile(pc, dtype=np.int32 if da == "int8" else np.float32).reshape(m, n)
    return out


def compare(got, want):
    g = got.view(np.uint32)
    w = want.view(np.uint32)
    bad = np.argwhere(g != w)
    if bad.size == 0:
        return True, ""
    i, j = bad[0]
    return False, "%d of %d differ; first (%d,%d): got %r want %r" % (
        len(bad), g.size, i, j, got[i, j], want[i, j])


# (dtype_a, dtype_b, m, n, k): block sizes are MR 4/6/12, NR 8/16/32, MC 144+,
# KC 256, NC 1024+, so these cover partial tiles, several k-blocks (k > 256, odd k
# for the int8 pairs), several row blocks and several column panels.
CASES = [
    ("bfloat16", "bfloat16", 1, 1, 1),
    ("bfloat16", "bfloat16", 7, 13, 5),
    ("bfloat16", "bfloat16", 37, 45, 300),
    ("bfloat16", "bfloat16", 150, 1100, 33),
    ("float16", "float16", 61, 35, 517),
    ("float16", "float16", 300, 17, 64),
    ("float16", "bfloat16", 25, 40, 70),
    ("float8_e4m3fn", "float8_e4m3fn", 29, 50, 260),
    ("float8_e5m2", "float8_e5m2", 33, 21, 99),
    ("float32", "float32", 45, 70, 280),
    ("float32", "float32", 3, 100, 1),
    ("int8", "int8", 1, 1, 1),
    ("int8", "int8", 23, 37, 513),
    ("int8", "int8", 160, 70, 255),
    ("int8", "int8", 13, 1030, 31),
]

with tempfile.TemporaryDirectory() as tmp:
    for idx, (da, db, m, n, k) in enumerate(CASES):
        ops = (make(da, (m, k)), make(db, (k, n)))
        want = reference(ops[0][1], ops[1][1])
        for ta, tb in ((False, False), (False, True), (True, False)):
            if (ta or tb) and idx % 2 == 1 and not (da == "int8" and tb):
                # transposes on every other case keep the run short
                continue
            # "default": exactly this many threads (uneven splits with 3); None:
            # the public entry point, which keeps small products on one thread
            for threads, entry in ((1, None), (2, None), (2, "default"), (3, "default")):
                got = run_case(tmp, da, db, m, n, k, ta, tb, threads, entry, ops)
                ok, why = compare(got, want)
                check(ok, "%s x %s %dx%dx%d%s%s, %d thread%s%s: bit-exact vs NumPy sequential-k reference"
                      % (da, db, m, n, k, " A^T" if ta else "", " B^T" if tb else "", threads,
                         "s" if threads > 1 else "", " (forced split)" if entry else ""), why)

    # every micro-kernel variant gives the same bits (where the CPU has it)
    for kernel in ("generic", "sse2", "avx2", "avx512"):
        for (da, db, m, n, k) in (("bfloat16", "bfloat16", 53, 70, 300), ("float16", "float16", 20, 33, 17),
                                  ("int8", "int8", 53, 70, 301)):
            ops = (make(da, (m, k)), make(db, (k, n)))
            want = reference(ops[0][1], ops[1][1])
            got = run_case(tmp, da, db, m, n, k, False, True, 2, kernel, ops)
            name = "kernel %s, %s %dx%dx%d B^T: bit-exact" % (kernel, da, m, n, k)
            if got is None:
                results.append((True, name + " # SKIP not supported here", ""))
                continue
            ok, why = compare(got, want)
            check(ok, name, why)

    # k = 0: C is all zeros (not left untouched)
    ops = (make("bfloat16", (4, 0)), make("bfloat16", (0, 5)))
    got = run_case(tmp, "bfloat16", "bfloat16", 4, 5, 0, False, False, 1, None, ops)
    check(np.array_equal(got.view(np.uint32), np.zeros((4, 5), np.uint32)), "k = 0 gives +0.0 everywhere")

    # the sum really is sequential: 2^24 + 1 + 1 + ... stays 2^24 in fp32 when added
    # one by one (each +1 is a tie to even), whereas any pairwise/blocked order
    # would carry the ones. A = [2^24, 1, 1, ..., 1], B = ones.
    K = 600
    a = np.ones((1, K), dtype=np.float32)
    a[0, 0] = 2.0 ** 24
    b = np.ones((K, 1), dtype=np.float32)
    got = run_case(tmp, "float32", "float32", 1, 1, K, False, False, 1, None, ((a, a), (b, b)))
    check(got[0, 0] == np.float32(2.0 ** 24), "order: fp32 sum 2^24 + 1 + ... + 1 stays 2^24 (sequential k)",
          "got %r" % got[0, 0])

print("1..%d" % len(results))
for i, (ok, name, detail) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok and detail:
        print("# " + detail)
sys.exit(0)
