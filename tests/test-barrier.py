"""DistributeBarrierV2 and the scenario injections:

  * ordering, in data and timing modes: with a straggler, no rank's barrier ends before
    the last rank's flags have landed in its window (from the trace: every "flag rS->rT"
    ends before rank T's barrier ends), nor before the straggler's barrier started plus
    the kernel launch, one flag poll and one hop (hardware values from the report);
    in data mode every poll checks the flag sum it read, so a successful run is itself
    a check of the schedule;
  * the timeout path: a peer later than timeOut fails the run (exit 1) with a message
    naming the late rank; a long enough timeOut passes;
  * windows: consecutive barriers of a group alternate the window half (0, 1, 0), an
    other group starts at 0; the hazard checker (always on) sees the window regions;
  * xRef: untouched (its .npy equals the producer's tensor) but a dependency (the
    barrier starts after the producer ends on every rank);
  * worldSize 2 and 384 run;
  * injections: the straggler's delay is a slice on its streams and in report.inject;
    a link slowed to a quarter makes an AlltoAll slower and is listed with its new
    bandwidth; a link pattern that matches nothing is a scenario error (exit 3);
  * the barrier absorbs a straggler's skew: after it, every rank starts the next op
    within a microsecond, where before it they were apart by the delay."""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, write_json, load_json  # noqa: E402

t = Tap()
work = tmpdir()
N = 8
US = 1e6  # ps per us


def go(name, scen, extra=()):
    path = write_json(os.path.join(work, name + ".json"), scen)
    out = os.path.join(work, name)
    p = run(["run", path, "--out", out, "--quiet"] + list(extra))
    return p, out


def slices(out):
    ev = load_json(os.path.join(out, "trace.json"))["traceEvents"]
    return [e for e in ev if e.get("ph") == "X"]


def op_ranks(rep, name):
    op = [o for o in rep["ops"] if o["name"] == name][0]
    return {r["rank"]: (r["start_ps"], r["end_ps"]) for r in op["ranks"]}, op


def base(mode, ops, inject=None, ranks=N):
    s = {"name": "barrier-test", "mode": mode, "cluster": {"preset": "a3", "ranks": ranks},
         "groups": {"ep": "all", "bar": "all", "bar2": "all"}, "ops": ops}
    if inject:
        s["inject"] = inject
    return s


A2A = {"op": "AlltoAll", "name": "a2a", "group": "ep", "dtype": "bfloat16", "count": 2048}

