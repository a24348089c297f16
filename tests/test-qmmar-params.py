"""QuantMatmulAllReduceV3 parameter checks: a table of scenarios, each with the aclnn
code the real API returns (161001 null, 161002 invalid dtype/attribute/shape, 561002
host tiling) and the parameter its message must name; valid variants must pass.
Sources: aclnn_quant_matmul_all_reduce_v3.cpp (CheckParams: null, dtypes, attrs,
shapes; note its commQuantScale shape check reads both dims from commQuantScale2),
matmul_all_reduce_tiling_base.cpp + quant_matmul_all_reduce_tiling.cpp (rank size and
SoC, CheckA8W8 shapes, commTurn, CheckDequantScaleType, axis limits, empty tensors),
the spec's constraints (../shared/REFERENCE.md 2.3). Runs `npusim validate`: exit 4
and "QuantMatmulAllReduceV3: aclnn error <code>: <message>"."""
import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json  # noqa: E402

M, K, N = 32, 64, 128
# The spec's example: pertoken, FLOAT32 dequantScale, fp16 output, commQuantScale
SPEC = {"x1": {"shape": [M, K]}, "x2": {"shape": [K, N]}, "bias": {"shape": [N]},
        "x3": {"shape": [M, N], "dtype": "float16"},
        "dequantScale": {"shape": [N], "dtype": "float32"}, "pertokenScale": {"shape": [M]},
        "commQuantScale1": {"shape": [N], "dtype": "float16"},
        "commQuantScale2": {"shape": [N], "dtype": "float16"},
        "output": {"shape": [M, N], "dtype": "float16"},
        "reduceOp": "sum", "commTurn": 0, "streamMode": 1}
# Case 1: fp16 output, INT64 per-channel scale, no pertoken, no comm quant
FP16 = {"x1": {"shape": [M, K]}, "x2": {"shape": [K, N]}, "bias": {"shape": [N]},
        "dequantScale": {"shape": [N], "dtype": "int64"},
        "output": {"shape": [M, N], "dtype": "float16"}}
# bf16 output
BF16 = {"x1": {"shape": [M, K]}, "x2": {"shape": [K, N]},
        "x3": {"shape": [M, N], "dtype": "bfloat16"},
        "dequantScale": {"shape": [1, N], "dtype": "bfloat16"},
        "output": {"shape": [M, N], "dtype": "bfloat16"}}


def v(base, **changes):
    """base with keys replaced (None = a nullptr; "DEL" = key removed)."""
    o = copy.deepcopy(base)
    for k, val in changes.items():
        if isinstance(val, str) and val == "DEL":
            o.pop(k, None)
        else:
            o[k] = val
    return o


def with_(base, key, **fields):
    o = copy.deepcopy(base)
    o[key] = dict(o[key], **fields)
    return o


NZ = with_(FP16, "x2", format="FRACTAL_NZ")

