"""QuantMatmulAllReduceV3 against the NumPy reference of tests/qmmar_reference.py, bit for
bit: the three cases of the spec (dequant + x3 + AllReduce; with pertoken; low-bit
communication), every dequantScale dtype (INT64 and UINT64 packed, FLOAT32, BFLOAT16),
per-tensor and per-channel scales, fp16 and bf16 outputs, bias, x3, 2-D and 3-D x1, x2
ND (plain and transposed) and FRACTAL_NZ (from an init spec and from the TransDataNZ
op), 1, 2, 4 and 8 ranks, one and several M tiles, m not a multiple of the rank count
(padding of the low-bit path), int8 saturation, and the low-bit path with the
quantised tiles in the workspace (HCCL window too small) and looping CCL buffers.
Every run has the hazard checker on; all ranks must hold the same output."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json, load_json  # noqa: E402
import qmmar_reference as ref  # noqa: E402


def op(name, m, k, n, out="float16", deq="int64", x1_3d=None, bias=True, x3=True,
       pts=False, cq=False, trans=False, nz=False, deq_shape=None, inputs=None, **extra):
    x1_shape = [m, k] if x1_3d is None else [x1_3d, m // x1_3d, k]
    o = {"op": "QuantMatmulAllReduceV3", "name": name,
         "x1": {"shape": x1_shape},
         "x2": {"shape": [k, n], "transpose": trans, "format": "FRACTAL_NZ" if nz else "ND"},
         "dequantScale": {"dtype": deq} if deq_shape is None else {"dtype": deq,
                                                                    "shape": deq_shape},
         "output": {"dtype": out}}
    if bias:
        o["bias"] = {}
    if x3:
        o["x3"] = {}
    if pts:
        o["pertokenScale"] = {}
    if cq:
        o["commQuantScale1"] = {}
        o["commQuantScale2"] = {}
    if inputs:
        o["inputs"] = inputs
    o.update(extra)
    return o


# (title, ranks, cluster overrides, ops); the op named "q" is checked
CASES = [
    ("case 1: fp16, INT64 per-channel (fixpipe), bias, x3, 8 ranks", 8, {},
     [op("q", 96, 256, 384)]),
    ("case 1: fp16, UINT64 per-tensor, 3-D x1, no bias, 4 ranks", 4, {},
     [op("q", 64, 128, 192, deq="uint64", deq_shape=[1], x1_3d=2, bias=False)]),
    ("case 1: bf16, BF16 (1, n) scale, x3, transposed x2, 2 ranks", 2, {},
     [op("q", 40, 96, 160, out="bfloat16", deq="bfloat16", deq_shape=[1, 160], trans=True)]),
    ("case 2: fp16, FLOAT32 + pertoken, x3, 8 ranks, several tiles", 8, {},
     [op("q", 300, 128, 256, deq="float32", pts=True, tileM=128)]),
    ("case 2: bf16, BF16 + pertoken, bias, 1 rank, 3-D x1", 1, {},
     [op("q", 48, 64, 96, out="bfloat16", deq="bfloat16", pts=True, x1_3d=3, x3=False)]),
    ("case 3: spec example (fp16, FLOAT32 + pertoken, commQuantScale), 8 ranks", 8, {},
     [op("q", 32, 64, 128, deq="float32", pts=True, cq=True)]),
    ("case 3: fp16, INT64, m = 45 (padding), 3-D x1, transposed x2, 4 ranks, 3 tiles", 4, {},
     [op("q", 45, 128, 256, cq=True, x1_3d=3, trans=True, tileM=16)]),
    ("case 3: bf16, BF16, x3, NZ x2, m = 37 (padding), 8 ranks, 2 tiles", 8, {},
     [op("q", 37, 96, 200, out="bfloat16", deq="bfloat16", cq=True, nz=True, tileM=20)]),
    ("case 3: bf16 pertoken, 2 ranks, saturating int8 (small commQuantScale1)", 2, {},
     [op("q", 24, 64, 64, out="bfloat16", deq="bfloat16", pts=True, cq=True,
         inputs={"commQuantScale1": {"dist": "const", "value": 0.002},
                 "commQuantScale2": {"dist": "uniform", "low": 0.02, "high": 0.05}})]),
    ("case 3: fp16, tiles in the workspace (tiny HCCL window), looping CCL, 4 ranks", 4,
     {"hccl.buffer_bytes": 4096}, [op("q", 70, 64, 96, cq=True, tileM=32)]),
    ("case 1: NZ x2 from TransDataNZ, transposed, fp16 INT64, 2 ranks", 2, {},
     [{"op": "TransDataNZ", "name": "nz", "dtype": "int8", "shape": [130, 72],
       "inputs": {"x": {"dist": "randint", "low": -7, "high": 7}}},
      op("q", 33, 72, 130, trans=True, nz=True, inputs={"x2": {"from": "nz.y"}})]),
    ("case 1: fp16, INT64, the formulaic cut (one tile here), 8 ranks", 8, {},
     [op("q", 1024, 256, 256, x3=False)]),
    ("case 1: bf16, looping AllReduce (HCCL buffer 8 KiB), 4 ranks, 2 tiles", 4,
     {"hccl.buffer_bytes": 8192},
     [op("q", 50, 64, 160, out="bfloat16", deq="bfloat16", tileM=32)]),
    ("case 3: fp16 pertoken, 1 rank (local AlltoAll copy, in-place AllGather)", 1, {},
     [op("q", 20, 64, 96, deq="float32", pts=True, cq=True)]),
]

t = Tap()
work = tmpdir()
for i, (title, ranks, hw, ops) in enumerate(CASES):
    sc = {"name": f"qmmar-ref-{i}", "seed": 100 + i,
          "cluster": {"preset": "a2", "ranks": ranks}, "ops": ops}
    if hw:
        sc["cluster"]["set"] = hw
    path = write_json(os.path.join(work, f"case{i}.json"), sc)
    out = os.path.join(work, f"case{i}")
    p = run(["run", path, "--out", out, "--quiet", "--trace-level", "op"])
    if not t.ok(p.returncode == 0, f"{title}: run succeeds (hazard checker on)",
                p.stdout + p.stderr):
        continue
    man = load_json(os.path.join(out, "manifest.json"))
    mop = next(o for o in man["ops"] if o["name"] == "q")
    want = ref.expected_output(out, man, "q")
    bad = []
    for r in mop["group"]:
        got = ref.output_of(out, man, "q", r)
        wb = np.asarray(want).view(np.uint16)
        gb = got.view(np.uint16)
        if gb.shape != wb.shape:
            bad.append(f"rank {r}: shape {gb.shape}, expected {wb.shape}")
        elif not np.array_equal(gb, wb):
            k = np.argwhere(gb != wb)[0]
            bad.append(f"rank {r}: {int(np.sum(gb != wb))} differences, first at {tuple(k)}: "
                       f"got {gb[tuple(k)]:#06x}, expected {wb[tuple(k)]:#06x}")
    if any(o["name"] == "nz" for o in ops):
        # TransDataNZ: y is x in FRACTAL_NZ (c1, r1, 16, 32), zero padding
        nzbad = []
        for r in mop["group"]:
            files = {x["name"]: x for x in man["tensors"] if x["op"] == "nz" and x["rank"] == r}
            x = np.load(os.path.join(out, files["x"]["file"]))
            y = np.load(os.path.join(out, files["y"]["file"]))
            rows, cols = x.shape
            c1, r1 = -(-cols // 32), -(-rows // 16)
            pad = np.zeros((r1 * 16, c1 * 32), dtype=np.int8)
            pad[:rows, :cols] = x
            want_nz = pad.reshape(r1, 16, c1, 32).transpose(2, 0, 1, 3)
            if files["y"]["format"] != "FRACTAL_NZ" or not np.array_equal(y, want_nz):
                nzbad.append(f"rank {r}: y {y.shape} {files['y']['format']}")
        t.ok(not nzbad, f"{title}: TransDataNZ output is the NZ layout of x", "\n".join(nzbad))
    a = mop["attrs"]
    t.ok(not bad, f"{title}: output bit-exact on {len(mop['group'])} ranks "
         f"(tiles {a['tileCnt']}x{a['tileM']} + {a['tailCnt']}x{a['tailM']})", "\n".join(bad))
t.done()
