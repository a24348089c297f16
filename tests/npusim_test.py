"""Shared helpers for the Python tests: TAP output, running npusim, reading outputs."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRCDIR = os.environ.get("NPU_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILDDIR = os.environ.get("NPU_BUILDDIR", SRCDIR)
NPUSIM = os.path.join(BUILDDIR, "npusim")


class Tap:
    """Minimal TAP producer: plan at the end, one line per check."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {name}")
        else:
            self.failed += 1
            print(f"not ok {self.n} - {name}")
            for line in str(detail).splitlines()[:20]:
                print(f"# {line}")
        sys.stdout.flush()
        return cond

    def done(self):
        print(f"1..{self.n}")
        sys.exit(0)


def run(args, env=None, cwd=None):
    """Run npusim with args; returns CompletedProcess with text output."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([NPUSIM] + list(args), capture_output=True, text=True, env=e, cwd=cwd)


def tmpdir():
    """A scratch folder removed when the test exits (kept if NPUSIM_KEEP_TEST_DIRS is set,
    for debugging a failure)."""
    d = tempfile.mkdtemp(prefix="npusim-test-")
    if not os.environ.get("NPUSIM_KEEP_TEST_DIRS"):
        atexit.register(shutil.rmtree, d, True)
    return d


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def load_json(path):
    with open(path) as f:
        return json.load(f)
