#!/usr/bin/python3
"""AllGatherMatmulV2 data-mode benchmark: the two real-model scenarios of
scenarios/ (communication-bound Mixtral QKV, compute-bound Llama-3-70B gate/up, on 8
A2 ranks by default) run in data mode, fused op only (the scenario's first op), as
their own processes (bench/benchlib.py): wall time, peak RSS, simulated latency,
events. Next to them, "GEMM alone": the same arithmetic done by one call of npusim's
reference-order GEMM per rank ((ranks x m) x k times k x n, bench/bench-agmm-gemm),
measured once and multiplied by the rank count. JSON on stdout.

Usage: bench-agmm.py [--npusim ./npusim] [--gemm ./bench/bench-agmm-gemm]
                     [--scenarios DIR] [--preset a2|a3|all] [--repeat N]"""
import argparse
import json
import os
import subprocess
import tempfile

import benchlib

SCENARIOS = ["mixtral-qkv", "llama70b-mlp"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npusim", default="./npusim")
    ap.add_argument("--gemm", default="./bench/bench-agmm-gemm")
    ap.add_argument("--scenarios", default=os.path.join(os.path.dirname(__file__), "..",
                                                        "scenarios"))
    ap.add_argument("--preset", default="a2", choices=["a2", "a3", "all"])
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    presets = ["a2", "a3"] if a.preset == "all" else [a.preset]
    out = benchlib.header("agmm", a.repeat, results=[])
    with tempfile.TemporaryDirectory() as tmp:
        for preset in presets:
            for name in SCENARIOS:
                src = os.path.join(a.scenarios, f"agmm-{preset}-{name}.json")
                with open(src) as f:
                    sc = json.load(f)
                op = sc["ops"][0]
                sc["ops"] = [op]
                sc["mode"] = "data"
                path = os.path.join(tmp, "s.json")
                with open(path, "w") as f:
                    json.dump(sc, f)
                m = benchlib.measure([a.npusim, "run", path, "--quiet", "--trace-level", "op",
                                      "--out", os.path.join(tmp, "o")], a.repeat)
                with open(os.path.join(tmp, "o", "report.json")) as f:
                    rep = json.load(f)
                ranks = sc["cluster"]["ranks"]
                g = subprocess.run([a.gemm, str(op["m"] * ranks), str(op["n"]), str(op["k"]),
                                    op["dtype"]], capture_output=True, text=True, check=True)
                gemm = json.loads(g.stdout)
                out["results"].append({
                    "scenario": os.path.basename(src), "op": "AllGatherMatmulV2 (fused only)",
                    "mode": "data", "shape_per_rank": [op["m"], op["k"], op["n"]],
                    "ranks": ranks, **m,
                    "simulated_latency_us": rep["ops"][0]["latency_us"],
                    "bound": rep["ops"][0]["bound"], "events": rep["events"],
                    "tasks": rep["tasks"],
                    "gemm_alone_one_rank_s": gemm["seconds"],
                    "gemm_alone_all_ranks_s": gemm["seconds"] * ranks,
                    "gemm_gflops": gemm["gflops"],
                    "wall_over_gemm_alone": m["wall_s_median"] / (gemm["seconds"] * ranks),
                })
    benchlib.finish(out)


if __name__ == "__main__":
    main()
