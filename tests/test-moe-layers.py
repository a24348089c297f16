"""Consecutive MoE layers and the double-buffered HCCL windows (REFERENCE 4.2, the A2
design document via CALIBRATION.md 2.3; ops/moe-window.c).

* scenarios/moe-a3-layers.json (three A3 layers, each dispatch -> identity experts ->
  combine, chained by inputs.x.from): runs with the hazard checker on; layer l's
  dispatch and combine use window half l mod 2 (the V2 kernels' separate state words);
  every layer's xOut equals the closed form computed here from layer 0's x and each
  layer's expertScales only (identity experts: bf16(sum_k fp32(row) * w_k) in top-k
  order, the row being x itself for quantMode 0 and the dequantised int8 row
  round_bf16(q * 1/ds) for quantMode 2, REFERENCE 4.1 / 5.1); the next layer's x is the
  previous xOut; a die starts the next layer while other dies are still in the previous
  combine, but no die finishes a dispatch before every die has finished the previous
  combine (the status of every source is needed), and a half is reused only after
  every die has left its previous user.
* Back-to-back dispatches on one stream use halves 0, 1, 0 and are hazard-free although
  the second starts on idle dies while the busy ones still copy out the first; with
  the second on another stream the third reuses half 0 while the first is still being
  read there, and the run fails naming that window half (A3 and A2).
* A2: every EP op flips the one bufferChosen word, so in a chain the dispatches use half
  0 and the combines half 1; three A2 layers (2 servers, flat) are hazard-free and
  equal the closed form; hierarchical A2 and A3 V1 (one word for dispatch and combine)
  and A3 TP 2 chains are hazard-free with the expected halves.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npusim_test import SRCDIR, Tap, load_json, run, tmpdir, write_json  # noqa: E402
import moe_reference as ref  # noqa: E402

t = Tap()
work = tmpdir()
F32 = np.float32


def run_scenario(path, out, extra=()):
    return run(["run", path, "--out", out, "--quiet"] + list(extra))


def halves(out):
    man = load_json(os.path.join(out, "manifest.json"))
    return {o["name"]: (o["attrs"].get("windowHalf"), o["attrs"].get("windowUse"))
            for o in man["ops"] if "windowHalf" in o["attrs"]}


def layer_closed_form(x_bits, w, quant):
    """One layer with identity experts from the token bits (bf16) and expertScales:
    every top-k entry is routed (no mask), so xOut[t] = bf16(fold_k(sum + row * w_k))."""
    x = ref.bf16_to_f32(x_bits)
    out = np.zeros_like(x_bits)
    for tk in range(x.shape[0]):
        if quant == 2:
            q, scale = ref.quant_dynamic(x[tk])
            row = ref.round_to("bfloat16", (q.astype(F32) * F32(scale)).astype(F32))
        else:
            row = x[tk]
        s = np.zeros(x.shape[1], dtype=F32)
        for k in range(w.shape[1]):
            s = (s + (row * F32(w[tk, k])).astype(F32)).astype(F32)
        out[tk] = ref.bf16_round_bits(s)
    return out


def check_chain(name, out, n_layers, quant_modes):
    r = ref.Run(out)
    group = r.ops["dispatch0"]["group"]
    bad = []
    x = {g: r.load("dispatch0", g, "x").view(np.uint16) for g in group}
    for layer in range(n_layers):
        d, c = f"dispatch{layer}", f"combine{layer}"
        for g in group:
            if layer > 0:
                xin = r.load(d, g, "x").view(np.uint16)
                if not np.array_equal(xin, x[g]):
                    bad.append(f"layer {layer} r{g}: x is not the previous xOut")
            w = r.load(d, g, "expertScales")
            want = layer_closed_form(x[g], w, quant_modes[layer])
            got = r.load(c, g, "xOut").view(np.uint16)
            if not np.array_equal(got, want):
                bad.append(f"layer {layer} r{g}: {np.count_nonzero(got != want)} elements differ")
            x[g] = want
    t.ok(not bad, f"{name}: every layer's xOut equals the closed form from layer 0's x "
         f"({n_layers} layers, {len(group)} ranks)", "\n".join(bad[:10]))


def spans(out):
    rep = load_json(os.path.join(out, "report.json"))
    return {o["name"]: ([x["start_ps"] for x in o["ranks"]], [x["end_ps"] for x in o["ranks"]])
            for o in rep["ops"]}


# ---- three A3 layers (the scenario file) ----
scen = os.path.join(SRCDIR, "scenarios", "moe-a3-layers.json")
out = os.path.join(work, "a3-layers")
p = run_scenario(scen, out)
if t.ok(p.returncode == 0, "moe-a3-layers: runs hazard-free", p.stderr):
    h = halves(out)
    want = {f"{kind}{l}": (l % 2, l) for l in range(3) for kind in ("dispatch", "combine")}
    t.ok(h == want, "moe-a3-layers: layer l's dispatch and combine use half l mod 2 (V2 state "
         "words: one per op kind)", f"{h}")
    check_chain("moe-a3-layers", out, 3, [0, 2, 0])
    sp = spans(out)
    for l in (1, 2):
        d_start, d_end = sp[f"dispatch{l}"]
        c_end = sp[f"combine{l - 1}"][1]
        early = [(a, b) for a in range(len(d_start)) for b in range(len(c_end))
                 if d_start[a] < c_end[b]]
        t.ok(early, f"moe-a3-layers: layer {l}'s dispatch starts on a die while another die "
             f"is still in layer {l - 1}'s combine (no barrier between layers)",
             f"dispatch starts {d_start}, combine ends {c_end}")
        t.ok(min(d_end) > max(c_end), f"moe-a3-layers: no die finishes layer {l}'s dispatch "
             f"before every die has finished layer {l - 1}'s combine",
             f"dispatch ends {d_end}, combine ends {c_end}")
    # half 0 again in layer 2: every die has left layer 0's ops of that half
    t.ok(min(sp["dispatch2"][0]) > max(sp["dispatch0"][1])
         and min(sp["combine2"][0]) > max(sp["combine0"][1]),
         "moe-a3-layers: layer 2 enters half 0 only after every die has left layer 0's "
         "dispatch and combine")


# ---- back-to-back dispatches: halves alternate; a half reused too early is caught ----
def dispatches(preset, ranks, second_stream, **kw):
    def d(i, stream):
        o = {"op": "MoeDistributeDispatchV2", "name": f"dispatch{i}", "group": "ep",
             "stream": stream, "bs": 32, "h": 1024, "k": 4, "moeExpertNum": 16,
             "quantMode": 0, "routing": {"ids": [0, 1, 2, 3]}}
        o.update(kw)
        return o
    return {"name": "moe-b2b", "seed": 1, "mode": "data",
            "cluster": {"preset": preset, "ranks": ranks}, "groups": {"ep": "all"},
            "ops": [d(0, 0), d(1, second_stream), d(2, 0)]}


for preset, ranks, kw in (("a3", 8, {}), ("a2", 16, {"moeExpertNum": 32})):
    name = f"{preset}-back-to-back"
    # every token to experts 0-3: the dies holding them copy out many rows, the others none
    path = write_json(os.path.join(work, name + ".json"), dispatches(preset, ranks, 0, **kw))
    o = os.path.join(work, name)
    p = run_scenario(path, o)
    if t.ok(p.returncode == 0, f"{name}: three dispatches on one stream run hazard-free",
            p.stderr):
        h = halves(o)
        t.ok([h[f"dispatch{i}"][0] for i in range(3)] == [0, 1, 0],
             f"{name}: the dispatches take halves 0, 1, 0", f"{h}")
        sp = spans(o)
        t.ok(min(sp["dispatch1"][0]) < max(sp["dispatch0"][1]),
             f"{name}: the second dispatch starts on an idle die before the busy dies have "
             "finished the first")
    path = write_json(os.path.join(work, name + "-streams.json"),
                      dispatches(preset, ranks, 1, **kw))
    p = run_scenario(path, o + "-streams")
    t.ok(p.returncode == 1 and "windowsIn(ep)[half 0]" in p.stderr
         and ("write-after-read" in p.stderr or "write-after-write" in p.stderr),
         f"{name}: with the second dispatch on another stream, the third reuses half 0 "
         "while the first still uses it: the hazard checker stops the run",
         f"exit {p.returncode}: {p.stderr}")


# ---- A2 and the other kernels' state words ----
def layers(preset, ranks, disp, n=3, version=2, mode="data", comb=None):
    suf = "" if version == 1 else f"V{version}"
    oname = "x" if version == 1 else "xOut"
    ops = []
    for l in range(n):
        d = {"op": "MoeDistributeDispatch" + suf, "name": f"dispatch{l}", "group": "ep"}
        d.update(disp[l] if isinstance(disp, list) else disp)
        if l > 0:
            d["inputs"] = {"x": {"from": f"combine{l - 1}.{oname}"}}
        c = {"op": "MoeDistributeCombine" + suf, "name": f"combine{l}", "group": "ep",
             "dispatch": f"dispatch{l}", "experts": f"experts{l}"}
        c.update(comb or {})
        ops += [d, {"op": "MoeExperts", "name": f"experts{l}", "group": "ep",
                    "dispatch": f"dispatch{l}"}, c]
    return {"name": "moe-layers", "seed": 4, "mode": mode,
            "cluster": {"preset": preset, "ranks": ranks}, "groups": {"ep": "all"}, "ops": ops}


A2 = {"bs": 6, "h": 1024, "k": 4, "moeExpertNum": 32}
cases = [
    ("a2-flat-3-layers", layers("a2", 16, [dict(A2, quantMode=0), dict(A2, quantMode=2),
                                           dict(A2, quantMode=0)]), "A2", [0, 2, 0]),
    ("a2-hierarchical-3-layers", layers("a2", 16, dict(A2, quantMode=2, hierarchical=True),
                                        mode="timing"), "A2", None),
    ("a3-v1-3-layers", layers("a3", 8, {"bs": 4, "h": 1024, "k": 3, "moeExpertNum": 8},
                              version=1, mode="timing"), "V1", None),
    ("a3-tp2-3-layers", layers("a3", 16, {"bs": 6, "h": 1024, "k": 2, "moeExpertNum": 7,
                                          "sharedExpertNum": 1, "sharedExpertRankNum": 1,
                                          "tpWorldSize": 2, "quantMode": 2},
                               mode="timing"), "V2", None),
    ("a3-block-regions-3-layers", layers("a3", 16, {"bs": 6, "h": 1024, "k": 4,
                                                    "moeExpertNum": 32, "quantMode": 2,
                                                    "hazardRegions": "block"},
                                         mode="timing", comb={"commQuantMode": 2}), "V2", None),
]
for name, sc, words, quant in cases:
    path = write_json(os.path.join(work, name + ".json"), sc)
    o = os.path.join(work, name)
    p = run_scenario(path, o)
    if not t.ok(p.returncode == 0, f"{name}: runs hazard-free", p.stderr):
        continue
    h = halves(o)
    if words == "V2":   # a dispatch word and a combine word
        want = {f"{k}{l}": (l % 2, l) for l in range(3) for k in ("dispatch", "combine")}
    else:               # one word flipped by every EP op: D, C, D, C, ...
        want = {f"{k}{l}": (i % 2, 2 * l + i) for l in range(3)
                for i, k in enumerate(("dispatch", "combine"))}
    t.ok(h == want, f"{name}: window halves {'per op kind' if words == 'V2' else 'flip every EP op'}"
         f" (dispatches {[h[f'dispatch{l}'][0] for l in range(3)]}, combines "
         f"{[h[f'combine{l}'][0] for l in range(3)]})", f"{h}")
    if quant is not None:
        check_chain(name, o, 3, quant)

# a group shares one HCCL window: every op of it has the same HCCL_BUFFSIZE
sc = layers("a3", 8, [{"bs": 4, "h": 1024, "k": 3, "moeExpertNum": 8, "hcclBufferMB": 200},
                      {"bs": 4, "h": 1024, "k": 3, "moeExpertNum": 8, "hcclBufferMB": 300}],
            n=2, mode="timing")
p = run_scenario(write_json(os.path.join(work, "buffers.json"), sc), os.path.join(work, "buf"))
t.ok(p.returncode != 0 and "ops[3].hcclBufferMB" in p.stderr and "'ep'" in p.stderr,
     "two dispatches of one group with different hcclBufferMB: a scenario error naming the key",
     p.stderr)
t.done()
