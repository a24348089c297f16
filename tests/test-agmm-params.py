"""AllGatherMatmulV2 parameter checks: each case is a one-op scenario run through
`npusim run` (rejections) or `npusim validate` (accepted calls), with the aclnn code the
real A2/A3 API returns (docs/ops/AllGatherMatmulV2.md "Parameter checks"):
161001 ACLNN_ERR_PARAM_NULLPTR, 161002 ACLNN_ERR_PARAM_INVALID, 561002 tiling failure,
561103 ACLNN_ERR_INNER_NULLPTR. A rejection must exit 4 and print
"AllGatherMatmulV2: aclnn error <code>: <message>" naming the parameter.

The first cases are the spec's own call example (fp8 e4m3fn inputs, x1Scale / x2Scale
of shape (1,), commMode "ccu", 4 ranks), which Atlas A2 and A3 reject."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json  # noqa: E402

t = Tap()
work = tmpdir()

BASE = {"dtype": "bfloat16", "m": 32, "k": 256, "n": 128}
INT8 = {"dtype": "int8", "m": 32, "k": 256, "n": 128, "x2Scale": {}}
SPEC = {"dtype": "float8_e4m3fn", "m": 32, "k": 256, "n": 128, "commMode": "ccu",
        "output": {"dtype": "float16"}, "x1Scale": {"dtype": "float32", "shape": [1]},
        "x2Scale": {"dtype": "float32", "shape": [1]}, "gatherIndex": 0, "commTurn": 0,
        "streamMode": 1, "blockSize": 0, "groupSize": 0}


def case(label, spec, code, word, preset="a2", ranks=4, sets=()):
    return (label, spec, code, word, preset, ranks, sets)


def w(**kw):
    d = dict(BASE)
    d.update(kw)
    return d


def q(**kw):
    d = dict(INT8)
    d.update(kw)
    return d


cases = [
    case("spec example (fp8, ccu) on A2", SPEC, 161002, "commMode"),
    case("spec example (fp8, ccu) on A3", SPEC, 161002, "commMode", preset="a3"),
    case("spec example with commMode aiv (fp8 inputs)", dict(SPEC, commMode="aiv"), 161002,
         "x1 dtype float8_e4m3fn"),
    case("float8_e5m2 inputs on A3", w(dtype="float8_e5m2"), 161002, "x1 dtype", preset="a3"),
    case("hifloat8 inputs", w(dtype="hifloat8"), 161002, "x1 dtype hifloat8"),
    case("commMode nullptr", w(commMode=None), 561103, "commMode"),
    case("commMode ai_cpu", w(commMode="ai_cpu"), 161002, "commMode"),
    case("x1 nullptr", w(x1=None), 161001, "x1"),
    case("x2 nullptr", w(x2=None), 161001, "x2"),
    case("output nullptr", w(output=None), 161001, "output"),
    case("output float32", w(output={"dtype": "float32"}), 161002, "output dtype"),
    case("x2 float32", w(x2={"dtype": "float32"}), 161002, "x2 dtype"),
    case("streamMode 0", w(streamMode=0), 161002, "streamMode"),
    case("x1 3-D", w(x1={"shape": [2, 16, 256]}), 161002, "x1 must be 2-D"),
    case("x2 1-D", w(x2={"shape": [256]}), 161002, "x2 must be 2-D"),
    case("x1 transposed", w(x1={"transposed": True}), 161002, "x1 is transposed"),
    case("k of x1 and x2 differ", w(x2={"shape": [512, 128]}), 161002, "k-axis"),
    case("k of gatherOut differs", w(gatherOut={"shape": [128, 512]}), 161002, "gatherOut"),
    case("n of output differs", w(output={"shape": [128, 64]}), 161002, "n-axis"),
    case("fp16 x1 with bf16 output", w(dtype="float16", output={"dtype": "bfloat16"}), 161002,
         "output dtype"),
    case("gatherOut dtype differs", w(gatherOut={"dtype": "float16"}), 161002, "gatherOut dtype"),
    case("x2Scale with bf16 inputs", w(x2Scale={}), 161002, "x2Scale"),
    case("x1Scale with fp16 inputs", w(dtype="float16", x1Scale={}), 161002, "x1Scale"),
    case("x1Scale float16", q(x1Scale={"dtype": "float16"}), 161002, "x1Scale dtype"),
    case("x2Scale bfloat16", q(x2Scale={"dtype": "bfloat16"}), 161002, "x2Scale dtype"),
    case("x1Scale of shape (m, 2)", q(x1Scale={"shape": [32, 2]}), 161002, "x1Scale"),
    case("x2Scale of shape (n, 1)", q(x2Scale={"shape": [128, 1]}), 161002, "x2Scale"),
    case("quantScale given", q(quantScale={}), 161002, "quantScale"),
    case("amaxOut given", w(amaxOut={}), 161002, "amaxOut"),
    case("bias float32 with bf16 inputs", w(bias={"dtype": "float32"}), 161002, "bias dtype"),
    case("groupSize != 0", q(groupSize=(128 << 32) | (128 << 16) | 128), 161002, "groupSize"),
    case("gatherIndex 1", w(gatherIndex=1), 161002, "gatherIndex"),
    case("commTurn 2", w(commTurn=2), 161002, "commTurn"),
    case("blockSize != 0", q(blockSize=(1 << 32) | (1 << 16)), 161002, "blockSize"),
    case("empty x1 (m = 0)", w(m=0), 161002, "empty"),
    case("empty x2 (n = 0)", w(n=0), 161002, "empty"),
    case("k = 255", w(k=255), 161002, "[256, 65535)"),
    case("k = 65535", w(k=65535, m=1, n=1), 161002, "[256, 65535)"),
    case("output rows != m * ranks", w(output={"shape": [32, 128]}), 161002, "output"),
    case("x1 fp16 and x2 bf16", w(dtype="float16", x2={"dtype": "bfloat16"}), 561002,
         "same data type"),
    case("x1 int8 and x2 fp16", q(x2={"dtype": "float16"}, output={"dtype": "float16"}), 561002,
         "same data type"),
    case("bias in aiv mode", w(bias={}), 561002, "bias"),
    case("3 ranks", w(), 561002, "rank size 3", ranks=3),
    case("16 dies on A3", w(), 561002, "rank size 16", preset="a3", ranks=16),
    case("int8 without x2Scale", q(x2Scale=None), 561002, "x2Scale"),
    case("int64 x2Scale with bf16 output", q(x2Scale={"dtype": "int64"},
                                             output={"dtype": "bfloat16"}), 561002, "x2Scale"),
    case("HCCL window of 100 MiB", w(), 561002, "hccl.buffer_bytes",
         sets=("hccl.buffer_bytes=104857600",)),
]

accepted = [
    ("bf16, 4 ranks (A2)", w(), "a2", 4),
    ("fp16, 2 ranks, x2 transposed (A3)", w(dtype="float16", transposeX2=True), "a3", 2),
    ("x2 given as an (n, k) view", w(x2={"shape": [128, 256]}), "a2", 8),
    ("int8 per-channel fp32 scale, bf16 output", q(output={"dtype": "bfloat16"}), "a2", 8),
    ("int8 per-token, INT64 scale, fp16 output", q(x1Scale={}, x2Scale={"dtype": "int64"}),
     "a3", 4),
    ("int8 with 1-D scales", q(x1Scale={"shape": [32]}, x2Scale={"shape": [128]}), "a2", 2),
    ("amaxOut empty tensor", w(amaxOut={"shape": [0]}), "a2", 4),
    ("k = 65534", w(k=65534, m=1, n=1), "a2", 2),
    ("gatherOut nullptr", w(gatherOut=None), "a2", 4),
]

n_rejected = 0
for label, spec, code, word, preset, ranks, sets in cases:
    sc = {"name": "p", "cluster": {"preset": preset, "ranks": ranks},
          "ops": [dict({"op": "AllGatherMatmulV2", "name": "agmm"}, **spec)]}
    path = write_json(os.path.join(work, "case.json"), sc)
    args = ["run", path, "--out", os.path.join(work, "out"), "--quiet"]
    for s in sets:
        args += ["--set", s]
    p = run(args)
    want = f"AllGatherMatmulV2: aclnn error {code}: "
    ok = p.returncode == 4 and want in p.stderr and word in p.stderr.split(want, 1)[-1]
    n_rejected += ok
    t.ok(ok, f"{label}: rejected with {code} naming '{word}'",
         f"exit {p.returncode}: {p.stderr.strip()}")

for label, spec, preset, ranks in accepted:
    sc = {"name": "p", "cluster": {"preset": preset, "ranks": ranks},
          "ops": [dict({"op": "AllGatherMatmulV2", "name": "agmm"}, **spec)]}
    path = write_json(os.path.join(work, "ok.json"), sc)
    p = run(["validate", path])
    t.ok(p.returncode == 0, f"{label}: accepted", p.stderr)

t.ok(n_rejected >= 25, f"at least 25 rejection cases pass ({n_rejected})")
t.done()
