"""The M cut of QuantMatmulAllReduceV3 (ops/qmmar-tiling.c) against a second, Python
transcription of the real host tiling (ops-transformer: matmul_all_reduce_tiling_base.cpp
DoSplitMTiling, all_reduce_formulaic_tiling.cpp MMPlusAllReduce / MMPlusQuantAllReduce,
mc2/common/src/hccl_formulaic_tiling.cpp, hccl_performance.cpp, matmul_performance.cpp),
over a grid of shapes, rank counts and both cuts (fp16 AllReduce; int8 communication),
for the 910B (192 MiB L2) and the 910B4 branch (96 MiB L2). Also checks that every cut
covers m in at most 16 tiles. Drives the helper tests/qmmar-cut."""
import itertools
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, BUILDDIR  # noqa: E402

MB = 1024 * 1024
BASE_M, BASE_N = 128, 256


class Cut:
    pass


def cut(m, n, k, rank, aic, b4, out_size, quant_comm):
    """DoSplitMTiling for int8 x1/x2 (A8W8) with output bytes out_size."""
    def get_tiling(quant):
        c = Cut()
        quant_calc = b4            # SetCalcType: int8 is QUANT except on SOC910_B
        computes = 8192.0 if quant_calc else 4096.0
        l2 = (96, 96, 0.4, 0.4, 0.35) if quant_calc else (128, 192, 0.85, 0.75, 0.65)
        # FormPartition
        c.total, c.align, c.min_len, c.max_cnt, c.max_len = m, BASE_M, BASE_M, 16, m
        c.short_back, c.back_ratio = False, 0.75
        c.total_cnt, c.n_short, c.n_long, c.short_len, c.long_len = 1, 0, 1, 0, m
        factor = 1.0
        # constructor thresholds
        c.min_len = max(c.min_len, (64 * 1024) // (n * 1 * out_size))
        tn, tk = max(BASE_M, n), max(BASE_M, k)
        d1 = (4 * 1024 * MB) // 20 * aic
        d2 = (6 * MB) // 20 * aic
        th = max(d1 // (tn * tk), d2 // (tn * tk // 1024 + tn))
        c.min_len = max(c.min_len, max(3 * BASE_M, th))
        # FindCubeUtil(minLen, 1, true, &maxTileLen)
        msize = c.min_len
        bm = min(BASE_M, msize)
        mblk = (msize + bm - 1) // bm * 1
        nblk = (n + BASE_N - 1) // BASE_N
        mem = (min(mblk, aic) * bm + min(nblk, aic) * BASE_N) * k * 1 // MB
        diff = 0.0
        if mem <= l2[0]:
            util, diff = l2[2], float(l2[0] - mem)
        elif mem <= l2[1]:
            util, diff = l2[3], float(l2[1] - mem)
        else:
            util = l2[4]
        util *= float(min(mblk * nblk, aic)) / float(aic)
        c.max_len = m
        ts = (min(mblk + 1, aic) - min(mblk, aic)) * 1 * bm * k // MB
        if ts > diff and mem <= l2[1] and nblk > aic:
            c.max_len = (msize + BASE_M - 1) // BASE_M * BASE_M
        if quant_calc:
            kl = k * 1
            if b4:
                if kl % 256:
                    util *= 0.8
            elif kl % 256:
                util *= 0.5
            elif kl % 512:
                util *= 0.7
        elif k % 128:
            util *= 0.7
        grad = float(tn * tk) / (computes * (1.8 * 1024) * aic * util)

        def mm_time(rows):
            return float(max(BASE_M, rows)) * 1.0 * grad

        def mm_inv(t):
            return max(BASE_M, int(t / (1.0 * grad)))

        def comm_time(rows):
            s = float(rows * n * 1 * out_size) / MB
            t = 18.0
            if s > 8:
                t = 13.58491263 * s + 61.508333
            elif s > 64.0 / 1024:
                t = -0.9698202 * s * s + 27.0622573 * s + 14.769
            return t / factor

        def comm_inv(t):
            t *= factor
            s = 64.0 / 1024
            if t > 170:
                s = (t - 61.508333) / 13.58491263
            elif t > 18:
                s = -((-1.03111896 * (t + -203.558059)) ** 0.5) + 13.9522034
            return int(s * MB) // (n * 1 * out_size)

        def calc_short():
            c.n_short, c.short_len = 0, 0
            if c.total != c.long_len * c.n_long:
                c.n_short, c.short_len = 1, c.total - c.long_len * c.n_long

        def calc_back():
            calc_short()
            if c.short_len > 0 and c.short_len < c.align * 0.5 and c.n_long > 1:
                c.n_long -= 1
                c.short_len += c.long_len
            c.total_cnt = c.n_short + c.n_long

        def nocut():
            c.total_cnt, c.n_short, c.n_long, c.short_len, c.long_len = 1, 0, 1, 0, c.total

        def initial(align_up):
            c.long_len = max(c.long_len, c.short_len)
            c.long_len = min(c.long_len, c.total - c.short_len)
            new = c.long_len // c.align * c.align
            ratio = 0.5 if c.short_back else 0.75
            c.long_len = new + c.align if (c.long_len - new) > c.align * ratio or align_up else new
            c.long_len = min(c.long_len, c.max_len)
            c.n_long = max((c.total - int(c.short_len * c.back_ratio)) // c.long_len, 1)
            c.total_cnt = c.n_short + c.n_long

        def fit(k_gt_n, large_ratio):
            c.n_long = max((c.total - int(c.short_len * c.back_ratio)) // c.long_len, 1)
            # RedistributeTile
            back = c.total - c.n_long * c.long_len
            if back > 2 * c.short_len:
                add = (back - c.short_len) // c.total_cnt
                c.long_len += add // c.align * c.align
            calc_back()
            # SmallFrontTileCheck (not 310P)
            opt = c.min_len * 2
            if c.long_len < opt and c.total > c.long_len * 8 and c.short_back and k_gt_n:
                opt = max(opt, c.total // 8) // c.align * c.align
                c.long_len = min(opt, c.total)
                c.n_long = c.total // c.long_len
                calc_back()
            # MaxTileCntUniform
            if c.total_cnt > c.max_cnt:
                if c.max_cnt <= 1 or c.total < c.max_cnt:
                    nocut()
                else:
                    c.long_len = c.total // (c.max_cnt - 1)
                    c.long_len = min((c.long_len + c.align - 1) // c.align * c.align, c.total)
                    c.n_long = c.total // c.long_len
                    calc_back()
            # LargeBackTileCheck
            if c.short_len >= c.long_len + c.align:
                c.long_len = min(c.total, (c.total // c.total_cnt + c.align - 1) // c.align * c.align)
                c.n_long = c.total // c.long_len
                calc_back()
            if large_ratio:
                move = c.n_long * c.align
                if (c.short_len >= c.long_len + c.align and c.short_len >= move + c.align * 2
                        and c.short_len <= move * 2):
                    c.long_len = min(c.total, (c.long_len + c.align + c.align - 1) // c.align * c.align)
                    c.n_long = c.total // c.long_len
                    calc_back()
            # CommBoundShortAlign
            if not c.short_back and c.n_long <= 1:
                down = c.short_len // c.align * c.align
                up = (c.short_len + c.align - 1) // c.align * c.align
                if (up <= 512 and c.long_len > 512) or (c.short_len - down) <= 16:
                    c.short_len = up
                c.long_len = (c.total - c.short_len + c.n_long - 1) // c.n_long
                c.short_len = c.total - c.n_long * c.long_len

        if not quant:
            factor /= 1.15
            mmt, ct = mm_time(m), comm_time(m)
            c.short_back = mmt >= ct
            ratio = max(ct, mmt) / min(ct, mmt)
            if ratio < 2.0 and m < c.min_len * 2 and n * k >= 32 * MB:
                c.min_len = min(c.min_len, int(c.min_len * 0.5))
            c.short_len, c.n_short = c.min_len, 1
            if m < c.short_len * 2:
                nocut()
            else:
                if c.short_back:
                    c.long_len = comm_inv(mm_time(c.short_len))
                else:
                    c.long_len = mm_inv(comm_time(c.short_len))
                initial(rank <= 2 and c.short_back and (n < 2048 or k < 2048))
                fit(k > n, ratio > 1.75)
        else:
            factor /= 0.6
            factor /= 0.5
            mmt, a2a = mm_time(m), comm_time(m)
            c.short_back = mmt >= a2a * 0.7
            ratio = max(a2a, mmt) / min(a2a, mmt)
            if ratio < 2.0 and not c.short_back:
                c.min_len = min(c.min_len, int(c.min_len * 0.5))
            c.short_len, c.n_short, c.back_ratio = c.min_len, 1, 0.25
            if m < c.short_len * 2:
                nocut()
            else:
                align_up = rank <= 2 and c.short_back and (n < 2048 or k < 2048)
                move_up = m < 2048

                def small_short_check():
                    c.long_len = max(c.long_len, c.short_len)
                    c.long_len = min(c.long_len, c.total - c.short_len)
                    nl = (c.total - c.short_len) // c.long_len
                    remain = c.total - (c.short_len + c.long_len * nl)
                    if remain > c.short_len * 1.25:
                        if remain * 2 > c.long_len:
                            nl += 1
                            c.long_len = (c.total - c.short_len) // nl
                        else:
                            nl = max(nl, 1)
                            c.long_len += remain // nl

                if not c.short_back or move_up:
                    if k <= 1024:
                        factor /= 1.4
                    c.long_len = mm_inv(comm_time(c.short_len))
                    align_up = True
                    small_short_check()
                elif ratio <= 2.0 or move_up:
                    if m > c.min_len * 4:
                        c.short_len = int(c.min_len * 4.0 / 2.0)
                    elif m > c.min_len * 3:
                        c.short_len = int(c.min_len * 3.0 / 2.0)
                    c.long_len = c.short_len
                else:
                    if k >= 4096:
                        factor /= 2.0
                    c.long_len = comm_inv(mm_time(c.short_len))
                    align_up = True
                    small_short_check()
                initial(align_up)
                fit(k > n, ratio > 1.75)
        if c.short_len == c.long_len:
            c.short_len, c.n_short = 0, 0
            c.n_long += 1
        return c

    c = get_tiling(False)
    if quant_comm:
        c = get_tiling(True)
    if c.short_back or c.n_short == 0:
        return (c.long_len, c.n_long, c.short_len if c.n_short else 0, c.n_short, int(c.short_back))
    return (c.short_len, c.n_short, c.long_len if c.n_long else 0, c.n_long, int(c.short_back))


t = Tap()
helper = os.path.join(BUILDDIR, "tests", "qmmar-cut")
ms = [1, 100, 256, 300, 1000, 2048, 4096, 5000, 8192, 16384, 65536]
nks = [(128, 64), (1024, 1024), (8192, 3584), (4096, 16384), (2048, 8192), (5120, 13824),
       (1000, 3000)]
args = []
for m, (n, k), rank, quant in itertools.product(ms, nks, (1, 2, 8), (0, 1)):
    args.append((m, n, k, rank, 24, 0, 2, quant))
for m, (n, k), quant in itertools.product(ms[::2], nks[::2], (0, 1)):
    args.append((m, n, k, 4, 20, 1, 2, quant))  # 910B4: 20 AICs, 96 MiB L2
lines = "\n".join(" ".join(str(x) for x in a) for a in args)
bad, bad_cover, ntiled = [], [], 0
for a in args:
    p = subprocess.run([helper] + [str(x) for x in a], capture_output=True, text=True)
    got = tuple(int(x) for x in p.stdout.split()) if p.returncode == 0 else None
    want = cut(a[0], a[1], a[2], a[3], a[4], bool(a[5]), a[6], bool(a[7]))
    if got != want:
        bad.append(f"m n k ranks aic b4 out quant = {a}: C {got}, Python {want}")
    elif got[0] * got[1] + got[2] * got[3] != a[0] or not 1 <= got[1] + got[3] <= 16:
        bad_cover.append(f"{a}: {got}")
    if got and got[1] + got[3] > 1:
        ntiled += 1
t.ok(not bad, f"the C cut equals the Python transcription on {len(args)} cases", "\n".join(bad[:20]))
t.ok(not bad_cover, "every cut covers m in 1..16 tiles", "\n".join(bad_cover[:20]))
t.ok(ntiled >= len(args) // 4, f"the grid exercises multi-tile cuts ({ntiled} of {len(args)})")
t.done()
