# bench/: benchmarks with JSON results (not part of `make check`; timing is noisy).
# `make bench` writes bench/results/*.json in the build tree.
bench_programs = bench/bench-engine bench/bench-gemm
EXTRA_DIST += bench/bench-scenarios.py
bench: all $(bench_programs)
	@mkdir -p bench/results
	@for b in $(bench_programs); do name=$$(basename $$b); echo "  BENCH    $$name"; \
	  ./$$b > bench/results/$$name.json || exit 1; done
	@echo "  BENCH    scenarios"; $(NUMPY_PYTHON) $(srcdir)/bench/bench-scenarios.py \
	  --npusim ./npusim --scenarios $(srcdir)/scenarios > bench/results/scenarios.json
	@cat bench/results/*.json
.PHONY: bench
