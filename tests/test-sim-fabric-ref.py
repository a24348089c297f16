#!/usr/bin/env python3
"""npusim tests -- the fabric against an independent fluid model.

tests/sim-fabric-dump runs random flow sets (multi-link paths, own rate caps, many
flows starting at the same instants) through sim/fabric.c and prints every link,
flow and completion time. This script recomputes the completion times with exact
rational arithmetic (fractions.Fraction): max-min fair rates by progressive
filling, piecewise-constant rates between starts and drains, plus the sum of the
path latencies. The simulator rounds each drain time up to a whole ps and uses
doubles, so its times may be late by a few ps per re-allocation and never early
by more than float noise. Prints TAP."""
import os
import subprocess
import sys
from fractions import Fraction

PS_PER_S = 10 ** 12
CASES = [(1, 6, 60), (2, 12, 150), (3, 4, 120), (4, 24, 200)]  # seed, links, flows


def max_min(active, links):
    """Rates (B/s) of the active flows: progressive filling, exact."""
    rem = {l: links[l][0] for l in links}
    rate = {}
    unfrozen = {f["id"]: f for f in active}
    while unfrozen:
        count = {}
        for f in unfrozen.values():
            for l in f["path"]:
                count[l] = count.get(l, 0) + 1
        level = min(rem[l] / count[l] for l in count)
        caps = [f["cap"] for f in unfrozen.values() if f["cap"] > 0]
        if caps:
            level = min(level, min(caps))
        bottleneck = {l for l in count if rem[l] / count[l] <= level}
        frozen = [f for f in unfrozen.values()
                  if (f["cap"] > 0 and f["cap"] <= level) or bottleneck & set(f["path"])]
        assert frozen
        for f in frozen:
            rate[f["id"]] = level
            for l in f["path"]:
                rem[l] -= level
            del unfrozen[f["id"]]
    return rate


def fluid(links, flows):
    """Exact completion times (ps, Fraction) of every flow."""
    pending = sorted(flows, key=lambda f: (f["start"], f["id"]))
    active, left, done = [], {}, {}
    t = Fraction(0)
    while pending or active:
        while pending and pending[0]["start"] <= t:
            f = pending.pop(0)
            active.append(f)
            left[f["id"]] = f["bytes"]
        rate = max_min(active, links) if active else {}
        nxt = None
        for f in active:
            d = t + left[f["id"]] * PS_PER_S / rate[f["id"]]
            nxt = d if nxt is None or d < nxt else nxt
        if pending and (nxt is None or pending[0]["start"] < nxt):
            nxt = Fraction(pending[0]["start"])
        for f in active:
            left[f["id"]] -= rate[f["id"]] * (nxt - t) / PS_PER_S
        t = nxt
        for f in [f for f in active if left[f["id"]] <= 0]:
            done[f["id"]] = t + sum(links[l][1] for l in f["path"])
            active.remove(f)
    return done


def parse(text):
    links, flows, got = {}, [], {}
    for line in text.splitlines():
        p = line.split()
        if p[0] == "L":
            links[int(p[1])] = (Fraction(float(p[2])), int(p[3]))
        elif p[0] == "F":
            flows.append({"id": int(p[1]), "start": int(p[2]), "cap": Fraction(float(p[3])),
                          "bytes": Fraction(int(p[4])), "path": [int(x) for x in p[5:]]})
        elif p[0] == "D":
            got[int(p[1])] = int(p[2])
    return links, flows, got


def main():
    builddir = os.environ.get("NPU_BUILDDIR", ".")
    driver = os.path.join(builddir, "tests", "sim-fabric-dump")
    print("1..%d" % len(CASES))
    failed = 0
    for n, (seed, n_links, n_flows) in enumerate(CASES, 1):
        out = subprocess.run([driver, str(seed), str(n_links), str(n_flows)],
                             check=True, capture_output=True, text=True).stdout
        links, flows, got = parse(out)
        ref = fluid(links, flows)
        problems = []
        for i in sorted(ref):
            diff = got[i] - ref[i]
            if not -1 <= diff <= 100:
                problems.append("flow %d: simulated %d ps, reference %.3f ps" %
                                (i, got[i], float(ref[i])))
        worst = max(abs(float(got[i] - ref[i])) for i in ref)
        name = "seed %d: %d flows over %d links (worst difference %.3f ps)" % (
            seed, n_flows, n_links, worst)
        if problems or len(ref) != n_flows:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for p in problems[:10]:
                print("# " + p)
        else:
            print("ok %d - %s" % (n, name))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
