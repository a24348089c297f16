#!/usr/bin/env python3
"""TAP test of tests/trace-check.py: it must accept valid traces and reject each kind
of broken trace, naming the problem. Traces are written by hand here, so what is
valid is decided from the format rules, not from the writer's output."""

import json
import os
import subprocess
import sys
import tempfile

SRCDIR = os.environ.get("NPU_SRCDIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CHECKER = os.path.join(SRCDIR, "tests", "trace-check.py")

results = []


def meta(pid, tid=None, pname="P", tname="T"):
    evs = [{"name": "process_name", "ph": "M", "pid": pid, "args": {"name": pname}}]
    if tid is not None:
        evs.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                    "args": {"name": tname}})
    return evs


def X(name, ts, dur, pid=1, tid=1, **kw):
    ev = {"name": name, "ph": "X", "ts": ts, "dur": dur, "pid": pid, "tid": tid}
    ev.update(kw)
    return ev


def flow(fid, ts_s, ts_f, track_s=(1, 1), track_f=(1, 1), name="send", cat="flow", bp="e"):
    s = {"name": name, "cat": cat, "ph": "s", "id": fid, "ts": ts_s,
         "pid": track_s[0], "tid": track_s[1]}
    f = {"name": name, "cat": cat, "ph": "f", "id": fid, "ts": ts_f,
         "pid": track_f[0], "tid": track_f[1]}
    if bp is not None:
        f["bp"] = bp
    return [s, f]


def doc(events, **top):
    d = {"traceEvents": events, "displayTimeUnit": "ns"}
    d.update(top)
    return d