# (title, op keys, expected code (0 = valid), word the message must contain,
#  cluster overrides)
CASES = [
    # ---- 161001: x1, x2, dequantScale, output must not be nullptrs
    ("x1 nullptr", v(SPEC, x1=None), 161001, "x1"),
    ("x2 nullptr", v(SPEC, x2=None), 161001, "x2"),
    ("dequantScale nullptr", v(SPEC, dequantScale=None), 161001, "dequantScale"),
    ("output nullptr", v(SPEC, output=None), 161001, "output"),
    # ---- 161002: dtypes
    ("x1 float16", with_(SPEC, "x1", dtype="float16"), 161002, "x1"),
    ("x2 int32", with_(SPEC, "x2", dtype="int32"), 161002, "x2"),
    ("dequantScale int32", with_(FP16, "dequantScale", dtype="int32"), 161002, "dequantScale"),
    ("output float32", with_(FP16, "output", dtype="float32"), 161002, "output"),
    ("bias float16", with_(SPEC, "bias", dtype="float16"), 161002, "bias"),
    ("x3 float32", with_(SPEC, "x3", dtype="float32"), 161002, "x3"),
    ("x3 bfloat16 with float16 output", with_(SPEC, "x3", dtype="bfloat16"), 161002, "x3"),
    ("bf16 output with float32 dequantScale", with_(BF16, "dequantScale", dtype="float32"),
     161002, "dequantScale"),
    ("fp16 output with bfloat16 dequantScale", with_(FP16, "dequantScale", dtype="bfloat16"),
     161002, "dequantScale"),
    ("pertokenScale float16", with_(SPEC, "pertokenScale", dtype="float16"), 161002,
     "pertokenScale"),
    ("fp16 output, pertoken with INT64 dequantScale", with_(SPEC, "dequantScale", dtype="int64"),
     161002, "dequantScale"),
    ("commQuantScale1 float32", with_(SPEC, "commQuantScale1", dtype="float32"), 161002,
     "commQuantScale1"),
    ("commQuantScale2 bfloat16 with float16 output", with_(SPEC, "commQuantScale2",
                                                          dtype="bfloat16"), 161002,
     "commQuantScale2"),
    # ---- 161002: attributes
    ("reduceOp max", v(SPEC, reduceOp="max"), 161002, "reduceOp"),
    ("streamMode 0", v(SPEC, streamMode=0), 161002, "streamMode"),
    # ---- 161002: shapes
    ("x1 1-D", v(SPEC, x1={"shape": [K]}, pertokenScale="DEL", x3="DEL",
                 output={"shape": [N], "dtype": "float16"}), 161002, "x1"),
    ("x1 4-D", v(SPEC, x1={"shape": [2, 2, 8, K]}), 161002, "x1"),
    ("x2 3-D", v(SPEC, x2={"shape": [1, K, N]}), 161002, "x2"),
    ("k of x1 != k of x2", v(SPEC, x2={"shape": [K * 2, N]}), 161002, "x1"),
    ("output shape", with_(SPEC, "output", shape=[M, N + 1]), 161002, "output"),
    ("bias (n + 1,)", with_(SPEC, "bias", shape=[N + 1]), 161002, "bias"),
    ("bias 2-D", with_(SPEC, "bias", shape=[1, N]), 161002, "bias"),
    ("x3 shape", with_(SPEC, "x3", shape=[M + 1, N]), 161002, "x3"),
    ("dequantScale (2,)", with_(SPEC, "dequantScale", shape=[2]), 161002, "dequantScale"),
    ("dequantScale (n, 1)", with_(SPEC, "dequantScale", shape=[N, 1]), 161002, "dequantScale"),
    ("dequantScale 3-D", with_(SPEC, "dequantScale", shape=[1, 1, N]), 161002, "dequantScale"),
    ("pertokenScale (m + 1,)", with_(SPEC, "pertokenScale", shape=[M + 1]), 161002,
     "pertokenScale"),
    ("pertokenScale (m, 1)", with_(SPEC, "pertokenScale", shape=[M, 1]), 161002,
     "pertokenScale"),
    ("only commQuantScale1", v(SPEC, commQuantScale2=None), 161002, "commQuantScale2"),
    ("only commQuantScale2", v(SPEC, commQuantScale1="DEL"), 161002, "commQuantScale1"),
    ("commQuantScale dims differ", with_(SPEC, "commQuantScale2", shape=[1, N]), 161002,
     "commQuantScale1 and commQuantScale2"),
    ("commQuantScale2 (n + 1,)", with_(SPEC, "commQuantScale2", shape=[N + 1]), 161002,
     "commQuantScale2"),
    # ---- 561002: host tiling
    ("commQuantScale1 (n + 1,): only the tiling sees it", with_(SPEC, "commQuantScale1",
                                                                shape=[N + 1]), 561002,
     "commQuantScale1"),
    ("commTurn 8", v(SPEC, commTurn=8), 561002, "commTurn"),
    ("A3", v(SPEC), 561002, "A3", {"preset": "a3", "ranks": 8}),
    ("3 ranks", v(SPEC), 561002, "rank size", {"preset": "a2", "ranks": 3}),
    ("group across two A2 servers", v(SPEC), 561002, "servers", "across"),
    ("fp16 output, no pertoken, FLOAT32 dequantScale", with_(FP16, "dequantScale",
                                                             dtype="float32"), 561002,
     "dequantScale"),
    ("k = 65536", v(FP16, x1={"shape": [M, 65536]}, x2={"shape": [65536, N]}), 561002, "k"),
    ("n = 65536", v(FP16, x2={"shape": [K, 65536]}, bias="DEL",
                    dequantScale={"shape": [1], "dtype": "int64"},
                    output={"shape": [M, 65536], "dtype": "float16"}), 561002, "x2"),
    ("m > INT32_MAX (3-D x1)", v(FP16, x1={"shape": [65536, 32769, K]},
                                 output={"shape": [65536, 32769, N], "dtype": "float16"}),
     561002, "m"),
    ("empty x1 (m = 0)", v(FP16, x1={"shape": [0, K]}, output={"shape": [0, N],
                                                             "dtype": "float16"}),
     561002, "empty"),
    ("k = 0", v(FP16, x1={"shape": [M, 0]}, x2={"shape": [0, N]}), 561002, "k is 0"),
    ("NZ x2: bias (n + 1,) only seen by the tiling", with_(NZ, "bias", shape=[N + 1]), 561002,
     "bias"),
    ("NZ x2: dequantScale (2,) only seen by the tiling", with_(NZ, "dequantScale", shape=[2]),
     561002, "dequantScale"),
    # ---- valid
    ("spec example", v(SPEC), 0, ""),
    ("fp16 INT64 per-channel", v(FP16), 0, ""),
    ("fp16 UINT64 per-tensor", with_(FP16, "dequantScale", dtype="uint64", shape=[1]), 0, ""),
    ("bf16 with x3 and (1, n) scale", v(BF16), 0, ""),
    ("bf16 pertoken", v(BF16, pertokenScale={"shape": [M]}), 0, ""),
    ("fp16 x3 (REFERENCE 9.6: accepted)", v(FP16, x3={"shape": [M, N], "dtype": "float16"}),
     0, ""),
    ("3-D x1", v(SPEC, x1={"shape": [4, 8, K]}, x3={"shape": [4, 8, N], "dtype": "float16"},
                 output={"shape": [4, 8, N], "dtype": "float16"}), 0, ""),
    ("transposed x2", with_(SPEC, "x2", transpose=True), 0, ""),
    ("NZ x2", v(NZ), 0, ""),
    ("1 rank", v(SPEC), 0, "", {"preset": "a2", "ranks": 1}),
    ("4 ranks", v(SPEC), 0, "", {"preset": "a2", "ranks": 4}),
]

