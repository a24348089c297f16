"""Parameter checks of MoeDistributeDispatch(V2/V3) / MoeDistributeCombine(V2/V3) on A2
and A3: a table of cases with the aclnn code each must give (161001 nullptr, 161002
invalid dtype/value, 561002 tiling), taken from spec 004 and REFERENCE.md 4.3 / 5.3;
`npusim validate` must exit 4 and name the parameter, or succeed for the valid cases.
The HCCL_BUFFSIZE limits are recomputed here from the spec's formulas (in MB):
  A3:              1024^2 * (HCCL_BUFFSIZE - 2) / 2 >= BS * 2 * (H + 128) * (ep * L + K + 1)
  A2:              HCCL_BUFFSIZE >= 2 * (BS * ep * min(L, K) * H * 2 + 2 MB)
  A2 hierarchical: HCCL_BUFFSIZE >= moeExpertNum * BS * (H * 2 + 4 * ((K + 7) / 8 * 8) * 4)
                   + 4 MB + 100 MB
and each case checks a size 0.5 MB below (rejected) and 0.5 MB above (accepted)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json  # noqa: E402

t = Tap()
work = tmpdir()
MB = 1024 * 1024

A3 = dict(bs=4, h=1024, k=2, moeExpertNum=16)
A2 = dict(bs=8, h=7168, k=8, moeExpertNum=16)


def case(name, dispatch, code, words, preset="a3", ranks=8, version=2, combine=None,
         experts=True):
    suffix = "" if version == 1 else f"V{version}"
    ops = [dict(dispatch, op="MoeDistributeDispatch" + suffix, name="dispatch")]
    if combine is not None:
        if experts:
            ops.append({"op": "MoeExperts", "name": "experts", "dispatch": "dispatch"})
        c = dict(combine, op="MoeDistributeCombine" + suffix, name="combine", dispatch="dispatch")
        if experts:
            c["experts"] = "experts"
        ops.append(c)
    sc = {"name": name, "cluster": {"preset": preset, "ranks": ranks}, "ops": ops}
    path = write_json(os.path.join(work, name + ".json"), sc)
    p = run(["validate", path])
    if code == 0:
        t.ok(p.returncode == 0, f"{name}: accepted", p.stderr)
        return
    want = f"aclnn error {code}"
    ok = p.returncode == 4 and want in p.stderr and all(w in p.stderr for w in words)
    t.ok(ok, f"{name}: {code} naming {', '.join(words)}", f"rc={p.returncode} {p.stderr}")


def a3_need_mb(bs, h, ep, L, k):
    return 2 + 2 * bs * 2 * (h + 128) * (ep * L + k + 1) / MB


def a2_need_mb(bs, h, ep, L, k):
    return 2 * (bs * ep * min(L, k) * h * 2 + 2 * MB) / MB


def a2_hier_need_mb(moe, bs, h, k):
    return (moe * bs * (h * 2 + 4 * ((k + 7) // 8 * 8) * 4)) / MB + 104


# ---- A3 ----
case("a3-valid", A3, 0, [])
case("a3-valid-v1", dict(A3, quantMode=2), 0, [], version=1)
case("a3-valid-v3-zero", dict(A3, zeroExpertNum=4), 0, [], version=3)
case("a3-k-17", dict(A3, k=17), 561002, ["K 17"])
case("a3-k-above-experts", dict(A3, k=9, moeExpertNum=8), 561002, ["K 9", "moeExpertNum"])
case("a3-h-1023", dict(A3, h=1023), 561002, ["H 1023"])
case("a3-h-8200", dict(A3, h=8200), 561002, ["H 8200"])
case("a3-bs-513", dict(A3, bs=513, hcclBufferMB=4096), 561002, ["BS 513"])
case("a3-moe-1032", dict(A3, moeExpertNum=1032), 561002, ["moeExpertNum 1032"])
case("a3-moe-not-multiple", dict(A3, moeExpertNum=12), 561002, ["moeExpertNum 12", "multiple"])
case("a3-v1-ep-12", dict(A3, moeExpertNum=24), 561002, ["epWorldSize 12"], ranks=12, version=1)
case("a3-v1-shared-2", dict(A3, moeExpertNum=12, sharedExpertNum=2, sharedExpertRankNum=2),
     561002, ["sharedExpertNum 2"], version=1)
case("a3-v2-shared-2", dict(A3, moeExpertNum=12, sharedExpertNum=2, sharedExpertRankNum=2), 0, [])
case("a3-shared-5", dict(A3, moeExpertNum=7, sharedExpertNum=5, sharedExpertRankNum=1),
     561002, ["sharedExpertNum 5"])
case("a3-shared-without-ranks", dict(A3, sharedExpertNum=1), 561002,
     ["sharedExpertNum 1", "sharedExpertRankNum 0"])
case("a3-shared-ranks-not-multiple", dict(A3, moeExpertNum=10, sharedExpertNum=2,
                                          sharedExpertRankNum=3), 561002,
     ["sharedExpertRankNum 3", "multiple"])
case("a3-shared-ranks-all", dict(A3, sharedExpertNum=1, sharedExpertRankNum=8), 561002,
     ["sharedExpertRankNum 8"])
case("a3-quant-1", dict(A3, quantMode=1), 561002, ["quantMode 1"])
case("a3-quant-3", dict(A3, quantMode=3), 561002, ["quantMode 3"])
case("a3-token-nums-type-2", dict(A3, expertTokenNumsType=2), 561002, ["expertTokenNumsType 2"])
case("a3-shard-type-1", dict(A3, expertShardType=1), 561002, ["expertShardType 1"])
case("a3-tp2-multi-expert", dict(A3, tpWorldSize=2), 561002, ["localExpertNum 2", "TP"], ranks=16)
case("a3-tp2-valid", dict(A3, tpWorldSize=2, moeExpertNum=8), 0, [], ranks=16)
case("a3-tp2-same-groups", dict(A3, tpWorldSize=2, moeExpertNum=8, groupEp="g", groupTp="g"),
     561002, ["groupEp and groupTp"], ranks=16)
case("a3-global-bs-not-multiple", dict(A3, globalBs=33), 561002, ["globalBs 33"])
case("a3-global-bs-small", dict(A3, globalBs=16), 561002, ["globalBs 16"])
case("a3-unequal-bs-no-global", dict(A3, bs=[4, 4, 3, 4, 4, 4, 4, 4]), 561002,
     ["BS differs", "globalBs"])
case("a3-unequal-bs-global", dict(A3, bs=[4, 4, 3, 4, 4, 4, 4, 4], globalBs=32), 0, [])
case("a3-expandx-rows-small", dict(A3, expandXRows=63), 561002, ["expandX", "63", "A = 64"])
case("a3-group-name-empty", dict(A3, groupEp=""), 561002, ["groupEp length 0"])
case("a3-group-name-128", dict(A3, groupEp="g" * 128), 561002, ["groupEp length 128"])
case("a3-x-float32", dict(A3, dtype="float32"), 161002, ["x dtype float32"])
case("a3-expert-ids-int64", dict(A3, tensorDtypes={"expertIds": "int64"}), 161002,
     ["expertIds dtype int64"])
case("a3-expandx-bf16-quant2", dict(A3, quantMode=2, tensorDtypes={"expandX": "bfloat16"}),
     161002, ["expandX dtype bfloat16", "int8"])
case("a3-token-nums-int32", dict(A3, tensorDtypes={"expertTokenNums": "int32"}), 161002,
     ["expertTokenNums dtype int32"])
case("a3-scales-with-quant0", dict(A3, smoothScales=True), 161002, ["scales", "quantMode is 0"])
case("a3-null-x", dict(A3, nullTensors=["x"]), 161001, ["x is nullptr"])
case("a3-null-dynamic-scales", dict(A3, quantMode=2, nullTensors=["dynamicScales"]), 161001,
     ["dynamicScales is nullptr"])
case("a3-null-dynamic-scales-quant0", dict(A3, nullTensors=["dynamicScales"]), 0, [])
case("a3-null-assist", dict(A3, nullTensors=["assistInfoForCombine"]), 161001,
     ["assistInfoForCombine is nullptr"])
case("a3-null-expand-idx-v1", dict(A3, nullTensors=["expandIdx"]), 161001,
     ["expandIdx is nullptr"], version=1)
case("a3-null-group", dict(A3, nullTensors=["groupEp"]), 161001, ["groupEp is nullptr"])
case("a3-null-tp-recv", dict(A3, tpWorldSize=2, moeExpertNum=8, nullTensors=["tpRecvCounts"]),
     161001, ["tpRecvCounts is nullptr"], ranks=16)
need = a3_need_mb(128, 7168, 8, 32, 8)
big = dict(bs=128, h=7168, k=8, moeExpertNum=256, quantMode=2)
case("a3-buffsize-below", dict(big, hcclBufferMB=need - 0.5), 561002, ["HCCL_BUFFSIZE"])
case("a3-buffsize-above", dict(big, hcclBufferMB=need + 0.5), 0, [])
case("a3-buffsize-default-200", big, 561002, ["HCCL_BUFFSIZE 200 MB"])
need16 = a3_need_mb(64, 4096, 16, 2, 6)
case("a3-buffsize-ep16-above", dict(bs=64, h=4096, k=6, moeExpertNum=32, hcclBufferMB=need16 + 0.5),
     0, [], ranks=16)
case("a3-buffsize-ep16-below", dict(bs=64, h=4096, k=6, moeExpertNum=32, hcclBufferMB=need16 - 0.5),
     561002, ["HCCL_BUFFSIZE"], ranks=16)
# combine
case("a3-combine-valid", A3, 0, [], combine={})
case("a3-combine-cq2", A3, 0, [], combine={"commQuantMode": 2})
case("a3-combine-cq1", A3, 561002, ["commQuantMode 1"], combine={"commQuantMode": 1})
case("a3-combine-cq3", A3, 561002, ["commQuantMode 3"], combine={"commQuantMode": 3})
case("a3-combine-cq2-tp2", dict(A3, tpWorldSize=2, moeExpertNum=8), 561002,
     ["commQuantMode", "tpWorldSize"], ranks=16, combine={"commQuantMode": 2})
case("a3-combine-null-scales", A3, 161001, ["expertScales is nullptr"],
     combine={"nullTensors": ["expertScales"]})
case("a3-combine-null-assist", A3, 161001, ["assistInfoForCombine is nullptr"],
     combine={"nullTensors": ["assistInfoForCombine"]})
case("a3-combine-expandx-int8", A3, 161002, ["expandX dtype int8"],
     combine={"tensorDtypes": {"expandX": "int8"}})
case("a3-combine-int8-from-dispatch", dict(A3, quantMode=2), 161002, ["expandX dtype int8"],
     combine={}, experts=False)
case("a3-combine-ep-send-counts-int64", A3, 161002, ["epSendCounts dtype int64"],
     combine={"tensorDtypes": {"epSendCounts": "int64"}})

# ---- A2 (spec example: EP 16 over 2 servers, BS 8, H 7168, K 8, 16 experts) ----
case("a2-valid-spec", A2, 0, [], preset="a2", ranks=16)
case("a2-valid-combine", A2, 0, [], preset="a2", ranks=16, combine={})
case("a2-ep-8", dict(A2, moeExpertNum=8), 561002, ["epWorldSize 8", "A2"], preset="a2", ranks=8)
case("a2-bs-257", dict(A2, bs=257, hcclBufferMB=2048), 561002, ["BS 257"], preset="a2", ranks=16)
case("a2-h-7200", dict(A2, h=7200), 561002, ["H 7200"], preset="a2", ranks=16)
case("a2-h-not-32", dict(A2, h=1000), 561002, ["H 1000", "multiple of 32"], preset="a2", ranks=16)
case("a2-shared", dict(A2, moeExpertNum=15, sharedExpertNum=1, sharedExpertRankNum=1), 561002,
     ["shared experts", "A2"], preset="a2", ranks=16)
case("a2-tp-2", dict(A2, tpWorldSize=2), 561002, ["tpWorldSize 2"], preset="a2", ranks=32)
case("a2-local-experts-25", dict(A2, moeExpertNum=400, hcclBufferMB=8192), 561002,
     ["exceeds 24"], preset="a2", ranks=16)
case("a2-local-experts-25-hier", dict(A2, moeExpertNum=400, hierarchical=True), 0, [],
     preset="a2", ranks=16)
case("a2-mask-2d", dict(A2, xActiveMask={"dims": 2, "p": 0.5}), 561002, ["2-D xActiveMask"],
     preset="a2", ranks=16)
case("a2-k-17", dict(A2, k=17, moeExpertNum=32), 561002, ["K 17"], preset="a2", ranks=16)
need2 = a2_need_mb(256, 7168, 32, 8, 8)
a2big = dict(bs=256, h=7168, k=8, moeExpertNum=256)
case("a2-buffsize-below", dict(a2big, hcclBufferMB=need2 - 0.5), 561002, ["HCCL_BUFFSIZE"],
     preset="a2", ranks=32)
case("a2-buffsize-above", dict(a2big, hcclBufferMB=need2 + 0.5), 0, [], preset="a2", ranks=32)
needh = a2_hier_need_mb(512, 256, 7168, 8)
a2h = dict(bs=256, h=7168, k=8, moeExpertNum=512, hierarchical=True)
case("a2-hier-buffsize-below", dict(a2h, hcclBufferMB=needh - 0.5), 561002,
     ["HCCL_BUFFSIZE", "hierarchical"], preset="a2", ranks=16)
case("a2-hier-buffsize-above", dict(a2h, hcclBufferMB=needh + 0.5), 0, [], preset="a2", ranks=16)
case("a2-null-expert-scales", dict(A2, nullTensors=["expertScales"]), 161001,
     ["expertScales is nullptr"], preset="a2", ranks=16)
case("a2-combine-shared-x", A2, 561002, ["sharedExpertX", "A2"], preset="a2", ranks=16,
     combine={"sharedExpertX": True})
t.done()
