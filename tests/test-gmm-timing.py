"""GroupedMatMulAlltoAllv execution structure (REFERENCE.md §3.2) on the spec example
(scenarios/gmm-a3-spec-example.json, timing mode), from the trace and the report:

  * the AICs run expert j+1's blocks only after every block of expert j (SyncAll);
  * expert j's AlltoAllV (the SDMA copies tagged expert j) starts after its last block
    and overlaps expert j+1's blocks: communication hidden behind the next matmul;
  * the shared expert's blocks come after the last expert's;
  * the numbers, derived by hand from the preset (report.hardware) and the tiling:
    baseM 128, baseN 256 (ComputeBaseMNK for N1 = 4096), so an expert of 2048 rows is
    16 x 16 = 256 blocks of 128 x 256 x 7168 and the shared expert (4096 rows) 512;
    dealt to 24 AICs that is ceil(256/24) = 11 and ceil(512/24) = 22 block rounds; one
    block (models/cost.h) is max(compute, load) + write cycles + the tile overhead:
    compute 8*16*448, load ceil((128*7168 + 7168*256)*2 / l2_read), write
    ceil(128*256*2 / mte3); the AIC busy time is 4*11 + 22 = 66 block times, and the op
    takes launch + that + (e + 2) flag polls (e SyncAll+Commit pairs overlap the blocks
    except the SyncAlls: e SyncAlls, the final SyncAll and the Wait)."""
import math
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import Tap, run, tmpdir, load_json, SRCDIR  # noqa: E402

t = Tap()
work = tmpdir()
out = os.path.join(work, "ex")
p = run(["run", os.path.join(SRCDIR, "scenarios", "gmm-a3-spec-example.json"), "--out", out,
         "--quiet", "--trace-level", "task"])
if t.ok(p.returncode == 0, "the spec example runs (timing)", p.stderr):
    rep = load_json(os.path.join(out, "report.json"))
    ev = [e for e in load_json(os.path.join(out, "trace.json"))["traceEvents"]
          if e.get("ph") == "X"]
    E = 4
    for rank in (0, 7):
        mine = [e for e in ev if e["pid"] // 8 == rank]
        blocks = {j: [e for e in mine if e["name"].startswith(f"GMM e{j} ")] for j in range(E)}
        shared = [e for e in mine if e["name"].startswith("MM shared")]
        copies = {j: [e for e in mine if e["name"].startswith("Memcpy")
                      and e.get("args", {}).get("expert") == j] for j in range(E)}
        end = lambda xs: max(e["ts"] + e["dur"] for e in xs)   # noqa: E731
        start = lambda xs: min(e["ts"] for e in xs)            # noqa: E731
        t.ok(all(len(blocks[j]) == 256 for j in range(E)) and len(shared) == 512,
             f"rank {rank}: 256 blocks per expert, 512 for the shared expert")
        t.ok(all(start(blocks[j + 1]) >= end(blocks[j]) for j in range(E - 1)),
             f"rank {rank}: expert j+1's blocks start after all of expert j's (SyncAll)")
        t.ok(all(copies[j] and start(copies[j]) >= end(blocks[j]) for j in range(E)),
             f"rank {rank}: expert j's AlltoAllV starts after its last block")
        overlap = all(any(c["ts"] < end(blocks[j + 1]) and c["ts"] + c["dur"] > start(blocks[j + 1])
                          for c in copies[j]) for j in range(E - 1))
        t.ok(overlap, f"rank {rank}: expert j's AlltoAllV overlaps expert j+1's blocks")
        t.ok(start(shared) >= end(blocks[E - 1]),
             f"rank {rank}: the shared expert's blocks follow the last expert's")
    hw = rep["hardware"]
    op = rep["ops"][0]
    f = hw["die.core_freq_hz"]
    cyc = max(8 * 16 * 448, math.ceil((128 * 7168 + 7168 * 256) * 2 / hw["mem.l2_read_bytes_per_cycle"])) \
        + math.ceil(128 * 256 * 2 / hw["mem.mte3_bytes_per_cycle"])
    block_ps = math.ceil(cyc * 1e12 / f) + round(hw["cost.cube_tile_overhead_us"] * 1e6)
    t.ok(op["compute_busy_ps"] == 66 * block_ps,
         f"AIC busy = 66 block times of {block_ps} ps", op["compute_busy_ps"])
    want = round(hw["cost.kernel_launch_us"] * 1e6) + 66 * block_ps \
        + (E + 2) * round(hw["cost.flag_poll_us"] * 1e6)
    t.ok(op["latency_ps"] == want, f"latency = launch + 66 blocks + {E + 2} flag polls = {want} ps",
         op["latency_ps"])
    # Core-time: 4 x 256 + 512 blocks on all 24 AICs; AIV 0 runs the e SyncAll + Commit
    # pairs, the final SyncAll and the Wait, one flag poll each.
    poll_ps = round(hw["cost.flag_poll_us"] * 1e6)
    t.ok(op["aic_busy_core_ps"] == 1536 * block_ps and op["aic_cores_used"] == 24,
         f"AIC core-time = 1536 blocks of {block_ps} ps on 24 cores",
         (op["aic_busy_core_ps"], op["aic_cores_used"]))
    t.ok(abs(op["aic_utilisation"] - 1536 * block_ps / (hw["die.aic_count"] * want)) < 1e-12,
         "AIC utilisation = core-time / (aic_count x latency)", op["aic_utilisation"])
    t.ok(op["aiv_busy_core_ps"] == (2 * E + 2) * poll_ps and op["aiv_cores_used"] == 1,
         f"AIV core-time = {2 * E + 2} flag polls on AIV 0",
         (op["aiv_busy_core_ps"], op["aiv_cores_used"]))
    t.ok(op["bound"] == "compute" and op["exposed_comm_ps"] == 0,
         "compute-bound, all communication hidden")
shutil.rmtree(work, ignore_errors=True)
t.done()