def run_checker(obj=None, text=None, extra=()):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fp:
        # Traces with exact decimal timestamps are passed as raw text.
        fp.write(text if text is not None else json.dumps(obj))
        path = fp.name
    try:
        p = subprocess.run([sys.executable, CHECKER, *extra, path],
                           capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(path)
    return p.returncode, p.stdout


def expect_ok(desc, obj=None, text=None, extra=()):
    rc, out = run_checker(obj, text, extra)
    results.append((rc == 0 and out.strip() == "ok", desc, out))


def expect_bad(desc, needle, obj=None, text=None, extra=()):
    rc, out = run_checker(obj, text, extra)
    results.append((rc == 1 and needle in out, desc, out))


base = meta(1, 1)

# ---- valid traces -----------------------------------------------------------
expect_ok("minimal valid trace", doc(base + [X("a", 0, 1)]))
expect_ok("empty traceEvents", doc([]))
expect_ok("displayTimeUnit ms", doc(base + [X("a", 0, 1)], displayTimeUnit="ms"))
expect_ok("nested and disjoint slices",
          doc(base + [X("a", 0, 10), X("b", 2, 3), X("c", 10, 5), X("d", 10, 5)]))
# A child reported before its parent with the same start: Perfetto sorts the longer
# slice first at equal ts, so this nests.
expect_ok("child before parent at equal start", doc(base + [X("child", 5, 2), X("parent", 5, 10)]))
# Back-to-back at a ts whose double * 1000 is just below the integer (1.005 ->
# 1004.9999999999999): exact decimal conversion keeps them touching, not overlapping.
expect_ok("back-to-back at 1.005 us",
          text='{"traceEvents":[%s,%s,%s,%s],"displayTimeUnit":"ns"}' % (
              json.dumps(base[0]), json.dumps(base[1]),
              '{"name":"a","ph":"X","ts":0.000,"dur":1.005,"pid":1,"tid":1}',
              '{"name":"b","ph":"X","ts":1.005,"dur":0.995,"pid":1,"tid":1}'))
expect_ok("zero-duration slices at a slice end and nested",
          doc(base + [X("a", 0, 10), X("i", 10, 0), X("j", 5, 0), X("k", 5, 0)]))
expect_ok("same tid in two pids is two tracks",
          doc(meta(1, 1) + meta(2, 1) + [X("a", 0, 10, pid=1), X("b", 5, 10, pid=2)]))
expect_ok("thread instant inside a slice",
          doc(base + [X("a", 0, 10), {"name": "i", "ph": "i", "s": "t", "ts": 4, "pid": 1, "tid": 1}]))
expect_ok("balanced B/E", doc(base + [
    {"name": "b", "ph": "B", "ts": 0, "pid": 1, "tid": 1},
    {"name": "c", "ph": "B", "ts": 1, "pid": 1, "tid": 1},
    {"name": "c", "ph": "E", "ts": 2, "pid": 1, "tid": 1},
    {"name": "b", "ph": "E", "ts": 3, "pid": 1, "tid": 1}]))
expect_ok("flow between two tracks", doc(meta(1, 1) + meta(1, 2) + [
    X("send", 0, 10, tid=1), X("recv", 5, 10, tid=2)] + flow(7, 2, 8, (1, 1), (1, 2))))
expect_ok("flow with string (hex) id", doc(base + [X("a", 0, 10)] + flow("0x1f", 1, 2)))
expect_ok("flow endpoint at a slice end (closed interval)",
          doc(base + [X("a", 0, 10)] + flow(1, 0, 10)))
expect_ok("counter with int and float series",
          text='{"traceEvents":[{"name":"bw","ph":"C","pid":1,"ts":1.5,"args":{"a":3,"b":0.25}}]}')
# A flow at 6 after child [2,4) inside [0,10): Perfetto binds it to the finished
# child (top of the stack); the default check only asks for an enclosing slice.
stale = doc(base + [X("p", 0, 10), X("c", 2, 2)] + flow(3, 6, 7))
expect_ok("stale stack binding accepted by default", stale)
expect_bad("stale stack binding rejected with --strict", "does not contain it", stale,
           extra=("--strict",))
expect_ok("f without bp binds to the next slice",
          doc(base + [X("a", 0, 2), X("b", 5, 2)] + flow(4, 1, 3, bp=None)))

# ---- broken traces ----------------------------------------------------------
expect_bad("not JSON", "cannot read as JSON", text='{"traceEvents":[')
expect_bad("NaN is not JSON", "cannot read as JSON",
           text='{"traceEvents":[{"name":"c","ph":"C","pid":1,"ts":0,"args":{"v":NaN}}]}')
expect_bad("array form", "not an object", [X("a", 0, 1)])
expect_bad("missing traceEvents", "traceEvents is missing", {"displayTimeUnit": "ns"})
expect_bad("bad displayTimeUnit", "displayTimeUnit", doc(base, displayTimeUnit="s"))
expect_bad("event without ph", "ph None", doc(base + [{"name": "a", "pid": 1, "tid": 1, "ts": 0}]))
expect_bad("unknown phase", "unknown phase", doc(base + [{"ph": "Q", "pid": 1, "ts": 0}]))
expect_bad("X without tid", "tid None", doc(base + [{"name": "a", "ph": "X", "ts": 0, "dur": 1, "pid": 1}]))
expect_bad("pid out of uint32 range", "uint32", doc(base + [X("a", 0, 1, pid=2**32)]))
expect_bad("negative tid", "uint32", doc(base + [X("a", 0, 1, tid=-1)]))
expect_bad("boolean pid", "uint32", doc(base + [X("a", 0, 1, pid=True)]))
expect_bad("string ts", "ts '1' is not a number", doc(base + [X("a", "1", 1)]))
expect_bad("negative dur", "negative dur", doc(base + [X("a", 5, -1)]))
expect_bad("X without dur", "dur None", doc(base + [{"name": "a", "ph": "X", "ts": 0, "pid": 1, "tid": 1}]))
expect_bad("partial overlap", "partially overlaps", doc(base + [X("a", 0, 10), X("b", 5, 10)]))
expect_bad("partial overlap by 1 ns",
           "partially overlaps",
           text='{"traceEvents":[%s,%s,%s,%s]}' % (
               json.dumps(base[0]), json.dumps(base[1]),
               '{"name":"a","ph":"X","ts":0.000,"dur":1.006,"pid":1,"tid":1}',
               '{"name":"b","ph":"X","ts":1.005,"dur":0.995,"pid":1,"tid":1}'))
expect_bad("child ends after parent", "partially overlaps",
           doc(base + [X("p", 0, 10), X("c", 2, 9)]))
expect_bad("E without B", "without an open B",
           doc(base + [{"name": "b", "ph": "E", "ts": 3, "pid": 1, "tid": 1}]))
expect_bad("B never ended", "never ended",
           doc(base + [{"name": "b", "ph": "B", "ts": 3, "pid": 1, "tid": 1}]))
expect_bad("flow s without f", "1 start (s) and 0 end",
           doc(base + [X("a", 0, 10)] + flow(1, 1, 2)[:1]))
expect_bad("flow f without s", "0 start (s) and 1 end",
           doc(base + [X("a", 0, 10)] + flow(1, 1, 2)[1:]))
expect_bad("duplicate flow id", "2 start (s) and 2 end",
           doc(base + [X("a", 0, 10)] + flow(1, 1, 2) + flow(1, 3, 4)))
expect_bad("flow ends before it starts", "ends (2.000) before it starts (3.000)",
           doc(base + [X("a", 0, 10)] + flow(1, 3, 2)))
expect_bad("flow f before s at equal ts", "comes before its s event",
           doc(base + [X("a", 0, 10)] + list(reversed(flow(1, 3, 3)))))
expect_bad("flow cat mismatch", "has cat",
           doc(base + [X("a", 0, 10), flow(1, 1, 2)[0], dict(flow(1, 1, 2)[1], cat="other")]))
expect_bad("flow name mismatch", "has name",
           doc(base + [X("a", 0, 10), flow(1, 1, 2)[0], dict(flow(1, 1, 2)[1], name="other")]))
expect_bad("flow endpoint before any slice", "has no enclosing slice",
           doc(base + [X("a", 5, 10)] + flow(1, 1, 6)))
expect_bad("flow endpoint between slices", "is not inside any slice",
           doc(base + [X("a", 0, 2), X("b", 5, 2)] + flow(1, 1, 3)))
expect_bad("flow endpoint on a track without slices", "has no enclosing slice",
           doc(meta(1, 1) + meta(1, 2) + [X("a", 0, 10, tid=1)] + flow(1, 1, 2, (1, 1), (1, 2))))
expect_bad("invalid flow id", "invalid flow id",
           doc(base + [X("a", 0, 10)] + flow("zz", 1, 2)))
expect_bad("f without bp and no later slice", "no slice begins",
           doc(base + [X("a", 0, 2)] + flow(4, 1, 3, bp=None)))
expect_bad("counter with a string value", "is not a number",
           doc([{"name": "bw", "ph": "C", "pid": 1, "ts": 0, "args": {"v": "3"}}]))
expect_bad("counter with a boolean value", "is not a number",
           doc([{"name": "bw", "ph": "C", "pid": 1, "ts": 0, "args": {"v": True}}]))
expect_bad("counter without args", "non-empty object",
           doc([{"name": "bw", "ph": "C", "pid": 1, "ts": 0}]))
expect_bad("slice track without thread_name", "pid 1 tid 2 has slices but no thread_name",
           doc(base + [X("a", 0, 1, tid=2)]))
expect_bad("slice pid without process_name", "pid 3 has slices but no process_name",
           doc(base + [{"name": "thread_name", "ph": "M", "pid": 3, "tid": 1, "args": {"name": "t"}},
                       X("a", 0, 1, pid=3)]))
expect_bad("metadata without args.name", "args.name is not a string",
           doc([{"name": "process_name", "ph": "M", "pid": 1, "args": {}}]))
expect_bad("sort index not an integer", "sort_index is not an integer",
           doc([{"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": 1, "args": {"sort_index": "2"}}]))

print("1..%d" % len(results))
for n, (ok, desc, out) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
    if not ok:
        for line in out.splitlines()[:10]:
            print("#   " + line)
sys.exit(0)
