#!/usr/bin/python3
"""Reference check of npusim's dtype conversions (ops/dtype.c) against NumPy.

Runs tests/dtype-dump (scalar, load/store and bulk entry points, which it checks
agree) and compares with references written here independently of the C code:
  - widening: numpy's float16 -> float32 cast; bf16 = bits << 16; fp8 decoded
    from the format definition in float64 arithmetic;
  - narrowing: for bf16 / fp8 / fp16, a table of every representable value of
    the target format (decoded in float64) and a search for the two neighbours of
    x, choosing the nearer and, on a tie, the one with the even code; overflow
    rules applied on top (fp16 saturates at 65504, bf16 goes to inf, e4m3fn
    saturates at 448 and maps inf to 448, e5m2 saturates at 57344 and keeps inf);
    fp16 is also checked against numpy's own float32 -> float16 cast;
  - int8 / int32: np.rint in float64, then clip; NaN -> 0.
NaNs compare as NaN (and the documented quiet-NaN pattern is checked).
Prints TAP.
"""
import os
import subprocess
import sys

import numpy as np

np.seterr(all="ignore")  # overflow / NaN casts are what is being tested

BUILD = os.environ.get("NPU_BUILDDIR", ".")
DUMP = os.path.join(BUILD, "tests", "dtype-dump")

results = []


def check(ok, name, detail=""):
    results.append((bool(ok), name, detail))


