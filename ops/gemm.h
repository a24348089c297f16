/* npusim — the reference-order GEMM used by every matmul in the simulator.
 *
 * C[m][n] = sum over k of A[m][k] * B[k][n], with a fixed, documented order:
 *  - fp16 / bf16 / fp8 inputs: each product is exact in fp32 (inputs are widened to
 *    fp32 first), the sum is accumulated in one fp32 accumulator per output element
 *    in increasing k, no FMA (the build uses -ffp-contract=off; products are rounded
 *    to fp32 before the add — exact for these input types anyway);
 *  - int8 inputs: exact int32 accumulation (wrap-around never occurs for k < 2^17).
 * The result is the fp32 / int32 accumulator; rounding to the output dtype is done
 * once, by the caller (fixpipe / epilogue semantics differ per operator).
 * Bit-identical on every machine and for every thread count: threads split the
 * output into disjoint tiles, never the k loop. */
#pragma once
#include <glib.h>
#include "ops/dtype.h"

G_BEGIN_DECLS

/**
 * NpuGemmOperand: a 2-D view of a matrix in host memory.
 * @data: (transfer none) first element.
 * @dtype: FP32, FP16, BF16, FP8_E4M3FN, FP8_E5M2 or INT8 (A and B must both be float
 *   types or both INT8).
 * @rows, @cols: logical shape (A: m x k, B: k x n).
 * @row_stride, @col_stride: in elements (a transposed B has row_stride 1).
 */
typedef struct {
  gconstpointer data;
  NpuDtype dtype;
  gint64 rows, cols;
  gint64 row_stride, col_stride;
} NpuGemmOperand;

/**
 * npu_gemm_f32acc: @c (m x n, row-major, ldc = n) = A @ B with fp32 accumulation.
 * @n_threads: 0 = use npu_gemm_default_threads().
 */
void npu_gemm_f32acc (const NpuGemmOperand *a, const NpuGemmOperand *b, float *c,
                      guint n_threads);

/** npu_gemm_i32acc: @c (m x n, row-major) = A @ B for int8 A and B, exact int32. */
void npu_gemm_i32acc (const NpuGemmOperand *a, const NpuGemmOperand *b, gint32 *c,
                      guint n_threads);

/** npu_gemm_default_threads: $NPUSIM_THREADS if set, else the number of CPUs. */
guint npu_gemm_default_threads (void);

G_END_DECLS
