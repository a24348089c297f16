"""Every scenario in scenarios/ (and the built-in default): runs with the hazard checker
on, twice — with the default thread count and with NPUSIM_THREADS=1 — giving
byte-identical trace, report and tensors; every trace passes the
Perfetto importer rules of tests/trace-check.py; the report is consistent."""
import filecmp
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, load_json, SRCDIR  # noqa: E402

t = Tap()
work = tmpdir()
checker = os.path.join(SRCDIR, "tests", "trace-check.py")
scenarios = sorted(glob.glob(os.path.join(SRCDIR, "scenarios", "*.json")))
t.ok(len(scenarios) >= 4, "scenarios/ has the example scenarios", scenarios)


def files_of(d):
    out = []
    for root, _, names in os.walk(d):
        out += [os.path.relpath(os.path.join(root, n), d) for n in names]
    return sorted(out)


for path in [None] + scenarios:
    name = "default" if path is None else os.path.basename(path)[:-5]
    dirs = []
    for k in range(2):
        out = os.path.join(work, f"{name}-{k}")
        args = ["run"] + ([] if path is None else [path]) + ["--out", out, "--quiet",
                                                               "--trace-level", "all"]
        p = run(args, env={"NPUSIM_THREADS": "1"} if k == 1 else None)
        if not t.ok(p.returncode == 0, f"{name}: run {k + 1} succeeds (hazard checker on)", p.stderr):
            break
        dirs.append(out)
    if len(dirs) != 2:
        continue
    a, b = files_of(dirs[0]), files_of(dirs[1])
    same = a == b and all(filecmp.cmp(os.path.join(dirs[0], f), os.path.join(dirs[1], f),
                                      shallow=False) for f in a)
    t.ok(same, f"{name}: two runs (2 threads, 1 thread) are byte-identical ({len(a)} files)")
    c = subprocess.run([sys.executable, checker, os.path.join(dirs[0], "trace.json")],
                       capture_output=True, text=True)
    t.ok(c.returncode == 0, f"{name}: trace passes the Perfetto importer rules",
         c.stdout + c.stderr)
    rep = load_json(os.path.join(dirs[0], "report.json"))
    man = load_json(os.path.join(dirs[0], "manifest.json"))
    ok = all(op["latency_ps"] > 0 and op["end_ps"] <= rep["makespan_ps"]
             and op["bound"] in ("communication", "compute", "memory", "latency")
             for op in rep["ops"])
    t.ok(ok, f"{name}: every op has a latency and a bound verdict", rep["ops"])
    if man["mode"] == "data":
        files_ok = all(x["file"] and os.path.exists(os.path.join(dirs[0], x["file"]))
                       for x in man["tensors"])
        roles = {x["role"] for x in man["tensors"]}
        t.ok(files_ok and roles == {"input", "output"},
             f"{name}: manifest lists input and output .npy files that exist")
t.done()
