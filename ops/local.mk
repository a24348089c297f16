# ops/: numerics (dtypes, tensors, GEMM), HCCL collectives, operators.
noinst_LIBRARIES += libnpusim-ops.a
libnpusim_ops_a_SOURCES = \
	ops/dtype.c ops/dtype.h \
	ops/tensor.c ops/tensor.h \
	ops/gemm.c ops/gemm.h