def run(mode, arr):
    p = subprocess.run([DUMP, mode], input=np.ascontiguousarray(arr).tobytes(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        raise RuntimeError("dtype-dump %s failed: %s" % (mode, p.stderr.decode()))
    return p.stdout


def first_mismatch(inp, got, want):
    bad = np.nonzero(got != want)[0]
    if bad.size == 0:
        return ""
    i = bad[0]
    return "%d mismatches, first at input %s: got %s want %s" % (
        bad.size, hex(int(inp.view(np.uint32 if inp.dtype.itemsize == 4 else
                                   (np.uint16 if inp.dtype.itemsize == 2 else np.uint8))[i])),
        hex(int(got[i])), hex(int(want[i])))


# ---- format definitions (decoded in float64, independent of the C code) -------------

class Fmt:
    def __init__(self, name, ebits, mbits, bias, nan_codes, inf_code, overflow):
        self.name, self.ebits, self.mbits, self.bias = name, ebits, mbits, bias
        self.nbits = 1 + ebits + mbits
        self.nan_codes = nan_codes      # function code -> bool for magnitude codes
        self.inf_code = inf_code        # magnitude code of inf or None
        self.overflow = overflow        # "saturate" or "inf"

    def decode(self, codes):
        """float64 value of each magnitude+sign code (NaN for NaN codes)."""
        codes = np.asarray(codes, dtype=np.int64)
        sign = np.where((codes >> (self.nbits - 1)) & 1, -1.0, 1.0)
        mag = codes & ((1 << (self.nbits - 1)) - 1)
        e = mag >> self.mbits
        m = (mag & ((1 << self.mbits) - 1)).astype(np.float64)
        normal = np.ldexp(1.0 + m / 2.0 ** self.mbits, (e - self.bias).astype(np.int64))
        sub = np.ldexp(m / 2.0 ** self.mbits, 1 - self.bias)
        val = np.where(e == 0, sub, normal)
        if self.inf_code is not None:
            val = np.where(mag == self.inf_code, np.inf, val)
        val = np.where(self.nan_codes(mag), np.nan, val)
        return sign * val

    def finite_table(self):
        """(values, codes) of every finite non-negative code, ascending."""
        codes = np.arange(1 << (self.nbits - 1), dtype=np.int64)
        vals = self.decode(codes)
        keep = np.isfinite(vals)
        vals, codes = vals[keep], codes[keep]
        order = np.argsort(vals, kind="stable")
        return vals[order], codes[order]

    def round_ref(self, x32):
        """Reference narrowing of float32 array x32 -> codes (int64)."""
        x = x32.astype(np.float64)
        sign_bit = (x32.view(np.uint32) >> 31).astype(np.int64) << (self.nbits - 1)
        ax = np.abs(x)
        vals, codes = self.finite_table()
        maxv = vals[-1]
        out = np.zeros(x.shape, dtype=np.int64)
        # neighbours: vals[i-1] <= ax < vals[i] ... via searchsorted
        fin = np.isfinite(ax) & (ax <= maxv)
        i = np.searchsorted(vals, ax[fin], side="left")   # vals[i] >= ax
        i = np.clip(i, 0, len(vals) - 1)
        hi_v, hi_c = vals[i], codes[i]
        lo_i = np.clip(i - 1, 0, len(vals) - 1)
        lo_v, lo_c = vals[lo_i], codes[lo_i]
        a = ax[fin]
        exact = hi_v == a
        d_lo, d_hi = a - lo_v, hi_v - a
        pick_hi = (d_hi < d_lo) | ((d_hi == d_lo) & (hi_c % 2 == 0))
        res = np.where(exact, hi_c, np.where(pick_hi, hi_c, lo_c))
        out[fin] = res
        # above the largest finite value
        big = np.isfinite(ax) & (ax > maxv)
        if self.overflow == "saturate":
            out[big] = codes[-1]
        else:
            # the value past max is 2^(emax+1) with the inf code (even): ties and
            # beyond round there, as in IEEE arithmetic
            next_v = 2.0 ** (((1 << self.ebits) - 2) - self.bias + 1)
            out[big] = np.where(ax[big] - maxv < next_v - ax[big], codes[-1],
                                np.where(ax[big] - maxv == next_v - ax[big],
                                         np.where(codes[-1] % 2 == 0, codes[-1], self.inf_code),
                                         self.inf_code))
        inf = np.isinf(ax)
        out[inf] = self.inf_code if self.inf_code is not None else codes[-1]
        return out | sign_bit


F16 = Fmt("f16", 5, 10, 15, lambda m: m > 0x7c00, 0x7c00, "saturate")
BF16 = Fmt("bf16", 8, 7, 127, lambda m: m > 0x7f80, 0x7f80, "inf")
E4M3 = Fmt("e4m3", 4, 3, 7, lambda m: m == 0x7f, None, "saturate")
E5M2 = Fmt("e5m2", 5, 2, 15, lambda m: m > 0x7c, 0x7c, "saturate")


def f32_from_bits(u):
    return np.asarray(u, dtype=np.uint32).view(np.float32)


def same_or_both_nan(got, want):
    """got, want: float32 arrays; bit-equal, or both NaN."""
    gb, wb = got.view(np.uint32), want.view(np.uint32)
    return (gb == wb) | (np.isnan(got) & np.isnan(want))


# ---- widening: every pattern ---------------------------------------------------------

all16 = np.arange(65536, dtype=np.uint32).astype(np.uint16)
all8 = np.arange(256, dtype=np.uint32).astype(np.uint8)

got = np.frombuffer(run("widen-f16", all16), dtype=np.float32)
want = all16.view(np.float16).astype(np.float32)
ok = same_or_both_nan(got, want)
check(ok.all(), "fp16 -> fp32: all 65536 patterns match numpy", first_mismatch(all16, got.view(np.uint32), want.view(np.uint32)))
# documented NaN rule: quiet, sign and payload kept
h = all16.astype(np.uint32)
isnan16 = ((h & 0x7c00) == 0x7c00) & ((h & 0x3ff) != 0)
want_nan = ((h & 0x8000) << 16) | 0x7fc00000 | ((h & 0x3ff) << 13)
check((got.view(np.uint32)[isnan16] == want_nan[isnan16]).all(), "fp16 NaN -> quiet fp32 NaN, sign and payload kept")
check(np.array_equal(got.astype(np.float64)[~isnan16], F16.decode(all16.astype(np.int64))[~isnan16]),
      "fp16 -> fp32 equals the float64 decoding of the format")
f16_wide = got

got = np.frombuffer(run("widen-bf16", all16), dtype=np.float32)
want = f32_from_bits(all16.astype(np.uint32) << 16)
check(np.array_equal(got.view(np.uint32), want.view(np.uint32)), "bf16 -> fp32: all 65536 patterns are bits << 16")
bf16_wide = got

for fmt, mode in ((E4M3, "widen-e4m3"), (E5M2, "widen-e5m2")):
    got = np.frombuffer(run(mode, all8), dtype=np.float32)
    want = fmt.decode(all8.astype(np.int64))
    g64 = got.astype(np.float64)
    ok = (g64 == want) | (np.isnan(g64) & np.isnan(want))
    # signed zeros must keep their sign
    ok &= np.isnan(want) | (np.signbit(g64) == np.signbit(want))
    check(ok.all(), "%s -> fp32: all 256 patterns match the format definition" % fmt.name,
          first_mismatch(all8, got.view(np.uint32), want.astype(np.float32).view(np.uint32)))
    # documented NaN rule: quiet fp32 NaN, sign kept (e5m2: payload kept too)
    c = all8.astype(np.uint32)
    isnan8 = np.isnan(want)
    want_nan = ((c & 0x80) << 24) | 0x7fc00000
    if fmt is E5M2:
        want_nan |= (c & 0x3) << 21
    check(np.array_equal(got.view(np.uint32)[isnan8], want_nan[isnan8]),
          "%s NaN -> quiet fp32 NaN, sign kept" % fmt.name)
    if fmt is E4M3:
        check(np.isnan(got[[0x7f, 0xff]]).all() and np.isfinite(np.delete(got, [0x7f, 0xff])).all(),
              "e4m3fn: only S.1111.111 is NaN, no inf")
        check(got[0x7e] == 448.0 and got[0x01] == 2.0 ** -9, "e4m3fn: max 448, min subnormal 2^-9")
    else:
        check(got[0x7b] == 57344.0 and np.isinf(got[0x7c]) and got[0x01] == 2.0 ** -16,
              "e5m2: max 57344, inf 0x7c, min subnormal 2^-16")
    if fmt is E4M3:
        e4m3_wide = got
    else:
        e5m2_wide = got

# ---- round trips ----------------------------------------------------------------------

for name, wide, mode, pats, dt in (("fp16", f16_wide, "f16", all16, np.uint16),
                                   ("bf16", bf16_wide, "bf16", all16, np.uint16),
                                   ("e4m3fn", e4m3_wide, "e4m3", all8, np.uint8),
                                   ("e5m2", e5m2_wide, "e5m2", all8, np.uint8)):
    back = np.frombuffer(run(mode, wide), dtype=dt)
    nan = np.isnan(wide)
    ok_fin = np.array_equal(back[~nan], pats[~nan])
    back_nan = np.isnan(
        {"fp16": F16, "bf16": BF16, "e4m3fn": E4M3, "e5m2": E5M2}[name].decode(back[nan].astype(np.int64)))
    check(ok_fin and back_nan.all(), "%s -> fp32 -> %s round-trips every pattern (NaN stays NaN)" % (name, name),
          first_mismatch(pats[~nan], back[~nan], pats[~nan]))

# ---- narrowing: random fp32 patterns + edge cases ---------------------------------------

rng = np.random.default_rng(20240611)


def edge_cases(fmt):
    """ties, neighbours of every binade boundary, overflow, subnormals of fmt."""
    vals, _ = fmt.finite_table()
    v = vals[vals > 0]
    mids = (v[:-1] + v[1:]) / 2          # exact ties (representable in fp32 for these formats)
    pts = np.concatenate([v, mids, [v[0] / 2, 3 * v[0] / 2]])
    if len(pts) > 4000:                  # bf16: sample, keep the ends
        pts = np.concatenate([pts[:500], pts[-500:], rng.choice(pts, 3000, replace=False)])
    p32 = pts.astype(np.float32)
    b = p32.view(np.uint32)
    near = np.concatenate([b, b + 1, b - 1]).view(np.float32)
    top = vals[-1]
    extra = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, top, top * 1.0001, top * 1.5,
                      top * 2, 3.4028235e38, 1e-45, 1.1754942e-38, 1.1754944e-38, 2.0 ** -150],
                     dtype=np.float64).astype(np.float32)
    allp = np.concatenate([near, -near, extra, -extra])
    return allp[np.isfinite(allp) | np.isinf(allp) | np.isnan(allp)]


