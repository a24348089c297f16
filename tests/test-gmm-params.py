"""Parameter checks of GroupedMatMulAlltoAllv and DistributeBarrierV2: a table of cases
with the aclnn code each must give (`npusim run` exits 4 and prints
"<Op>: aclnn error <code>: <message naming the parameter>"), from the real API and
tiling (REFERENCE.md §3.3, §6; the kernel sources named in docs/ops/*.md), plus the
scenario-level errors (exit 3) and valid calls (exit 0). Every case runs in timing
mode: the checks come before anything is allocated."""
import copy
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json  # noqa: E402

t = Tap()
work = tmpdir()

# A valid GMM call: 8 ranks, 2 experts, 64 rows per (peer, expert): 128 rows x 8192 x
# 2 B = 2 MB per peer, the kernel's minimum.
E, W, H1 = 2, 8, 8192
GMM = {"op": "GroupedMatMulAlltoAllv", "name": "gmm", "group": "ep", "dtype": "float16",
       "e": E, "H1": H1, "N1": 16, "sendCounts": [64] * (E * W)}
SHARED = {"BS": 256, "H2": 128, "N2": 16}     # BSK = 1024 -> K = 4
BAR = {"op": "DistributeBarrierV2", "name": "barrier", "group": "bar"}


def scen(op, ranks=8, groups=None):
    return {"name": "params", "mode": "timing", "cluster": {"preset": "a3", "ranks": ranks},
            "groups": groups or {"ep": "all", "bar": "all"}, "ops": [op]}


def gmm(**kw):
    op = copy.deepcopy(GMM)
    for k, v in kw.items():
        if v is DROP:
            op.pop(k, None)
        else:
            op[k] = v
    return op


def bar(**kw):
    op = copy.deepcopy(BAR)
    op.update(kw)
    return op


DROP = object()
long_name = "g" * 128

