/* ops/gemm.c: to be written */
