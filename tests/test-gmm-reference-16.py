"""GroupedMatMulAlltoAllv at 16 ranks (two A3 nodes' worth of dies: the AlltoAllV
crosses the UB L2 plane) against the NumPy reference of tests/gmm_ref.py, bit for bit:
bf16, 2 experts, uneven sendCounts with zero (peer, expert) pairs, shared expert,
transposed routed weights, integer-valued inputs (exact in any summation order).
At 16 ranks the kernel's 2 MB per-peer minimum makes gmmX 32 MB per rank."""
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, tmpdir  # noqa: E402
import gmm_ref  # noqa: E402

t = Tap()
work = tmpdir()
N, E, H1 = 16, 2, 8192
rng = np.random.default_rng(16)
send = gmm_ref.counts_matrix(rng, N, E, 128, 132)
t.ok(any(c == 0 for r in send for c in r), "some (peer, expert) pairs send no rows")
dist = {"dist": "randint", "low": -2, "high": 2}
scen = {"name": "gmm16", "seed": 5, "cluster": {"preset": "a3", "ranks": N},
        "groups": {"ep": "all"},
        "ops": [{"op": "GroupedMatMulAlltoAllv", "name": "gmm", "group": "ep",
                 "dtype": "bfloat16", "e": E, "H1": H1, "N1": 24, "sendCounts": send,
                 "transGmmWeight": True, "BS": 512, "H2": 128, "N2": 16,
                 "inputs": {"gmmX": dist, "gmmWeight": dist, "mmXOptional": dist,
                            "mmWeightOptional": dist}}]}
p, out = gmm_ref.run_scenario(work, "gmm16", scen)
if t.ok(p.returncode == 0, "16 ranks: npusim run succeeds", p.stderr):
    o = gmm_ref.Outputs(out)
    ref = gmm_ref.reference(o, N)
    bad_y = [d for d in range(N)
             if not np.array_equal(o.get(d, "y")[0].view(np.uint16), ref[d][0].view(np.uint16))]
    bad_mm = [d for d in range(N)
              if not np.array_equal(o.get(d, "mmYOptional")[0], ref[d][1])]
    t.ok(not bad_y, "16 ranks: y of every rank equals the reference bit for bit",
         f"ranks differing: {bad_y}")
    t.ok(not bad_mm, "16 ranks: mmYOptional of every rank equals the reference bit for bit",
         f"ranks differing: {bad_mm}")
shutil.rmtree(work, ignore_errors=True)
t.done()