def random_f32(n, lo_exp, hi_exp):
    """uniform random bit patterns, plus values with exponents in [lo_exp, hi_exp]."""
    a = rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    e = rng.integers(lo_exp, hi_exp + 1, size=n)
    m = rng.random(n) + 1.0
    s = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    b = (s * np.ldexp(m, e)).astype(np.float32)
    return np.concatenate([a, b])


for fmt, mode, dt, lo, hi in ((F16, "f16", np.uint16, -30, 17),
                              (BF16, "bf16", np.uint16, -140, 128),
                              (E4M3, "e4m3", np.uint8, -13, 10),
                              (E5M2, "e5m2", np.uint8, -20, 17)):
    x = np.concatenate([edge_cases(fmt), random_f32(200000, lo, hi)]).astype(np.float32)
    got = np.frombuffer(run(mode, x), dtype=dt).astype(np.int64)
    want = fmt.round_ref(x)
    nan = np.isnan(x)
    check(np.array_equal(got[~nan], want[~nan]),
          "fp32 -> %s: %d values (edge cases + random) round to nearest even, overflow rule"
          % (fmt.name, (~nan).sum()), first_mismatch(x[~nan], got[~nan], want[~nan]))
    check(np.isnan(fmt.decode(got[nan])).all(), "fp32 NaN -> %s NaN" % fmt.name)
    if fmt is F16:
        # numpy's own cast (RNE, inf on overflow) plus the Ascend saturation rule
        with np.errstate(over="ignore", invalid="ignore"):
            np16 = x.astype(np.float16)
        np16 = np.where(np.isinf(np16) & np.isfinite(x), np.copysign(np.float16(65504), x).astype(np.float16), np16)
        check(np.array_equal(got[~nan], np16.view(np.uint16)[~nan].astype(np.int64)),
              "fp32 -> fp16 agrees with numpy astype(float16) + saturation at 65504",
              first_mismatch(x[~nan], got[~nan], np16.view(np.uint16)[~nan].astype(np.int64)))
        ub = x.view(np.uint32)[nan]
        check(np.array_equal(got[nan], ((ub >> 16) & 0x8000) | 0x7e00 | ((ub >> 13) & 0x3ff)),
              "fp32 NaN -> fp16 quiet NaN with sign and top payload bits")
    if fmt is BF16:
        ub = x.view(np.uint32)[nan]
        check(np.array_equal(got[nan], (ub >> 16) | 0x40), "fp32 NaN -> bf16 quiet NaN (top 16 bits | quiet)")

