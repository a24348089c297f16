# ops/: numerics (dtypes, tensors, GEMM), HCCL collectives, operators.
noinst_LIBRARIES += libnpusim-ops.a
libnpusim_ops_a_SOURCES = \
	ops/dtype.c ops/dtype.h \
	ops/tensor.c ops/tensor.h \
	ops/gemm.c ops/gemm.h \
	ops/gemm-kernels.c ops/gemm-kernels.h

# Operator base, op-spec readers and the registry of scenario operators.
libnpusim_ops_a_SOURCES += ops/op.c ops/op.h ops/op-spec.c ops/op-registry.c \
	ops/cube.c ops/cube.h ops/quant-scale.c ops/quant-scale.h

# Numerics tests: dtype conversions, tensors, GEMM. dtype-dump and gemm-run are
# helpers driven by the Python reference checks (built by `make check`, not run).
check_PROGRAMS += tests/dtype-dump tests/gemm-run \
	tests/test-ops-dtype tests/test-ops-dtype-tensor tests/test-ops-gemm
tests_dtype_dump_SOURCES = tests/dtype-dump.c
tests_dtype_dump_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
tests_gemm_run_SOURCES = tests/gemm-run.c
tests_gemm_run_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
tests_test_ops_dtype_SOURCES = tests/test-ops-dtype.c
tests_test_ops_dtype_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
tests_test_ops_dtype_tensor_SOURCES = tests/test-ops-dtype-tensor.c
tests_test_ops_dtype_tensor_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
tests_test_ops_gemm_SOURCES = tests/test-ops-gemm.c
tests_test_ops_gemm_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
TESTS += tests/test-ops-dtype tests/test-ops-dtype-tensor tests/test-ops-gemm \
	tests/test-ops-dtype.py tests/test-ops-gemm.py
EXTRA_DIST += tests/test-ops-dtype.py tests/test-ops-gemm.py

# HCCL collectives as scenario operators (AllGather, ReduceScatter, AllReduce,
# AlltoAll, AlltoAllV) and inside other operators (hccl-embed.c: the MC2 AICPU
# communication server), their tests and the AllReduce fidelity script.
libnpusim_ops_a_SOURCES += ops/hccl.h ops/hccl-private.h ops/hccl-op.c ops/hccl-plan.c \
	ops/hccl-mesh.c ops/hccl-hier.c ops/hccl-embed.c ops/hccl-notify.c
check_PROGRAMS += tests/test-ops-hccl
tests_test_ops_hccl_SOURCES = tests/test-ops-hccl.c
tests_test_ops_hccl_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
TESTS += tests/test-ops-hccl tests/test-hccl-reference.py
EXTRA_DIST += tests/test-hccl-reference.py bench/fidelity-allreduce.py

# Shared MC2 building blocks: packed dequant scales.
check_PROGRAMS += tests/test-ops-quant-scale
tests_test_ops_quant_scale_SOURCES = tests/test-ops-quant-scale.c
tests_test_ops_quant_scale_LDADD = $(NPU_LIB_OPS) $(NPU_LIBS)
TESTS += tests/test-ops-quant-scale
