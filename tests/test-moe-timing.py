"""Timing structure of the A3 MoE plans on a small layer (EP 8, 4 local experts per die),
checked against values derived by hand from the a3 preset (mem.gm_write_latency_us
0.167, mem.l2_hit_latency_us 0.028, link.sio_latency_us 0.2, link.ub_l1_latency_us
0.5), and the scenario keys that the DeepEP-Ascend loop of bench/fidelity-moe.py uses:
MoeExperts "untimed" and MoeDistributeCombineV2 "tokenOrder"; and the A2 plans' phase
durations on the spec's A2 example, derived the same way from the a2 preset."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json, load_json  # noqa: E402

t = Tap()
work = tmpdir()


def scenario(name, experts=None, combine=None):
    d = {"op": "MoeDistributeDispatchV2", "name": "dispatch", "bs": 16, "h": 1024, "k": 4,
         "moeExpertNum": 32, "quantMode": 2}
    x = dict({"op": "MoeExperts", "name": "experts", "dispatch": "dispatch",
              "keepOutput": False, "untimed": True}, **(experts or {}))
    c = dict({"op": "MoeDistributeCombineV2", "name": "combine", "dispatch": "dispatch",
              "experts": "experts"}, **(combine or {}))
    sc = {"name": name, "seed": 5, "mode": "timing", "cluster": {"preset": "a3", "ranks": 8},
          "ops": [d, x, c]}
    return write_json(os.path.join(work, name + ".json"), sc)


def slices(trace_file, name_prefix):
    """Durations (µs, as written) of the complete events whose name starts with the prefix."""
    with open(trace_file) as f:
        ev = json.load(f)["traceEvents"]
    return [e["dur"] for e in ev if e.get("ph") == "X" and e["name"].startswith(name_prefix)]


def op_ranks(rep, name):
    op = next(o for o in rep["ops"] if o["name"] == name)
    return {r["rank"]: (r["start_ps"], r["end_ps"]) for r in op["ranks"]}


out = os.path.join(work, "arrival")
p = run(["run", scenario("arrival"), "--timing-only", "--trace-level", "all", "--out", out,
         "--quiet"])
if t.ok(p.returncode == 0, "EP 8 layer with untimed experts runs", p.stderr):
    rep = load_json(os.path.join(out, "report.json"))
    x = op_ranks(rep, "experts")
    t.ok(all(e == s for s, e in x.values()), "untimed experts take no time on any die", x)
    d, c = op_ranks(rep, "dispatch"), op_ranks(rep, "combine")
    t.ok(all(c[r][0] == d[r][1] for r in d), "the combine starts where the dispatch ends")
    tr = os.path.join(out, "trace.json")
    # UpdateTokenNumsOut, L = 4: one store + write-back, then 2 L2-hit loads and one store +
    # write-back per expert after the first: 0.167 + 0.028 + 0.167 + 3 x (0.056 + 0.167)
    u = slices(tr, "UpdateTokenNumsOut")
    t.ok(len(u) == 8 and all(abs(v - 1.031) < 1e-9 for v in u),
         "UpdateTokenNumsOut = 1.031 us on every die", u)
    # a core waits for its status writes' acknowledgement: 2 x path latency + the memory
    # write; its experts are on one die: itself (0), its package twin (SIO 0.2 us) or a
    # die behind the L1 switch (UB 0.5 us)
    w = set(round(v, 3) for v in slices(tr, "SetStatus wait ack"))
    t.ok(w and w <= {0.167, 0.567, 1.167}, "SetStatus acknowledgement waits", sorted(w))
    # Init: read + write the 32 B state, read 16 x 4 expertIds (256 B: 3 L2 cycles)
    # = 0.778 + 0.001 + 0.167 + 0.001 + 0.778 + 0.002 (rounded up to ps per DMA)
    ini = slices(tr, "Init")
    t.ok(len(ini) >= 8 * 48, "an Init slice per core", len(ini))

out2 = os.path.join(work, "index")
p = run(["run", scenario("index", combine={"tokenOrder": "index"}), "--timing-only", "--out",
         out2, "--quiet"])
if t.ok(p.returncode == 0, "tokenOrder index runs", p.stderr):
    rep2 = load_json(os.path.join(out2, "report.json"))
    c2 = op_ranks(rep2, "combine")
    t.ok(all(c2[r][1] >= c[r][1] for r in c), "in token order no die finishes earlier")
    a = next(o for o in rep2["ops"] if o["name"] == "combine")["attrs"]
    t.ok(a.get("tokenOrder") == "index", "attrs record tokenOrder", a.get("tokenOrder"))

p = run(["run", scenario("bad-order", combine={"tokenOrder": "random"}), "--timing-only",
         "--out", os.path.join(work, "bad"), "--quiet"])
t.ok(p.returncode == 3 and "tokenOrder" in p.stderr, "a bad tokenOrder is a scenario error",
     p.stderr)
p = run(["run", scenario("bad-untimed", experts={"expert": "matmul", "keepOutput": True}),
         "--timing-only", "--out", os.path.join(work, "bad2"), "--quiet"])
t.ok(p.returncode == 3 and "untimed" in p.stderr, "only identity experts can be untimed",
     p.stderr)
# ---- A2 (moe-a2-plan.c): the same instruction-level costs, a2 preset (1.8 GHz, vector
# 256 B/cycle, L2 read 110 / write 86 B/cycle, mem.gm_read_latency_us 0.778,
# mem.gm_write_latency_us 0.167, mem.l2_hit_latency_us 0.028, cost.vector_instr_us
# 0.017, cost.flag_poll_us 0.5), on the spec's A2 example (EP 16, L 1, BS 8, H 7168,
# K 8, bf16, quantMode 0). ps per cycle 555.56; each DMA / instruction rounds up to ps.
out3 = os.path.join(work, "a2")
p = run(["run", os.path.join(os.environ.get("NPU_SRCDIR", "."), "scenarios",
                             "moe-a2-spec-example.json"),
         "--timing-only", "--trace-level", "all", "--out", out3, "--quiet"])
if t.ok(p.returncode == 0, "A2 spec example runs", p.stderr):
    tr = os.path.join(out3, "trace.json")

    def near(vals, want, what):
        # ts and dur are written in whole ns, so a slice's dur is within 1 ns of the time
        t.ok(vals and all(abs(v - want) <= 0.0015 for v in vals), f"A2 {what} = {want:.6f} us",
             sorted(set(vals)))
    vec_row = 0.017 + 0.062223          # Cast / Muls / Add over 7168 fp32: 112 cycles
    row_in = 0.778 + 0.072778           # a bf16 row from GM: 14336 / 110 -> 131 cycles
    row_out = 0.167 + 0.092778          # a bf16 row out: 14336 / 86 -> 167 cycles
    # WaitDispatch: one source per core: its 128 B status row and its 4 B FLAG2
    near(slices(tr, "WaitDispatch"), 0.778 + 0.001112 + 0.778 + 0.000556, "WaitDispatch")
    # GetStatusCumSum: 16 status rows in (2048 B: 19 cycles), 16 dependent Adds of one
    # cycle, GatherMask + Adds for the one expert; the last core also writes
    # expertTokenNums (8 B) and epRecvCounts (64 B)
    cum = 0.778 + 0.010556 + 16 * 0.017556 + 2 * 0.017556
    near([v for v in slices(tr, "GetStatusCumSum") if v < 1.2], cum, "GetStatusCumSum")
    near([v for v in slices(tr, "GetStatusCumSum") if v > 1.2], cum + 0.167556 + 0.000556,
         "GetStatusCumSum on the last core")
    # LocalWindowCopy of a one-row block: the window slot (Align512(14336 + 48) = 14848 B:
    # 135 cycles) in, the row out (streamed), the block's end fence (a GM write)
    near([v for v in slices(tr, "LocalWindowCopy expert 0 rows") if v < 1.5],
         0.778 + 0.075 + 0.092778 + 0.167, "LocalWindowCopy of one row")
    # combine: wait for the sources (one per core: an L2-hit load of the FLAG and its
    # clearing store) + SyncAll; then per token Duplicate, 8 rows through two buffers
    # (each read is longer than its 3 instructions), the Cast back, the row out
    near(slices(tr, "wait all sources"), 0.028 + 0.167 + 0.5, "combine wait for sources")
    near(slices(tr, "reduce token"), vec_row + 8 * row_in + 3 * vec_row + vec_row + row_out,
         "combine reduce of a token with 8 rows")
t.done()