cases = [
    # (label, scenario, expected exit, expected "<op>: aclnn error <code>" or None, words)
    # --- GroupedMatMulAlltoAllv: aclnn API, 161001 ---
    ("gmmX null", scen(gmm(tensors={"gmmX": None})), 4, 161001, "gmmX"),
    ("gmmWeight null", scen(gmm(tensors={"gmmWeight": None})), 4, 161001, "gmmWeight"),
    ("y null", scen(gmm(tensors={"y": None})), 4, 161001, "y is a null"),
    ("sendCountsTensorOptional given (quirk: 161001)",
     scen(gmm(tensors={"sendCountsTensorOptional": {"dtype": "int64", "shape": [16]}})), 4,
     161001, "sendCountsTensorOptional"),
    ("recvCountsTensorOptional given (quirk: 161001)",
     scen(gmm(tensors={"recvCountsTensorOptional": {"dtype": "int32", "shape": [16]}})), 4,
     161001, "recvCountsTensorOptional"),
    ("mmXOptional without mmWeightOptional",
     scen(gmm(**SHARED, tensors={"mmWeightOptional": None})), 4, 161001, "mmWeightOptional"),
    ("mmYOptional null with the shared inputs",
     scen(gmm(**SHARED, tensors={"mmYOptional": None})), 4, 161001, "mmYOptional"),
    ("empty group name", scen(gmm(group=""), groups={"": "all"}), 4, 161001, "group"),
    # --- 161002 ---
    ("group name of 128 characters", scen(gmm(group=long_name), groups={long_name: "all"}), 4,
     161002, "group"),
    ("sendCounts null", scen(gmm(sendCounts=None)), 4, 161002, "sendCounts"),
    ("recvCounts null", scen(gmm(recvCounts=None)), 4, 161002, "recvCounts"),
    ("sendCounts empty", scen(gmm(sendCounts=[], recvCounts=[64] * 16)), 4, 161002,
     "sendCounts should not be empty"),
    # --- tiling, 561002 ---
    ("gmmX float32", scen(gmm(dtype="float32")), 4, 561002, "gmmX"),
    ("gmmWeight dtype differs", scen(gmm(tensors={"gmmWeight": {"dtype": "bfloat16"}})), 4,
     561002, "gmmWeight"),
    ("transMmWeight without the shared expert", scen(gmm(transMmWeight=True)), 4, 561002,
     "transMmWeight"),
    ("gmmX 3-D", scen(gmm(tensors={"gmmX": {"shape": [1, 1024, H1]}})), 4, 561002, "gmmX"),
    ("H1 of gmmWeight differs", scen(gmm(tensors={"gmmWeight": {"shape": [E, 4096, 16]}})), 4,
     561002, "H1"),
    ("y rows differ from sum(recvCounts)", scen(gmm(tensors={"y": {"shape": [1000, 16]}})), 4,
     561002, "recvCounts"),
    ("H1 = 65536", scen(gmm(H1=65536)), 4, 561002, "H1"),
    ("N1 = 0", scen(gmm(N1=0)), 4, 561002, "N1"),
    ("e = 33", scen(gmm(e=33)), 4, 561002, "(0, 32]"),
    ("e = 33 with 33 * 8 counts: list longer than 256",
     scen(gmm(e=33, sendCounts=[4] * (33 * W))), 4, 561002, "256"),
    ("e = 32 at 16 ranks: e * epWorldSize = 512 > 256",
     scen(gmm(e=32, sendCounts=[4] * 512), ranks=16), 4, 561002, "(0, 256]"),
    ("epWorldSize 4 (A3: 8, 16, 32, 64, 128)",
     scen(gmm(sendCounts=[256] * (E * 4)), ranks=4), 4, 561002, "epWorldSize"),
    ("a peer gets less than 2 MB", scen(gmm(sendCounts=[64] * 14 + [63, 64])), 4, 561002,
     "2 MB"),
    ("negative sendCounts element", scen(gmm(sendCounts=[-1] + [65] + [64] * 14)), 4, 561002,
     "sendCounts[0]"),
    ("H2 = 12289", scen(gmm(**dict(SHARED, H2=12289))), 4, 561002, "H2"),
    ("K = BSK / BS = 1", scen(gmm(**dict(SHARED, BS=1024))), 4, 561002, "K = BSK / BS"),
    ("mmXOptional of another dtype than gmmX",
     scen(gmm(**SHARED, tensors={"mmXOptional": {"dtype": "bfloat16"},
                                 "mmWeightOptional": {"dtype": "bfloat16"},
                                 "mmYOptional": {"dtype": "bfloat16"}})), 4, 561002, "mmXOptional"),
    # --- scenario-level (exit 3) and valid calls ---
    ("epWorldSize 16 in a group of 8", scen(gmm(epWorldSize=16, sendCounts=[64] * 32)), 3, None,
     "epWorldSize"),
    ("recvCounts that the peers do not send", scen(gmm(recvCounts=[65, 63] + [64] * 14)), 3,
     None, "recvCounts"),
    ("valid call with shared expert and transposed weights",
     scen(gmm(**SHARED, transGmmWeight=True, transMmWeight=True)), 0, None, ""),

    # --- DistributeBarrierV2 ---
    ("xRef null", scen(bar(tensors={"xRef": None})), 4, 161001, "xRef"),
    ("xRef float8_e4m3fn", scen(bar(tensors={"xRef": {"dtype": "float8_e4m3fn"}})), 4, 161002,
     "xRef"),
    ("xRef with 9 dims", scen(bar(tensors={"xRef": {"shape": [1] * 9}})), 4, 161002, "0-8"),
    ("timeOutOptional int64", scen(bar(tensors={"timeOutOptional": {"dtype": "int64",
                                                                    "shape": [1]}})), 4,
     161002, "timeOutOptional"),
    ("elasticInfoOptional float32",
     scen(bar(tensors={"elasticInfoOptional": {"dtype": "float32", "shape": [20]}})), 4, 161002,
     "elasticInfoOptional"),
    ("worldSize 1", scen(bar(), ranks=1, groups={"bar": "all"}), 4, 561002, "worldSize"),
    ("worldSize 385", scen(bar(worldSize=385)), 4, 561002, "worldSize"),
    ("timeOutOptional of shape (2,)", scen(bar(timeOut=10, tensors={"timeOutOptional":
                                                                    {"shape": [2]}})), 4,
     561002, "timeOutOptional"),
    ("elasticInfoOptional of the wrong length",
     scen(bar(tensors={"elasticInfoOptional": {"dtype": "int32", "shape": [19]}})), 4, 561002,
     "elasticInfoOptional"),
    ("empty group name (API quirk passes, no communicator)",
     scen(bar(group=""), groups={"": "all"}), 4, 561002, "group"),
    ("group name of 128 characters", scen(bar(group=long_name), groups={long_name: "all"}), 4,
     561002, "group"),
    ("worldSize 16 in a group of 8", scen(bar(worldSize=16)), 3, None, "worldSize"),
    ("another op in the barrier's group",
     {**scen(bar()), "ops": [bar(), {"op": "AllReduce", "name": "ar", "group": "bar",
                                     "dtype": "float16", "count": 64}]}, 3, None,
     "may hold no other op"),
    ("valid: 0-D bool-like xRef, timeOut, elasticInfo (4 + 2W)",
     scen(bar(timeOut=100, tensors={"xRef": {"dtype": "int8", "shape": []},
                                    "elasticInfoOptional": {"dtype": "int32", "shape": [20]}})),
     0, None, ""),
    ("valid: 8-dim xRef", scen(bar(tensors={"xRef": {"dtype": "bfloat16", "shape": [1] * 8}})),
     0, None, ""),
]

coded = sum(1 for c in cases if c[3] is not None)
t.ok(coded >= 20, f"{coded} cases with an expected aclnn code")
for i, (label, sc, exit_code, code, words) in enumerate(cases):
    path = write_json(os.path.join(work, f"case{i}.json"), sc)
    p = run(["run", path, "--out", os.path.join(work, f"out{i}"), "--quiet"])
    op = sc["ops"][0]["op"] if code is not None else ""
    msg = p.stderr.strip()
    ok = p.returncode == exit_code
    if code is not None:
        ok = ok and f"{op}: aclnn error {code}" in msg
    ok = ok and words in msg
    want = f"exit {exit_code}" + (f", aclnn error {code}" if code else "")
    t.ok(ok, f"{sc['ops'][0]['op']}: {label} -> {want}", f"exit {p.returncode}: {msg}")
shutil.rmtree(work, ignore_errors=True)
t.done()