# specific hand-checked points
spot = np.array([65504, 65519.996, 65520, 1e9, 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -25, 2.0 ** -26],
                dtype=np.float32)
got = np.frombuffer(run("f16", spot), dtype=np.uint16)
check(list(got) == [0x7bff, 0x7bff, 0x7bff, 0x7bff, 0x0001, 0x0000, 0x0002, 0x0000],
      "fp16 spot values: 65504, saturation, subnormal ties", str([hex(v) for v in got]))
spot = np.array([448, 464, 480, 1e6, np.inf, -np.inf, 2.0 ** -9, 2.0 ** -10, 3 * 2.0 ** -10],
                dtype=np.float32)
got = np.frombuffer(run("e4m3", spot), dtype=np.uint8)
check(list(got) == [0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0xfe, 0x01, 0x00, 0x02],
      "e4m3fn spot values: saturation at 448 (inf too), subnormal ties", str([hex(v) for v in got]))
spot = np.array([57344, 61439, 61440, 1e9, np.inf], dtype=np.float32)
got = np.frombuffer(run("e5m2", spot), dtype=np.uint8)
check(list(got) == [0x7b, 0x7b, 0x7b, 0x7b, 0x7c], "e5m2 spot values: saturation at 57344, inf kept",
      str([hex(v) for v in got]))
spot = f32_from_bits([0x7f7f0000, 0x7f7f7fff, 0x7f7f8000, 0x7f7fffff, 0x3f808000, 0x3f818000,
                      0x00008000, 0x00018000, 0x00007fff, 0x80008001])
got = np.frombuffer(run("bf16", spot), dtype=np.uint16)
check(list(got) == [0x7f7f, 0x7f7f, 0x7f80, 0x7f80, 0x3f80, 0x3f82, 0x0000, 0x0002, 0x0000, 0x8001],
      "bf16 spot values: max, overflow to inf at the tie, ties to even, subnormals",
      str([hex(v) for v in got]))

# ---- float -> int -----------------------------------------------------------------------

halves = (np.arange(-300, 300) + 0.5)
ints = np.concatenate([halves, np.arange(-300, 300), rng.normal(0, 100, 20000),
                       [127.49, 127.5, 128, -128.5, -128.49, -129, 1e30, -1e30, np.inf, -np.inf, np.nan, -0.0,
                        -0.5, 0.5, 2147483520.0, 2147483648.0, -2147483648.0, -2147483904.0, 4e9, -4e9]])
big = rng.uniform(-2.2e9, 2.2e9, 20000)
x = np.concatenate([ints, big, random_f32(50000, -5, 40)]).astype(np.float32)
x64 = x.astype(np.float64)
for mode, dt, lo, hi in (("i8", np.int8, -128, 127), ("i32", np.int32, -2 ** 31, 2 ** 31 - 1)):
    got = np.frombuffer(run(mode, x), dtype=dt).astype(np.int64)
    with np.errstate(invalid="ignore"):
        r = np.rint(x64)
    r = np.where(np.isnan(r), 0, r)
    want = np.clip(r, lo, hi).astype(np.int64)
    check(np.array_equal(got, want), "fp32 -> %s: round half to even, saturate, NaN -> 0 (%d values)" % (mode, len(x)),
          first_mismatch(x, got, want))

# ---- TAP ------------------------------------------------------------------------------------

print("1..%d" % len(results))
failed = 0
for i, (ok, name, detail) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok:
        failed += 1
        if detail:
            print("# " + detail)
sys.exit(0)
