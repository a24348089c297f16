# ops/gmm.mk: GroupedMatMulAlltoAllv (ops/gmm-*.c) and DistributeBarrierV2
# (ops/barrier-*.c), their tests and scenarios; included from Makefile.am.
libnpusim_ops_a_SOURCES += ops/gmm-op.h ops/gmm-private.h ops/gmm-op.c ops/gmm-plan.c \
	ops/gmm-a2av.c ops/gmm-tiling.c ops/gmm-tiling.h
libnpusim_ops_a_SOURCES += ops/barrier-op.h ops/barrier-private.h ops/barrier-op.c \
	ops/barrier-plan.c

# Tests: tiling (C), NumPy reference at 8 and 16 ranks, parameter checks of both ops,
# the barrier's ordering / timeout / windows and the scenario injections.
check_PROGRAMS += tests/test-gmm-tiling
tests_test_gmm_tiling_SOURCES = tests/test-gmm-tiling.c
tests_test_gmm_tiling_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
TESTS += tests/test-gmm-tiling tests/test-gmm-params.py tests/test-gmm-reference.py \
	tests/test-gmm-reference-16.py tests/test-gmm-timing.py tests/test-barrier.py \
	tests/test-barrier-chain.py
EXTRA_DIST += tests/gmm_ref.py tests/test-gmm-params.py tests/test-gmm-reference.py \
	tests/test-gmm-reference-16.py tests/test-gmm-timing.py tests/test-barrier.py \
	tests/test-barrier-chain.py

# Scenarios: the spec 001 example (timing) and its scaled-down data copy; spec 003's
# straggler hidden by the barrier; spec 003's dispatch -> barrier -> combine chain
# (needs the MoE operators of ops/moe.mk) with its routing files.
dist_scenarios_DATA += scenarios/gmm-a3-spec-example.json \
	scenarios/gmm-a3-spec-example-data.json scenarios/barrier-a3-straggler.json \
	scenarios/barrier-a3-moe-chain.json scenarios/barrier-a3-moe-chain-ids.npy \
	scenarios/barrier-a3-moe-chain-scales.npy
