# ops/moe.mk: owned by the moe work; included from Makefile.am.
# MoeDistributeDispatch / MoeDistributeCombine (aclnn V1-V3) and the MoeExperts op.
libnpusim_ops_a_SOURCES += ops/moe.h ops/moe-private.h ops/moe-params.c ops/moe-routing.c \
	ops/moe-layout.c ops/moe-numerics.c ops/moe-cost.c ops/moe-registry.c \
	ops/moe-dispatch.c ops/moe-experts.c ops/moe-combine.c ops/moe-a3-plan.c \
	ops/moe-a2-plan.c ops/moe-window.c

# Tests: kernel arithmetic (C), NumPy reference of every output, parameter checks.
check_PROGRAMS += tests/test-moe-numerics
tests_test_moe_numerics_SOURCES = tests/test-moe-numerics.c
tests_test_moe_numerics_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
TESTS += tests/test-moe-numerics tests/test-moe-reference.py tests/test-moe-params.py
EXTRA_DIST += tests/moe_reference.py tests/test-moe-reference.py tests/test-moe-params.py
TESTS += tests/test-moe-routing.py
EXTRA_DIST += tests/test-moe-routing.py bench/fidelity-moe.py

# Timing structure of the A3 plans: instruction costs (C) and phase durations (trace).
check_PROGRAMS += tests/test-moe-cost
tests_test_moe_cost_SOURCES = tests/test-moe-cost.c
tests_test_moe_cost_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
TESTS += tests/test-moe-cost tests/test-moe-timing.py
EXTRA_DIST += tests/test-moe-timing.py

# Scenarios: the spec's call examples, the DeepSeek-V3-shaped layer at EP 8..256 (timing)
# with a scaled-down data copy; recorded/ holds scenarios that read user-supplied
# routing files (not run by tests/test-scenarios.py; tests/test-moe-routing.py runs them
# when ../shared/data/routing is present).
dist_scenarios_DATA += scenarios/moe-a3-default.json \
	scenarios/moe-a3-spec-v1.json scenarios/moe-a3-spec-v3.json \
	scenarios/moe-a2-spec-example.json scenarios/moe-a2-hierarchical.json \
	scenarios/moe-deepseek-ep8.json scenarios/moe-deepseek-ep16.json \
	scenarios/moe-deepseek-ep32.json scenarios/moe-deepseek-ep64.json \
	scenarios/moe-deepseek-ep256.json scenarios/moe-deepseek-ep16-data.json \
	scenarios/moe-a3-layers.json
EXTRA_DIST += scenarios/recorded/moe-qwen-layer12.json

# sim/fabric.c's npu_fabric_account() (added for the MoE UB port queues): bytes and busy
# time of transfers timed by their caller, as a union with the flows' busy periods.
check_PROGRAMS += tests/test-sim-fabric-account
tests_test_sim_fabric_account_SOURCES = tests/test-sim-fabric-account.c
tests_test_sim_fabric_account_LDADD = $(NPU_LIB_SIM) $(NPU_LIBS)
TESTS += tests/test-sim-fabric-account
# A3 MoE writes on the fabric's links: bytes / busy time per link from the routing, and
# the UB what-if knobs (inject.links, link.ub_port_bw_Bps, link.ub_aiv_write_efficiency).
TESTS += tests/test-moe-links.py
EXTRA_DIST += tests/test-moe-links.py
# Consecutive MoE layers: double-buffered windows (ops/moe-window.c), chained layers
# against the closed form, reuse of a half too early caught by the hazard checker.
TESTS += tests/test-moe-layers.py
EXTRA_DIST += tests/test-moe-layers.py
