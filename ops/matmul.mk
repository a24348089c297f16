# ops/matmul.mk: owned by the matmul work; included from Makefile.am.
# AllGatherMatmulV2 (ops/agmm-*.c) and the single-rank MatMul / QuantMatMul ops
# (ops/matmul-*.c) that form its unfused baseline.
libnpusim_ops_a_SOURCES += \
	ops/matmul-common.c ops/matmul-common.h \
	ops/matmul.h ops/matmul-private.h ops/matmul-op.c ops/matmul-plan.c \
	ops/agmm.h ops/agmm-private.h ops/agmm-plan.h \
	ops/agmm-op.c ops/agmm-check.c ops/agmm-tiling.c \
	ops/agmm-plan.c ops/agmm-move.c ops/agmm-compute.c

# Tests: tiling / swizzle / dequant units, the NumPy reference (fused and unfused, every
# dtype path), the parameter checks with their aclnn codes.
check_PROGRAMS += tests/test-agmm-units
tests_test_agmm_units_SOURCES = tests/test-agmm-units.c
tests_test_agmm_units_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
TESTS += tests/test-agmm-units tests/test-agmm-reference.py tests/test-agmm-params.py
EXTRA_DIST += tests/test-agmm-reference.py tests/test-agmm-params.py

# Scenarios: the spec's example shapes (bf16, int8) on 4 A2 ranks, two real-model
# shapes on 8 ranks of A2 and A3 (communication- and compute-bound), a scaled-down
# data-mode copy; each with its unfused baseline.
dist_scenarios_DATA += scenarios/agmm-a2-spec-bf16.json scenarios/agmm-a2-spec-int8.json \
	scenarios/agmm-a2-mixtral-qkv.json scenarios/agmm-a2-llama70b-mlp.json \
	scenarios/agmm-a3-mixtral-qkv.json scenarios/agmm-a3-llama70b-mlp.json \
	scenarios/agmm-a3-qkv-small-data.json