# ---- ordering with a straggler, data and timing ----
for mode in ("data", "timing"):
    scen = base(mode, [A2A, {"op": "DistributeBarrierV2", "name": "barrier", "group": "bar",
                             "stream": 1, "inputs": {"xRef": {"from": "a2a.recvBuf"}}}],
                inject={"stragglers": [{"rank": 5, "delay_us": 30}]})
    p, out = go(f"order-{mode}", scen)
    if not t.ok(p.returncode == 0, f"{mode}: barrier after a straggler runs (hazard checker on)",
                p.stderr):
        continue
    rep = load_json(os.path.join(out, "report.json"))
    hw = rep["hardware"]
    ranks, _ = op_ranks(rep, "barrier")
    a2a, _ = op_ranks(rep, "a2a")
    last_start = max(s for s, _ in ranks.values())
    t.ok(max(ranks, key=lambda r: ranks[r][0]) == 5,
         f"{mode}: the straggler (rank 5) starts the barrier last")
    floor = last_start + (hw["cost.kernel_launch_us"] + hw["cost.flag_poll_us"]
                          + min(hw["link.sio_latency_us"], hw["link.ub_l1_latency_us"])) * US
    t.ok(all(e >= floor for _, e in ranks.values()),
         f"{mode}: no rank leaves before the last one arrived (every end >= last start + "
         "launch + poll + hop)", ranks)
    flags = [e for e in slices(out) if e["name"].startswith("flag r")]
    t.ok(len(flags) == N * N, f"{mode}: every rank wrote a flag into every window "
         f"({len(flags)} writes)")
    late = []
    for e in flags:
        src, dst = (int(x[1:]) for x in e["name"].split()[1].split("->"))
        if round((e["ts"] + e["dur"]) * US) > ranks[dst][1]:
            late.append(e["name"])
    t.ok(not late, f"{mode}: every rank's barrier ends after all flags into its window landed",
         late)
    t.ok(all(ranks[r][0] >= a2a[r][1] for r in range(N)),
         f"{mode}: xRef orders the barrier after its producer on every rank")
    strag = [e for e in slices(out) if e["name"] == "straggler delay (inject)"]
    t.ok(strag and all(e["pid"] // 8 == 5 and abs(e["dur"] - 30.0) < 1e-9 for e in strag),
         f"{mode}: the straggler's delay is drawn on rank 5's streams ({len(strag)} slices)")
    t.ok(rep.get("inject", {}).get("stragglers") == [{"rank": 5, "delay_ps": 30000000}],
         f"{mode}: report.inject lists the straggler")
    if mode == "data":
        man = load_json(os.path.join(out, "manifest.json"))
        files = {(x["op"], x["rank"], x["name"]): x["file"] for x in man["tensors"]}
        same = all(np.array_equal(np.load(os.path.join(out, files[("barrier", r, "xRef")])),
                                  np.load(os.path.join(out, files[("a2a", r, "recvBuf")])))
                   for r in range(N))
        t.ok(same, "data: xRef is untouched (equals the producer's recvBuf on every rank)")

# ---- timeout ----
for mode in ("timing", "data"):
    for timeout, want in ((20, 1), (60, 0)):
        scen = base(mode, [{"op": "DistributeBarrierV2", "name": "barrier", "group": "bar",
                            "timeOut": timeout}],
                    inject={"stragglers": [{"rank": 3, "delay_us": 40}]})
        p, out = go(f"timeout-{mode}-{timeout}", scen)
        msg = p.stderr
        if want:
            ok = p.returncode == 1 and "timeout" in msg and "rank 3" in msg \
                and "timeOutOptional" in msg
            t.ok(ok, f"{mode}: timeOut 20 us with a 40 us straggler fails the run (exit 1) "
                 "naming rank 3", f"exit {p.returncode}: {msg}")
        else:
            t.ok(p.returncode == 0, f"{mode}: timeOut 60 us with a 40 us straggler passes", msg)

# ---- window halves ----
ops = [{"op": "DistributeBarrierV2", "name": f"b{i}", "group": "bar", "stream": 0}
       for i in range(3)] + [{"op": "DistributeBarrierV2", "name": "c0", "group": "bar2",
                              "stream": 1}]
p, out = go("halves", base("data", ops))
if t.ok(p.returncode == 0, "three back-to-back barriers and one in another group run", p.stderr):
    rep = load_json(os.path.join(out, "report.json"))
    halves = [o["attrs"]["windowHalf"] for o in rep["ops"]]
    t.ok(halves == [0, 1, 0, 0], f"window halves alternate per group: {halves}")

# ---- world sizes ----
for ws in (2, 384):
    p, out = go(f"world-{ws}", base("timing", [{"op": "DistributeBarrierV2", "name": "barrier",
                                                "group": "bar"}], ranks=ws),
                ["--trace-level", "op"])
    if t.ok(p.returncode == 0, f"worldSize {ws} runs", p.stderr):
        rep = load_json(os.path.join(out, "report.json"))
        ranks, op = op_ranks(rep, "barrier")
        t.ok(len(ranks) == ws and op["attrs"]["worldSize"] == ws,
             f"worldSize {ws}: every rank took part")

# ---- link slowdown ----
a2a = dict(A2A, count=1 << 20)
p0, out0 = go("links-none", base("timing", [a2a]))
p1, out1 = go("links-slow", base("timing", [a2a], inject={"links": [{"match": "r0.ub_tx",
                                                                     "bandwidth_factor": 0.25}]}))
if t.ok(p0.returncode == 0 and p1.returncode == 0, "AlltoAll with and without a slow link runs",
        p0.stderr + p1.stderr):
    r0, r1 = load_json(os.path.join(out0, "report.json")), load_json(os.path.join(out1, "report.json"))
    l0, l1 = r0["ops"][0]["latency_ps"], r1["ops"][0]["latency_ps"]
    t.ok(l1 > l0, f"r0.ub_tx at 1/4 bandwidth makes the AlltoAll slower ({l0 / US:.3f} -> "
         f"{l1 / US:.3f} us)")
    links = r1.get("inject", {}).get("links", [])
    ok = len(links) == 1 and links[0]["name"] == "r0.ub_tx" \
        and abs(links[0]["bandwidth_Bps"] - 0.25 * links[0]["bandwidth_Bps_preset"]) < 1
    t.ok(ok, "report.inject lists r0.ub_tx at a quarter of its preset bandwidth", links)
p, _ = go("links-bad", base("timing", [a2a], inject={"links": [{"match": "r0.nothing",
                                                                "bandwidth_factor": 2}]}))
t.ok(p.returncode == 3 and "inject.links[0].match" in p.stderr,
     "a link pattern that matches nothing is a scenario error", p.stderr)

# ---- the barrier absorbs a straggler's skew (scenarios/barrier-a3-straggler.json) ----
sc = os.path.join(os.environ.get("NPU_SRCDIR", "."), "scenarios", "barrier-a3-straggler.json")
p = run(["run", sc, "--out", os.path.join(work, "absorb"), "--quiet"])
if t.ok(p.returncode == 0, "scenarios/barrier-a3-straggler.json runs", p.stderr):
    rep = load_json(os.path.join(work, "absorb", "report.json"))
    before, _ = op_ranks(rep, "dispatch-like")
    after, _ = op_ranks(rep, "next")
    skew_before = max(e for _, e in before.values()) - min(e for _, e in before.values())
    skew_after = max(s for s, _ in after.values()) - min(s for s, _ in after.values())
    delay = rep["inject"]["stragglers"][0]["delay_ps"]
    t.ok(skew_before >= delay, f"before the barrier the ranks finish {skew_before / US:.3f} us "
         "apart")
    t.ok(skew_after < 1 * US, f"after the barrier the next op starts within "
         f"{skew_after / US:.3f} us on every rank")
shutil.rmtree(work, ignore_errors=True)
t.done()
