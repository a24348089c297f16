#!/usr/bin/env python3
"""trace-check.py: check a Chrome JSON trace the way Perfetto's JSON importer reads it.

Usage: trace-check.py [--strict] TRACE.json

Prints "ok" and exits 0, or prints one line per problem and exits 1.

The rules follow Perfetto's importer (src/trace_processor/importers/json/ and
importers/common/{slice,flow}_tracker.cc):

- The file is an object {"traceEvents": [...], ...}; "displayTimeUnit", when
  present, is "ms" or "ns".
- Every event is an object with a string "ph"; "pid" (and "tid" for thread-scoped
  phases: X B E s t f, instant events with thread scope, thread_* metadata) are
  integers in the uint32 range. Every event but metadata has a numeric "ts" >= 0.
- Timestamps are microseconds; they are converted to integer nanoseconds exactly
  (decimal arithmetic, round half up, as Perfetto's llround(ts * 1000)).
- X events have a numeric "dur" >= 0. B/E events balance per thread.
- Per thread, events are processed in Perfetto's order: by ts, then E events, then
  X events longest first, then everything else, then file order. A slice that starts
  inside the open slice on top of the thread's stack must end inside it (no partial
  overlap); Perfetto would not nest it (older versions drop it).
- Flows (v1): every "s" has exactly one "f" with the same id and vice versa, with the
  same cat and name (Perfetto keys v1 flows by (id, cat, name)) and f.ts >= s.ts
  (at equal ts, "s" first in the file).
  Each endpoint binds to the topmost open slice of its thread when it is processed
  (for "f" only with "bp":"e"; without it, to the next slice that begins there): it
  must exist, and some slice of that thread must contain the endpoint (start <= ts <=
  end). With --strict the bound slice itself must contain it (Perfetto does not pop
  slices that ended before a flow, so a flow after a finished child binds to that
  child).
- Counter ("C") events have a name and a non-empty "args" object of numbers.
- Every pid used by slices has a process_name and every (pid, tid) a thread_name.
"""

import argparse
import bisect
import json
import sys
from decimal import Decimal, ROUND_HALF_UP

UINT32_MAX = 2**32 - 1
KNOWN_PHASES = set("BEXiICstfMbenPONDRT")
THREAD_PHASES = set("XBEstf")
METADATA_NAMES = {"process_name", "process_labels", "process_sort_index",
                  "process_uptime_seconds", "thread_name", "thread_sort_index"}
MAX_REPORTED = 100


def is_int(v):
    return type(v) is int


def is_num(v):
    return type(v) is int or type(v) is Decimal


def to_ns(v):
    """Microseconds (JSON int or exact Decimal) to integer nanoseconds."""
    if type(v) is int:
        return v * 1000
    return int((v * 1000).to_integral_value(rounding=ROUND_HALF_UP))


def fmt_ns(ns):
    return "%d.%03d" % divmod(ns, 1000) if ns >= 0 else str(Decimal(ns) / 1000)


def reject_constant(name):
    raise ValueError("non-standard JSON constant %s" % name)


