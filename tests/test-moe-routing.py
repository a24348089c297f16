"""Routing inputs of MoeDistributeDispatch: seeded uniform and zipf draws, fixed ids,
.npy files, and recorded router decisions in the JSON-lines form of
../shared/data/routing/README.md (those checks skip when the folder is absent), with
the mapping rules: the layer's tokens in order of their recorded batches, dealt to the
ranks in group order, BS each; expert count and k must match or a mapping is named.
Also: the recorded Qwen1.5-MoE scenario is slower than its uniform twin (per-step
imbalance)."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json, load_json, SRCDIR  # noqa: E402

t = Tap()
work = tmpdir()
DATA = os.path.normpath(os.path.join(SRCDIR, "..", "shared", "data", "routing"))
QWEN = os.path.join(DATA, "moe_layer12.common.jsonl")


def scenario(name, ranks, dispatch, mode="timing"):
    d = dict({"bs": 4, "h": 1024, "k": 4, "moeExpertNum": 60, "quantMode": 0}, **dispatch)
    d.update({"op": "MoeDistributeDispatchV2", "name": "dispatch"})
    sc = {"name": name, "seed": 9, "mode": mode, "cluster": {"preset": "a3", "ranks": ranks},
          "ops": [d]}
    return write_json(os.path.join(work, name + ".json"), sc)


def ids_of(out, ranks):
    man = load_json(os.path.join(out, "manifest.json"))
    by = {(x["rank"], x["name"]): x for x in man["tensors"]}
    ids = [np.load(os.path.join(out, by[(r, "expertIds")]["file"])) for r in range(ranks)]
    w = [np.load(os.path.join(out, by[(r, "expertScales")]["file"])) for r in range(ranks)]
    return ids, w, man


def attrs(out):
    return load_json(os.path.join(out, "manifest.json"))["ops"][0]["attrs"]


# uniform: K distinct experts per token, weights in [0, 1)
out = os.path.join(work, "uni")
p = run(["run", scenario("uni", 12, {"bs": 16}, "data"), "--out", out, "--quiet"])
if t.ok(p.returncode == 0, "uniform routing runs", p.stderr):
    ids, w, _ = ids_of(out, 12)
    distinct = all(len(set(row)) == 4 for r in ids for row in r.tolist())
    t.ok(distinct and all(r.min() >= 0 and r.max() < 60 for r in ids),
         "uniform: 4 distinct ids in [0, 60) per token")
    t.ok(all(x.min() >= 0 and x.max() < 1 for x in w), "default expertScales in [0, 1)")
    counts = np.bincount(np.concatenate([r.reshape(-1) for r in ids]), minlength=60)
    uni_max = attrs(out)["routing"]["rankLoadMaxOverMean"]
    t.ok(counts.max() < 3 * counts.mean(), "uniform: no expert takes more than 3x its share",
         counts.tolist())

# zipf: the imbalance parameter concentrates the load
out = os.path.join(work, "zipf")
p = run(["run", scenario("zipf", 12, {"bs": 16, "routing": {"dist": "zipf", "s": 1.5}}, "data"),
         "--out", out, "--quiet"])
if t.ok(p.returncode == 0, "zipf routing runs", p.stderr):
    ids, _, _ = ids_of(out, 12)
    counts = np.bincount(np.concatenate([r.reshape(-1) for r in ids]), minlength=60)
    z_max = attrs(out)["routing"]["rankLoadMaxOverMean"]
    t.ok(counts.max() > 5 * counts.mean() and z_max > uni_max,
         f"zipf s=1.5: hottest expert {counts.max() / counts.mean():.1f}x the mean, rank load "
         f"max/mean {z_max:.2f} > uniform {uni_max:.2f}")
    t.ok(all(len(set(row)) == 4 for r in ids for row in r.tolist()), "zipf: distinct ids per token")

# same seed, same routing in timing and data mode
out2 = os.path.join(work, "zipf-t")
p = run(["run", scenario("zipf-t", 12, {"bs": 16, "routing": {"dist": "zipf", "s": 1.5}}),
         "--out", out2, "--quiet"])
t.ok(p.returncode == 0 and attrs(out2)["routing"] == attrs(out)["routing"],
     "timing mode draws the same routing")

# fixed ids and .npy files
out = os.path.join(work, "ids")
p = run(["run", scenario("ids", 12, {"routing": {"ids": [3, 7, 11, 59]}}, "data"), "--out", out,
         "--quiet"])
if t.ok(p.returncode == 0, "fixed ids run", p.stderr):
    ids, _, _ = ids_of(out, 12)
    t.ok(all((r == np.array([3, 7, 11, 59])).all() for r in ids), "every token routed to 3, 7, 11, 59")
rng = np.random.default_rng(3)
arr = np.stack([np.stack([rng.choice(60, 4, replace=False) for _ in range(4)]) for _ in range(12)])
np.save(os.path.join(work, "ids.npy"), arr.astype(np.int32))
wts = rng.random((12, 4, 4)).astype(np.float32)
np.save(os.path.join(work, "w.npy"), wts)
out = os.path.join(work, "npy")
p = run(["run", scenario("npy", 12, {"routing": {"npy": "ids.npy", "weights": "w.npy"}}, "data"),
         "--out", out, "--quiet"])
if t.ok(p.returncode == 0, ".npy routing runs", p.stderr):
    ids, w, _ = ids_of(out, 12)
    t.ok(all((ids[r] == arr[r]).all() and (w[r] == wts[r]).all() for r in range(12)),
         ".npy ids and weights reach every rank unchanged")
p = run(["validate", scenario("npy-bad", 12, {"routing": {"npy": "ids.npy"}, "k": 3})])
p2 = run(["run", scenario("npy-bad", 12, {"routing": {"npy": "ids.npy"}, "k": 3}), "--out",
          os.path.join(work, "npyb"), "--quiet"])
t.ok(p2.returncode == 3 and "expected shape" in p2.stderr, ".npy with the wrong K is an error",
     p2.stderr)

# recorded routing (JSON lines)
if not os.path.exists(QWEN):
    t.ok(True, "# SKIP recorded routing: ../shared/data/routing is absent")
    t.done()

records = [json.loads(line) for line in open(QWEN) if line.strip()]
records = [r for r in records if r["layer"] == 12]
records.sort(key=lambda r: r.get("batch", 0))  # stable: file order inside a batch
first = [r for r in records if r.get("batch", 0) >= 1]
out = os.path.join(work, "rec")
jl = {"jsonl": QWEN, "layer": 12, "startBatch": 1}
p = run(["run", scenario("rec", 12, {"bs": 5, "routing": jl}, "data"), "--out", out, "--quiet"])
if t.ok(p.returncode == 0, "recorded Qwen routing runs", p.stderr):
    ids, w, man = ids_of(out, 12)
    want = [np.array([first[r * 5 + i]["experts"] for i in range(5)]) for r in range(12)]
    wantw = [np.array([first[r * 5 + i]["weights"] for i in range(5)], dtype=np.float32)
             for r in range(12)]
    t.ok(all((ids[r] == want[r]).all() for r in range(12)),
         "rank r gets tokens [5r, 5r+5) of the recorded batches from startBatch on")
    t.ok(all((w[r] == wantw[r]).all() for r in range(12)), "recorded weights become expertScales")
    a = man["ops"][0]["attrs"]["routing"]
    t.ok(a["source"] == "jsonl" and a["fileExperts"] == 60 and a["fileTopk"] == 4,
         "manifest records the routing source", a)

p = run(["validate", scenario("rec-k", 12, {"k": 3, "routing": jl})])
p = run(["run", scenario("rec-k", 12, {"k": 3, "routing": jl}), "--out", os.path.join(work, "x"),
         "--quiet"])
t.ok(p.returncode == 3 and "top-4" in p.stderr and "\"topk\": \"first\"" in p.stderr,
     "k mismatch: error names the file's top-4 and the topk mapping", p.stderr)
p = run(["run", scenario("rec-k-first", 12, {"k": 3, "routing": dict(jl, topk="first")}, "data"),
         "--out", os.path.join(work, "kf"), "--quiet"])
if t.ok(p.returncode == 0, "topk first: K 3 out of the recorded top-4", p.stderr):
    ids, _, _ = ids_of(os.path.join(work, "kf"), 12)
    t.ok((ids[0][0] == np.array(first[0]["experts"][:3])).all(), "topk first keeps the first K")
p = run(["run", scenario("rec-e", 16, {"moeExpertNum": 64, "routing": jl}), "--out",
         os.path.join(work, "x"), "--quiet"])
t.ok(p.returncode == 3 and "60 experts" in p.stderr and "expertMap" in p.stderr,
     "expert count mismatch: error names the counts and the mappings", p.stderr)
p = run(["run", scenario("rec-e-id", 16, {"moeExpertNum": 64, "routing": dict(jl, expertMap="identity")}),
         "--out", os.path.join(work, "x"), "--quiet"])
t.ok(p.returncode == 0, "expertMap identity: 60 recorded experts on 64", p.stderr)
p = run(["run", scenario("rec-e-mod", 10, {"moeExpertNum": 30, "routing": dict(jl, expertMap="modulo")}),
         "--out", os.path.join(work, "x"), "--quiet"])
t.ok(p.returncode == 3 and "routes twice" in p.stderr,
     "expertMap modulo that merges a token's experts is a clear error", p.stderr)
p = run(["run", scenario("rec-short", 12, {"bs": 200, "routing": dict(jl, startBatch=120)}),
         "--out", os.path.join(work, "x"), "--quiet"])
t.ok(p.returncode == 3 and "tokens" in p.stderr, "too few recorded tokens is an error", p.stderr)

# the recorded scenario: per-step imbalance costs latency
qs = os.path.join(SRCDIR, "scenarios", "recorded", "moe-qwen-layer12.json")
out = os.path.join(work, "qwen")
p = run(["run", qs, "--out", out, "--quiet"])
if t.ok(p.returncode == 0, "scenarios/recorded/moe-qwen-layer12.json runs", p.stderr):
    rep = load_json(os.path.join(out, "report.json"))
    lat = {op["name"]: op["latency_ps"] for op in rep["ops"]}
    for phase in ("prefill", "decode"):
        for part in ("", "-combine"):
            r, u = lat[f"{phase}-recorded{part}"], lat[f"{phase}-uniform{part}"]
            t.ok(r > u, f"{phase}{part}: recorded routing ({r / 1e6:.2f} us) is slower than "
                 f"uniform ({u / 1e6:.2f} us)")
t.done()
