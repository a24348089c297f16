"""A3 MoE writes on the fabric's links (ops/moe-a3-plan.c ub_write, sim npu_fabric_account).

Every cross-die row write of the dispatch (token + scale + triple: Align32(H) + 32 + 12 =
1068 B at H 1024, int8) and of the combine (the bf16 row, 2 H = 2048 B) takes the
sender's port and then the receiver's, first come first served, at the link's current
capacity times link.ub_aiv_write_efficiency (0.55867347) over UB, at the SIO capacity
(224 GB/s) to the package twin. From the routing alone (an .npy written here) this test
derives, for every die, the bytes on r.ub_tx, r.ub_rx and r.sio->twin and their busy
time: a port serves one write at a time, so the busy time is the sum of
ceil(bytes * 1e12 / rate) ps over its writes. Then it checks that the UB links' what-if
knobs act on the MoE ops: inject.links on r0.ub_tx (report and latency), --set
link.ub_port_bw_Bps, --set link.ub_aiv_write_efficiency. Last, the "hazardRegions" key
(per-row or coarse window regions for the hazard checker) and its attrs."""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json, load_json  # noqa: E402

t = Tap()
work = tmpdir()
N, BS, H, K, M = 8, 16, 1024, 4, 32
L = M // N
EFF, UB, SIO = 0.55867347, 7 * 28e9, 224e9
DISP_B, COMB_B = 1024 + 32 + 12, 2 * H

rng = np.random.default_rng(11)
ids = np.array([[rng.permutation(M)[:K] for _ in range(BS)] for _ in range(N)], dtype=np.int32)
np.save(os.path.join(work, "ids.npy"), ids)


def scenario(name, routing, inject=None, extra=None):
    sc = {"name": name, "seed": 3, "mode": "timing", "cluster": {"preset": "a3", "ranks": N},
          "ops": [{"op": "MoeDistributeDispatchV2", "name": "dispatch", "bs": BS, "h": H, "k": K,
                   "moeExpertNum": M, "quantMode": 2, "routing": routing, **(extra or {})},
                  {"op": "MoeExperts", "name": "experts", "dispatch": "dispatch",
                   "keepOutput": False},
                  {"op": "MoeDistributeCombineV2", "name": "combine", "dispatch": "dispatch",
                   "experts": "experts"}]}
    if inject:
        sc["inject"] = {"links": inject}
    return write_json(os.path.join(work, name + ".json"), sc)


def go(name, routing, inject=None, sets=()):
    out = os.path.join(work, name)
    args = ["run", scenario(name, routing, inject), "--out", out, "--quiet"]
    for s in sets:
        args += ["--set", s]
    p = run(args)
    if not t.ok(p.returncode == 0, f"{name}: runs", p.stderr):
        return None
    return load_json(os.path.join(out, "report.json"))


def expected_links(ids, ub_tx_bw):
    """{link name: (bytes, busy ps)} from the routing; ub_tx_bw[r] = r.ub_tx capacity."""
    writes = {}   # link -> list of (bytes, rate)

    def add(link, nbytes, rate):
        writes.setdefault(link, []).append((nbytes, rate))

    def write(src, dst, nbytes):
        if src == dst:
            return                                   # a local write: no link
        if src // 2 == dst // 2:                     # the package twin
            add(f"r{src}.sio->r{dst}", nbytes, SIO)
        else:
            add(f"r{src}.ub_tx", nbytes, ub_tx_bw[src] * EFF)
            add(f"r{dst}.ub_rx", nbytes, UB * EFF)
    for g in range(N):
        for tk in range(BS):
            for k in range(K):
                d = int(ids[g, tk, k]) // L
                write(g, d, DISP_B)    # dispatch: source -> expert die
                write(d, g, COMB_B)    # combine: expert die -> token owner
    return {name: (sum(b for b, _ in w), sum(math.ceil(b * 1e12 / r) for b, r in w))
            for name, w in writes.items()}


def check_links(name, rep, want):
    got = {l["name"]: l for l in rep["links"]}
    bad = []
    for link, (nb, busy) in sorted(want.items()):
        g = got.get(link)
        if g is None:
            bad.append(f"{link}: missing")
        elif g["bytes"] != nb or g["busy_ps"] != busy:
            bad.append(f"{link}: bytes {g['bytes']} busy {g['busy_ps']} vs {nb} {busy}")
    extra = [n for n in got if n not in want]
    t.ok(not bad and not extra, f"{name}: every UB / SIO link's bytes and busy time",
         "\n".join(bad + [f"{n}: unexpected" for n in extra]))


def latency(rep, op):
    return next(o for o in rep["ops"] if o["name"] == op)["latency_ps"]


