# bench/: the benchmarks (not part of `make check`: timing is noisy). bench/README.md
# lists them. `make bench` runs every one, one after the other, each writing
# bench/results/<name>.json in the build tree; `make bench-<name>` runs one.
bench_names = engine gemm scenarios agmm moe

# Event-queue throughput of the event core.
noinst_PROGRAMS += bench/bench-engine
bench_bench_engine_SOURCES = bench/bench-engine.c
bench_bench_engine_LDADD = $(NPU_LIB_SIM) $(NPU_LIBS)

# The deterministic GEMM, OpenBLAS sgemm as the reference. OpenBLAS comes before
# $(NPU_LIBS): GSL_LIBS brings libgslcblas, whose cblas_sgemm would otherwise be the
# one linked.
noinst_PROGRAMS += bench/bench-gemm
bench_bench_gemm_SOURCES = bench/bench-gemm.c
bench_bench_gemm_CPPFLAGS = $(AM_CPPFLAGS)
if HAVE_OPENBLAS
bench_bench_gemm_CPPFLAGS += $(OPENBLAS_CFLAGS) -DHAVE_OPENBLAS=1
bench_bench_gemm_LDADD = $(NPU_LIB_OPS) $(OPENBLAS_LIBS) $(NPU_LIBS)
else
bench_bench_gemm_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
endif

# One reference-order GEMM call: the "GEMM alone" next to AllGatherMatmulV2 (bench-agmm.py).
noinst_PROGRAMS += bench/bench-agmm-gemm
bench_bench_agmm_gemm_SOURCES = bench/bench-agmm-gemm.c
bench_bench_agmm_gemm_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)

EXTRA_DIST += bench/README.md bench/benchlib.py bench/bench-scenarios.py bench/bench-agmm.py \
	bench/bench-moe.py bench/results/engine.json bench/results/gemm.json \
	bench/results/scenarios.json bench/results/agmm.json bench/results/moe.json

# A recipe line "n=NAME; $(bench_begin); COMMAND $(bench_end)" keeps COMMAND's JSON
# (stdout) as bench/results/NAME.json, only if COMMAND succeeds.
bench_begin = mkdir -p bench/results && echo "  BENCH    $$n"
bench_end = > bench/results/$$n.json.tmp && mv -f bench/results/$$n.json.tmp bench/results/$$n.json
bench_py = $(NUMPY_PYTHON) $(srcdir)/bench

bench-engine: bench/bench-engine
	@n=engine; $(bench_begin); ./bench/bench-engine $(bench_end)
bench-gemm: bench/bench-gemm
	@n=gemm; $(bench_begin); ./bench/bench-gemm $(bench_end)
bench-scenarios: npusim
	@n=scenarios; $(bench_begin); $(bench_py)/bench-scenarios.py --npusim ./npusim \
	  --scenarios $(srcdir)/scenarios $(bench_end)
bench-agmm: npusim bench/bench-agmm-gemm
	@n=agmm; $(bench_begin); $(bench_py)/bench-agmm.py --npusim ./npusim \
	  --gemm ./bench/bench-agmm-gemm --scenarios $(srcdir)/scenarios $(bench_end)
bench-moe: npusim
	@n=moe; $(bench_begin); $(bench_py)/bench-moe.py --npusim ./npusim \
	  --scenario $(srcdir)/scenarios/moe-deepseek-ep256.json $(bench_end)

# One at a time, whatever -j says: benchmarks running side by side would time each other.
bench: all
	@for b in $(bench_names); do $(MAKE) $(AM_MAKEFLAGS) -j1 bench-$$b || exit 1; done
	@for b in $(bench_names); do echo "bench/results/$$b.json:"; cat bench/results/$$b.json; done
.PHONY: bench bench-engine bench-gemm bench-scenarios bench-agmm bench-moe
