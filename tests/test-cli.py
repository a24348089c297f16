"""The command line: bad input gives one clear line naming the problem, the right exit
code and no output folder; presets, validate and what-if overrides work."""
import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json, load_json  # noqa: E402

t = Tap()
work = tmpdir()

BASE = {
    "name": "t",
    "seed": 1,
    "cluster": {"preset": "a2", "ranks": 8},
    "ops": [{"op": "AllReduce", "name": "ar", "dtype": "float16", "count": 4096}],
}


def bad(name, scenario, code, needle, extra=(), env=None, raw=None):
    path = os.path.join(work, name + ".json")
    if raw is not None:
        with open(path, "w") as f:
            f.write(raw)
    else:
        write_json(path, scenario)
    out = os.path.join(work, name + "-out")
    p = run(["run", path, "--out", out, "--quiet"] + list(extra), env=env)
    msg = p.stderr.strip()
    t.ok(p.returncode == code, f"{name}: exit code {code}", f"got {p.returncode}: {msg}")
    t.ok(needle in msg and len(msg.splitlines()) == 1, f"{name}: one line naming '{needle}'", msg)
    leftovers = [f for f in os.listdir(work) if f.startswith(name + "-out")]
    t.ok(not leftovers, f"{name}: no output folder, no partial files", leftovers)


def out_tensor(out, man, op, rank, name):
    """The tensor @name of @op on @rank from a run's output folder."""
    import numpy as np
    f = [x["file"] for x in man["tensors"] if x["op"] == op and x["rank"] == rank and x["name"] == name]
    return np.load(os.path.join(out, f[0]))


def variant(fn):
    s = copy.deepcopy(BASE)
    fn(s)
    return s


bad("invalid-json", None, 3, "invalid JSON", raw='{"name": "x",\n  "seed": }')
bad("unknown-key", variant(lambda s: s.update(bogus=1)), 3, "bogus: unknown key")
bad("wrong-type", variant(lambda s: s["cluster"].update(ranks="8")), 3, "cluster.ranks")
bad("zero-count", variant(lambda s: s["ops"][0].update(count=0)), 3, "ops[0].count")
bad("negative-count", variant(lambda s: s["ops"][0].update(count=-5)), 3, "ops[0].count")
bad("unknown-op", variant(lambda s: s["ops"][0].update(op="AllReduceX")), 3, "ops[0].op: unknown op")
bad("unknown-op-key", variant(lambda s: s["ops"][0].update(bogus=2)), 3, "ops[0].bogus")
bad("unknown-preset", variant(lambda s: s["cluster"].update(preset="a9")), 3, "cluster.preset")
bad("group-too-large", variant(lambda s: s.update(groups={"big": list(range(9))})), 3, "groups.big")
bad("rank-out-of-cluster", variant(lambda s: s.update(groups={"g": [0, 8]})), 3, "groups.g[1]")
bad("partial-server", variant(lambda s: s["cluster"].update(ranks=12)), 3, "cluster.ranks")
bad("unknown-group", variant(lambda s: s["ops"][0].update(group="tp")), 3, "ops[0].group")
bad("bad-dtype", variant(lambda s: s["ops"][0].update(dtype="float99")), 3, "ops[0].dtype")
bad("unknown-hw-key", BASE, 3, "link.bogus", extra=["--set", "link.bogus=1"])
bad("bad-hw-value", BASE, 3, "link.hccs_bw_Bps", extra=["--set", "link.hccs_bw_Bps=-3"])
bad("bad-after", variant(lambda s: s["ops"][0].update(after=["nothing"])), 3, "ops[0].after[0]")
bad("too-big-for-memory", variant(lambda s: s["ops"][0].update(count=1 << 26)), 5, "--timing-only",
    env={"NPUSIM_MEMORY_LIMIT": "1000000"})
npy_bad = os.path.join(work, "wrong-shape.npy")
try:
    import numpy as np
    np.save(npy_bad, np.zeros(17, dtype=np.float16))
    bad("npy-wrong-shape", variant(lambda s: s["ops"][0].update(
        inputs={"sendBuf": {"npy": npy_bad}})), 3, "ops[0].inputs.sendBuf")
