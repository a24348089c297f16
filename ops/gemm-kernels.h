/* npusim — GEMM micro-kernels (internal to ops/gemm.c).
 *
 * A micro-kernel computes one MR x NR block of C from packed panels:
 *  - f32: @ap holds, for each k, the MR widened A values of the block's rows
 *    (ap[k*MR + i]); @bp holds, for each k, the NR widened B values (bp[k*NR + j]).
 *    For every output element it does acc = acc + a*b (mul rounded to fp32, then
 *    add; never an FMA) for k = 0, 1, ..., kc-1 in that order; acc starts at +0.0f,
 *    or at the value in C when @accumulate (that is how a later k-block continues
 *    the same sequential sum: the fp32 store/load in between is exact).
 *    Every variant below therefore returns the same bits: vector lanes only run
 *    different output elements side by side.
 *  - i32: k is taken in pairs; ap[p*MR + i] packs A[i][2p] (low int16) and
 *    A[i][2p+1] (high int16), bp[p*NR + j] packs B[2p][j] and B[2p+1][j] the same
 *    way. Integer sums are exact (and int32 wrap-around is associative), so the
 *    pairing order cannot change the result.
 * @c: row-major with @ldc elements per row; all MR x NR elements are read/written
 * (the caller passes a scratch tile for partial edge blocks). */
#pragma once
#include <glib.h>
#include "ops/gemm.h"

G_BEGIN_DECLS

typedef void (*NpuGemmF32Kernel) (gint64 kc, const float *ap, const float *bp, float *c,
                                  gint64 ldc, gboolean accumulate);
typedef void (*NpuGemmI32Kernel) (gint64 kpairs, const gint32 *ap, const gint32 *bp,
                                  gint32 *c, gint64 ldc, gboolean accumulate);

typedef struct {
  const char *name;
  int f32_mr, f32_nr;
  NpuGemmF32Kernel f32;
  int i32_mr, i32_nr;
  NpuGemmI32Kernel i32;
} NpuGemmKernels;

/* Largest MR / NR over all variants (for scratch tiles). */
#define NPU_GEMM_MAX_MR 16
#define NPU_GEMM_MAX_NR 64

/**
 * npu_gemm_kernels_get: the fastest variant this CPU runs, or the variant called
 * @name ("generic", "sse2", "avx2", "avx512") if it is compiled in and the CPU
 * supports it (else NULL). (transfer none) static data.
 */
const NpuGemmKernels *npu_gemm_kernels_get (const char *name);

/**
 * npu_gemm_run_with_kernels: npu_gemm_f32acc (@is_int FALSE, @c float *) or
 * npu_gemm_i32acc (@is_int TRUE, @c gint32 *) with the micro-kernels @kern
 * (NULL: $NPUSIM_GEMM_KERNEL or the CPU's best). For tests and benchmarks that
 * compare variants; operand dtypes are not checked here. Unlike the public
 * functions, @n_threads is used as given even for tiny products (capped only at
 * the number of micro-tiles along the split dimension), so tests can exercise
 * every split.
 */
void npu_gemm_run_with_kernels (const NpuGemmKernels *kern, const NpuGemmOperand *a,
                                const NpuGemmOperand *b, gpointer c, gboolean is_int,
                                guint n_threads);

G_END_DECLS