class Checker:
    def __init__(self, strict=False):
        self.strict = strict
        self.problems = []
        self.slices = {}      # (pid, tid) -> [(start_ns, dur_ns, idx, name)]
        self.begins_ends = {}  # (pid, tid) -> [(ts_ns, ph, idx, name)]
        self.flow_points = {}  # (pid, tid) -> [(ts_ns, idx, ph, bind_enclosing, id)]
        self.flows = {}       # id -> {"s": [...], "f": [...]}
        self.process_names = set()
        self.thread_names = set()

    def problem(self, msg):
        self.problems.append(msg)

    # ---- one event -----------------------------------------------------------
    def uint32_field(self, i, ev, key):
        v = ev.get(key)
        if not is_int(v) or not 0 <= v <= UINT32_MAX:
            self.problem("event %d (ph %s): %s %r is not an integer in the uint32 range"
                         % (i, ev.get("ph"), key, v))
            return None
        return v

    def ts_field(self, i, ev, key="ts"):
        v = ev.get(key)
        if not is_num(v):
            self.problem("event %d (ph %s): %s %r is not a number" % (i, ev.get("ph"), key, v))
            return None
        ns = to_ns(v)
        if ns < 0:
            self.problem("event %d (ph %s): negative %s %s" % (i, ev.get("ph"), key, v))
            return None
        return ns

    def check_event(self, i, ev):
        if not isinstance(ev, dict):
            self.problem("event %d is not an object" % i)
            return
        ph = ev.get("ph")
        if not isinstance(ph, str) or len(ph) != 1:
            self.problem("event %d: ph %r is not a one-letter string" % (i, ph))
            return
        if ph not in KNOWN_PHASES:
            self.problem("event %d: unknown phase %r" % (i, ph))
            return
        name = ev.get("name")
        if name is not None and not isinstance(name, str):
            self.problem("event %d (ph %s): name %r is not a string" % (i, ph, name))
        pid = self.uint32_field(i, ev, "pid")
        thread_scoped = ph in THREAD_PHASES or (
            ph in "iI" and ev.get("s", "t") == "t") or (
            ph == "M" and isinstance(name, str) and name.startswith("thread_"))
        tid = self.uint32_field(i, ev, "tid") if thread_scoped else ev.get("tid")
        if ph == "M":
            self.check_metadata(i, ev, name, pid, tid)
            return
        ts = self.ts_field(i, ev)
        if pid is None or ts is None or (thread_scoped and tid is None):
            return
        track = (pid, tid)
        if ph == "X":
            dur = self.ts_field(i, ev, "dur")
            if dur is not None:
                self.slices.setdefault(track, []).append((ts, dur, i, name))
        elif ph in "BE":
            self.begins_ends.setdefault(track, []).append((ts, ph, i, name))
        elif ph in "iI" and thread_scoped:
            # Perfetto imports a thread-scoped instant as a zero-duration slice.
            self.slices.setdefault(track, []).append((ts, 0, i, name))
        elif ph in "stf":
            self.check_flow_event(i, ev, ph, track, ts)
        elif ph == "C":
            self.check_counter(i, ev, name)

    def check_metadata(self, i, ev, name, pid, tid):
        if name not in METADATA_NAMES:
            self.problem("event %d: unknown metadata name %r" % (i, name))
            return
        args = ev.get("args")
        if not isinstance(args, dict):
            self.problem("event %d (%s): args is not an object" % (i, name))
            return
        if name.endswith("_name"):
            if not isinstance(args.get("name"), str):
                self.problem("event %d (%s): args.name is not a string" % (i, name))
            elif pid is not None:
                if name == "process_name":
                    self.process_names.add(pid)
                elif tid is not None:
                    self.thread_names.add((pid, tid))
        elif name.endswith("_sort_index") and not is_int(args.get("sort_index")):
            self.problem("event %d (%s): args.sort_index is not an integer" % (i, name))

    def check_flow_event(self, i, ev, ph, track, ts):
        raw = ev.get("id")
        if is_int(raw) and raw >= 0:
            fid = raw
        elif isinstance(raw, str):
            try:
                fid = int(raw, 16)
            except ValueError:
                fid = None
        else:
            fid = None
        if fid is None:
            self.problem("event %d (ph %s): invalid flow id %r" % (i, ph, raw))
            return
        bind_enclosing = ph != "f" or ev.get("bp") == "e"
        self.flow_points.setdefault(track, []).append((ts, i, ph, bind_enclosing, fid))
        if ph in "sf":
            self.flows.setdefault(fid, {"s": [], "f": []})[ph].append(
                (ts, i, ev.get("cat"), ev.get("name")))

    def check_counter(self, i, ev, name):
        if not isinstance(name, str):
            self.problem("event %d (C): counter without a name" % i)
        args = ev.get("args")
        if not isinstance(args, dict) or not args:
            self.problem("event %d (C %s): args is not a non-empty object" % (i, name))
            return
        for k, v in args.items():
            if not is_num(v):
                self.problem("event %d (C %s): series %r value %r is not a number"
                             % (i, name, k, v))

    # ---- whole trace ---------------------------------------------------------
    def match_begin_end(self):
        for track, evs in sorted(self.begins_ends.items()):
            stack = []
            # Perfetto sorts E before anything else at the same ts.
            for ts, ph, i, name in sorted(evs, key=lambda e: (e[0], 0 if e[1] == "E" else 1, e[2])):
                if ph == "B":
                    stack.append((ts, i, name))
                elif not stack:
                    self.problem("pid %d tid %d: E event %d at %s without an open B"
                                 % (track[0], track[1], i, fmt_ns(ts)))
                else:
                    bts, bi, bname = stack.pop()
                    self.slices.setdefault(track, []).append((bts, ts - bts, bi, bname))
            for bts, bi, bname in stack:
                self.problem("pid %d tid %d: B event %d (%s) at %s is never ended"
                             % (track[0], track[1], bi, bname, fmt_ns(bts)))

    def check_tracks(self):
        big = 2**63
        for track in sorted(set(self.slices) | set(self.flow_points)):
            pid, tid = track
            where = "pid %d tid %d" % (pid, tid)
            slices = self.slices.get(track, [])
            items = [(s, big - d, i, "X", d, name) for s, d, i, name in slices]
            items += [(ts, big, i, ph, bind, fid)
                      for ts, i, ph, bind, fid in self.flow_points.get(track, [])]
            items.sort(key=lambda x: (x[0], x[1], x[2]))
            starts = sorted((s, s + d) for s, d, _, _ in slices)
            start_keys = [s for s, _ in starts]
            max_end, m = [], -1
            for _, e in starts:
                m = max(m, e)
                max_end.append(m)
            stack = []  # (start, end, dur, idx, name)
            for ts, _, i, kind, a, b in items:
                if kind == "X":
                    dur, name = a, b
                    while stack:
                        top = stack[-1]
                        if top[1] < ts or (top[1] == ts and not (top[2] == 0 and dur == 0)):
                            stack.pop()
                        else:
                            break
                    if stack and ts + dur > stack[-1][1]:
                        top = stack[-1]
                        self.problem(
                            "%s: slice %d %r [%s, %s) partially overlaps slice %d %r [%s, %s)"
                            % (where, i, name, fmt_ns(ts), fmt_ns(ts + dur),
                               top[3], top[4], fmt_ns(top[0]), fmt_ns(top[1])))
                        continue
                    stack.append((ts, ts + dur, dur, i, name))
                    continue
                ph, bind, fid = kind, a, b
                if not bind:
                    # "f" without bp:e binds to the next slice that begins on the track.
                    k = bisect.bisect_left(start_keys, ts)
                    if k == len(start_keys):
                        self.problem("%s: flow %s event %d (id %d) at %s: no slice begins "
                                     "at or after it" % (where, ph, i, fid, fmt_ns(ts)))
                    continue
                if not stack:
                    self.problem("%s: flow %s event %d (id %d) at %s has no enclosing slice"
                                 % (where, ph, i, fid, fmt_ns(ts)))
                    continue
                k = bisect.bisect_right(start_keys, ts)
                if k == 0 or max_end[k - 1] < ts:
                    self.problem("%s: flow %s event %d (id %d) at %s is not inside any slice"
                                 % (where, ph, i, fid, fmt_ns(ts)))
                    continue
                top = stack[-1]
                if self.strict and not top[0] <= ts <= top[1]:
                    self.problem("%s: flow %s event %d (id %d) at %s binds to slice %d %r "
                                 "[%s, %s), which does not contain it"
                                 % (where, ph, i, fid, fmt_ns(ts), top[3], top[4],
                                    fmt_ns(top[0]), fmt_ns(top[1])))

    def check_flow_pairs(self):
        for fid in sorted(self.flows):
            s, f = self.flows[fid]["s"], self.flows[fid]["f"]
            if len(s) != 1 or len(f) != 1:
                self.problem("flow id %d has %d start (s) and %d end (f) events, want 1 and 1"
                             % (fid, len(s), len(f)))
                continue
            (sts, si, scat, sname), (fts, fi, fcat, fname) = s[0], f[0]
            if scat != fcat:
                self.problem("flow id %d: s event %d has cat %r, f event %d has cat %r"
                             % (fid, si, scat, fi, fcat))
            if sname != fname:
                self.problem("flow id %d: s event %d has name %r, f event %d has name %r"
                             % (fid, si, sname, fi, fname))
            if fts < sts:
                self.problem("flow id %d ends (%s) before it starts (%s)"
                             % (fid, fmt_ns(fts), fmt_ns(sts)))
            elif fts == sts and fi < si:
                # Same ts: file order decides, and an end before its start is lost.
                self.problem("flow id %d: f event %d comes before its s event %d at %s"
                             % (fid, fi, si, fmt_ns(sts)))

    def check_names(self):
        pids_missing, tracks_missing = set(), set()
        for pid, tid in self.slices:
            if pid not in self.process_names:
                pids_missing.add(pid)
            if (pid, tid) not in self.thread_names:
                tracks_missing.add((pid, tid))
        for pid in sorted(pids_missing):
            self.problem("pid %d has slices but no process_name metadata" % pid)
        for pid, tid in sorted(tracks_missing):
            self.problem("pid %d tid %d has slices but no thread_name metadata" % (pid, tid))

    def check(self, path):
        try:
            with open(path, "rb") as fp:
                doc = json.load(fp, parse_float=Decimal, parse_constant=reject_constant)
        except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError
            self.problem("%s: cannot read as JSON: %s" % (path, exc))
            return
        if not isinstance(doc, dict):
            self.problem("top level is not an object with traceEvents")
            return
        events = doc.get("traceEvents")
        if not isinstance(events, list):
            self.problem("traceEvents is missing or not a list")
            return
        if "displayTimeUnit" in doc and doc["displayTimeUnit"] not in ("ms", "ns"):
            self.problem("displayTimeUnit %r is not \"ms\" or \"ns\"" % (doc["displayTimeUnit"],))
        for i, ev in enumerate(events):
            self.check_event(i, ev)
        self.match_begin_end()
        self.check_tracks()
        self.check_flow_pairs()
        self.check_names()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check a Chrome JSON trace as Perfetto reads it.")
    ap.add_argument("trace")
    ap.add_argument("--strict", action="store_true",
                    help="a flow endpoint's bound slice (the top of the thread's stack) "
                         "must contain it")
    args = ap.parse_args(argv)
    checker = Checker(strict=args.strict)
    checker.check(args.trace)
    if not checker.problems:
        print("ok")
        return 0
    for p in checker.problems[:MAX_REPORTED]:
        print(p)
    if len(checker.problems) > MAX_REPORTED:
        print("... and %d more problems" % (len(checker.problems) - MAX_REPORTED))
    return 1


if __name__ == "__main__":
    sys.exit(main())