npy = {"npy": "ids.npy"}
base = go("base", npy)
if base:
    want = expected_links(ids, [UB] * N)
    check_links("base", base, want)
    ub = [l for l in base["links"] if l["kind"] in ("ub_tx", "ub_rx")]
    t.ok(len(ub) == 2 * N and all(abs(l["utilisation_while_busy"] - EFF) < 1e-4 for l in ub),
         "base: report lists ub_tx / ub_rx of every die, busy at the AIV write efficiency",
         [(l["name"], l["utilisation_while_busy"]) for l in ub])

half = go("r0-ub-tx-half", npy, [{"match": "r0.ub_tx", "bandwidth_factor": 0.5}])
if base and half:
    check_links("r0.ub_tx halved", half, expected_links(ids, [UB / 2] + [UB] * (N - 1)))
    inj = half.get("inject", {}).get("links", [])
    t.ok(len(inj) == 1 and inj[0]["name"] == "r0.ub_tx", "inject lists r0.ub_tx", inj)
    t.ok(latency(half, "dispatch") > latency(base, "dispatch")
         and latency(half, "combine") > latency(base, "combine"),
         "halving r0.ub_tx slows the dispatch and the combine (rank 0 sends in both)",
         (latency(base, "dispatch"), latency(half, "dispatch"), latency(base, "combine"),
          latency(half, "combine")))

# every token to experts 0, 1 (die 0) and 4, 5 (die 1): die 0 sends its dispatch rows to
# itself and its twin only, so r0.ub_tx carries nothing of the dispatch, but the combine
# rows going back from die 0 to dies 2..7
fixed = {"ids": [0, 1, 4, 5]}
f0 = go("fixed", fixed)
f1 = go("fixed-r0-ub-tx-half", fixed, [{"match": "r0.ub_tx", "bandwidth_factor": 0.5}])
if f0 and f1:
    t.ok(latency(f1, "dispatch") == latency(f0, "dispatch"),
         "a dispatch in which rank 0 sends nothing over UB ignores r0.ub_tx",
         (latency(f0, "dispatch"), latency(f1, "dispatch")))
    t.ok(latency(f1, "combine") > latency(f0, "combine"),
         "its combine (rank 0 sends back over UB) slows down",
         (latency(f0, "combine"), latency(f1, "combine")))
    fids = np.tile(np.array([0, 1, 4, 5], dtype=np.int32), (N, BS, 1))
    check_links("fixed r0.ub_tx halved", f1, expected_links(fids, [UB / 2] + [UB] * (N - 1)))

slow = go("ub-port-14e9", npy, sets=["link.ub_port_bw_Bps=14e9"])
fast = go("ub-eff-1", npy, sets=["link.ub_aiv_write_efficiency=1"])
if base and slow and fast:
    t.ok(latency(slow, "dispatch") > latency(base, "dispatch")
         and latency(slow, "combine") > latency(base, "combine"),
         "--set link.ub_port_bw_Bps=14e9 (half the line rate) slows both ops")
    t.ok(latency(fast, "dispatch") < latency(base, "dispatch")
         and latency(fast, "combine") < latency(base, "combine"),
         "--set link.ub_aiv_write_efficiency=1 (the line rate) speeds both up")
    ub = [l for l in slow["links"] if l["kind"] == "ub_tx"]
    t.ok(all(l["bandwidth_Bps"] == 98e9 for l in ub), "the links carry the new capacity")

# the hazard regions' form (the same run either way; docs: MoeDistributeDispatch.md "Data")
if base:
    a = next(o for o in base["ops"] if o["name"] == "dispatch")["attrs"]
    t.ok(a.get("hazardRegions") == "row", "a small run declares per-row hazard regions",
         a.get("hazardRegions"))
    out = os.path.join(work, "block2")
    p = run(["run", scenario("block2", npy, extra={"hazardRegions": "block"}), "--out", out,
             "--quiet"])
    if t.ok(p.returncode == 0, "hazardRegions block runs (hazard checker on)", p.stderr):
        rb = load_json(os.path.join(out, "report.json"))
        a = next(o for o in rb["ops"] if o["name"] == "dispatch")["attrs"]
        t.ok(a.get("hazardRegions") == "block"
             and all(latency(rb, op) == latency(base, op) for op in ("dispatch", "combine")),
             "block regions: recorded in attrs, same timing", a.get("hazardRegions"))
    p = run(["run", scenario("bad-hz", npy, extra={"hazardRegions": "page"}), "--out",
             os.path.join(work, "bad-hz"), "--quiet"])
    t.ok(p.returncode == 3 and "hazardRegions" in p.stderr, "a bad hazardRegions is a scenario "
         "error naming the key", p.stderr)
t.done()
