"""Shared by the bench/*.py benchmarks: run a program as its own process and measure it.

Every measured run is a separate process, so os.wait4 gives that process's own peak
RSS and CPU time; wall time is taken around it. `measure` repeats a command and
reports the median (and spread) of the wall times and the largest peak RSS.
`header` starts a result object with what tells how fast and how busy the machine
was: `calibration_s` (a fixed CPU-bound loop, to compare runs on different machines as
ratios) and the load average (a shared machine makes wall times noisy)."""
import json
import os
import statistics
import subprocess
import sys
import time


def run_once(cmd):
    """Run @cmd (a list) with stdout discarded. Returns (wall_s, peak_rss_bytes, cpu_s)
    of that process; a non-zero exit raises RuntimeError with its stderr."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err}")
    return wall, ru.ru_maxrss * 1024, ru.ru_utime + ru.ru_stime


def measure(cmd, repeat):
    """Run @cmd @repeat times: median, min and max wall time, the median CPU time and
    the largest peak RSS, as a dict (seconds, bytes)."""
    walls, cpus, rss = [], [], 0
    for _ in range(repeat):
        w, r, c = run_once(cmd)
        walls.append(w)
        cpus.append(c)
        rss = max(rss, r)
    return {"wall_s_median": statistics.median(walls), "wall_s_min": min(walls),
            "wall_s_max": max(walls), "cpu_s_median": statistics.median(cpus),
            "peak_rss_bytes": rss}


def calibration():
    """Seconds of a fixed CPU-bound Python loop (the machine's speed, this run)."""
    t0 = time.perf_counter()
    x = 0
    for _ in range(3_000_000):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return time.perf_counter() - t0


def header(name, repeat, **extra):
    """The start of a benchmark's JSON object; call finish() on it at the end."""
    out = {"bench": name, "repeat": repeat, "threads": os.cpu_count(),
           "calibration_s": calibration(), "loadavg_start": os.getloadavg()[0]}
    out.update(extra)
    return out


def finish(out, path=None):
    """Record the closing load average and print @out as JSON (and write it to @path)."""
    out["loadavg_end"] = os.getloadavg()[0]
    text = json.dumps(out, indent=2)
    print(text)
    if path:
        with open(path, "w") as f:
            f.write(text + "\n")
    sys.stdout.flush()