t = Tap()
work = tmpdir()
codes = {0: 0, 161001: 0, 161002: 0, 561002: 0}
for i, case in enumerate(CASES):
    title, keys, code, word = case[:4]
    cluster = {"preset": "a2", "ranks": 8}
    groups = None
    if len(case) > 4:
        if case[4] == "across":
            cluster = {"preset": "a2", "ranks": 16}
            groups = {"pair": [0, 8]}
        else:
            cluster = case[4]
    op = dict({"op": "QuantMatmulAllReduceV3", "name": "q"}, **keys)
    if groups:
        op["group"] = "pair"
    sc = {"name": f"qmmar-param-{i}", "cluster": cluster, "ops": [op]}
    if groups:
        sc["groups"] = groups
    path = write_json(os.path.join(work, f"p{i}.json"), sc)
    p = run(["validate", path])
    msg = (p.stdout + p.stderr).strip()
    if code == 0:
        ok = p.returncode == 0
    else:
        ok = (p.returncode == 4
              and f"QuantMatmulAllReduceV3: aclnn error {code}:" in msg and word in msg)
    codes[code] += 1
    t.ok(ok, f"{title}: " + ("valid" if code == 0 else f"{code} naming {word}"),
         f"exit {p.returncode}: {msg}")
t.ok(codes[161001] >= 4 and codes[161002] >= 20 and codes[561002] >= 10
     and sum(codes.values()) - codes[0] >= 25,
     f"the table has {sum(codes.values()) - codes[0]} rejected cases "
     f"({codes[161001]} x 161001, {codes[161002]} x 161002, {codes[561002]} x 561002)")

# A FRACTAL_NZ x2 whose view shape is not (k, n): the real API cannot check it; the
# simulator refuses the scenario (exit 3) naming the key.
bad = v(NZ, x2={"shape": [K, N + 32], "format": "FRACTAL_NZ"})
path = write_json(os.path.join(work, "nzbad.json"),
                  {"name": "nzbad", "cluster": {"preset": "a2", "ranks": 2},
                   "ops": [dict({"op": "QuantMatmulAllReduceV3", "name": "q"}, **bad)]})
p = run(["validate", path])
t.ok(p.returncode == 3 and "ops[0].x2.shape" in p.stderr,
     "NZ x2 of the wrong view shape: scenario error naming ops[0].x2.shape",
     p.stdout + p.stderr)
t.done()
