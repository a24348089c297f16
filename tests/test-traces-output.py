#!/usr/bin/env python3
"""TAP test of the traces/ outputs through tests/trace-demo:

- the demo trace loads with json.load, passes tests/trace-check.py (also --strict),
  and its events are the ones derived here by hand from the demo's inputs (times in
  ps, rounded to ns half up, printed as microseconds with 3 decimals);
- a larger pseudo-random trace (overlaps, late reports, flows) passes the checker;
- .npy files written by npu_npy_write are read by numpy.load with the right dtype,
  shape and values, and are byte-identical to numpy's own np.save output;
- .npy files written by numpy are read by npu_npy_read (the demo prints a SHA-256 of
  the data, compared with hashlib over numpy's bytes); Fortran-order and big-endian
  files are refused.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal

import numpy as np

SRCDIR = os.environ.get("NPU_SRCDIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILDDIR = os.environ.get("NPU_BUILDDIR", ".")
DEMO = os.path.join(BUILDDIR, "tests", "trace-demo")
CHECKER = os.path.join(SRCDIR, "tests", "trace-check.py")
OVERFLOW_TID = 0x40000000
US = 1000000  # ps

results = []


def report(ok, desc, detail=""):
    results.append((bool(ok), desc, detail))


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def us_text(ps):
    """ps -> ns rounded half up -> "<us>.<3 digits>", by integer arithmetic."""
    ns = ps // 1000 + (1 if ps % 1000 >= 500 else 0)
    return "%d.%03d" % divmod(ns, 1000)


def ns_of(ps):
    return ps // 1000 + (1 if ps % 1000 >= 500 else 0)


def check_demo_trace(tmp):
    path = os.path.join(tmp, "demo.json")
    p = run(DEMO, "trace", path)
    report(p.returncode == 0, "trace-demo trace runs", p.stderr)
    if p.returncode != 0:
        return
    with open(path, encoding="utf-8") as fp:
        text = fp.read()
    try:
        doc = json.loads(text, parse_float=Decimal)
        report(True, "demo trace is valid JSON")
    except ValueError as exc:
        report(False, "demo trace is valid JSON", str(exc))
        return
    report(isinstance(doc, dict) and doc.get("displayTimeUnit") == "ns"
           and isinstance(doc.get("traceEvents"), list), "object form with displayTimeUnit ns")
    lines = text.split("\n")
    report(lines[0] == '{"traceEvents":[' and lines[-2] == '"displayTimeUnit":"ns"}'
           and len(lines) == len(doc["traceEvents"]) + 4, "one event per line")

    p = run(sys.executable, CHECKER, path)
    report(p.returncode == 0 and p.stdout.strip() == "ok", "trace-check.py accepts the demo trace",
           p.stdout)
    p = run(sys.executable, CHECKER, "--strict", path)
    report(p.returncode == 0 and p.stdout.strip() == "ok",
           "trace-check.py --strict accepts the demo trace", p.stdout)

    events = doc["traceEvents"]
    xs = {e["name"]: e for e in events if e["ph"] == "X"}
    # (name, pid, tid, start ps, dur ps) as the demo reports them; copy 1 overlaps
    # copy 0 partially on (1, 2) and so lands on the first overflow lane.
    want = [("Matmul tile 0", 1, 1, 0, 20 * US), ("Matmul tile 1", 1, 1, 20 * US, 20 * US),
            ("MatmulAllReduce", 1, 1, 0, 50 * US), ("sync", 1, 1, 40 * US, 0),
            ("copy 0", 1, 2, 10 * US, 20 * US), ("copy 1", 1, OVERFLOW_TID, 25 * US, 20 * US),
            ("recv 0", 2, 2, 12 * US, 19 * US), ("Reduce", 2, 1, 31 * US, 9 * US + 500)]
    report(sorted(xs) == sorted(w[0] for w in want), "the 8 demo slices are present",
           str(sorted(xs)))
    for name, pid, tid, start, dur in want:
        e = xs.get(name)
        if e is None:
            continue
        ts_txt, dur_ns = us_text(start), ns_of(start + dur) - ns_of(start)
        ok = (e["pid"] == pid and e["tid"] == tid and str(e["ts"]) == ts_txt
              and str(e["dur"]) == "%d.%03d" % divmod(dur_ns, 1000))
        report(ok, "slice %r on pid %d tid %d at %s for %d ns" % (name, pid, tid, ts_txt, dur_ns),
               json.dumps(e, default=str))
    # The end 40.0005 us rounds up to 40.001 us: dur 9.001, written as such.
    report('"ts":31.000,"dur":9.001' in text, "Reduce end rounds half up to 40.001 us")
    op = xs.get("MatmulAllReduce", {})
    report(op.get("args") == {"m": 1024, "n": "8192", "group": [0, 1]} and op.get("cat") == "op",
           "args JSON copied verbatim")

    names = {(e["pid"], e.get("tid")): e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] in ("thread_name", "process_name")}
    report(names.get((1, None)) == "Rank 0" and names.get((2, None)) == "Rank 1",
           "process names")
    report(names.get((1, 2)) == "SDMA 0" and names.get((1, OVERFLOW_TID)) == "SDMA 0 #2",
           "overflow lane named '<track> #2'")
    sorts = {(e["pid"], e["tid"]): e["args"]["sort_index"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_sort_index"}
    report(sorts.get((1, OVERFLOW_TID)) == sorts.get((1, 2)) == 1,
           "overflow lane has its track's sort index")

    # Flows: (id, name, from pid, tid, ps, to pid, tid, ps), endpoints on the lane
    # whose slice contains them.
    want_flows = [(1, "copy 0", 1, 2, 15 * US, 2, 2, 20 * US),
                  (2, "copy 1", 1, OVERFLOW_TID, 35 * US, 2, 1, 38 * US),
                  (3, "notify", 2, 2, 30 * US, 2, 1, 32 * US)]
    for fid, name, sp, st, sts, fp_, ft, fts in want_flows:
        s = [e for e in events if e["ph"] == "s" and e.get("id") == fid]
        f = [e for e in events if e["ph"] == "f" and e.get("id") == fid]
        ok = (len(s) == 1 and len(f) == 1 and s[0]["name"] == f[0]["name"] == name
              and s[0]["cat"] == f[0]["cat"] == "flow" and f[0].get("bp") == "e"
              and (s[0]["pid"], s[0]["tid"], str(s[0]["ts"])) == (sp, st, us_text(sts))
              and (f[0]["pid"], f[0]["tid"], str(f[0]["ts"])) == (fp_, ft, us_text(fts)))
        report(ok, "flow %d %r from (%d,%d) to (%d,%d)" % (fid, name, sp, st, fp_, ft),
               json.dumps(s + f, default=str))

    cs = [(e["pid"], e["name"], str(e["ts"]), e["args"]) for e in events if e["ph"] == "C"]
    report(cs == [(1, "HBM bandwidth", "0.000", {"read": 1500000000000}),
                  (1, "HBM bandwidth", "20.000", {"read": Decimal("0.25")}),
                  (2, "link util", "12.000", {"HCCS": Decimal("0.8")})],
           "counters", str(cs))


def check_random_trace(tmp):
    path = os.path.join(tmp, "random.json")
    p = run(DEMO, "random", path)
    report(p.returncode == 0, "trace-demo random runs", p.stderr)
    if p.returncode != 0:
        return
    p = run(sys.executable, CHECKER, path)
    report(p.returncode == 0 and p.stdout.strip() == "ok",
           "trace-check.py accepts the random trace", p.stdout[:2000])
    with open(path, encoding="utf-8") as fp:
        doc = json.load(fp)
    evs = doc["traceEvents"]
    n_x = sum(1 for e in evs if e["ph"] == "X")
    lanes = {e["tid"] for e in evs if e["ph"] == "X" and e["tid"] >= OVERFLOW_TID}
    report(n_x == 3000 and len(lanes) > 0, "random trace: 3000 slices, overflow lanes used",
           "%d slices, %d lanes" % (n_x, len(lanes)))
    # Same call sequence, same bytes.
    path2 = os.path.join(tmp, "random2.json")
    run(DEMO, "random", path2)
    with open(path, "rb") as a, open(path2, "rb") as b:
        report(a.read() == b.read(), "random trace is byte-identical on a second run")


def check_npy_from_c(tmp):
    d = os.path.join(tmp, "npy-c")
    os.mkdir(d)
    p = run(DEMO, "npy-write", d)
    report(p.returncode == 0, "trace-demo npy-write runs", p.stderr)
    if p.returncode != 0:
        return
    bf16 = np.array([0x3F80, 0x4000, 0xBF80, 0x0000], dtype=np.uint16).reshape(2, 2)
    want = {
        "f32.npy": np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5) - np.float32(1),
        "f16.npy": np.array([0, 1, -2, 0.5], dtype=np.float16),
        "bf16.npy": bf16,
        "u8.npy": np.arange(5, dtype=np.uint8) * np.uint8(50),
        "i8.npy": (np.arange(8) - 4).astype(np.int8).reshape(2, 2, 2),
        "i32.npy": np.array([-2**31, 0, 2**31 - 1], dtype=np.int32),
        "i64.npy": np.array(-1234567890123, dtype=np.int64),
        "u64.npy": np.array([0, 2**64 - 1], dtype=np.uint64),
        "empty.npy": np.zeros((0, 3), dtype=np.float32),
    }
    for name, ref in want.items():
        path = os.path.join(d, name)
        try:
            arr = np.load(path, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - report any numpy failure
            report(False, "numpy.load %s" % name, str(exc))
            continue
        ok = arr.dtype == ref.dtype and arr.shape == ref.shape and np.array_equal(arr, ref)
        report(ok, "numpy.load %s: %s %s" % (name, ref.dtype.str, ref.shape),
               "%s %s %r" % (arr.dtype.str, arr.shape, arr))
        with open(path, "rb") as fp:
            raw = fp.read()
        hlen = raw[8] | raw[9] << 8
        report(raw[6:8] == b"\x01\x00" and (10 + hlen) % 64 == 0,
               "%s: format 1.0, data 64-byte aligned" % name)
        ref_path = os.path.join(tmp, "ref-" + name)
        np.save(ref_path, ref)
        with open(ref_path, "rb") as fp:
            report(fp.read() == raw, "%s: byte-identical to numpy's np.save" % name)
    # bf16 raw bits decode to 1, 2, -1, 0.
    arr = np.load(os.path.join(d, "bf16.npy"))
    f32 = (arr.astype(np.uint32) << 16).view(np.float32)
    report(np.array_equal(f32, np.array([[1, 2], [-1, 0]], dtype=np.float32)),
           "bf16 stored as <u2 raw bits")


def check_npy_to_c(tmp):
    d = os.path.join(tmp, "npy-py")
    os.mkdir(d)
    rng = np.random.default_rng(12345)
    arrays = {
        "f32_2x3x4.npy": rng.standard_normal((2, 3, 4)).astype(np.float32),
        "f64_5.npy": rng.standard_normal(5),
        "f16_7.npy": rng.standard_normal(7).astype(np.float16),
        "u2_3x3.npy": rng.integers(0, 2**16, (3, 3), dtype=np.uint16),
        "u1_10.npy": rng.integers(0, 256, 10, dtype=np.uint8),
        "i1_2x5.npy": rng.integers(-128, 128, (2, 5), dtype=np.int8),
        "i4_4.npy": rng.integers(-2**31, 2**31, 4, dtype=np.int32),
        "i8_scalar.npy": np.array(-(2**62) + 7, dtype=np.int64),
        "u8_3.npy": np.array([0, 2**63, 2**64 - 1], dtype=np.uint64),
        "bool_4.npy": np.array([True, False, True, True]),
        "empty_0.npy": np.zeros(0, dtype=np.float32),
        # Transposed: numpy writes it C-ordered (a copy), which must still work.
        "f32_T.npy": np.ascontiguousarray(rng.standard_normal((3, 2)).astype(np.float32).T),
    }
    for name, arr in arrays.items():
        path = os.path.join(d, name)
        np.save(path, arr)
        p = run(DEMO, "npy-read", path)
        want = "descr=%s shape=(%s) nbytes=%d sha256=%s" % (
            arr.dtype.str, ",".join(str(n) for n in arr.shape), arr.nbytes,
            hashlib.sha256(arr.tobytes()).hexdigest())
        report(p.returncode == 0 and p.stdout.strip() == want, "npu_npy_read %s" % name,
               p.stdout + p.stderr + " want " + want)
    # Refused: Fortran order, big-endian.
    f = np.asfortranarray(rng.standard_normal((3, 4)).astype(np.float32))
    path = os.path.join(d, "fortran.npy")
    np.save(path, f)
    p = run(DEMO, "npy-read", path)
    report(p.returncode == 2 and "Fortran" in p.stderr, "Fortran-order file refused", p.stderr)
    path = os.path.join(d, "bigendian.npy")
    np.save(path, np.arange(4, dtype=">f4"))
    p = run(DEMO, "npy-read", path)
    report(p.returncode == 2 and ">f4" in p.stderr, "big-endian file refused", p.stderr)


def main():
    with tempfile.TemporaryDirectory(prefix="npu-traces-out-") as tmp:
        check_demo_trace(tmp)
        check_random_trace(tmp)
        check_npy_from_c(tmp)
        check_npy_to_c(tmp)
    print("1..%d" % len(results))
    for n, (ok, desc, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
        if not ok and detail:
            for line in str(detail).splitlines()[:10]:
                print("#   " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
