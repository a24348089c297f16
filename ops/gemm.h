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
 * output into disjoint tiles, never the k loop.
 *
 * FMA: decided explicitly as "never". The build has -ffp-contract=off and the
 * micro-kernels (ops/gemm-kernels.c) do a separate multiply and add, so every
 * instruction-set variant (generic C, SSE2, AVX2, AVX-512) gives the same bits;
 * for fp32 inputs the product is rounded to fp32 before the add.
 * Other fixed choices: every accumulator starts at +0.0f (so k = 0 gives +0.0
 * and a sum of -0.0 products is +0.0); inf/NaN propagate by IEEE rules.
 * Environment: $NPUSIM_THREADS (default thread count), $NPUSIM_GEMM_KERNEL
 * ("generic", "sse2", "avx2", "avx512": force a variant; read once).
 * Speed: bench/bench-gemm measures it next to OpenBLAS sgemm. */
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
 * @a, @b: float types (may differ, e.g. fp16 x bf16); a->cols == b->rows.
 * @c: (out caller-allocates) overwritten, never read; must not overlap A or B.
 *   May be NULL only if m or n is 0.
 * @n_threads: at most this many threads (the caller's thread is one of them);
 *   0 = npu_gemm_default_threads(). Products below ~1M multiply-adds per thread
 *   use fewer threads (it only changes speed, never the result). Worker threads
 *   come from one process-wide GThreadPool; concurrent calls are safe.
 */
void npu_gemm_f32acc (const NpuGemmOperand *a, const NpuGemmOperand *b, float *c,
                      guint n_threads);

/** npu_gemm_i32acc: @c (m x n, row-major, ldc = n) = A @ B for int8 A and B,
 *  exact int32 (wrapping modulo 2^32 past k = 2^17, as the hardware accumulator
 *  would). Arguments as npu_gemm_f32acc. */
void npu_gemm_i32acc (const NpuGemmOperand *a, const NpuGemmOperand *b, gint32 *c,
                      guint n_threads);

/** npu_gemm_default_threads: $NPUSIM_THREADS if set, else the number of CPUs. */
guint npu_gemm_default_threads (void);

G_END_DECLS