except ImportError:
    t.ok(False, "numpy available")

bad("chain-unknown-op", variant(lambda s: s["ops"][0].update(
    inputs={"sendBuf": {"from": "nothing.recvBuf"}})), 3, "ops[0].inputs.sendBuf.from")
# A chained input of another element count: the AllGather's 8 x 64 recvBuf cannot be a
# 16 x 64 x1 (64 x 64 would be 4096 elements; 8 x 64 = 512 are there).
bad("chain-wrong-count", {
    "name": "t", "seed": 1, "cluster": {"preset": "a2", "ranks": 8},
    "ops": [{"op": "AllGather", "name": "ag", "dtype": "float16", "count": 64},
            {"op": "MatMul", "name": "mm", "dtype": "float16", "m": 16, "k": 64, "n": 32,
             "inputs": {"x1": {"from": "ag.recvBuf"}}}]},
    3, "ops[1].inputs.x1.from: ag.recvBuf is float16 (512,), but this input must be "
       "float16 (16, 64)")
bad("chain-wrong-dtype", {
    "name": "t", "seed": 1, "cluster": {"preset": "a2", "ranks": 8},
    "ops": [{"op": "AllGather", "name": "ag", "dtype": "float32", "count": 64},
            {"op": "MatMul", "name": "mm", "dtype": "float16", "m": 8, "k": 64, "n": 32,
             "inputs": {"x1": {"from": "ag.recvBuf"}}}]},
    3, "ops[1].inputs.x1.from: ag.recvBuf is float32 (512,)")

# Good paths.
p = run(["--help"])
t.ok(p.returncode == 0 and "Exit codes" in p.stdout, "--help documents the exit codes", p.stdout)
p = run(["frobnicate"])
t.ok(p.returncode == 2, "unknown command: exit 2", p.stderr)
p = run(["presets"])
t.ok(p.returncode == 0 and "a2" in p.stdout and "a3" in p.stdout, "presets lists a2 and a3", p.stdout)
p = run(["presets", "show", "a2"])
lines = [l for l in p.stdout.splitlines() if " = " in l]
t.ok(p.returncode == 0 and any(l.startswith("link.hccs_bw_Bps = ") for l in lines),
     "presets show a2 prints link.hccs_bw_Bps", p.stdout[:2000])
t.ok(all("#" in l and l.split("#", 1)[1].strip() for l in lines), "every value has a source",
     [l for l in lines if "#" not in l][:5])
good = write_json(os.path.join(work, "good.json"), BASE)
p = run(["validate", good])
t.ok(p.returncode == 0 and "ok" in p.stdout, "validate accepts a good scenario", p.stderr)
t.ok(not os.path.exists("npusim-out"), "validate writes nothing")

# A what-if: halving the HCCS bandwidth must slow a bandwidth-bound AllReduce.
big = variant(lambda s: s["ops"][0].update(count=1 << 22))
bigp = write_json(os.path.join(work, "big.json"), big)
lat = {}
for name, extra in (("base", []), ("slow", ["--set", "link.hccs_bw_Bps=7e9"])):
    out = os.path.join(work, "whatif-" + name)
    p = run(["run", bigp, "--timing-only", "--out", out, "--quiet"] + extra)
    t.ok(p.returncode == 0, f"what-if {name} runs", p.stderr)
    if p.returncode == 0:
        lat[name] = load_json(os.path.join(out, "report.json"))["ops"][0]["latency_ps"]
t.ok(len(lat) == 2 and lat["slow"] > lat["base"], "quarter HCCS bandwidth makes the AllReduce slower", lat)

# --set on a scenario path, and --trace FILE.
out = os.path.join(work, "setpath")
trace = os.path.join(work, "custom-trace.json")
p = run(["run", good, "--set", "ops[0].count=2048", "--out", out, "--trace", trace, "--quiet"])
t.ok(p.returncode == 0, "--set ops[0].count and --trace run", p.stderr)
if p.returncode == 0:
    man = load_json(os.path.join(out, "manifest.json"))
    shapes = {tuple(x["shape"]) for x in man["tensors"] if x["name"] == "sendBuf"}
    t.ok(shapes == {(2048,)}, "--set ops[0].count reached the op", shapes)
    t.ok(os.path.exists(trace) and not os.path.exists(os.path.join(out, "trace.json")),
         "--trace writes the trace where asked")
