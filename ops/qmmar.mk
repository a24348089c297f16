# ops/qmmar.mk: owned by the qmmar work; included from Makefile.am.
# QuantMatmulAllReduceV3 (A2) and the ND -> FRACTAL_NZ weight layout op (TransDataNZ).

# The operator and the ND -> FRACTAL_NZ layout op.
libnpusim_ops_a_SOURCES += ops/qmmar.h ops/qmmar-private.h ops/qmmar-op.c \
	ops/qmmar-params.c ops/qmmar-tiling.c ops/qmmar-numerics.c ops/qmmar-plan.c \
	ops/nz.h ops/nz-layout.c ops/nz-op.c

# Tests: units (hand-derived values), the M cut against a Python transcription of the
# host tiling (helper tests/qmmar-cut), the NumPy reference (bit-exact), the parameter
# table with its aclnn codes. tests/qmmar_reference.py is the shared NumPy model.
check_PROGRAMS += tests/test-qmmar-units tests/qmmar-cut
tests_test_qmmar_units_SOURCES = tests/test-qmmar-units.c
tests_test_qmmar_units_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
tests_qmmar_cut_SOURCES = tests/qmmar-cut.c
tests_qmmar_cut_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
TESTS += tests/test-qmmar-units tests/test-qmmar-tiling.py tests/test-qmmar-reference.py \
	tests/test-qmmar-params.py
EXTRA_DIST += tests/test-qmmar-tiling.py tests/test-qmmar-reference.py \
	tests/test-qmmar-params.py tests/qmmar_reference.py

# Scenarios: the spec's example, a 70B-class row-parallel down projection (timing) and
# its scaled-down data copy, NZ weights through TransDataNZ; the int8-communication study.
dist_scenarios_DATA += scenarios/qmmar-spec-example.json scenarios/qmmar-70b-down-proj.json \
	scenarios/qmmar-70b-down-proj-small.json scenarios/qmmar-nz-bf16.json
EXTRA_DIST += scenarios/qmmar-study.py