# Op chaining with a reshape: an AllGather's 1-D recvBuf (8 ranks x 6 x 4 values) is
# the (48, 4) x1 of a MatMul, shared as a view; integer values keep the sums exact.
reshape = {"name": "reshape", "seed": 3, "cluster": {"preset": "a2", "ranks": 8},
           "ops": [{"op": "AllGather", "name": "ag", "dtype": "float16", "count": 24,
                    "inputs": {"sendBuf": {"dist": "randint", "low": -3, "high": 3}}},
                   {"op": "MatMul", "name": "mm", "dtype": "float16", "m": 48, "k": 4, "n": 5,
                    "inputs": {"x1": {"from": "ag.recvBuf"},
                               "x2": {"dist": "randint", "low": -3, "high": 3}}}]}
out = os.path.join(work, "reshape")
p = run(["run", write_json(os.path.join(work, "reshape.json"), reshape), "--out", out, "--quiet"])
t.ok(p.returncode == 0, "a 1-D recvBuf feeds a 2-D x1 (reshape view)", p.stderr)
if p.returncode == 0:
    import numpy as np
    man = load_json(os.path.join(out, "manifest.json"))
    def rtensor(op, rank, name):
        return out_tensor(out, man, op, rank, name)
    gathered = np.concatenate([rtensor("ag", r, "sendBuf") for r in range(8)])
    t.ok(all(np.array_equal(rtensor("mm", r, "x1"), gathered.reshape(48, 4)) for r in range(8)),
         "x1 holds the gathered values in row-major order")
    t.ok(all(np.array_equal(rtensor("mm", r, "output"),
                            (gathered.reshape(48, 4).astype(np.float64)
                             @ rtensor("mm", r, "x2").astype(np.float64)).astype(np.float16))
             for r in range(8)), "the MatMul of the reshaped gather matches NumPy")
    rep = load_json(os.path.join(out, "report.json"))
    ops = {o["name"]: o for o in rep["ops"]}
    t.ok(all(a["start_ps"] >= b["end_ps"] for a, b in zip(ops["mm"]["ranks"], ops["ag"]["ranks"])),
         "the MatMul starts after the AllGather on every rank (no \"after\" needed)")

# Op chaining by tensors: an AllGather of an AllReduce's result, checked with NumPy
# (integer-valued fp32 inputs, so every summation order gives the same exact sum).
chain = {"name": "chain", "seed": 5, "cluster": {"preset": "a2", "ranks": 8},
         "ops": [{"op": "AllReduce", "name": "ar", "dtype": "float32", "count": 64,
                  "inputs": {"sendBuf": {"dist": "randint", "low": -4, "high": 4}}},
                 {"op": "AllGather", "name": "ag", "dtype": "float32", "count": 64,
                  "inputs": {"sendBuf": {"from": "ar.recvBuf"}}}]}
out = os.path.join(work, "chain")
p = run(["run", write_json(os.path.join(work, "chain.json"), chain), "--out", out, "--quiet"])
t.ok(p.returncode == 0, "chained ops run", p.stderr)
if p.returncode == 0:
    import numpy as np
    man = load_json(os.path.join(out, "manifest.json"))
    def tensor(op, rank, name):
        return out_tensor(out, man, op, rank, name)
    total = sum(tensor("ar", r, "sendBuf").astype(np.float64) for r in range(8))
    t.ok(all(np.array_equal(tensor("ag", r, "recvBuf"), np.tile(total, 8).astype(np.float32))
             for r in range(8)), "AllGather of the chained AllReduce result matches NumPy")
    rep = load_json(os.path.join(out, "report.json"))
    ops = {o["name"]: o for o in rep["ops"]}
    t.ok(all(a["start_ps"] >= b["end_ps"] for a, b in zip(ops["ag"]["ranks"], ops["ar"]["ranks"])),
         "the consumer starts after the producer on every rank")
t.done()
